"""Excel workbooks (.xlsx) via openpyxl: the first sheet, laid out like the CSV exports.

Qualtrics, Kobo and hand-made workbooks are recognised by their header rows exactly as the CSV
readers recognise them (ImportId row, Kobo metadata, one plain header row).

Cells are read as the workbook saved them: a formula cell by the value Excel computed and stored with
it. A formula cell with no stored value (a workbook written by a program and never opened in a
spreadsheet, where a text answer ``=2+3`` became a formula) would read as an empty cell: it is read as
the text it holds, as the CSV readers read it, so that validation judges it (not a code of the scale,
naming the cell) and every CSV written neutralises it; never a silent missing value.
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
    _formula_text(path, sheet)
    sheet = sheet.dropna(how="all").dropna(axis=1, how="all")
    if sheet.empty:
        raise SurveyInputError("empty workbook: no header and no data", file=path.name)
    return sheet.reset_index(drop=True)


def _formula_text(path: Path, sheet: pd.DataFrame) -> None:
    """Formula cells of the first sheet without a stored value: their formula text, in place."""
    with zipfile.ZipFile(path) as zf:
        if not any(b"<f" in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")):
            return  # no formula anywhere (every export): nothing more to read
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for row in wb.worksheets[0].iter_rows():
            for cell in row:
                if cell.data_type != "f" or cell.row is None or cell.column is None:
                    continue
                i, j = cell.row - 1, cell.column - 1
                if i < sheet.shape[0] and j < sheet.shape[1]:
                    stored = sheet.iat[i, j]
                    if stored is None or (isinstance(stored, float) and stored != stored):
                        sheet.iat[i, j] = str(cell.value)
    finally:
        wb.close()


def cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
