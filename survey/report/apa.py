"""APA-style number formatting (Publication Manual of the APA, 7th ed., sections 6.36 and 6.40).

* Values that cannot exceed 1 in absolute value (correlations, standardized coefficients, proportions,
  p values, CFI/TLI/RMSEA/SRMR, reliability coefficients) are written without a leading zero: ``.42``,
  ``-.07``.
* Values that can exceed 1 (unstandardized coefficients, standard errors, chi-square, means) keep the
  leading zero: ``0.42``.
* p values are written exactly to three decimals, and as ``< .001`` below .001 (``p < .001`` in text).
* Rounding is half away from zero on the decimal value as written (``.995`` gives ``1.00``).
* A formatted zero never carries a minus sign (``-.00`` becomes ``.00``).
* Missing values print as an empty string in tables and as an em dash in text (:func:`dash`).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DASH = "\u2014"
MINUS = "-"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return True


def num(x: Any, digits: int = 2) -> str:
    """A value that can exceed 1, with its leading zero: ``num(0.4219) == "0.42"``, ``num(-3.2) == "-3.20"``.
    """
    if _missing(x):
        return ""
    value = float(x)
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    # Decimal of the shortest repr, rounded half away from zero: 0.995 -> "1.00" as a reader expects
    # (binary rounding would give 0.99, because the double nearest 0.995 is slightly below it).
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{rounded:.{digits}f}"
    if rounded == 0:
        text = text.lstrip("-")
    return text


def bounded(x: Any, digits: int = 2) -> str:
    """A value bounded by 1 in absolute value, without a leading zero: ``bounded(-0.071) == "-.07"``.

    Values that leave the bound (a standardized loading above 1 in a Heywood case) are still printed,
    with their integer part: ``bounded(1.031) == "1.03"``.
    """
    text = num(x, digits)
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def pvalue(p: Any, digits: int = 3) -> str:
    """A p value in a table: ``"< .001"`` below .001, otherwise exact without leading zero (``".034"``)."""
    if _missing(p):
        return ""
    p = float(p)
    floor = 10.0 ** -digits
    if p < floor:
        return f"< {bounded(floor, digits)}"
    if p > 1 - floor / 2:
        return f"> {bounded(1 - floor, digits)}"
    return bounded(p, digits)


def p_text(p: Any, digits: int = 3) -> str:
    """A p value in running text: ``"p < .001"`` or ``"p = .034"``."""
    formatted = pvalue(p, digits)
    if not formatted:
        return f"p = {DASH}"
    if formatted[0] in "<>":
        return f"p {formatted}"
    return f"p = {formatted}"


def integer(x: Any) -> str:
    """A count: ``integer(1503.0) == "1503"``; thousands are not separated (APA allows either)."""
    if _missing(x):
        return ""
    return str(int(round(float(x))))


def percent(x: Any, digits: int = 1) -> str:
    """A percentage already on the 0-100 scale: ``percent(12.345) == "12.3"``."""
    return num(x, digits)


def ci(lower: Any, upper: Any, digits: int = 2, *, bounded_values: bool = False) -> str:
    """A confidence interval in brackets: ``ci(0.1, 0.32) == "[0.10, 0.32]"``."""
    if _missing(lower) or _missing(upper):
        return ""
    fmt = bounded if bounded_values else num
    return f"[{fmt(lower, digits)}, {fmt(upper, digits)}]"


def stars(p: Any) -> str:
    """Significance stars: * p < .05, ** p < .01, *** p < .001 (empty when not significant or missing)."""
    if _missing(p):
        return ""
    p = float(p)
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return ""


def dash(text: str) -> str:
    """An empty formatted value becomes an em dash, for running text."""
    return text if text else DASH


FORMATTERS = {
    "num": num,
    "num3": lambda x: num(x, 3),
    "bounded": bounded,
    "bounded3": lambda x: bounded(x, 3),
    "p": pvalue,
    "int": integer,
    "pct": percent,
}


def format_value(x: Any, kind: str) -> str:
    """Format one cell by its column kind (``num``, ``num3``, ``bounded``, ``bounded3``, ``p``, ``int``,
    ``pct``, ``text``)."""
    if kind == "text":
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
    return FORMATTERS[kind](x)
