"""Safe text outputs: CSV cells a spreadsheet would run as formulas, long or personal values in errors.

CSV injection (OWASP, "CSV Injection"): a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read as a formula by Excel, LibreOffice and Google Sheets; such a cell gets a
leading apostrophe, except numbers such as ``-0.12`` or ``+1e3``, which stay numbers. Every CSV the
tool writes from respondent data goes through :func:`write_csv`.

Error lines and problem lists name the offending value; :func:`display_value` masks values that look
like personal data typed into an answer field (e-mail addresses, phone numbers, IP addresses) and
shortens long values with an ellipsis, so that one error stays one line of about 200 characters.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.personal import mask_personal

__all__ = [
    "MAX_VALUE_CHARS",
    "csv_text",
    "display_value",
    "escape_markdown",
    "escape_prose",
    "mask_personal",
    "neutralise",
    "neutralise_frame",
    "shorten",
    "write_csv",
]

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
MAX_VALUE_CHARS = 40

def neutralise(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    if value.startswith(TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


def _column(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    values = series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return series
    fixed = np.array(
        [neutralise(u) if isinstance(u, str) else u for u in uniques.tolist()] + [None], dtype=object
    )
    return pd.Series(fixed[codes], index=series.index, name=series.name, dtype=object)


def _neutralised(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    out = frame.copy(deep=False)
    has_cr = False
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        fixed = _column(col)
        if fixed is not col:
            out.isetitem(j, fixed)
            has_cr = has_cr or bool(fixed.astype("string").str.contains("\r", regex=False).any())
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out, has_cr


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised (numeric columns as they are)."""
    return _neutralised(frame)[0]


def csv_text(frame: pd.DataFrame, **kwargs: Any) -> str:
    """``frame`` as CSV text (``index=False``; other keywords go to :meth:`DataFrame.to_csv`) with
    formula-looking cells neutralised. A text cell holding a carriage return is not quoted by the
    :mod:`csv` writer under LF line ends (the file would then split that row), so such a frame is
    written with every text cell quoted (``QUOTE_NONNUMERIC``)."""
    out, has_cr = _neutralised(frame)
    kwargs.setdefault("index", False)
    kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL)
    return str(out.to_csv(**kwargs))


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Write ``frame`` as CSV to ``path``: :func:`csv_text`."""
    path = Path(path)
    kwargs.setdefault("index", False)
    out, has_cr = _neutralised(frame)
    kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL)
    out.to_csv(path, **kwargs)
    return path


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|])")


def escape_markdown(text: Any) -> str:
    """Respondent text safe inside a Markdown table cell or paragraph: HTML special characters as
    entities (as the HTML renderer's autoescape writes them), Markdown syntax characters backslashed,
    line breaks as spaces; so ``<script>`` or ``[x](javascript:...)`` stay text."""
    out = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(_MD_SPECIAL.sub(r"\\\1", out).split())


_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # an HTML tag, comment or autolink opens with one of these
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")  # an entity reference
_MD_LINK = re.compile(r"(!(?=\[)|\](?=[(\[:]))")  # an image, or the end of a link's text
_MD_STARS = re.compile(r"\*+")
_MD_BLOCK = re.compile(r"^([#>+=~-]|\d+[.)](?=\s|$))")  # a heading, quote, list, rule, fence


def _stars(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    inert = before.isspace() and after.isspace()  # a run between spaces opens and closes nothing
    return match.group(0) if inert else match.group(0).replace("*", "\\*")


def _underscore(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        out.append("\\_" if ch == "_" and not inside else ch)  # snake_case stays as written
    return "".join(out)


def escape_prose(text: Any) -> str:
    """Generated prose that may carry respondent text (group labels, column names, value labels) safe
    in a Markdown paragraph, list item, heading or table header (CommonMark 0.31): one line; backslash,
    backtick and ``|`` backslashed; HTML tags and entities as text; link and image syntax, emphasis
    (``*`` and ``_`` runs that could open or close it) and a leading block marker (``#``, ``-``, ``>``,
    ``1.`` ...) neutralised. Plain prose (``p < .05``, ``95% CI [.10, .32]``, ``ind_SHI``, a ``* p < .05``
    note) is left as written."""
    out = " ".join(str(text).split())
    out = out.replace("\\", "\\\\").replace("`", "\\`").replace("|", "\\|")
    out = _MD_TAG.sub("&lt;", _MD_ENTITY.sub("&amp;", out))
    out = _MD_LINK.sub(r"\\\1", out)
    out = _underscore(_MD_STARS.sub(_stars, out))
    return _MD_BLOCK.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], out)


def shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def display_value(value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
    """A cell value as shown in errors and problem lists: numbers as they are, text stripped, masked
    (personal data) and shortened."""
    if isinstance(value, str):
        return shorten(mask_personal(value.strip()), limit)
    return value
