"""Excel workbooks (.xlsx) via openpyxl: the first sheet, laid out like the CSV exports.

Qualtrics, Kobo and hand-made workbooks are recognised by their header rows exactly as the CSV
readers recognise them (ImportId row, Kobo metadata, one plain header row).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from survey.errors import SurveyInputError


def read_rows(path: Path) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:  # a broken container: read_raw's "cannot read xlsx file"
        members = set(zf.namelist())
    if "[Content_Types].xml" not in members:
        raise SurveyInputError("a zip archive, not an Excel .xlsx workbook: extract the export first",
                               file=path.name)
    try:
        sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl",
                              keep_default_na=False, na_values=[""])
    except (ValueError, KeyError, OSError) as exc:
        raise SurveyInputError(f"cannot read Excel workbook: {exc}", file=path.name) from None
    sheet = sheet.dropna(how="all").dropna(axis=1, how="all")
    if sheet.empty:
        raise SurveyInputError("empty workbook: no header and no data", file=path.name)
    return sheet.reset_index(drop=True)


def cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
