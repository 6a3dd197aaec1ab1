"""Row-level checks of a parsed model (lavaan's ``lavaanify`` errors), used by :mod:`survey.sem.syntax.table`.

* :func:`unique_rows` - a duplicated element keeps its first occurrence, as lavaan does;
* :func:`reorder_covariances` - ``b ~~ a`` is written ``a ~~ b`` when ``a`` comes first among the latent
  then the observed variables (lavaan's ``lav_partable_covariance_reorder`` in ``lavParseModelString``);
* :func:`check_model` - a factor that is its own indicator, or both a composite and a factor, is refused;
* :func:`check_constraints` - every name of a ``==``/``<``/``>``/``:=`` row must be a label, a plabel or an
  earlier defined parameter (math functions aside), and a defined parameter cannot reuse a label.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.syntax.parse import Formula

if TYPE_CHECKING:
    from survey.sem.syntax.table import VariableNames

_MATH = {"exp", "log", "sqrt", "abs", "sin", "cos", "tan", "pnorm", "qnorm", "pi"}


def unique_rows(rows: list[Formula]) -> list[Formula]:
    """Duplicated elements: the first is kept, as lavaan does; a term repeated in the same formula adds
    its modifiers to the first (lavaan's ``f =~ NA*x1 + l1*x1``: free and labelled)."""
    user: list[Formula] = []
    seen: dict[tuple[str, str, str], int] = {}
    for f in rows:
        key = (f.lhs, f.op, f.rhs)
        if key in seen or (f.op == "~~" and (f.rhs, f.op, f.lhs) in seen):
            k = seen.get(key, seen.get((f.rhs, f.op, f.lhs)))
            first = user[k]
            if first.line == f.line:
                merged = copy.copy(first.mod)
                for name in ("fixed", "start", "label", "lower", "upper", "prior"):
                    if getattr(merged, name) is None and getattr(f.mod, name) is not None:
                        setattr(merged, name, getattr(f.mod, name))
                user[k] = replace(first, mod=merged)
            continue
        seen[key] = len(user)
        user.append(f)
    return user


def reorder_covariances(rows: list[Formula], names: VariableNames) -> list[Formula]:
    """``b ~~ a`` -> ``a ~~ b`` when ``a`` precedes ``b`` in lavaan's order of the parsed model's names
    (the latent variables, then the observed ones: ``lav_partable_vnames(FLAT, "lv")`` and ``"ov"``), as
    lavaan 0.6.14's ``lav_partable_covariance_reorder`` does right after parsing; modifiers stay."""
    order = {name: k for k, name in enumerate(dict.fromkeys(names.lv + names.ov))}
    out = []
    for f in rows:
        if (f.op == "~~" and f.lhs != f.rhs and f.lhs in order and f.rhs in order
                and order[f.lhs] > order[f.rhs]):
            f = replace(f, lhs=f.rhs, rhs=f.lhs)
        out.append(f)
    return out


def check_model(user: list[Formula], names: VariableNames) -> None:
    """Refuse a factor that is its own indicator, or a composite that is also a factor."""
    for f in user:
        phantom = f.mod is not None and f.mod.fixed == [0.0]  # lavaan's ``f =~ 0`` (parse_syntax)
        if f.op == "=~" and f.lhs == f.rhs and not phantom:
            raise SurveyInputError(f"line {f.line}: a latent variable cannot be its own indicator",
                                   value=f.lhs, field="model")
        if f.op == "<~" and f.lhs in {g.lhs for g in user if g.op == "=~"}:
            raise SurveyInputError(f"line {f.line}: a variable cannot be both a composite (<~) and a "
                                   "factor (=~)", value=f.lhs, field="model")


def names_in(expr: str) -> list[str]:
    """Identifiers of a constraint expression, math functions and numbers left out."""
    names = re.findall(r"(?<![\w.])[A-Za-z_.][A-Za-z0-9_.]*", expr)
    return [n for n in names if n not in _MATH and not re.fullmatch(r"\.\d*", n)]


def check_constraints(pt: pd.DataFrame, cons: list[Formula]) -> None:
    """Every name of a constraint / defined parameter is known; a := name is new (lavaan's errors)."""
    known = set(pt["label"]) | set(pt["plabel"])
    labelled = set(pt["label"]) - {""}
    free_labels = set(pt.loc[pt["free"] > 0, "label"])
    for f in cons:
        for side in (f.lhs, f.rhs) if f.op != ":=" else (f.rhs,):
            for name in names_in(side):
                if name not in known:
                    what = "defined parameter (:=)" if f.op == ":=" else "constraint"
                    raise SurveyInputError(f"line {f.line}: unknown label in {what} {f.lhs} {f.op} {f.rhs}",
                                           value=name, field="model")
        if f.op == ":=":
            fixed = [n for n in dict.fromkeys(names_in(f.rhs)) if n in labelled and n not in free_labels]
            if fixed:  # lavaan 0.6.14 (lav_partable_constraints_def) refuses it
                raise SurveyInputError(f"line {f.line}: non-free parameter(s) in variable definition(s): "
                                       f"{', '.join(fixed)} (lavaan 0.6.14 refuses it)", value=fixed[0],
                                       field="model")
            if f.lhs in known:
                raise SurveyInputError(f"line {f.line}: a defined parameter reuses the name of a label",
                                       value=f.lhs, field="model")
            known.add(f.lhs)
