"""CSV rendering: one file per table, raw values, safe to open in a spreadsheet.

Cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) get a leading apostrophe (OWASP, "CSV Injection"), except pure numbers such as
``-0.12``, which stay numbers. Floats are rounded to 4 decimals so that the bytes do not depend on the
last bits of the optimizer (integral values print without decimals; values below .0001 in absolute
value, such as tiny p values, in scientific notation with three significant digits); line ends are LF.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

import pandas as pd

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DECIMALS = 4


def neutralise(value: str) -> str:
    """Prefix a formula-looking cell with an apostrophe; leave numbers and ordinary text alone."""
    if value.startswith(_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


def cell(value: Any) -> str:
    """One CSV cell: empty for missing, rounded floats, integers as integers, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if 0 < abs(value) < 10.0 ** -DECIMALS:
            return f"{value:.2e}"  # a tiny p value keeps its size instead of printing as 0
        rounded = round(value, DECIMALS) + 0.0
        if rounded.is_integer() and abs(rounded) < 1e15:
            return str(int(rounded))
        return repr(rounded)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return cell(value.item())
    return neutralise(str(value))


def render_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes (header row of column names, LF line ends)."""
    rows = [[neutralise(str(c)) for c in frame.columns]]
    rows += [[cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    # the csv writer does not quote a carriage return under LF line ends (a reader would split the row
    # there): a table holding one is written with every cell quoted
    has_cr = any("\r" in c for row in rows for c in row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL if has_cr else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
