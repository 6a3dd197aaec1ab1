"""The ingestion pipeline: read -> map columns -> drop personal data -> validate -> harmonise ->
screen -> exclusion flow -> analytic data set.

``ingest`` never writes unless asked (:meth:`IngestResult.write`, atomic: files are written to a
temporary directory beside the target, then moved in). Raw files are only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.ingest._instrument import get_instrument
from survey.ingest.columns import map_columns
from survey.ingest.harmonise import harmonise
from survey.ingest.missing import MissingReport, missing_report
from survey.ingest.pii import remove_pii
from survey.ingest.readers import read_raw
from survey.ingest.validate import Problem, Validated, problems_frame, summary_error, validate, write_problems

PathLike = str | os.PathLike


def file_sha256(path: PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class IngestResult:
    """Outcome of :func:`ingest`: ``clean`` (analytic sample), ``exclusions`` (one row per excluded
    respondent with every reason), ``flow`` (CONSORT-style table), ``problems`` (DataFrame of
    :class:`~survey.ingest.validate.Problem`), ``quality`` (careless indices of every raw row),
    ``missing`` (:class:`~survey.ingest.missing.MissingReport` of the analytic sample), ``report``
    (the ingest.json dict)."""

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
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            self.clean.to_csv(tmp / "clean.csv", index=False, float_format="%.15g")
            self.exclusions.to_csv(tmp / "exclusions.csv", index=False)
            self.flow.to_csv(tmp / "flow.csv", index=False)
            if len(self.problems):
                self.problems.to_csv(tmp / "problems.csv", index=False)
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
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _sources(sources: Any, instrument: Any) -> list[tuple[Path, Any]]:
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    if isinstance(instrument, (list, tuple)):
        if len(instrument) != len(sources):
            raise SurveyInputError("give one instrument per source", field="instrument")
        sources = [
            s if isinstance(s, tuple) else (s, spec) for s, spec in zip(sources, instrument, strict=True)
        ]
        instrument = None
    out = []
    for s in sources:
        if isinstance(s, tuple):
            path, spec = s
        else:
            path, spec = s, instrument
        if spec is None:
            raise SurveyInputError(
                "no instrument given: pass instrument='NAME@VERSION' or (path, spec) pairs", file=str(path)
            )
        out.append((Path(path), spec))
    if not out:
        raise SurveyInputError("no input files")
    return out


@dataclass
class _Part:
    path: Path
    sha256: str
    instrument: Any
    validated: Validated
    dropped: list[str]
    hashed: list[str]
    n: int


def _read_one(path: Path, spec: Any, lenient: bool, keep: Sequence[str], salt: str | None) -> _Part:
    sha = file_sha256(path) if path.is_file() else ""
    raw = read_raw(path)
    inst = get_instrument(spec)
    cmap = map_columns(raw, inst)
    frame, dropped, hashed = remove_pii(
        raw.frame, cmap.pii, [c for c in keep if c in cmap.pii], salt, file=raw.file
    )
    v = validate(raw, frame, cmap, inst, lenient=lenient)
    for col in hashed:
        v.meta[col] = frame[col].to_numpy()
    v.kept_pii = hashed
    return _Part(path, sha, inst, v, dropped, hashed, len(frame))


def ingest(
    sources: Any,
    instrument: Any = None,
    *,
    screens: Any = None,
    lenient: bool = False,
    keep_pii: Sequence[str] = (),
    salt: str | None = None,
    problems_path: PathLike | None = None,
    mcar: bool = True,
) -> IngestResult:
    """Read, validate, de-identify, harmonise and screen raw exports into an analytic data set.

    ``sources``: one path (with ``instrument``), or a list of ``(path, "name@version")`` pairs (data
    of several instrument versions are pooled, see :mod:`survey.ingest.harmonise`). ``screens``: a
    :class:`survey.quality.ScreenConfig` (defaults from the literature). ``lenient``: turn unfixable
    cells into missing values and record each one instead of stopping. ``keep_pii``: personal-data
    columns to keep as SHA-256 hashes with ``salt``. ``problems_path``: where the full problem list
    is written when strict validation stops.
    """
    from survey.quality import ScreenConfig, design_from_instrument, exclusion_flow, run_screens
    from survey.quality.screens import screen_duplicate_ids

    if screens is None:
        config = ScreenConfig()
    elif isinstance(screens, ScreenConfig):
        config = screens
    else:
        try:
            config = ScreenConfig.model_validate(dict(screens))
        except (ValueError, TypeError) as exc:
            raise SurveyInputError(
                f"invalid screen configuration: {exc}".splitlines()[0], field="screens"
            ) from None
    keep = list(keep_pii)
    parts = [_read_one(p, s, lenient, keep, salt) for p, s in _sources(sources, instrument)]
    for col in keep:
        if not any(col in part.hashed for part in parts):
            raise SurveyInputError(
                "column named in keep_pii is not a personal-data column of the input", column=col
            )
    problems: list[Problem] = [p for part in parts for p in part.validated.problems]
    if problems and not lenient:
        if problems_path is not None:
            write_problems(problems, problems_path)
        raise summary_error(problems, problems_path)

    pooled, names = harmonise([(part.instrument, part.validated.items) for part in parts])
    meta = pd.concat([part.validated.meta for part in parts], ignore_index=True, sort=False)
    source = np.concatenate([np.full(part.n, part.validated.file, dtype=object) for part in parts])
    source_row = np.concatenate([np.arange(1, part.n + 1) for part in parts])

    flag_parts, index_parts, warns = [], [], []
    for part in parts:
        v = part.validated
        design = design_from_instrument(part.instrument, list(v.items.columns))
        res = run_screens(v.items, design, config, ids=None, meta=v.meta)
        flag_parts.append(res.flags)
        index_parts.append(res.indices)
        warns += res.warnings
    flags = pd.concat(flag_parts, ignore_index=True)
    indices = pd.concat(index_parts, ignore_index=True)
    if config.duplicates and "respondent_id" in meta:
        eligible = ~(flags["preview"] | flags["incomplete"])
        flags["duplicate_id"] = screen_duplicate_ids(meta["respondent_id"], eligible).to_numpy()
    info = pd.DataFrame(
        {
            "respondent_id": meta["respondent_id"].to_numpy(),
            "instrument_version": pooled["instrument_version"].to_numpy(),
            "source": source,
            "source_row": source_row,
        }
    )
    flow = exclusion_flow(flags, info)
    keep_rows = ~flow.excluded.to_numpy()

    item_cols = [c for c in pooled.columns if c != "instrument_version"]
    clean = pooled.loc[keep_rows, item_cols]
    clean.insert(0, "instrument_version", pooled.loc[keep_rows, "instrument_version"].to_numpy())
    clean.insert(0, "respondent_id", meta.loc[keep_rows, "respondent_id"].to_numpy())
    for col in keep:
        if col in meta.columns:
            clean[col] = meta.loc[keep_rows, col].to_numpy()
    clean = clean.reset_index(drop=True)

    missing = _missing(parts, names, keep_rows, clean, mcar)
    quality = pd.concat(
        [info[["respondent_id", "instrument_version", "source", "source_row"]], indices], axis=1
    )
    quality["excluded"] = flow.excluded.to_numpy()
    dropped = sorted({c for part in parts for c in part.dropped})
    report = {
        "n_raw": flow.n_raw,
        "n_analytic": flow.n_analytic,
        "n_excluded": flow.n_excluded,
        "excluded_by_reason": flow.excluded_by_reason(),
        "flow": flow.flow.to_dict(orient="records"),
        "pii_dropped": dropped,
        "pii_hashed": sorted({c for part in parts for c in part.hashed}),
        "instrument": sorted(
            {
                part.instrument.spec
                if hasattr(part.instrument, "spec")
                else f"{part.instrument.name}@{part.instrument.version}"
                for part in parts
            }
        ),
        "sources": [
            {
                "file": part.validated.file,
                "sha256": part.sha256,
                "format": part.validated.format,
                "instrument_version": part.validated.version,
                "n_rows": part.n,
            }
            for part in parts
        ],
        "columns": names,
        "screens": config.model_dump(),
        "n_problems": len(problems),
        "missing": missing.to_dict(),
        "warnings": [w.message for w in warns],
    }
    if len(report["instrument"]) == 1:
        report["instrument"] = report["instrument"][0]
    return IngestResult(
        clean, flow.exclusions, flow.flow, problems_frame(problems), report, quality, missing, warns
    )


def _missing(
    parts: list[_Part],
    names: dict[str, dict[str, str]],
    keep_rows: np.ndarray,
    clean: pd.DataFrame,
    mcar: bool,
) -> MissingReport:
    """Missing-data report of the analytic sample; Little's test per version on its Likert items."""
    from survey.quality import design_from_instrument

    codes: dict[str, list[pd.Series]] = {}
    labels: dict[str, dict[float, str]] = {}
    offset = 0
    kept_positions = np.cumsum(keep_rows) - 1
    for part in parts:
        v = part.validated
        mapping = names[str(part.instrument.version)]
        for item, series in v.missing_codes.items():
            pos = series.index.to_numpy() + offset
            ok = keep_rows[pos]
            codes.setdefault(mapping[item], []).append(
                pd.Series(series.to_numpy()[ok], index=kept_positions[pos[ok]])
            )
            labels.setdefault(mapping[item], {}).update(v.missing_labels.get(item, {}))
        offset += part.n
    merged = {k: pd.concat(v) for k, v in codes.items()}
    item_cols = [
        c
        for c in clean.columns
        if c not in ("respondent_id", "instrument_version") and pd.api.types.is_numeric_dtype(clean[c])
    ]
    report = missing_report(clean[item_cols], merged, labels)
    if mcar:
        tests = {}
        for part in parts:
            version = str(part.instrument.version)
            mapping = names[version]
            design = design_from_instrument(part.instrument, list(part.validated.items.columns))
            cols = [mapping[c] for c in design.likert if mapping.get(c) in clean.columns]
            rows = clean["instrument_version"] == version
            if version in tests or not cols or rows.sum() <= len(cols):
                continue
            try:
                from survey.ingest.missing import little_mcar

                tests[version] = little_mcar(clean[cols] if rows.all() else clean.loc[rows, cols])
            except Exception as exc:  # noqa: BLE001 - a failed test is reported, not fatal
                tests[version] = {"test": "Little (1988) MCAR", "error": str(exc)}
        report.mcar = tests
    return report
