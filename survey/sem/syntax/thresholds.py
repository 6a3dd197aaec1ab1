"""Parsing of lavaan's threshold formulas ``item | t1 + t2`` (lavaan tutorial, "Thresholds"): per term a
label (shared labels: one parameter), a fixed value or ``start(v)``; fitted with ordered items by
:mod:`survey.sem.ordinal.threshold_syntax`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from survey.errors import SurveyInputError

_TERM = re.compile(r"^\s*(?:(?P<mod>[^*]+)\*)?\s*t(?P<k>[0-9]+)\s*$")
_NUMBER = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_START = re.compile(r"^start\(\s*(?P<v>[^)]+)\)$")
_NAME = re.compile(r"^[A-Za-z.][A-Za-z0-9._]*$")


@dataclass
class ThresholdSpec:
    """One ``item | tK`` term: its label, fixed value or start value."""

    item: str
    k: int  # 1-based threshold number
    label: str = ""
    fixed: float | None = None
    start: float | None = None


def _is_threshold_line(line: str) -> bool:
    return "|" in line and not re.search(r"[~=<>]", line)


def split_thresholds(model: str) -> tuple[str, list[ThresholdSpec]]:
    """``model`` without its threshold formulas, and those formulas' terms (one-line errors otherwise)."""
    keep: list[str] = []
    specs: list[ThresholdSpec] = []
    for number, raw in enumerate(model.replace(";", "\n").splitlines(), start=1):
        line = raw.split("#", 1)[0]
        if not _is_threshold_line(line):
            keep.append(raw)
            continue
        item, _, rhs = line.partition("|")
        item = item.strip()
        if not _NAME.match(item):
            raise SurveyInputError(f"line {number}: bad item name in a threshold formula", value=item,
                                   field="model")
        for term in rhs.split("+"):
            m = _TERM.match(term)
            if not m:
                raise SurveyInputError(f"line {number}: a threshold term is written [label*|value*]tK",
                                       value=term.strip(), field="model")
            spec = ThresholdSpec(item, int(m.group("k")))
            mod = (m.group("mod") or "").strip()
            if _NUMBER.match(mod):
                spec.fixed = float(mod)
            elif _START.match(mod.replace(" ", "")):
                spec.start = float(_START.match(mod.replace(" ", "")).group("v"))
            elif _NAME.match(mod):
                spec.label = mod
            elif mod:
                raise SurveyInputError(f"line {number}: threshold modifiers available: a label, a fixed "
                                       "value, start(value) (c() vectors need group=, not available yet)",
                                       value=mod, field="model")
            specs.append(spec)
    labels = {s.label for s in specs if s.label}
    rest = "\n".join(keep)
    for lab in labels:
        if re.search(rf"(?<![A-Za-z0-9._]){re.escape(lab)}(?![A-Za-z0-9._])\s*\*", rest) or re.search(
                rf"(==|<|>|:=)[^\n]*(?<![A-Za-z0-9._]){re.escape(lab)}(?![A-Za-z0-9._])", rest):
            raise SurveyInputError("threshold labels shared with other parameters or used in constraints / "
                                   "defined parameters are not available yet (available: labels shared "
                                   "among thresholds, fixed values, start())", value=lab, field="model")
    return rest, specs
