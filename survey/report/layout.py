"""Column widths of a printed table, fitted to its content (for the DOCX renderer).

A cell's text is measured with the advance widths of Times New Roman (average widths per character
class, in em: digits and most lower-case letters .5, upper-case .67, narrow letters and punctuation
.28, space .25, wide glyphs .9), plus Word's default cell margins (0.08 inch each side). Each column
gets at least its longest unbreakable piece: a whole cell in a right-aligned (numeric) column, whose
spaces the renderer makes non-breaking, and the longest word of a text cell. Room left on the page
goes to the columns whose text would otherwise wrap, in proportion to what they lack.
"""

from __future__ import annotations

from collections.abc import Sequence

PADDING = 2 * 0.08 + 0.02  # inches: Word's left and right cell margins, and a little slack
_NARROW = set("fijlrt.,;:'!|()[]-\u2009 ")
_WIDE = set("mwMW\u2014%\u03c7\u2265\u2264\u0394")


def text_width(text: str, size: float) -> float:
    """Estimated printed width of ``text`` in inches at ``size`` points (Times New Roman)."""
    em = 0.0
    for ch in text:
        if ch == " " or ch == "\u00a0":
            em += 0.25
        elif ch in _WIDE:
            em += 0.9
        elif ch in _NARROW:
            em += 0.3
        elif ch.isupper():
            em += 0.68
        else:
            em += 0.5
    return em * size / 72.0


def _need(text: str, align: str, size: float) -> tuple[float, float]:
    """(minimum, natural) width of one cell: unbreakable piece, whole text on one line."""
    whole = text_width(text, size)
    if align == "r" or not text.strip():
        return whole, whole
    return max((text_width(w, size) for w in text.split()), default=0.0), whole


def natural_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
                   size: float) -> tuple[list[float], list[float]]:
    """Per column: the minimum width (no word broken) and the natural width (no line wrapped), inches."""
    minimum, natural = [], []
    for j, name in enumerate(columns):
        needs = [_need(str(name), "l", size)] + [_need(str(r[j]), align[j], size) for r in rows]
        minimum.append(max(n[0] for n in needs) + PADDING)
        natural.append(max(n[1] for n in needs) + PADDING)
    return minimum, natural


def needs_landscape(columns: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
                    size: float, portrait: float) -> bool:
    """True when the table's minimum widths do not fit a portrait page, or its text would wrap into more
    than twice its natural height (a wide table reads better turned)."""
    minimum, natural = natural_widths(columns, rows, align, size)
    return sum(minimum) > portrait or sum(natural) > 2 * portrait


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
                  size: float, usable: float) -> list[float]:
    """Widths (inches) summing to at most ``usable``: each at least its minimum; the room left shared
    among the columns below their natural width, in proportion to their shortfall. A table whose
    minimum widths exceed ``usable`` keeps them (no word is broken; the renderer turns the page)."""
    minimum, natural = natural_widths(columns, rows, align, size)
    widths = list(minimum)
    room = usable - sum(widths)
    if room <= 0:
        return [round(w, 3) for w in widths]
    short = [max(n - w, 0.0) for n, w in zip(natural, widths, strict=True)]
    total = sum(short)
    if total <= room:
        widths = list(natural)
    else:
        widths = [w + room * s / total for w, s in zip(widths, short, strict=True)]
    return [round(w, 3) for w in widths]
