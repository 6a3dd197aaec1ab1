"""What the screens need to know about the questionnaire: Likert items in order, scales (for even-odd),
reverse keys, attention checks and their expected answers, and how many items a respondent saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScreenDesign:
    likert: list[str]
    factors: list[list[str]] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    attention: dict[str, float] = field(default_factory=dict)
    n_items: int = 0
    #: every answerable item present (a row with none answered is an incomplete response)
    answers: list[str] = field(default_factory=list)


def design_from_instrument(instrument: Any, columns: list[str] | None = None) -> ScreenDesign:
    """Likert items = ordinal items that measure a construct (questionnaire order); factors = the
    constructs' items; attention = items with role 'attention' and an expected answer."""
    have = set(columns) if columns is not None else None
    likert, factors, keys, bounds, attention, answers = [], [], {}, {}, {}, []
    by_construct: dict[str, list[str]] = {}
    n_items = 0
    for it in instrument.items:
        scale = instrument.scale_of(it.id)
        if str(scale.type) != "text" and not getattr(it, "pii", False):
            n_items += 1
        if have is not None and it.id not in have:
            continue
        if str(scale.type) != "text" and not getattr(it, "pii", False):
            answers.append(it.id)
        if getattr(it, "role", "") == "attention" and getattr(it, "expected", None) is not None:
            attention[it.id] = float(it.expected)
        elif getattr(it, "construct", None) and str(scale.type) == "ordinal":
            likert.append(it.id)
            by_construct.setdefault(it.construct, []).append(it.id)
            keys[it.id] = int(getattr(it, "keyed", 1))
            points = dict(getattr(scale, "points", {}) or {})
            lo = getattr(scale, "min", None) or min(points)
            hi = getattr(scale, "max", None) or max(points)
            bounds[it.id] = (float(lo), float(hi))
    factors = list(by_construct.values())
    return ScreenDesign(likert, factors, keys, bounds, attention, n_items, answers)


def design_from_items(items: list[str]) -> ScreenDesign:
    return ScreenDesign(list(items), [], {}, {}, {}, len(items), list(items))
