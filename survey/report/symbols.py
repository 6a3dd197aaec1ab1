"""Statistical symbols set in italic (APA Publication Manual, 7th ed., section 6.45-6.46).

Latin letters used as statistical symbols (N, n, M, SD, SE, p, b, df, r, t, z, c, Mdn, R\u00b2) and the
chi-square symbol are italic wherever they stand for a statistic: in table headers and notes, in the text
and in figure notes. Greek letters (\u03b2, \u03b1, \u03c9, \u03bb) and abbreviations (CFI, RMSEA, CI) stay
upright. :func:`split` cuts a string into ``(text, italic)`` pieces that the DOCX and HTML renderers set.
"""

from __future__ import annotations

import re

SYMBOLS = ("Mdn", "SD", "SE", "df", "R\u00b2", "\u03c7\u00b2", "N", "n", "M", "p", "b", "r", "t", "z", "c")
_ALT = "|".join(re.escape(s) for s in SYMBOLS)
# a symbol as a whole token followed by a relation, an opening parenthesis of its df, or the end of a
# header cell: "p = .034", "SD = 1.2", "\u03c7\u00b2(278)", "N = 1257", "(n = 12)"
_TOKEN = re.compile(rf"(?<![\w.\u00b2])({_ALT})(?=\s*(?:[=<>\u2264\u2265]|\(\d))")
_HEADER = re.compile(rf"^({_ALT})(?=$|\s)")


def split(text: str, *, header: bool = False) -> list[tuple[str, bool]]:
    """``"p = .03, N = 12"`` -> ``[("p", True), (" = .03, ", False), ("N", True), (" = 12", False)]``.

    ``header=True``: a table header cell whose first token is a symbol (``"SE"``, ``"\u03c7\u00b2 YB"``).
    """
    pattern = _HEADER if header else _TOKEN
    out: list[tuple[str, bool]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() > pos:
            out.append((text[pos:match.start()], False))
        out.append((match.group(1), True))
        pos = match.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out or [("", False)]
