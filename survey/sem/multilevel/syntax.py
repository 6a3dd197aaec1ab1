"""lavaan's ``level:`` blocks -> a parameter table with one block per level (lavaan ``lav_partable`` with
``nlevels = 2``): ``level: 1`` / ``level: within`` then ``level: 2`` / ``level: between``.

Each level's rows are built with lavaan's auto.* defaults on their own (the project's ``group:`` block
machinery, :func:`survey.sem.syntax.build_partable`), with a mean structure. As lavaan, the intercepts of
the observed variables that appear at both levels live at level 2 (fixed to zero at level 1); the
within-only variables keep their level-1 intercepts; latent means are zero at both levels.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

_LEVEL = re.compile(r"^\s*level\s*:\s*(\S+)\s*$", re.I | re.M)
_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


def has_levels(model: str) -> bool:
    """Does the model syntax hold lavaan ``level:`` blocks?"""
    return isinstance(model, str) and bool(_LEVEL.search(_strip_comments(model)))


def _strip_comments(text: str) -> str:
    return "\n".join(re.split(r"[#!]", line, maxsplit=1)[0] for line in text.splitlines())


def level_syntax(model: str) -> str:
    """The model text with ``level: 1|within`` / ``level: 2|between`` written as ``group: 1`` / ``group: 2``
    blocks (levels in lavaan's order: level 1 first; two levels only, as lavaan 0.6.14)."""
    text = _strip_comments(model)
    seen: list[int] = []

    def _repl(m: re.Match) -> str:
        name = m.group(1).strip().lower()
        if name not in _NAMES:
            raise SurveyInputError(f"'level: {m.group(1)}' is not a level of a two-level model (lavaan "
                                   "0.6.14: level: 1 / within and level: 2 / between)", field="model",
                                   value=m.group(1))
        seen.append(_NAMES[name])
        return f"group: {_NAMES[name]}"

    out = _LEVEL.sub(_repl, text)
    first = text[: _LEVEL.search(text).start()]
    if re.search(r"(=~|~~|~|:=|==)", first):
        raise SurveyInputError("a formula before the first 'level:' block (with level blocks every model "
                               "formula belongs to a level)", field="model")
    if sorted(set(seen)) != [1, 2] or len(seen) != 2:
        raise SurveyInputError("a two-level model needs one 'level: 1' (within) and one 'level: 2' "
                               "(between) block (lavaan 0.6.14 fits two levels)", field="model")
    if seen != [1, 2]:
        raise SurveyInputError("the 'level: 2' block comes before 'level: 1' (write the within level "
                               "first, as lavaan expects)", field="model")
    return out


def level_partable(model: str, **options) -> pd.DataFrame:
    """Parameter table with ``level`` (1, 2) = ``block`` = ``group`` (the engine's block number; printed
    as lavaan's ``level``), lavaan's level-wise intercepts."""
    from survey.sem.syntax import lavaanify

    for name in ("ngroups", "group_equal", "group_partial", "group_labels"):
        if options.get(name):
            raise SurveyInputError(f"{name} is not available with a two-level model (lavaan 0.6.14 fits "
                                   "two-level models with one group here)", field=name)
    options["meanstructure"] = True
    pt = lavaanify(level_syntax(model), **options).copy()
    pt["level"] = pt["block"]
    ov = {lev: _observed(pt, lev) for lev in (1, 2)}
    both = set(ov[1]) & set(ov[2])
    for k in np.flatnonzero((pt["op"] == "~1").to_numpy()):
        lev, lhs = int(pt.at[k, "level"]), pt.at[k, "lhs"]
        if lev == 1 and lhs in both and pt.at[k, "user"] != 1 and pt.at[k, "free"] > 0:
            pt.at[k, "free"] = 0
            pt.at[k, "ustart"] = 0.0
    return _renumber(pt)


def _observed(pt: pd.DataFrame, level: int) -> list[str]:
    from survey.sem.syntax import variable_names

    return list(variable_names(pt[(pt["level"] == level) & pt["op"].isin(["=~", "~", "~~", "~1"])]).ov)


def _renumber(pt: pd.DataFrame) -> pd.DataFrame:
    """Free parameters numbered 1..q again after fixing rows (shared labels keep one number)."""
    free = pt["free"].to_numpy()
    uniq = np.unique(free[free > 0])
    new = np.zeros_like(free)
    new[free > 0] = np.searchsorted(uniq, free[free > 0]) + 1
    pt["free"] = new
    return pt


def level_variables(pt: pd.DataFrame) -> dict[str, list[str]]:
    """lavaan's per-level observed sets: ov of each level, ``both``, ``within`` only, ``between`` only."""
    ov1, ov2 = _observed(pt, 1), _observed(pt, 2)
    return {"ov1": ov1, "ov2": ov2, "both": [v for v in ov1 if v in ov2],
            "within": [v for v in ov1 if v not in ov2], "between": [v for v in ov2 if v not in ov1]}
