"""Validate a raw export against its instrument and code it for analysis.

Each item column is checked against the item's scale:

* ordinal and nominal scales: a cell must be a scale point, a labelled missing code of the scale
  (or a user-missing code declared in the .sav), or a label of either (choice-text exports; matched
  after stripping surrounding space and ignoring case; nothing else is guessed);
* count and numeric scales: a number within ``[min, max]`` (counts whole), or a labelled missing code;
* empty cells are skipped questions.

Every violation is a :class:`Problem` naming file, row (the 1-based data record), column and value.
Labelled missing codes become NaN in the coded items, and are kept aside per item
(``Validated.missing_codes``) so the missing-data report tells "prefer not to say" from skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, shorten_value
from survey.ingest.columns import ColumnMap
from survey.ingest.readers import RawTable
from survey.ingest.safe import display_value, write_csv
from survey.instrument import Instrument, Scale

STATUS_LABELS = {
    "ip address": 0,
    "survey preview": 1,
    "survey test": 2,
    "imported": 4,
    "spam": 8,
    "preview spam": 9,
    "imported spam": 12,
    "offline": 16,
    "offline preview": 17,
}
BOOL_LABELS = {"true": 1, "false": 0, "yes": 1, "no": 0, "1": 1, "0": 0}
#: pandas' default NA words (read as text, see :data:`survey.ingest.readers.NA_VALUES`): an answer when
#: the item's scale has the word as a label, a missing value (skipped) otherwise.
NA_WORDS = frozenset(
    w.casefold()
    for w in ("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
              "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
)


@dataclass(frozen=True)
class Problem:
    """One problem in a raw file: where (file, 1-based data row, column), the value, what is wrong."""

    file: str
    row: int | None
    column: str | None
    value: Any
    message: str
    code: str

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {shorten_value(self.value)}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    cols = ["file", "row", "column", "value", "code", "message"]
    return pd.DataFrame([p.to_dict() for p in problems], columns=cols)


def write_problems(problems: list[Problem], path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(problems_frame(problems), path)
    except OSError as exc:
        message = f"cannot write the problem list: {exc.strerror or exc}"
        raise SurveyInputError(message, file=str(path)) from None
    return path


def summary_error(problems: list[Problem], problems_path: str | Path | None) -> SurveyInputError:
    """One line: "raw.csv: 37 problems, first: row 12, column 'SHI1', value 9: ...; full list in P"."""
    first = problems[0]
    n = len(problems)
    where = first.where()
    head = f"{first.file}: {n} problem{'s' if n != 1 else ''}, first: " + (f"{where}: " if where else "")
    tail = f"; full list in {problems_path}" if problems_path else "; full list in the error's .problems"
    exc = SurveyInputError(head + first.message + tail)
    exc.file, exc.row, exc.column, exc.value = first.file, first.row, first.column, first.value
    exc.problems = problems  # type: ignore[attr-defined]
    return exc


@dataclass
class Validated:
    """A coded export: ``items`` (floats; text kept as text), ``meta`` for the screens, labelled
    missing codes per item (``missing_codes``: item -> Series of codes indexed by row), problems."""

    file: str
    format: str
    version: str
    items: pd.DataFrame
    meta: pd.DataFrame
    missing_codes: dict[str, pd.Series] = field(default_factory=dict)
    missing_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    kept_pii: list[str] = field(default_factory=list)


def _display(v: Any) -> Any:
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str):
        return display_value(v)
    return v


def _problems(
    file: str, col: str, raw: pd.Series, mask: np.ndarray, message: str, code: str
) -> list[Problem]:
    rows = np.flatnonzero(mask)
    values = raw.to_numpy()[rows]
    return [
        Problem(file, int(r) + 1, col, _display(v), message, code) for r, v in zip(rows, values, strict=True)
    ]


def _labels(points: dict, missing: dict) -> dict[str, float]:
    out = {str(lab).strip().casefold(): float(code) for code, lab in points.items()}
    out.update({str(lab).strip().casefold(): float(code) for code, lab in missing.items()})
    return out


def coerce_column(
    raw: pd.Series,
    scale: Scale,
    scale_id: str,
    col: str,
    file: str,
    user_missing: dict[float, str] | None = None,
    text_codes: dict[str, float] | None = None,
) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Code one item column. Returns (values with missing codes as NaN, missing codes, problems).
    ``text_codes``: string user-missing values of the file {value: code} (their codes are in
    ``user_missing``)."""
    stype = str(scale.type)
    points = {float(k): v for k, v in scale.points.items()}
    missing = {float(k): v for k, v in scale.missing.items()}
    missing.update(user_missing or {})
    problems: list[Problem] = []
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = raw.astype("float64")
        present = num.notna().to_numpy()
        unparsable = np.zeros(len(raw), dtype=bool)
    else:
        text = raw.astype("string").str.strip()
        folded = text.str.casefold()
        lookup = _labels(points if stype in ("ordinal", "nominal") else {}, missing)
        lookup.update({str(k).strip().casefold(): float(v) for k, v in (text_codes or {}).items()})
        mapped = folded.map(lookup)
        mapped = mapped.astype("float64")
        na_word = (folded.isin(NA_WORDS) & mapped.isna()).to_numpy(dtype=bool)
        text = text.mask(na_word, "")
        present = (text.notna() & (text != "")).to_numpy(dtype=bool)
        numeric = pd.to_numeric(text.where(mapped.isna()), errors="coerce").astype("float64")
        num = mapped.fillna(numeric)
        unparsable = present & num.isna().to_numpy()
    values = num.to_numpy(dtype="float64", copy=True)
    is_code = np.isin(values, list(missing)) if missing else np.zeros(len(values), dtype=bool)
    finite = np.isfinite(values)
    if stype in ("ordinal", "nominal") and points:
        bad = present & ~unparsable & ~is_code & ~np.isin(values, list(points))
        problems += _problems(file, col, raw, bad, f"not a code of scale {scale_id}", "out_of_range")
        problems += _problems(file, col, raw, unparsable, f"label not on scale {scale_id}", "not_on_scale")
    else:
        lo, hi = scale.min, scale.max
        with np.errstate(invalid="ignore"):
            out = ~finite & ~np.isnan(values)
            if lo is not None:
                out |= values < float(lo)
            if hi is not None:
                out |= values > float(hi)
        bad = present & ~unparsable & ~is_code & out
        rng = f"[{_display(lo)}, {_display(hi)}]"
        problems += _problems(
            file, col, raw, bad, f"outside the range {rng} of scale {scale_id}", "out_of_range"
        )
        if stype == "count":
            with np.errstate(invalid="ignore"):
                frac = present & ~unparsable & ~is_code & ~bad & finite & (np.floor(values) != values)
            problems += _problems(
                file, col, raw, frac, f"not a whole number (scale {scale_id} counts)", "not_integer"
            )
            bad = bad | frac
        problems += _problems(file, col, raw, unparsable, "not a number", "non_numeric")
    codes = pd.Series(values[is_code], index=np.flatnonzero(is_code), dtype="float64", name=col)
    values[bad | is_code | unparsable] = np.nan
    return pd.Series(values, index=raw.index, name=col), codes, problems


def id_text(values: pd.Series) -> np.ndarray:
    """Respondent ids as text: whole-number floats (a numeric id column with blank cells) without
    ".0", blank cells and NA words as ""."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.astype("float64").to_numpy()
        out = np.full(len(num), "", dtype=object)
        ok = np.isfinite(num)
        whole = ok & (np.floor(num) == num) & (np.abs(num) < 2**53)
        out[whole] = num[whole].astype(np.int64).astype(str)
        out[ok & ~whole] = num[ok & ~whole].astype(str)
        return out
    cells = values.to_numpy(dtype=object, na_value=None)
    if all(v is None or type(v) is str for v in cells):  # text as read: one pass in Python, no copies
        stripped = [v.strip(" ") if v is not None else "" for v in cells]
        out = np.empty(len(stripped), dtype=object)
        out[:] = ["" if t.casefold() in NA_WORDS else t for t in stripped]
        return out
    text = values.astype("string").str.strip(" ")
    text = text.mask(text.str.casefold().isin(NA_WORDS), "")
    return text.fillna("").to_numpy(dtype=object)


def _numeric_meta(
    raw: pd.Series,
    col: str,
    file: str,
    labels: dict[str, int] | None = None,
    value_labels: dict[float, str] | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """A metadata column as numbers; codes whose value label (SPSS) is a known label ("False",
    "Survey Preview") take that label's meaning, so Finished coded 2 = "False" is 0."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = raw.astype("float64")
        if labels and value_labels:
            recode = {
                code: float(labels[lab.strip().casefold()])
                for code, lab in value_labels.items()
                if lab.strip().casefold() in labels
            }
            if recode:
                num = num.map(lambda v: recode.get(v, v)).astype("float64")
        return num, []
    text = raw.astype("string").str.strip()
    mapped = text.str.casefold().map(labels or {}).astype("float64")
    text = text.mask(text.str.casefold().isin(NA_WORDS) & mapped.isna(), "")
    present = (text.notna() & (text != "")).to_numpy(dtype=bool)
    num = mapped.fillna(pd.to_numeric(text.where(mapped.isna()), errors="coerce").astype("float64"))
    bad = present & num.isna().to_numpy()
    return num.astype("float64"), _problems(file, col, raw, bad, "not a number", "non_numeric")


def _meta(
    frame: pd.DataFrame, cmap: ColumnMap, file: str, value_labels: dict[str, dict[float, str]] | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    meta = pd.DataFrame(index=frame.index)
    problems: list[Problem] = []
    by_name = {v: k for k, v in cmap.meta.items()}
    stem = Path(file).stem
    rid_col = by_name.get("respondent_id")

    def fallback(rows: np.ndarray) -> np.ndarray:
        return np.array([f"{stem}-{i + 1}" for i in rows], dtype=object)

    if rid_col is not None:
        rid = id_text(frame[rid_col])
        blank = np.flatnonzero(rid == "")
        if len(blank):
            rid[blank] = fallback(blank)
        meta["respondent_id"] = rid
    else:
        meta["respondent_id"] = fallback(np.arange(len(frame)))
    for name, labels in (
        ("Status", STATUS_LABELS),
        ("Progress", None),
        ("Finished", BOOL_LABELS),
        ("Duration", None),
    ):
        if name in by_name:
            col = by_name[name]
            vl = (value_labels or {}).get(col)
            meta[name], probs = _numeric_meta(frame[col], col, file, labels, vl)
            problems += probs
    if "Finished" not in meta and "submitdate" in by_name:  # LimeSurvey: no submit date = incomplete
        sub = frame[by_name["submitdate"]].astype("string").str.strip()
        meta["Finished"] = (sub.notna() & (sub != "")).astype("float64").to_numpy()
    if "Duration" not in meta and "start" in by_name and "end" in by_name:
        start = pd.to_datetime(frame[by_name["start"]], errors="coerce", utc=True, format="mixed")
        end = pd.to_datetime(frame[by_name["end"]], errors="coerce", utc=True, format="mixed")
        meta["Duration"] = (end - start).dt.total_seconds()
    if "DistributionChannel" in by_name:
        meta["DistributionChannel"] = frame[by_name["DistributionChannel"]].to_numpy()
    return meta, problems


def check_kobo_version(frame: pd.DataFrame, cmap: ColumnMap, instrument: Instrument, file: str) -> None:
    """Every Kobo submission must carry the instrument's version in ``__version__`` ("v" prefix allowed)."""
    col = next((k for k, v in cmap.meta.items() if v == "__version__"), None)
    if col is None:
        return
    text = frame[col].astype("string").str.strip().str.lstrip("vV")
    # Kobo writes its own deployment id ("vGb8sEf2LMkRGr4T...") unless the form sets a version:
    # only a version-like value (1.0.0) is compared with the instrument's
    semver = text.str.fullmatch(r"\d+(\.\d+){1,2}").fillna(False)
    bad = (semver & (text != str(instrument.version))).to_numpy(dtype=bool)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise SurveyInputError(
            f"form version does not match instrument {instrument.name}@{instrument.version}",
            file=file,
            row=r + 1,
            column=col,
            value=_display(frame[col].iloc[r]),
        )


def _user_missing(raw: RawTable, col: str) -> tuple[dict[float, str] | None, dict[str, float] | None]:
    """The file's user-missing values of ``col``: {code: label}, and the string ones {value: code}
    (a numeric string is its own code; other strings get codes below -1e9, used only to count them
    per label in the missing-data report)."""
    numeric = dict(raw.user_missing.get(col) or {})
    text = raw.text_missing.get(col)
    if not text:
        return numeric or None, None
    codes: dict[str, float] = {}
    for k, (value, label) in enumerate(sorted(text.items())):
        try:
            code = float(value)
        except ValueError:
            code = -1e9 - k
        codes[value] = code
        numeric[code] = label
    return numeric, codes


def validate(
    raw: RawTable, frame: pd.DataFrame, cmap: ColumnMap, instrument: Instrument, *, lenient: bool = False
) -> Validated:
    """Check ``frame`` (the export after personal data were removed) and code its items.

    Strict (default): problems are returned for the caller to stop on. Lenient: unfixable cells are
    already NaN in ``items`` and every one is still listed in ``problems``; missing items are added as
    empty columns and unknown columns are left out.
    """
    file = raw.file
    problems: list[Problem] = []
    for col in cmap.unknown:
        problems.append(
            Problem(
                file,
                None,
                col,
                None,
                f"unknown column: neither an item of {instrument.name}@{instrument.version} "
                "nor known metadata",
                "unknown_column",
            )
        )
    for item in cmap.missing_items:
        hint = cmap.missing_hint.get(item)
        message = "item of the instrument is missing from the file"
        if hint:
            message += f" (it is not in {hint}: wrong instrument version?)"
        problems.append(Problem(file, None, item, None, message, "missing_item"))
    check_kobo_version(frame, cmap, instrument, file)
    present = set(cmap.items.values())
    order = [it.id for it in instrument.items if it.id in present or it.id in cmap.missing_items]
    pos = {item: j for j, item in enumerate(order)}
    # one column-major float block: column writes are contiguous and pandas frames it without a copy
    block = np.empty((len(frame), len(order)), order="F")  # every column is written below
    for item in cmap.missing_items:
        if item in pos:
            block[:, pos[item]] = np.nan
    codes: dict[str, pd.Series] = {}
    labels: dict[str, dict[float, str]] = {}
    for col, item in cmap.items.items():
        scale = instrument.scale_of(item)
        sid = instrument.item(item).scale
        user_missing, text_codes = _user_missing(raw, col)
        values, miss, probs = coerce_column(frame[col], scale, sid, col, file, user_missing, text_codes)
        block[:, pos[item]] = values.to_numpy()
        problems += probs
        labs = {float(k): str(v) for k, v in scale.missing.items()}
        # the file's label wins; an unlabelled user-missing value takes the scale's label if it has one
        labs.update({k: v for k, v in (user_missing or {}).items() if v != "missing" or k not in labs})
        labels[item] = labs
        if len(miss):
            codes[item] = miss
    meta, meta_problems = _meta(frame, cmap, file, raw.value_labels)
    problems += meta_problems
    coded = pd.DataFrame(block, index=frame.index, columns=order, copy=False)
    problems.sort(key=lambda p: (p.row if p.row is not None else 0, p.column or ""))
    return Validated(file, raw.format, str(instrument.version), coded, meta, codes, labels, problems)
