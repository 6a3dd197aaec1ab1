"""Readers for raw survey exports; the format is detected from the file's content, not its name.

:func:`read_raw` returns a :class:`RawTable`: the cells as the file holds them (column names as in the
export, Qualtrics metadata renamed by ImportId), plus what the format says about them (ImportIds,
SPSS value labels and declared user-missing codes, question texts). Mapping to the instrument and
validating values is the job of :mod:`survey.ingest.validate`.

Every failure to read (empty, binary or undecodable content, duplicate column names, ragged or
truncated rows, a broken workbook) is a :class:`~survey.errors.SurveyInputError`. Cells are read as
text where it matters: only the empty cell is missing (pandas' NA words stay answers for validation to
judge), respondent ids and dates are strings; every record is checked to have the header's width.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from survey.errors import SurveyInputError
from survey.ingest.readers import excel, googleforms, kobo, limesurvey, plain, qualtrics, spss, surveymonkey
from survey.ingest.readers._scan import scan
from survey.ingest.readers._text import (
    check_header,
    decode_sample,
    detect_encoding,
    first_rows,
    head_bytes,
    sniff_delimiter,
    sniff_kind,
)

__all__ = ["NA_WORDS", "NOT_SCREENED", "RawTable", "read_raw", "screened"]


@dataclass
class RawTable:
    """A raw export as read: ``frame`` (one row per record, export column names) and its metadata."""

    frame: pd.DataFrame
    format: str
    file: str
    encoding: str | None = None
    delimiter: str | None = None
    import_ids: dict[str, str] = field(default_factory=dict)
    question_text: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    user_missing: dict[str, dict[float, str]] = field(default_factory=dict)
    text_missing: dict[str, dict[str, str]] = field(default_factory=dict)
    #: columns of the export left unread (see :func:`read_raw`'s ``skip``), in file order
    skipped: list[str] = field(default_factory=list)
    #: every column name of the export in file order when some were left unread (else empty)
    file_names: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def names(self) -> list[str]:
        """Every column name of the export in file order, the unread ones included."""
        return list(self.file_names) if self.skipped else list(map(str, self.frame.columns))


def _layout(rows: list[list[str]], name: str) -> dict:
    """The export's layout. Multi-row headers (Qualtrics, SurveyMonkey) are recognised before the
    first row is checked on its own: SurveyMonkey repeats a matrix question's text in row 1."""
    if not rows[0] or all(not h.strip() for h in rows[0]):
        raise SurveyInputError("no column names in the first row", file=name, row=1)
    layout = qualtrics.detect(rows, name) or surveymonkey.detect(rows)
    if layout is None:
        header = check_header(rows[0], name)
        layout = (limesurvey.detect(header) or googleforms.detect(header) or kobo.detect(header)
                  or plain.detect(header))
    layout["names"] = check_header(layout["names"], name)
    return layout


#: Columns read as text whatever they hold (respondent ids keep leading zeros and never become floats).
TEXT_COLUMNS = {
    "ResponseId", "ResponseID", "_uuid", "@_uuid", "_id", "id", "KEY", "instanceID", "meta/instanceID",
    "meta-instanceID", "StartDate", "EndDate", "RecordedDate", "start", "end", "today", "submitdate",
    "startdate", "datestamp", "_submission_time", "SubmissionDate", "respondent_id", "Respondent ID",
}
#: Only the empty cell is missing on reading; the words of pandas' default NA list ("NA", "None",
#: "null", "N/A" ...) are read as text, so that validation decides (a scale label, or a missing marker).
NA_VALUES = [""]
#: pandas' default NA words (read as text, see :data:`NA_VALUES`): an answer when
#: the item's scale has the word as a label, a missing value (skipped) otherwise.
NA_WORDS = frozenset(
    w.casefold()
    for w in ("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
              "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
)
#: the output of ``survey ingest`` carries these columns; any other file was not screened
SCREENED_COLUMNS = ("respondent_id", "instrument_version")
NOT_SCREENED = (
    "the data were not screened (survey ingest): previews, incomplete responses, duplicates, "
    "speeders and careless responders are included"
)


#: The name given to the row names of R's ``write.table`` (a header one field shorter than the rows).
ROW_NAMES = "(row names)"


def _r_row_names(layout: dict, rows: list[list[str]], sample: str) -> bool:
    """R's ``write.table(row.names = TRUE)`` layout: the header has one field fewer than every data row,
    the first field of a row being its name (``read.table``'s rule: "If there is a header and the first
    row contains one fewer field than the number of columns, the first column in the input is used for
    the row names"). Only a plain one-row header written as R writes it by default (``quote = TRUE``:
    the first name in quotes) whose sampled data rows all agree; any other short header is an error."""
    body = rows[layout["skip"]:]
    width = len(rows[0])
    quoted = sample.lstrip("\ufeff").startswith('"')
    return layout["format"] == "csv" and quoted and bool(body) and all(len(r) == width + 1 for r in body)


def _row_widths(path: Path, delimiter: str, width: int) -> tuple[int, int] | None:
    """The first record below the header whose field count is not ``width`` (record number, count), for
    R's row-names layout, whose header is one field short (rare: read with the :mod:`csv` module)."""
    import csv

    with open(path, encoding="latin-1", newline="") as fh:  # every byte a character: fields only
        for i, row in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
            if i > 1 and row and len(row) != width:
                return i, len(row)
    return None


def _check_records(path: Path, delimiter: str, names: list[str], skip: int, name: str):
    """Every record has as many fields as the header; the byte statistics of the file."""
    sc = scan(path, delimiter, len(names))
    if names and names[0] == ROW_NAMES and sc.bad_record == 1 and sc.bad_fields == len(names) - 1:
        sc.bad_record, sc.bad_fields = _row_widths(path, delimiter, len(names)) or (None, None)
    if sc.open_quote:
        raise SurveyInputError("malformed CSV: the file ends inside a quoted field", file=name)
    if sc.bad_record is not None:
        n, width = sc.bad_fields, len(names)
        row = sc.bad_record - skip
        if row < 1:
            raise SurveyInputError(
                f"header row {sc.bad_record} has {n} fields, the first header row {width}", file=name
            )
        if sc.ends_without_newline and sc.bad_record == sc.n_records and n < width:
            raise SurveyInputError("file ends in the middle of a row (truncated export?)", file=name, row=row)
        which = "more" if n > width else "fewer"
        raise SurveyInputError(
            f"the row has {n} fields, {which} fields than the header ({width}); nothing was padded",
            file=name,
            row=row,
        )
    return sc


#: ``skip`` of :func:`read_raw`: given the export's header (a :class:`RawTable` without rows), the
#: names of the columns not to read
Skip = Callable[["RawTable"], Collection[str]]


def _text_layout(sample: str, name: str) -> tuple[str, dict]:
    """The delimiter and the layout (:func:`_layout`) of a text export from its decoded first bytes."""
    delimiter = sniff_delimiter(sample)
    rows = first_rows(sample, delimiter, 3)
    if not rows:
        raise SurveyInputError("empty file: no header and no data", file=name)
    layout = _layout(rows, name)
    if _r_row_names(layout, rows, sample):
        layout["names"] = [ROW_NAMES, *layout["names"]]
    return delimiter, layout


def _read_text(path: Path, skip: Skip | None = None) -> RawTable:
    name = path.name
    head = head_bytes(path)
    encoding = detect_encoding(head, name)
    delimiter, layout = _text_layout(decode_sample(head, encoding), name)
    names = layout["names"]
    sc = _check_records(path, delimiter, names, layout["skip"], name)
    fallback = sc.encoding_fallback()
    if encoding == "latin-1" and fallback != encoding:
        # Windows-1252 (bytes 0x80-0x9F are its quotes and dashes): the header rows (names, question
        # texts) decoded again, as the cells will be
        encoding = fallback
        delimiter, layout = _text_layout(decode_sample(head, encoding), name)
        names = layout["names"]
    frame = None
    unread = set(skip(_header(layout, name, encoding, delimiter))) if skip is not None else set()
    usecols = [c for c in names if c not in unread]
    text_cols = {c: "str" for c in usecols if c in TEXT_COLUMNS}
    for enc in dict.fromkeys([encoding, fallback]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                frame = pd.read_csv(
                    path,
                    sep=delimiter,
                    encoding=enc,
                    header=None,
                    names=names,
                    skiprows=layout["skip"],
                    index_col=False,
                    skip_blank_lines=True,
                    keep_default_na=False,
                    na_values=NA_VALUES,
                    dtype=text_cols or None,
                    usecols=usecols if unread else None,
                )
            encoding = enc
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserWarning:
            raise SurveyInputError(
                "some rows have more fields than the header (ragged rows)", file=name
            ) from None
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=usecols)
            break
        except pd.errors.ParserError as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed CSV"
            msg = msg.replace("Error tokenizing data. C error: ", "")
            raise SurveyInputError(f"malformed CSV: {msg}", file=name) from None
    if frame is None:
        raise SurveyInputError("undecodable file: neither UTF-8 nor Latin-1 text", file=name)
    if len(frame) == 0:
        raise SurveyInputError("no data rows below the header", file=name)
    skipped = [c for c in names if c in unread]
    return RawTable(
        frame, layout["format"], name, encoding, delimiter, layout["import_ids"], layout["question_text"],
        skipped=skipped, file_names=list(names) if skipped else [],
    )


def _header(layout: dict, name: str, encoding: str | None, delimiter: str) -> RawTable:
    """The export's column names and layout as a :class:`RawTable` without rows (for ``skip``)."""
    return RawTable(
        pd.DataFrame(columns=layout["names"]), layout["format"], name, encoding, delimiter,
        layout["import_ids"], layout["question_text"],
    )


def _read_excel(path: Path) -> RawTable:
    sheet = excel.read_rows(path)
    rows = [[excel.cell_text(v) for v in sheet.iloc[i].tolist()] for i in range(min(3, len(sheet)))]
    layout = _layout(rows, path.name)
    body = sheet.iloc[layout["skip"] :].reset_index(drop=True)
    if body.empty:
        raise SurveyInputError("no data rows below the header", file=path.name)
    body.columns = layout["names"]
    body = body.infer_objects()
    fmt = layout["format"] + "-xlsx" if layout["format"] != "csv" else "xlsx"
    return RawTable(body, fmt, path.name, None, None, layout["import_ids"], layout["question_text"])


def _read_sav(path: Path, portable: bool = False) -> RawTable:
    out = spss.read(path, portable)
    frame = out["frame"]
    if len(frame) == 0:
        raise SurveyInputError("no data rows in the SPSS file", file=path.name)
    return RawTable(
        frame,
        out["format"],
        path.name,
        None,
        None,
        {},
        out["question_text"],
        out["value_labels"],
        out["user_missing"],
        out["text_missing"],
    )


#: UTF-16 files are transcoded in memory up to this size (UTF-16 is twice the UTF-8 of ASCII text)
UTF16_MAX_BYTES = 1 << 30


def _read_utf16(path: Path, skip=None, codec: str = "utf-16") -> RawTable:
    """A UTF-16 text export with its byte-order mark: decoded (the BOM says LE or BE), written as UTF-8
    under the same file name in a temporary folder and read there like any CSV; the raw file is only
    read. Row numbers and the file name in errors are the original's."""
    import tempfile

    if path.stat().st_size > UTF16_MAX_BYTES:
        raise SurveyInputError("UTF-16 file too large to transcode: save the export as UTF-8", file=path.name)
    try:
        text = path.read_bytes().decode(codec)
    except UnicodeDecodeError:
        raise SurveyInputError(
            "undecodable UTF-16 text (odd byte count or broken pairs)", file=path.name
        ) from None
    if "\x00" in text:
        raise SurveyInputError("binary file: NUL characters in UTF-16 text", file=path.name)
    with tempfile.TemporaryDirectory(prefix="survey-utf16-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(text.encode("utf-8"))
        table = _read_text(copy, skip)
    table.encoding = codec
    return table


def screened(raw: RawTable) -> bool:
    """Whether ``raw`` is the output of ``survey ingest`` (a plain CSV with its id and version columns)."""
    return raw.format == "csv" and all(c in raw.frame.columns for c in SCREENED_COLUMNS)


def read_raw(path: str | Path, skip: Skip | None = None) -> RawTable:
    """Read one raw export, detecting Qualtrics CSV, plain CSV, Kobo/ODK CSV, SPSS .sav or .por, or Excel
    .xlsx.

    ``skip``: called with the export's header (no rows) before a text export's cells are parsed; the
    columns it names are not read (``RawTable.skipped`` lists them, ``RawTable.names`` keeps every
    name). The ingest stage passes the personal-data columns it drops anyway: parsing a column of
    1,000,000 distinct strings (IP and e-mail addresses) costs more than most checks. Every record is
    still checked to have the header's width. SPSS and Excel files are read whole."""
    path = Path(path)
    if not path.exists():
        raise SurveyInputError("file not found", file=str(path))
    if path.is_dir():
        raise SurveyInputError("is a directory, not a data file", file=str(path))
    kind = sniff_kind(path)
    try:
        if kind in ("sav", "por"):
            return _read_sav(path, portable=kind == "por")
        if kind == "xlsx":
            return _read_excel(path)
        if kind in ("utf-16", "utf-16-le", "utf-16-be"):
            return _read_utf16(path, skip, kind)
        return _read_text(path, skip)
    except SurveyInputError:
        raise
    except MemoryError:
        raise
    except (
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        OSError,
        UnicodeError,
        OverflowError,
        AttributeError,
    ) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SurveyInputError(f"cannot read {kind} file: {first}", file=path.name) from None
