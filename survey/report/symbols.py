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
# a symbol as a whole token (or after the difference sign: "\u0394\u03c7\u00b2(5) = 34.9") followed by a
# relation or an opening parenthesis of its df: "p = .034", "SD = 1.2", "\u03c7\u00b2(278)", "(n = 12)"
_BEFORE = r"(?:(?<=\u0394)|(?<![\w.\u00b2]))"
_TOKEN = re.compile(rf"{_BEFORE}({_ALT})(?=\s*(?:[=<>\u2264\u2265]|\(\d))")
# in a header cell: every whole token that is a symbol, "\u03c7\u00b2 YB", "\u03c7\u00b2 (df)",
# "\u0394\u03c7\u00b2 (\u0394df)", "Ordinal (WLSMV) SE"
_HEADER = re.compile(rf"(?:^|(?<=[\s(\[\u0394]))({_ALT})(?=$|[\s)\]])")


def split(text: str, *, header: bool = False) -> list[tuple[str, bool]]:
    """``"p = .03, N = 12"`` -> ``[("p", True), (" = .03, ", False), ("N", True), (" = 12", False)]``.

    ``header=True``: the symbols of a table header cell, each a whole token (``"SE"``, ``"\u03c7\u00b2 YB"``,
    ``"\u03c7\u00b2 (df)"``, ``"Continuous (MLR) b"``).
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
