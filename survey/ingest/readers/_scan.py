"""One pass over a delimited text file's bytes: fields per record, and what the bytes say about the
encoding.

pandas pads a row with fewer fields than the header with missing values and may keep a longer one
under given names; either silently moves answers between columns. :func:`scan` counts the fields of
every record (quote-aware: delimiters and line breaks inside double quotes do not count; a doubled
quote toggles the state twice) in chunks of 4 MB with numpy, so a million-row export is checked in a
fraction of its read time. A record ends at LF, CRLF or a lone CR (classic Mac exports); empty
records are skipped, as pandas skips blank lines.

It also reports whether any byte in 0x80-0x9F occurs: in Windows-1252 these are printable characters
(curly quotes, the euro sign, dashes), in Latin-1 invisible C1 controls. A file that is not UTF-8 and
holds such bytes is therefore cp1252, unless one of the five bytes cp1252 leaves undefined occurs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK = 1 << 22
QUOTE, LF, CR = 0x22, 0x0A, 0x0D
CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


@dataclass
class Scan:
    """``bad_record``: 1-based number (header rows included, blank lines not) of the first record
    whose field count differs from the width asked for, with its count ``bad_fields``;
    ``n_records``; ``c1``: a byte in 0x80-0x9F occurs; ``cp1252_ok``: none of those is undefined in
    cp1252; ``open_quote``: the file ends inside a quoted field; ``ends_without_newline``."""

    n_records: int = 0
    bad_record: int | None = None
    bad_fields: int | None = None
    c1: bool = False
    cp1252_ok: bool = True
    open_quote: bool = False
    ends_without_newline: bool = False

    def encoding_fallback(self) -> str:
        """The single-byte encoding of a file that is not UTF-8."""
        return "cp1252" if self.c1 and self.cp1252_ok else "latin-1"


def scan(path: Path, delimiter: str | None, width: int | None) -> Scan:
    """Scan ``path``. ``width``: the header's field count (None, or no ``delimiter``: only the byte
    statistics). A UTF-8 byte-order mark at the start is ignored."""
    out = Scan()
    count = width is not None and delimiter is not None
    delim = ord(delimiter) if count else -1
    in_quote = False
    carry_delims = 0  # delimiters of the record the previous chunk ended in
    carry_len = 0  # its bytes so far
    record = 0
    with open(path, "rb") as fh:
        first = True
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            if chunk.endswith(b"\r"):
                chunk += fh.read(1)  # keep a CRLF in one chunk
            if first and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            first = False
            buf = np.frombuffer(chunk, dtype=np.uint8)
            if np.any((buf - np.uint8(0x80)) < 0x20):  # a byte in 0x80-0x9F (uint8 arithmetic wraps)
                out.c1 = True
                high = buf[(buf >= 0x80) & (buf <= 0x9F)]
                out.cp1252_ok = out.cp1252_ok and not np.isin(high, CP1252_UNDEFINED).any()
            if not count or out.bad_record is not None:
                continue
            dpos = np.flatnonzero(buf == delim)
            ends = np.flatnonzero(buf == LF)
            cr = np.flatnonzero(buf == CR)
            if len(cr):  # a CR ends a record unless an LF follows (CRLF: the LF ends it)
                nxt = np.minimum(cr + 1, len(buf) - 1)
                lone = cr[~((cr + 1 < len(buf)) & (buf[nxt] == LF))]
                if len(lone):
                    ends = np.union1d(ends, lone)
            qpos = np.flatnonzero(buf == QUOTE)
            if len(qpos):  # drop delimiters and line ends inside quotes (odd number of quotes before)
                start_in = int(in_quote)
                dpos = dpos[(np.searchsorted(qpos, dpos) + start_in) % 2 == 0]
                ends = ends[(np.searchsorted(qpos, ends) + start_in) % 2 == 0]
                if len(qpos) % 2:
                    in_quote = not in_quote
            elif in_quote:  # the whole chunk lies inside a quoted field
                dpos, ends = dpos[:0], ends[:0]
            if len(ends):
                before = np.searchsorted(dpos, ends)  # delimiters before each record end
                fields = np.diff(before, prepend=0) + 1
                fields[0] += carry_delims
                starts = np.concatenate(([0], ends[:-1] + 1))
                crlf = (buf[ends] == LF) & (ends > starts) & (buf[np.maximum(ends - 1, 0)] == CR)
                lengths = ends - crlf - starts
                lengths[0] += carry_len
                real = lengths > 0
                numbers = record + np.cumsum(real)
                wrong = np.flatnonzero(real & (fields != width))
                if len(wrong):
                    out.bad_record = int(numbers[wrong[0]])
                    out.bad_fields = int(fields[wrong[0]])
                record = int(numbers[-1])
                carry_len = len(buf) - int(ends[-1]) - 1
                carry_delims = len(dpos) - int(before[-1])
            else:
                carry_len += len(buf)
                carry_delims += len(dpos)
    if count and out.bad_record is None and carry_len > 0:
        out.ends_without_newline = True
        record += 1
        if carry_delims + 1 != width:
            out.bad_record, out.bad_fields = record, carry_delims + 1
    out.n_records = record
    out.open_quote = in_quote
    return out
