"""Parsing of lavaan's threshold formulas ``item | t1 + t2`` (lavaan tutorial, "Thresholds"): per term a
label (shared labels: one parameter), a fixed value or ``start(v)``, or with ``group=`` one of each per group
(``c(a1, a2)*t1``, ``c(0, NA)*t1``, ``start(c(-0.4, -0.3))*t1``; lavaan model.syntax, "Multiple groups");
fitted with ordered items by :mod:`survey.sem.ordinal.threshold_syntax` (one group) and
:mod:`survey.sem.ordinal.threshold_groups` (several)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from survey.errors import SurveyInputError

_TERM = re.compile(r"^\s*(?:(?P<mod>[^*]+)\*)?\s*t(?P<k>[0-9]+)\s*$")
_NUMBER = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_START = re.compile(r"^start\(\s*(?P<v>[^)]+)\)$")
_NAME = re.compile(r"^[A-Za-z.][A-Za-z0-9._]*$")
_VECTOR = re.compile(r"^c\((?P<v>[^()]*)\)$")
_START_VECTOR = re.compile(r"^start\(c\((?P<v>[^()]*)\)\)$")
_NA = ("NA", "na")


@dataclass
class ThresholdSpec:
    """One ``item | tK`` term: its label, fixed value or start value."""

    item: str
    k: int  # 1-based threshold number
    label: str = ""
    fixed: float | None = None
    start: float | None = None
    labels: tuple[str, ...] | None = None  # c(a1, a2): one label per group
    fixeds: tuple[float | None, ...] | None = None  # c(0, NA): one value per group (None: free)
    starts: tuple[float | None, ...] | None = None  # start(c(-0.4, -0.3))

    def in_group(self, g: int, ngroups: int) -> ThresholdSpec:
        """The term in group ``g`` (0-based) of ``ngroups``: its c() vectors resolved; lavaan's error when a
        vector's length is not the number of groups (one-element vectors hold for every group)."""
        out = ThresholdSpec(self.item, self.k, self.label, self.fixed, self.start)
        for name, vec in (("label", self.labels), ("fixed", self.fixeds), ("start", self.starts)):
            if vec is None:
                continue
            if len(vec) not in (1, ngroups):
                raise SurveyInputError(f"lavaan ERROR: wrong number of arguments in modifier "
                                       f"({','.join('NA' if v is None else str(v) for v in vec)}) of element "
                                       f"{self.item}|t{self.k}", field="model")
            setattr(out, name, vec[0] if len(vec) == 1 else vec[g])
        return out


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
            if mod in _NA:  # lavaan: NA*t1 is a free threshold
                mod = ""
            if _vector(spec, mod.replace(" ", ""), number):
                pass
            elif _NUMBER.match(mod):
                spec.fixed = float(mod)
            elif _START.match(mod.replace(" ", "")):
                spec.start = float(_START.match(mod.replace(" ", "")).group("v"))
            elif _NAME.match(mod):
                spec.label = mod
            elif mod:
                raise SurveyInputError(f"line {number}: threshold modifiers available: a label, a fixed "
                                       "value, NA, start(value), c() vectors of labels or values, "
                                       "start(c(...))", value=mod, field="model")
            specs.append(spec)
    labels = {s.label for s in specs if s.label} | {v for s in specs for v in (s.labels or ())}
    terms = ThresholdTerms(specs)
    keep = _move_constraints(keep, labels, terms)
    rest = "\n".join(keep)
    for lab in labels:
        if re.search(rf"(?<![A-Za-z0-9._]){re.escape(lab)}(?![A-Za-z0-9._])\s*\*", rest) or re.search(
                rf"(==|<|>|:=)[^\n]*(?<![A-Za-z0-9._]){re.escape(lab)}(?![A-Za-z0-9._])", rest):
            raise SurveyInputError("threshold labels shared with other parameters or used in inequality / "
                                   "non-simple constraints are not available yet (available: labels shared "
                                   "among thresholds, fixed values, start(), label == label, := )", value=lab,
                                   field="model")
    return rest, terms


class ThresholdTerms(list):
    """The terms of the threshold formulas, with the model's ``:=`` rows when one of them uses a threshold
    label (``definitions``: (name, expression) in order, all of the model's) and the simple equalities
    ``label == label`` of two threshold labels (``equalities``), both taken out of the model."""

    def __init__(self, specs=()):
        super().__init__(specs)
        self.definitions: list[tuple[str, str]] = []
        self.equalities: list[tuple[str, str]] = []


def _uses(text: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9._]){re.escape(n)}(?![A-Za-z0-9._])", text) for n in names)


def _move_constraints(lines: list[str], labels: set[str], terms: ThresholdTerms) -> list[str]:
    """``lines`` without the ``:=`` / ``label == label`` rows that go to ``terms`` (:class:`ThresholdTerms`:
    every ``:=`` row once one of them uses a threshold label, directly or through another)."""
    if not labels:
        return lines
    keep: list[str] = []
    defs: list[tuple[int, str, str]] = []
    for raw in lines:
        line = raw.split("#", 1)[0]
        eq = re.match(r"^\s*([A-Za-z.][A-Za-z0-9._]*)\s*==\s*([A-Za-z.][A-Za-z0-9._]*)\s*$", line)
        if eq and eq.group(1) in labels and eq.group(2) in labels:
            terms.equalities.append((eq.group(1), eq.group(2)))
            continue
        if ":=" in line:
            name, _, expr = line.partition(":=")
            defs.append((len(keep), name.strip(), re.sub(r"\s+", "", expr)))  # lavaan: rhs without spaces
        keep.append(raw)
    names = set(labels)
    moved = False
    for _, name, expr in defs:  # a definition using a threshold label, or one that does (in order)
        if _uses(expr, names):
            names.add(name)
            moved = True
    if not moved:
        return keep
    terms.definitions = [(name, expr) for _, name, expr in defs]
    at = {pos for pos, _, _ in defs}
    return [raw for pos, raw in enumerate(keep) if pos not in at]


def _vector(spec: ThresholdSpec, mod: str, number: int) -> bool:
    """Read ``c(...)`` or ``start(c(...))`` into ``spec``; False when ``mod`` is neither."""
    m = _START_VECTOR.match(mod)
    start = m is not None
    m = m or _VECTOR.match(mod)
    if m is None:
        return False
    values = m.group("v").split(",")
    if start or all(v in _NA or _NUMBER.match(v) for v in values):
        numbers = tuple(None if v in _NA else float(v) for v in values)
        if start:
            spec.starts = numbers
        else:
            spec.fixeds = numbers
        return True
    if not all(_NAME.match(v) and v not in _NA for v in values):
        raise SurveyInputError(f"line {number}: a threshold's c() vector holds labels or values (NA: free); "
                               "labels mixed with NA are not available yet", value=mod, field="model")
    spec.labels = tuple(values)
    return True


def check_threshold_spec(spec: ThresholdSpec, count: dict[str, int]) -> None:
    """One-line error unless ``spec`` names an ordered item (``count``: item -> its number of thresholds)
    and one of its thresholds t1..t{count}."""
    if spec.item not in count:
        raise SurveyInputError("a threshold formula names an item that is not ordered in the model",
                               value=spec.item, field="model")
    if not 1 <= spec.k <= count[spec.item]:
        raise SurveyInputError(f"{spec.item} has {count[spec.item]} thresholds", value=f"t{spec.k}",
                               field="model")
