"""Low-level checks shared by the text readers: file signature, encoding, delimiter, header rows.

Encoding: a UTF-8 byte-order mark selects ``utf-8-sig`` (what Qualtrics writes); otherwise UTF-8 is
tried and Latin-1 is the fallback. Delimiter: each of ``,`` ``;`` and tab parses the first lines with
the :mod:`csv` module; the one giving the widest header whose rows agree in width wins.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from survey.errors import SurveyInputError

SAMPLE_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t")
SAV_MAGIC = (b"$FL2", b"$FL3")
POR_MAGIC = b"SPSSPORT"  # after the 200-byte splash and the 256-byte character table
ZIP_MAGIC = b"PK\x03\x04"
#: Formats ingest does not read, told by their signatures so that the refusal names them.
NOT_READ = (
    (b"\x1f\x8b", "a gzip-compressed file: decompress it first"),
    (b"<stata_dta>", "a Stata .dta file: not read, export the data as CSV or SPSS .sav"),
    (b"HEADER RECORD*******LIBRARY HEADER RECORD", "a SAS transport (.xpt) file: not read, export as CSV"),
    (b"HEADER RECORD*******LIBV8   HEADER RECORD", "a SAS transport (.xpt) file: not read, export as CSV"),
    (b"BZh", "a bzip2-compressed file: decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract the export first"),
    (b"%PDF", "a PDF document, not a data export"),
)
#: SAS data set signature (bytes 0-31 of every .sas7bdat file)
SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
#: Stata 114/115 .dta (before the XML-like header of 117+): version byte, byte order, filetype 1
OLD_DTA = tuple(bytes([v, order, 1]) for v in (113, 114, 115) for order in (1, 2))


#: Typographic quotes, dashes and the no-break space as their plain forms, for matching answer labels and
#: question texts: an export of a questionnaire typed with "smart" quotes ("Bachelor’s degree")
#: matches the instrument's plain label ("Bachelor's degree").
TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u202f": " ",
})


def fold(text: str) -> str:
    """``text`` for matching: typographic quotes and dashes plain (:data:`TYPOGRAPHY`), case folded."""
    return text.translate(TYPOGRAPHY).casefold()


def head_bytes(path: Path, n: int = SAMPLE_BYTES) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def sniff_kind(path: Path) -> str:
    """'sav', 'por', 'xlsx', 'utf-16' (with its byte-order mark), 'utf-16-le' / 'utf-16-be' (without one)
    or 'text' from the first bytes; empty and binary files are SurveyInputError."""
    head = head_bytes(path)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise SurveyInputError("empty file: no header and no data", file=path.name)
    if head.startswith(SAV_MAGIC):
        return "sav"
    if POR_MAGIC in head[:2048].replace(b"\r", b"").replace(b"\n", b""):
        return "por"
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    for magic, what in NOT_READ:
        if head.startswith(magic):
            raise SurveyInputError(what, file=path.name)
    if head.startswith(SAS7BDAT_MAGIC):
        raise SurveyInputError("a SAS .sas7bdat data set: not read, export the data as CSV", file=path.name)
    if head[:3] in OLD_DTA and b"\x00" in head[:200]:
        raise SurveyInputError("a Stata .dta file: not read, export the data as CSV or SPSS .sav",
                               file=path.name)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode Text" (tab-separated), Windows exporters
    if b"\x00" in head:
        order = utf16_without_bom(head)
        if order:
            return order
        raise SurveyInputError("binary file: not a CSV, SPSS .sav or Excel .xlsx export", file=path.name)
    return "text"


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 text without a byte-order mark (some exporters write one):
    mostly ASCII text has a NUL in nearly every other byte (the high byte of each code unit) and none
    in between; any other binary content, None."""
    n = len(head) - len(head) % 2
    if n < 8:
        return None
    even, odd = head[0:n:2], head[1:n:2]
    half = n // 2
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if zeros_odd >= 0.9 * half and zeros_even == 0:
        return "utf-16-le"
    if zeros_even >= 0.9 * half and zeros_odd == 0:
        return "utf-16-be"
    return None


def detect_encoding(head: bytes, name: str) -> str:
    """'utf-8-sig' when a BOM is present, else 'utf-8' when the sample decodes, else 'latin-1'."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SurveyInputError("UTF-16 text is not supported: save the export as UTF-8 CSV", file=name)
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        text = head.decode("latin-1")
        control = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ord(ch) == 127)
        if control > max(2, len(text) // 100):
            raise SurveyInputError("undecodable file: neither UTF-8 nor Latin-1 text", file=name) from None
        return "latin-1"


def decode_sample(head: bytes, encoding: str) -> str:
    """Decode the sample, dropping a multi-byte character cut at its end."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    return dec.decode(head, final=False)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the sample (:data:`DELIMITERS`; a space too when the header starts with a quoted
    name, as R's ``write.table`` writes it by default: ``sep = " "``, ``quote = TRUE``)."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a row
    best, best_score = ",", (-1, -1.0)
    for delim in DELIMITERS + ((" ",) if text.lstrip("\ufeff").startswith('"') else ()):
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        rows = [r for r in rows if r]
        if not rows:
            continue
        widths = [len(r) for r in rows]
        width = max(set(widths), key=lambda w: (widths.count(w), w))
        agree = widths.count(width) / len(widths)
        score = (1 if width > 1 and agree >= 0.5 else 0, width * agree)
        if score > best_score:
            best, best_score = delim, score
    return best


def first_rows(text: str, delimiter: str, n: int = 3) -> list[list[str]]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)  # CR, LF, CRLF
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) >= n:
                break
    except csv.Error as exc:
        raise SurveyInputError(f"malformed CSV header: {exc}") from None
    return rows


def check_header(header: list[str], name: str) -> list[str]:
    """Strip names; reject empty headers and duplicate column names."""
    names = [h.strip() for h in header]
    if not names or all(not h for h in names):
        raise SurveyInputError("no column names in the first row", file=name, row=1)
    # a column without a name (R's row names, a legacy exporter's trailing delimiter) is named by
    # its position, so that it can be recognised, listed and dropped
    names = [h if h else f"(column {j + 1})" for j, h in enumerate(names)]
    seen: set[str] = set()
    for h in names:
        if h in seen:
            raise SurveyInputError("duplicate column name", file=name, column=h)
        seen.add(h)
    return names
