"""lower() / upper() modifiers of the model syntax -> per-parameter bounds (lavaan's ``partable$lower`` /
``$upper``); imposed by :mod:`survey.sem.bounded` (and printed by summary() as lavaan marks an estimate on
its bound)."""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.syntax.parse import parse_syntax


def model_bounds(model: str, mg) -> tuple[np.ndarray, np.ndarray] | None:
    """(lower, upper) per estimated parameter from the syntax's lower()/upper() modifiers, or None without
    bounds. A bound on a fixed parameter is ignored (lavaan sets it to the fixed value); a vector
    ``lower(c(a, b))`` gives one bound per group, ``NA`` none; in a ``group:`` block a bound holds in
    that block's group."""
    formulas = parse_syntax(model)
    if not any(f.mod.lower is not None or f.mod.upper is not None for f in formulas):
        return None
    lower, upper = np.full(mg.npar, -np.inf), np.full(mg.npar, np.inf)
    pt = mg.partable
    block = 0  # 1, 2, ... inside 'group:' blocks (their order is the groups' order)
    for f in formulas:
        if f.op == ":":
            block += 1
            continue
        if f.mod.lower is None and f.mod.upper is None:
            continue
        same = (pt["op"] == f.op) & (((pt["lhs"] == f.lhs) & (pt["rhs"] == f.rhs))
                                     | ((f.op == "~~") & (pt["lhs"] == f.rhs) & (pt["rhs"] == f.lhs)))
        if block:
            same &= pt["group"] == block
        for g, free in zip(pt.loc[same, "group"].astype(int), pt.loc[same, "free"].astype(int), strict=True):
            if free <= 0:
                continue
            low, up = _per_group(f.mod.lower, g, block), _per_group(f.mod.upper, g, block)
            if low is not None:
                lower[free - 1] = max(lower[free - 1], low)
            if up is not None:
                upper[free - 1] = min(upper[free - 1], up)
    if np.any(lower > upper):
        raise SurveyInputError("a lower() bound exceeds its upper() bound", field="model")
    return lower, upper


def _per_group(values: list[float] | None, group: int, block: int) -> float | None:
    """The bound of group ``group`` (1-based) from a modifier's values (one, or one per group)."""
    if not values:
        return None
    v = values[0] if len(values) == 1 or block else values[min(group, len(values)) - 1]
    return None if v is None or not np.isfinite(v) else float(v)
