"""Decimal commas in the numeric columns of European exports.

Spreadsheets and survey tools set to a German, French, Spanish ... locale write ``3,5`` for three and a
half (and ``1.234,5`` with a dot grouping the thousands), usually in a semicolon-delimited CSV. pandas
reads such a column as text, so a numeric item (a slider, minutes per day) or a duration would end
up "not a number" or, worse, be read in the other convention. The convention is decided once per
file, over its numeric columns only (numeric and count items, Duration, Progress):

* comma evidence: a cell ``12,5`` / ``-0,25`` / ``1.234,5`` whose comma cannot be a thousands separator
  (not exactly three digits after it, or more than three before it, or dots grouping before it);
* point evidence: a cell ``12.5`` / ``0.25`` / ``1,234.5`` whose dot cannot be a thousands separator,
  or a column pandas already read as numbers with fractions (its cells had decimal points);
* the ambiguous cells ``1,234`` and ``1.234`` (one to three digits, a separator, three digits) are
  decided by that evidence; with none, a semicolon-delimited file is taken as European (the
  delimiter Excel writes where the comma is the decimal mark), any other file as not.

Comma and point evidence in the same file is an error naming both cells, never a guess. In a European
file every numeric cell is read with ``,`` as the decimal mark and ``.`` as the thousands separator
(:func:`to_point`); nothing changes in any other file. Only text columns are looked at: a column
pandas read as numbers holds neither mark. (The rule of Excel's and LibreOffice's locale settings;
CLDR lists ``,`` as the decimal separator of most European locales.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, shorten_value

#: a comma that is a decimal mark for sure
COMMA_SURE = r"[+-]?(?:\d{1,3}(?:\.\d{3})+,\d+|\d{4,},\d+|\d{0,3},(?:\d{1,2}|\d{4,})|0?,\d{3})"
#: a dot that is a decimal mark for sure
POINT_SURE = r"[+-]?(?:\d{1,3}(?:,\d{3})+\.\d+|\d{4,}\.\d+|\d{0,3}\.(?:\d{1,2}|\d{4,})|0?\.\d{3})"
#: a European number (comma decimals, optional dot grouping, or dot-grouped whole numbers)
EUROPEAN = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?"


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def _first(values: pd.Series, pattern: str) -> tuple[int, str] | None:
    """(0-based row, cell) of the first cell of ``values`` matching ``pattern`` in full, or None."""
    hit = _text(values).str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return None
    r = int(hit.argmax())
    return r, str(values.iloc[r])


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype))


def detect(frame: pd.DataFrame, columns: Iterable[str], file: str, delimiter: str | None) -> str:
    """The decimal mark of the file's numeric ``columns``: "," (European) or "." (everything else).
    Raises :class:`SurveyInputError` when both marks occur for sure."""
    present = [c for c in dict.fromkeys(columns) if c in frame.columns]
    cols = [c for c in present if _is_text(frame[c])]
    comma = point = None
    for col in present:  # a column pandas read as floats with fractions had decimal points
        values = frame[col]
        if pd.api.types.is_float_dtype(values.dtype):
            num = values.to_numpy(dtype="float64", na_value=np.nan)
            frac = np.flatnonzero(np.isfinite(num) & (np.floor(num) != num))
            if len(frac):
                point = (col, int(frac[0]), str(num[frac[0]]))
                break
    for col in cols:
        values = frame[col]
        if not values.astype("string").str.contains(r"[.,]", regex=True).fillna(False).any():
            continue
        if comma is None and (hit := _first(values, COMMA_SURE)) is not None:
            comma = (col, *hit)
        if point is None and (hit := _first(values, POINT_SURE)) is not None:
            point = (col, *hit)
    if comma and point:
        (c1, r1, v1), (c2, r2, v2) = comma, point
        raise SurveyInputError(
            f"mixed decimal marks: decimal comma in {shorten_value(v1)} (row {r1 + 1}, column "
            f"{shorten_value(c1)}), decimal point in {shorten_value(v2)} (row {r2 + 1}, column "
            f"{shorten_value(c2)})",
            file=file,
        )
    if comma:
        return ","
    if point or delimiter != ";":
        return "."
    ambiguous = any(_first(frame[c], r"[+-]?\d{1,3},\d{3}") is not None for c in cols)
    return "," if ambiguous else "."


def to_point(text: pd.Series) -> pd.Series:
    """European numbers of a text Series (already stripped) written with a decimal point: thousands dots
    removed, the decimal comma made a point (``1.234,5`` -> ``1234.5``); other cells unchanged, so that
    labels and words still reach validation as they were."""
    euro = text.str.fullmatch(EUROPEAN).fillna(False)
    if not bool(euro.any()):
        return text
    fixed = text.where(~euro, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    return fixed
