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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.ingest.columns import ColumnMap
from survey.ingest.metadata import NA_WORDS, check_kobo_version, meta_frame
from survey.ingest.problems import (
    Problem,
    cell_problems,
    display,
    problems_frame,
    summary_error,
    write_problems,
)
from survey.ingest.readers import RawTable
from survey.ingest.readers._text import TYPOGRAPHY, fold
from survey.ingest.readers.decimal import detect as detect_decimal
from survey.ingest.readers.decimal import to_point
from survey.instrument import Instrument, Scale

# Problem and its helpers live in survey.ingest.problems, the metadata in survey.ingest.metadata;
# they are importable from here as before
__all__ = ["NA_WORDS", "Problem", "Validated", "coerce_column", "problems_frame", "summary_error", "validate",
           "write_problems"]


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


#: any character :data:`TYPOGRAPHY` replaces (a regular-expression class)
TYPOGRAPHIC = "[" + "".join(chr(c) for c in TYPOGRAPHY) + "]"


def _labels(points: dict, missing: dict) -> dict[str, float]:
    out = {fold(str(lab).strip()): float(code) for code, lab in points.items()}
    out.update({fold(str(lab).strip()): float(code) for code, lab in missing.items()})
    return out


def coerce_column(
    raw: pd.Series,
    scale: Scale,
    scale_id: str,
    col: str,
    file: str,
    user_missing: dict[float, str] | None = None,
    text_codes: dict[str, float] | None = None,
    *,
    out: np.ndarray | None = None,
    decimal: str = ".",
) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Code one item column. Returns (values with missing codes as NaN, missing codes, problems).
    ``text_codes``: string user-missing values of the file {value: code} (their codes are in
    ``user_missing``). ``out``: a float64 array of the column's length to write the values into (the
    returned Series is a view of it). ``decimal``: the file's decimal mark (``","``: numbers of a text
    column are read as European ones, :func:`survey.ingest.readers.decimal.to_point`)."""
    stype = str(scale.type)
    points = {float(k): v for k, v in scale.points.items()}
    missing = {float(k): v for k, v in scale.missing.items()}
    missing.update(user_missing or {})
    problems: list[Problem] = []
    values = np.empty(len(raw)) if out is None else out
    fast = _coerce_integers(raw, scale, stype, points, missing, values)
    if fast is not None:
        bad, is_code = fast
        if stype in ("ordinal", "nominal") and points:
            problems += cell_problems(file, col, raw, bad, f"not a code of scale {scale_id}", "out_of_range")
        else:
            rng = f"[{display(scale.min)}, {display(scale.max)}]"
            problems += cell_problems(
                file, col, raw, bad, f"outside the range {rng} of scale {scale_id}", "out_of_range"
            )
        codes = pd.Series(values[is_code], index=np.flatnonzero(is_code), dtype="float64", name=col)
        values[bad | is_code] = np.nan
        return pd.Series(values, index=raw.index, name=col, copy=False), codes, problems
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        # converted once, straight into ``values`` (a numpy column is read in place)
        numpy_dtype = isinstance(raw.dtype, np.dtype)
        cells = raw.to_numpy() if numpy_dtype else raw.to_numpy("float64", na_value=np.nan)
        np.copyto(values, cells, casting="unsafe")
        present = ~np.isnan(values)
        unparsable = np.zeros(len(raw), dtype=bool)
    else:
        text = raw.astype("string").str.strip()
        folded = text.str.casefold()
        if folded.str.contains(TYPOGRAPHIC, regex=True).any():  # "smart" quotes: matched as plain ones
            folded = folded.str.translate(TYPOGRAPHY).str.strip()
        lookup = _labels(points if stype in ("ordinal", "nominal") else {}, missing)
        lookup.update({fold(str(k).strip()): float(v) for k, v in (text_codes or {}).items()})
        mapped = folded.map(lookup)
        mapped = mapped.astype("float64")
        na_word = (folded.isin(NA_WORDS) & mapped.isna()).to_numpy(dtype=bool)
        text = text.mask(na_word, "")
        present = (text.notna() & (text != "")).to_numpy(dtype=bool)
        number_text = to_point(text) if decimal == "," else text
        numeric = pd.to_numeric(number_text.where(mapped.isna()), errors="coerce").astype("float64")
        num = mapped.fillna(numeric)
        unparsable = present & num.isna().to_numpy()
        np.copyto(values, num.to_numpy(dtype="float64"))
    is_code = np.isin(values, list(missing)) if missing else np.zeros(len(values), dtype=bool)
    finite = np.isfinite(values)
    if stype in ("ordinal", "nominal") and points:
        bad = present & ~unparsable & ~is_code & ~np.isin(values, list(points))
        problems += cell_problems(file, col, raw, bad, f"not a code of scale {scale_id}", "out_of_range")
        problems += cell_problems(file, col, raw, unparsable, f"label not on scale {scale_id}",
                                  "not_on_scale")
    else:
        lo, hi = scale.min, scale.max
        with np.errstate(invalid="ignore"):
            out = ~finite & ~np.isnan(values)
            if lo is not None:
                out |= values < float(lo)
            if hi is not None:
                out |= values > float(hi)
        bad = present & ~unparsable & ~is_code & out
        rng = f"[{display(lo)}, {display(hi)}]"
        problems += cell_problems(
            file, col, raw, bad, f"outside the range {rng} of scale {scale_id}", "out_of_range"
        )
        if stype == "count":
            with np.errstate(invalid="ignore"):
                frac = present & ~unparsable & ~is_code & ~bad & finite & (np.floor(values) != values)
            problems += cell_problems(
                file, col, raw, frac, f"not a whole number (scale {scale_id} counts)", "not_integer"
            )
            bad = bad | frac
        problems += cell_problems(file, col, raw, unparsable, "not a number", "non_numeric")
    codes = pd.Series(values[is_code], index=np.flatnonzero(is_code), dtype="float64", name=col)
    values[bad | is_code | unparsable] = np.nan
    return pd.Series(values, index=raw.index, name=col, copy=False), codes, problems


#: Widest value range (max - min) of an integer column coded through a lookup table.
LOOKUP_SPAN = 1 << 16


def _coerce_integers(
    raw: pd.Series, scale: Scale, stype: str, points: dict, missing: dict, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The numeric branch of :func:`coerce_column` for a column of integers (numpy int dtype, every cell
    present) whose values span at most :data:`LOOKUP_SPAN`: each distinct value is classified once
    (scale point / in range, missing code, or bad, exactly as the general branch's ``isin`` and range
    tests decide) and the rows take their class from a lookup table, one pass instead of one per code.
    Writes the values into ``values``; returns (bad, is_code) masks, or None when the column does not
    qualify (the general branch then runs)."""
    if not (isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iu") or len(raw) == 0:
        return None
    cells = raw.to_numpy()
    lo, hi = int(cells.min()), int(cells.max())
    if hi - lo > LOOKUP_SPAN or max(abs(lo), abs(hi)) >= 2**53:  # exact as floats
        return None
    np.copyto(values, cells, casting="unsafe")
    domain = np.arange(lo, hi + 1, dtype="float64")
    is_code = np.isin(domain, list(missing)) if missing else np.zeros(len(domain), dtype=bool)
    if stype in ("ordinal", "nominal") and points:
        bad = ~is_code & ~np.isin(domain, list(points))
    else:
        out = np.zeros(len(domain), dtype=bool)
        if scale.min is not None:
            out |= domain < float(scale.min)
        if scale.max is not None:
            out |= domain > float(scale.max)
        bad = ~is_code & out  # whole numbers: never a fractional count
    cls = (is_code.astype(np.uint8) | (bad.astype(np.uint8) << 1))  # 0 fine, 1 code, 2 bad
    if not cls.any():
        none = np.zeros(len(cells), dtype=bool)
        return none, none
    if 0 <= lo and hi <= LOOKUP_SPAN:  # a table from 0 indexes the cells directly (no shifted copy)
        cls = np.concatenate((np.zeros(lo, dtype=np.uint8), cls))
        row_cls = cls.take(cells)
    else:
        row_cls = cls.take(cells - lo)
    return row_cls == 2, row_cls == 1


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
    numeric_types = ("numeric", "count")
    numeric_cols = [c for c, i in cmap.items.items() if str(instrument.scale_of(i).type) in numeric_types]
    numeric_cols += [c for c, m in cmap.meta.items() if m in ("Duration", "Progress")]
    decimal = detect_decimal(frame, numeric_cols, file, raw.delimiter)
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
        _, miss, probs = coerce_column(
            frame[col], scale, sid, col, file, user_missing, text_codes, out=block[:, pos[item]],
            decimal=decimal if str(scale.type) in numeric_types else ".",
        )
        problems += probs
        labs = {float(k): str(v) for k, v in scale.missing.items()}
        # the file's label wins; an unlabelled user-missing value takes the scale's label if it has one
        labs.update({k: v for k, v in (user_missing or {}).items() if v != "missing" or k not in labs})
        labels[item] = labs
        if len(miss):
            codes[item] = miss
    meta, meta_problems = meta_frame(frame, cmap, file, raw.value_labels, decimal)
    problems += meta_problems
    coded = pd.DataFrame(block, index=frame.index, columns=order, copy=False)
    problems.sort(key=lambda p: (p.row if p.row is not None else 0, p.column or ""))
    return Validated(file, raw.format, str(instrument.version), coded, meta, codes, labels, problems)
