"""From ingested raw records to the analytic sample: screens, exclusion flow, missing-data report.

:func:`screen` takes the ingest stage's :class:`~survey.ingest.Ingested` (every raw record, coded
and pooled), runs the screens of :mod:`survey.quality.screens` per source (each with its own
instrument's design), flags duplicate respondent ids across sources, builds the CONSORT-style
:func:`~survey.quality.flow.exclusion_flow` and keeps the rows no screen excludes.
:func:`prepare` is the one-call convenience ``read_sources`` + ``screen``. The result's
:meth:`ScreenedData.write` produces the ``survey ingest`` outputs (clean.csv, exclusions.csv, flow.csv,
ingest.json), atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from survey.errors import SurveyInputError, SurveyWarning
from survey.ingest import Ingested, MissingReport, read_sources, sample_missing_report
from survey.ingest.safe import write_csv
from survey.quality.config import ScreenConfig
from survey.quality.design import design_from_instrument
from survey.quality.flow import exclusion_flow
from survey.quality.screens import run_screens, screen_duplicate_ids

PathLike = str | os.PathLike


@dataclass
class ScreenedData:
    """Outcome of :func:`screen` / :func:`prepare`: ``clean`` (analytic sample), ``exclusions`` (one row
    per excluded respondent with every reason), ``flow`` (CONSORT-style table), ``problems`` (DataFrame
    of :class:`~survey.ingest.Problem`), ``quality`` (careless indices of every raw row), ``missing``
    (:class:`~survey.ingest.MissingReport` of the analytic sample), ``report`` (the ingest.json dict)."""

    clean: pd.DataFrame
    exclusions: pd.DataFrame
    flow: pd.DataFrame
    problems: pd.DataFrame
    report: dict[str, Any]
    quality: pd.DataFrame
    missing: MissingReport
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def data(self) -> pd.DataFrame:
        """The analytic data set (alias of ``clean``)."""
        return self.clean

    def summary(self) -> str:
        r = self.report
        lines = [
            f"ingest: {r['n_raw']} raw, {r['n_excluded']} excluded, {r['n_analytic']} analytic",
            self.flow.to_string(index=False),
        ]
        if r["pii_dropped"]:
            lines.append("personal data dropped: " + ", ".join(r["pii_dropped"]))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)

    def to_frame(self) -> pd.DataFrame:
        return self.clean.copy()

    def _repr_html_(self) -> str:
        return "<h4>Exclusion flow</h4>" + self.flow.to_html(index=False)

    def write(self, directory: PathLike) -> Path:
        """Write clean.csv, exclusions.csv, flow.csv, ingest.json (and problems.csv when there are
        problems, in lenient mode) atomically: all files appear together or none does."""
        out = Path(directory)
        if out.exists() and not out.is_dir():
            raise SurveyInputError("the output folder names an existing file, not a folder", file=str(out))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        except OSError as exc:
            raise _write_error(exc, out) from None
        try:
            write_csv(self.clean, tmp / "clean.csv", float_format="%.15g")
            write_csv(self.exclusions, tmp / "exclusions.csv")
            write_csv(self.flow, tmp / "flow.csv")
            if len(self.problems):
                write_csv(self.problems, tmp / "problems.csv")
            (tmp / "ingest.json").write_text(
                json.dumps(self.report, indent=2, default=_json_default) + "\n", encoding="utf-8"
            )
            if not out.exists():
                os.replace(tmp, out)
            else:
                new = {f.name for f in tmp.iterdir()}
                for f in sorted(tmp.iterdir()):
                    os.replace(f, out / f.name)
                stale = out / "problems.csv"
                if "problems.csv" not in new and stale.is_file():
                    stale.unlink()
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as exc:  # name the user's folder, not the temporary one
            shutil.rmtree(tmp, ignore_errors=True)
            raise _write_error(exc, out) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def _write_error(exc: OSError, out: Path) -> SurveyInputError:
    return SurveyInputError(f"cannot write the outputs: {exc.strerror or exc}", file=str(out))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def screen_config(screens: ScreenConfig | Mapping[str, Any] | None) -> ScreenConfig:
    """``screens`` as a :class:`ScreenConfig` (None: the literature defaults; a mapping is validated)."""
    if screens is None:
        return ScreenConfig()
    if isinstance(screens, ScreenConfig):
        return screens
    try:
        return ScreenConfig.model_validate(dict(screens))
    except (ValueError, TypeError) as exc:
        message = f"invalid screen configuration: {exc}".splitlines()[0]
        raise SurveyInputError(message, field="screens") from None


def screen(
    ingested: Ingested, screens: ScreenConfig | Mapping[str, Any] | None = None, *, mcar: bool = True
) -> ScreenedData:
    """Screen ingested records into the analytic sample.

    Each source is screened with its own instrument's design (previews, incomplete, duplicate answers,
    speeders, attention checks, careless indices: :func:`~survey.quality.screens.run_screens`);
    duplicate respondent ids are then flagged across all sources (first eligible row kept). The
    exclusion flow counts each respondent at the first step that excludes them, so n_raw = n_analytic
    + n_excluded. ``mcar``: run Little's MCAR test per instrument version on the analytic sample's
    Likert items (:func:`survey.ingest.sample_missing_report`). BLAS runs on one thread: its products
    are items x items matrices over row blocks, where more threads only contend for the cores (on a
    loaded machine they tripled the CPU time of the Mahalanobis distances).
    """
    config = screen_config(screens)
    with threadpool_limits(1):
        return _screen(ingested, config, mcar)


def _screen(ingested: Ingested, config: ScreenConfig, mcar: bool) -> ScreenedData:
    flag_parts, index_parts, warns = [], [], list(ingested.warnings)
    likert: dict[str, list[str]] = {}
    for source in ingested.sources:
        design = design_from_instrument(source.instrument, list(source.items.columns))
        res = run_screens(source.items, design, config, ids=None, meta=source.meta)
        flag_parts.append(res.flags)
        index_parts.append(res.indices)
        warns += res.warnings
        likert.setdefault(source.instrument.version, design.likert)
    if len(flag_parts) == 1:  # one source: its frames as they are (a concat would copy them)
        flags, indices = flag_parts[0].reset_index(drop=True), index_parts[0].reset_index(drop=True)
    else:
        flags = pd.concat(flag_parts, ignore_index=True)
        indices = pd.concat(index_parts, ignore_index=True)
    meta = ingested.meta
    if config.duplicates and "respondent_id" in meta:
        eligible = ~(flags["preview"] | flags["incomplete"])
        flags["duplicate_id"] = screen_duplicate_ids(meta["respondent_id"], eligible).to_numpy()
    info = ingested.info
    flow = exclusion_flow(flags, info)
    keep = ~flow.excluded.to_numpy()

    pooled = ingested.data
    clean = pooled.loc[keep, ingested.item_columns]
    clean.insert(0, "instrument_version", pooled.loc[keep, "instrument_version"].to_numpy())
    clean.insert(0, "respondent_id", meta.loc[keep, "respondent_id"].to_numpy())
    for col in ingested.keep_pii:
        if col in meta.columns:
            clean[col] = meta.loc[keep, col].to_numpy()
    clean = clean.reset_index(drop=True)

    missing = sample_missing_report(ingested, keep, likert if mcar else None, items=clean)
    quality = pd.concat(
        [info[["respondent_id", "instrument_version", "source", "source_row"]], indices], axis=1
    )
    quality["excluded"] = flow.excluded.to_numpy()
    base = ingested.to_dict()
    report = {
        "n_raw": flow.n_raw,
        "n_analytic": flow.n_analytic,
        "n_excluded": flow.n_excluded,
        "excluded_by_reason": flow.excluded_by_reason(),
        "flow": flow.flow.to_dict(orient="records"),
        "pii_dropped": base["pii_dropped"],
        "pii_hashed": base["pii_hashed"],
        "platform_columns": base["platform_columns"],
        "instrument": base["instrument"],
        "sources": base["sources"],
        "columns": base["columns"],
        "screens": config.model_dump(),
        "n_problems": base["n_problems"],
        "missing": missing.to_dict(),
        "warnings": [w.message for w in warns],
    }
    problems = ingested.problems_frame()
    return ScreenedData(clean, flow.exclusions, flow.flow, problems, report, quality, missing, warns)


def prepare(
    sources: Any,
    instrument: Any = None,
    *,
    screens: ScreenConfig | Mapping[str, Any] | None = None,
    lenient: bool = False,
    keep_pii: Sequence[str] = (),
    salt: str | None = None,
    problems_path: PathLike | None = None,
    mcar: bool = True,
) -> ScreenedData:
    """Read, validate, de-identify, harmonise (:func:`survey.ingest.read_sources`) and screen
    (:func:`screen`) raw exports into an analytic data set, in one call.

    ``sources``: one path (with ``instrument``), or a list of ``(path, "name@version")`` pairs (data
    of several instrument versions are pooled). ``screens``: a :class:`ScreenConfig` or a mapping of
    its fields (defaults from the literature). ``lenient``: turn unfixable cells into missing values
    and record each one instead of stopping. ``keep_pii``: personal-data columns to keep as SHA-256
    hashes with ``salt``. ``problems_path``: where the full problem list is written when strict
    validation stops.
    """
    config = screen_config(screens)
    ingested = read_sources(
        sources, instrument, lenient=lenient, keep_pii=keep_pii, salt=salt, problems_path=problems_path
    )
    return screen(ingested, config, mcar=mcar)
