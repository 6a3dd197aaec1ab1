"""The ingest stage in one call: read -> map columns -> drop personal data -> validate -> harmonise.

:func:`read_sources` returns an :class:`Ingested`: every raw record of every source, coded and pooled
(no respondent is excluded here; screening is the quality stage's job, :func:`survey.quality.screen`).
Raw files are only read, never written.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.ingest.columns import map_columns
from survey.ingest.harmonise import harmonise
from survey.ingest.pii import remove_pii
from survey.ingest.readers import RawTable, read_raw
from survey.ingest.validate import Problem, Validated, problems_frame, summary_error, validate, write_problems
from survey.instrument import Instrument, load_instrument

PathLike = str | os.PathLike


def _name_list(names: list[str], most: int = 10) -> str:
    """The first ``most`` names quoted, then how many more (a very wide export's warning stays one short
    line; ingest.json's ``platform_columns`` lists them all)."""
    shown = ", ".join(repr(c) for c in names[:most])
    return shown + (f" and {len(names) - most} more (see platform_columns)" if len(names) > most else "")


def file_sha256(path: PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Source:
    """One raw export after reading, personal-data removal and validation: ``validated.items`` (coded
    items under the instrument's own ids), ``validated.meta`` (respondent id, screen metadata, hashed
    personal data), the columns dropped and hashed, and the file's SHA-256."""

    path: Path
    sha256: str
    instrument: Instrument
    validated: Validated
    pii_dropped: list[str]
    pii_hashed: list[str]
    column_map: dict[str, str] = field(default_factory=dict)
    platform_columns: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.validated.items)

    @property
    def items(self) -> pd.DataFrame:
        return self.validated.items

    @property
    def meta(self) -> pd.DataFrame:
        return self.validated.meta

    def to_dict(self) -> dict[str, Any]:
        v = self.validated
        return {"file": v.file, "sha256": self.sha256, "format": v.format, "instrument_version": v.version,
                "n_rows": self.n}


@dataclass
class Ingested:
    """Outcome of :func:`read_sources`, one row per raw record of every source, in source order.

    ``data``: pooled items (``instrument_version`` first, pooled column names, labelled missing codes
    as NaN); ``meta``: ``respondent_id``, the screen metadata (Status, Progress, Finished, Duration ...)
    and the personal-data columns kept as hashes; ``sources``: the per-file :class:`Source` s;
    ``columns``: {version: {item id: pooled column}}; ``problems``: validation problems (lenient mode);
    ``missing_codes`` {pooled column: Series of labelled missing codes indexed by pooled row} with
    their ``missing_labels`` {pooled column: {code: label}}; ``info`` (property): where each row came from.
    """

    data: pd.DataFrame
    meta: pd.DataFrame
    sources: list[Source]
    columns: dict[str, dict[str, str]]
    problems: list[Problem]
    missing_codes: dict[str, pd.Series]
    missing_labels: dict[str, dict[float, str]]
    keep_pii: list[str] = field(default_factory=list)
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def info(self) -> pd.DataFrame:
        """Where each row came from: respondent_id, instrument_version, source file, 1-based source row
        (built on access, so that it takes no memory while the screens run)."""
        return pd.DataFrame(
            {
                "respondent_id": self.meta["respondent_id"].to_numpy(),
                "instrument_version": self.data["instrument_version"].to_numpy(),
                "source": np.concatenate(
                    [np.full(s.n, s.validated.file, dtype=object) for s in self.sources]
                ),
                "source_row": np.concatenate([np.arange(1, s.n + 1) for s in self.sources]),
            }
        )

    @property
    def item_columns(self) -> list[str]:
        """Pooled item columns (``instrument_version`` left out)."""
        return [c for c in self.data.columns if c != "instrument_version"]

    @property
    def pii_dropped(self) -> list[str]:
        return sorted({c for s in self.sources for c in s.pii_dropped})

    @property
    def platform_columns(self) -> dict[str, str]:
        """Platform columns dropped (Text iQ, form metadata, row names, ...): {column: kind}."""
        out: dict[str, str] = {}
        for s in self.sources:
            out.update(s.platform_columns)
        return out

    @property
    def pii_hashed(self) -> list[str]:
        return sorted({c for s in self.sources for c in s.pii_hashed})

    @property
    def instrument(self) -> str | list[str]:
        """The instrument spec, or the sorted specs when the sources used several versions."""
        specs = sorted({s.instrument.spec for s in self.sources})
        return specs[0] if len(specs) == 1 else specs

    def problems_frame(self) -> pd.DataFrame:
        return problems_frame(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_raw": self.n,
            "pii_dropped": self.pii_dropped,
            "pii_hashed": self.pii_hashed,
            "platform_columns": self.platform_columns,
            "instrument": self.instrument,
            "sources": [s.to_dict() for s in self.sources],
            "columns": self.columns,
            "n_problems": len(self.problems),
            "warnings": [w.message for w in self.warnings],
        }

    def to_frame(self) -> pd.DataFrame:
        """Respondent id, pooled items and kept (hashed) personal data of every raw record."""
        out = self.data.copy()
        out.insert(0, "respondent_id", self.meta["respondent_id"].to_numpy())
        for col in self.keep_pii:
            if col in self.meta.columns:
                out[col] = self.meta[col].to_numpy()
        return out

    def summary(self) -> str:
        lines = [f"ingested {self.n} raw records from {len(self.sources)} source(s)"]
        for s in self.sources:
            lines.append(f"  {s.validated.file}: {s.n} rows, {s.validated.format}, {s.instrument.spec}")
        if self.problems:
            lines.append(f"{len(self.problems)} problems (cells set to missing)")
        if self.pii_dropped:
            lines.append("personal data dropped: " + ", ".join(self.pii_dropped))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        frame = pd.DataFrame([s.to_dict() for s in self.sources])
        return "<h4>Ingested sources</h4>" + frame.to_html(index=False)


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


def read_source(
    path: PathLike,
    instrument: str | Path | Instrument,
    *,
    lenient: bool = False,
    keep_pii: Sequence[str] = (),
    salt: str | None = None,
) -> Source:
    """Read one raw export, drop (or hash) its personal data and validate it against ``instrument``.

    Validation problems are returned in ``validated.problems``, not raised (see :func:`read_sources`).
    """
    path = Path(path)
    sha = file_sha256(path) if path.is_file() else ""
    raw = read_raw(path, skip=lambda header: _unread_pii(header, instrument, keep_pii))
    inst = load_instrument(instrument)
    cmap = map_columns(raw, inst)
    frame, dropped, hashed = remove_pii(
        raw.frame, cmap.pii, [c for c in keep_pii if c in cmap.pii], salt, file=raw.file
    )
    v = validate(raw, frame, cmap, inst, lenient=lenient)
    for col in hashed:
        v.meta[col] = frame[col].to_numpy()
    v.kept_pii = hashed
    return Source(path, sha, inst, v, dropped, hashed, dict(cmap.items), dict(cmap.platform))


def _unread_pii(header: RawTable, instrument: Any, keep_pii: Sequence[str]) -> list[str]:
    """The personal-data columns of an export that :func:`remove_pii` drops (not those kept hashed),
    from its header alone: :func:`read_raw` leaves them unread; the drop is still listed and logged.
    When the instrument or the header cannot be mapped, everything is read, so that the same error is
    raised at the same step as without skipping."""
    try:
        cmap = map_columns(header, load_instrument(instrument))
    except (SurveyInputError, ValueError, KeyError, IndexError, TypeError):
        return []
    return [c for c in cmap.pii if c not in keep_pii]


def read_sources(
    sources: Any,
    instrument: Any = None,
    *,
    lenient: bool = False,
    keep_pii: Sequence[str] = (),
    salt: str | None = None,
    problems_path: PathLike | None = None,
) -> Ingested:
    """Read, validate, de-identify and harmonise raw exports into one pooled :class:`Ingested`.

    ``sources``: one path (with ``instrument``, "name@version", a YAML path or an
    :class:`~survey.instrument.Instrument`), a list of paths with one instrument or one per path, or
    a list of ``(path, instrument)`` pairs (data of several instrument versions are pooled, see
    :mod:`survey.ingest.harmonise`). ``lenient``: turn unfixable cells into missing values and record
    each one instead of stopping. ``keep_pii``: personal-data columns to keep as SHA-256 hashes with
    ``salt``. ``problems_path``: where the full problem list is written when strict validation stops.
    """
    keep = list(keep_pii)
    parts = [
        read_source(path, spec, lenient=lenient, keep_pii=keep, salt=salt)
        for path, spec in _sources(sources, instrument)
    ]
    for col in keep:
        if not any(col in part.pii_hashed for part in parts):
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
    codes, labels = _pooled_missing_codes(parts, names)
    warns = [
        SurveyWarning(
            "unrecognised_columns",
            f"{part.validated.file}: columns neither items nor known metadata were dropped: "
            + _name_list([c for c, k in part.platform_columns.items() if k == "unrecognised column"]),
            "ingest",
        )
        for part in parts
        if "unrecognised column" in part.platform_columns.values()
    ]
    return Ingested(pooled, meta, parts, names, problems, codes, labels, keep, warns)


def _pooled_missing_codes(
    parts: list[Source], names: dict[str, dict[str, str]]
) -> tuple[dict[str, pd.Series], dict[str, dict[float, str]]]:
    """Labelled missing codes per pooled column, indexed by pooled row; their labels per column."""
    codes: dict[str, list[pd.Series]] = {}
    labels: dict[str, dict[float, str]] = {}
    offset = 0
    for part in parts:
        v = part.validated
        mapping = names[str(part.instrument.version)]
        for item, series in v.missing_codes.items():
            codes.setdefault(mapping[item], []).append(
                pd.Series(series.to_numpy(), index=series.index.to_numpy() + offset, dtype="float64")
            )
            labels.setdefault(mapping[item], {}).update(v.missing_labels.get(item, {}))
        offset += part.n
    return {k: pd.concat(v) for k, v in codes.items()}, labels
