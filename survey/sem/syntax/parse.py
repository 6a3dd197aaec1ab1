"""lavaan model syntax -> formula elements with their modifiers (lavaan's ``lavParseModelString``).

Rules (lavaan 0.6 ``lav_syntax.R``; Rosseel 2012, J Stat Softw 48(2), section "model syntax"):

* comments start at ``#`` or ``!``; ``;`` separates statements like a new line;
* a line without an operator continues the previous formula (multi-line formulas);
* operators ``=~ <~ ~~ ~ ~1 := == < >``; ``y1 + y2 ~ x`` expands over every left-hand side;
* a right-hand term is ``mod1*mod2*...*name``; a modifier is a number (fixed value), ``NA`` (free),
  a label, ``c(...)`` (one value per group: numbers/NA -> fixed values, names -> labels),
  ``start(v)`` / ``v?name`` (starting value), ``label("a")``, ``equal("a")`` (a label),
  ``lower(v)`` / ``upper(v)`` (bounds), ``prior("...")`` (kept for blavaan, unused: lavaan ignores it too);
  ``efa("b")*f1 + efa("b")*f2 =~ ...`` on a left-hand side puts the factors in exploratory block "b"
  (lavaan 0.6.14's rotated EFA blocks, :mod:`survey.sem.efa`); ``rv("r")`` is refused as not available yet;
* ``:=``, ``==``, ``<`` and ``>`` keep their sides as expressions (whitespace removed);
* ``group: NAME`` (or ``group: 1``) starts the block of one group: a ``Formula("group", ":", NAME)``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from survey.errors import SurveyInputError

# lavaan looks for the operators in this order (<~ before <, ~~ before ~)
OPERATORS = ("=~", "<~", "~~", "==", ":=", "<", ">", "~")
CONSTRAINT_OPS = ("==", "<", ">")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_CALL = re.compile(r"^([A-Za-z_.][A-Za-z0-9_.]*)\((.*)\)$", re.S)
_OPERATOR_CHARS = re.compile(r"[~=<>:|]")  # "|": lavaan's threshold formulas (refused, parse_syntax)


@dataclass
class Modifiers:
    """Modifiers of one formula element; each list holds one value per group (or a single value)."""

    fixed: list[float | None] | None = None  # None inside the list = NA (free)
    start: list[float] | None = None
    label: list[str] | None = None
    lower: list[float] | None = None
    upper: list[float] | None = None
    prior: list[str] | None = None  # blavaan's priors: kept, not used by ML / least-squares fits (lavaan)
    efa: str | None = None  # the exploratory block of a factor (lhs modifier efa("b"), lavaan 0.6.14)


@dataclass
class Formula:
    """One parsed formula element: ``lhs op rhs`` with its modifiers and the model line it came from."""

    lhs: str
    op: str
    rhs: str
    mod: Modifiers = field(default_factory=Modifiers)
    line: int = 0

    # single-group views of the modifiers (the first element of each vector)
    @property
    def label(self) -> str:
        return self.mod.label[0] if self.mod.label else ""

    @property
    def fixed(self) -> float | None:
        return self.mod.fixed[0] if self.mod.fixed else None

    @property
    def free_na(self) -> bool:
        return bool(self.mod.fixed) and self.mod.fixed[0] is None


def _error(number: int, message: str, value: str | None = None) -> SurveyInputError:
    return SurveyInputError(f"line {number}: {message}", field="model", value=value)


def _statements(text: str) -> list[tuple[int, str]]:
    """Statements with their first line number; whitespace removed, multi-line formulas joined."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        body = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in body.split(";"):
            part = re.sub(r"\s+", "", part)
            if part:
                lines.append((number, part))
    out: list[tuple[int, str]] = []
    for number, line in lines:
        if _OPERATOR_CHARS.search(_strip_strings(line)) or not out:
            if not _OPERATOR_CHARS.search(_strip_strings(line)):
                raise _error(number, "no lavaan operator (=~, <~, ~, ~~, :=, ==, <, >)", line)
            out.append((number, line))
        else:
            out[-1] = (out[-1][0], out[-1][1] + line)
    return out


def _strip_strings(text: str) -> str:
    return re.sub(r"\"[^\"]*\"|'[^']*'", "", text)


def _is_product(name: str) -> bool:
    """``x1:x2`` on the right of ``~``: lavaan's product term of two observed variables (its data step
    adds the column, :mod:`survey.sem.data.products`)."""
    parts = name.split(":")
    return len(parts) == 2 and all(_NAME.match(p) for p in parts)


def _split_operator(line: str, number: int) -> tuple[str, str, str]:
    bare = _strip_strings(line)
    best: tuple[int, str] | None = None
    for op in OPERATORS:
        pos = bare.find(op)
        if pos < 0:
            continue
        if op == "~" and bare[pos : pos + 2] == "~~":
            continue
        if best is None or pos < best[0]:
            best = (pos, op)
    if best is None:
        raise _error(number, "no lavaan operator (=~, <~, ~, ~~, :=, ==, <, >)", line)
    pos, op = best
    # positions in the original line: strings only occur right of the operator in practice
    pos = line.find(op)
    lhs, rhs = line[:pos], line[pos + len(op) :]
    if not lhs:
        raise _error(number, f"nothing on the left of {op!r}", line)
    if not rhs:
        raise _error(number, f"nothing on the right of {op!r}", line)
    return lhs, op, rhs


def _split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _values(args: str, number: int, term: str) -> list[str]:
    inner = _CALL.match(args)
    if inner and inner.group(1) == "c":
        args = inner.group(2)
    return [a.strip().strip("\"'") for a in _split_top(args, ",")]


def _number(text: str, number: int, term: str) -> float | None:
    if text in ("NA", "na"):
        return None
    if _NUMBER.match(text):
        return float(text)
    raise _error(number, f"{text!r} is not a number or NA", term)


def _apply_modifier(mod: Modifiers, text: str, number: int, term: str) -> None:
    call = _CALL.match(text)
    if text in ("NA", "na"):
        mod.fixed = [None]
    elif _NUMBER.match(text):
        mod.fixed = [float(text)]
    elif _NAME.match(text):
        mod.label = [text]
    elif text.startswith(("\"", "'")) and text.endswith(text[0]) and len(text) > 1:
        mod.label = [text[1:-1]]
    elif call is None:
        raise _error(
            number,
            f"modifier {text!r} is not lavaan syntax (available: a number, NA, a label, c(...), "
            "start(), label(), equal(), lower(), upper())",
            term,
        )
    else:
        name, args = call.group(1), call.group(2)
        values = _values(args, number, term) if name != "c" else _values(text, number, term)
        if name == "c":
            if all(v in ("NA", "na") or _NUMBER.match(v) for v in values):
                mod.fixed = [_number(v, number, term) for v in values]
            else:
                for v in values:
                    if v not in ("NA", "na", "") and not _NAME.match(v):
                        raise _error(number, f"{v!r} is neither a number, NA nor a label", term)
                # lavaan 0.6.14 drops NA from a label vector: c(b1, NA) is the single label b1 (equal in
                # every group, with lavaan's warning); a vector of another length than 1 or the number
                # of groups is an error, all NA no label
                labels = [v for v in values if v not in ("NA", "na", "")]
                mod.label = labels or None
        elif name == "start":
            starts = [_number(v, number, term) for v in values]
            mod.start = [float("nan") if s is None else s for s in starts]
        elif name in ("label", "equal"):
            mod.label = values
        elif name in ("lower", "upper"):
            bounds = [_number(v, number, term) for v in values]
            setattr(mod, name, [float("nan") if b is None else b for b in bounds])
        elif name == "prior":  # lavaan 0.6.14 stores it for blavaan and ignores it in its own fits
            mod.prior = values
        elif name == "efa":  # only on a left-hand side of =~ (parse_syntax reads it there)
            raise _error(number, "efa(\"name\") modifies a factor on the left-hand side of =~ "
                         "(efa(\"b\")*f1 + efa(\"b\")*f2 =~ x1 + x2 + ...)", term)
        elif name == "rv":  # lavaan 0.6.14 has it: two-level random slopes
            raise _error(number, "rv() random slopes (two-level) are not available yet (available: c(), "
                         "start(), label(), equal(), lower(), upper(), prior(), efa() on a factor)", term)
        else:
            raise _error(
                number,
                f"modifier {name}() is not lavaan syntax (available: c(), start(), label(), equal(), "
                "lower(), upper(), prior())",
                term,
            )


def _parse_term(term: str, number: int) -> tuple[str, Modifiers]:
    mod = Modifiers()
    parts = _split_top(term, "*")
    name = parts[-1]
    if "?" in name:  # old-style start value: 0.5?x
        start, name = name.split("?", 1)
        mod.start = [_number(start, number, term) or 0.0]
    for text in parts[:-1]:
        if not text:
            raise _error(number, "empty modifier", term)
        _apply_modifier(mod, text, number, term)
    return name, mod


def _lhs_names(parts: list[str], op: str, number: int) -> tuple[list[str], dict[str, str]]:
    """Left-hand names and their efa("b") blocks (lavaan: ``efa("b")*f1 + efa("b")*f2 =~ ...``)."""
    names, efa_of = [], {}
    for part in parts:
        pieces = _split_top(part, "*")
        name = pieces[-1]
        for text in pieces[:-1]:
            call = _CALL.match(text)
            if call is None or call.group(1) != "efa":
                raise _error(number, "bad variable name (a left-hand side takes only the efa(\"b\") "
                             "modifier)", part)
            block = _values(call.group(2), number, part)
            if op != "=~" or len(block) != 1 or not block[0]:
                raise _error(number, "efa(\"name\") takes one block name and modifies a factor on the "
                             "left-hand side of =~", part)
            efa_of[name] = block[0]
        if not _NAME.match(name):
            raise _error(number, "bad variable name", part)
        names.append(name)
    return names, efa_of


def _with_efa(mod: Modifiers, block: str | None) -> Modifiers:
    if block is None:
        return mod
    out = copy.copy(mod)
    out.efa = block
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_syntax(text: str) -> list[Formula]:
    """Parse lavaan model syntax into :class:`Formula` elements, in syntax order."""
    if not isinstance(text, str) or not text.strip():
        raise SurveyInputError("the model syntax is empty", field="model")
    out: list[Formula] = []
    for number, line in _statements(text):
        block = re.match(r"^(group|level|class|block):(.*)$", line, re.I)
        if block and block.group(1).lower() == "group" and block.group(2) and ":" not in block.group(2):
            out.append(Formula("group", ":", block.group(2), line=number))  # lavaan's group: block
            continue
        if block and block.group(1).lower() == "level":  # two-level models: survey.sem.multilevel
            raise _error(number, "level: blocks are fitted by survey.fit(model, data, cluster=...) / survey "
                         "fit --cluster COL (two-level SEM), not here", line)
        if block:
            raise _error(number, "block syntax other than 'group: NAME' (class:) or a block without "
                         "its group name is not available (available: group: NAME / group: 1, or one "
                         "model for all groups with per-group values c(...); level: with cluster=)", line)
        if "|" in _strip_strings(line) and not re.search(r"[~=<>]", _strip_strings(line)):
            raise _error(number, "threshold formulas (item | t1) need ordered items (ordered=... / "
                         "--ordered COLS; lavaan: thresholds belong to ordered variables)", line)
        lhs_text, op, rhs_text = _split_operator(line, number)
        if op == ":=":
            if not _NAME.match(lhs_text):
                raise _error(number, "bad name for a defined parameter", lhs_text)
            out.append(Formula(lhs_text, op, rhs_text, Modifiers(label=[lhs_text]), number))
            continue
        if op in CONSTRAINT_OPS:
            out.append(Formula(lhs_text, op, rhs_text, line=number))
            continue
        lhs_names, efa_of = _lhs_names(_split_top(lhs_text, "+"), op, number)
        terms = []
        for term in _split_top(rhs_text, "+"):
            if not term:
                raise _error(number, "empty term", line)
            name, mod = _parse_term(term, number)
            this_op = op
            if op == "~" and name == "1":
                this_op, name = "~1", ""
            elif op == "=~" and _is_number(name) and len(lhs_names) == 1:
                # lavaan's phantom latent ``f =~ 0``: a factor without indicators, written as the fixed
                # row f =~ f (value 0) as lavaan's parser writes it
                name, mod = lhs_names[0], Modifiers(fixed=[float(name)])
            elif not (_NAME.match(name) or (op == "~" and _is_product(name))):
                raise _error(number, "bad variable name", name)
            if op == "<~" and name in lhs_names:
                raise _error(number, "a composite cannot be formed from itself", name)
            terms.append((this_op, name, mod))
        for lhs in lhs_names:  # lavaan: every left-hand side in turn, then its terms
            out += [Formula(lhs, this_op, name, _with_efa(mod, efa_of.get(lhs)), number)
                    for this_op, name, mod in terms]
    return out
