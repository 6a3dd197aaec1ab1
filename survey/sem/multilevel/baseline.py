"""lavaan's baseline (independence) model of a two-level fit (``lav_partable_independence`` with
levels): at each level a free variance for every observed variable of that level and no covariance;
intercepts as in the model (free at level 2 for the variables of level 2, at level 1 for the within-only
ones); the fixed.x covariates keep their fixed moments.
"""

from __future__ import annotations

import pandas as pd

from survey.sem.multilevel.syntax import _renumber, level_variables


def baseline_partable(pt: pd.DataFrame) -> pd.DataFrame:
    """The independence table of a two-level parameter table (same columns)."""
    pt = pt[pt["block"] > 0]
    sets = level_variables(pt)
    rows = []
    for level in (1, 2):
        here = pt[pt["level"] == level]
        exo = here[here["exo"] == 1]
        xs = set(exo["lhs"]) | set(exo["rhs"][exo["op"] == "~~"])
        ov = sets["ov1"] if level == 1 else sets["ov2"]
        for v in ov:
            if v in xs:
                continue
            rows.append(dict(lhs=v, op="~~", rhs=v, level=level, free=1, ustart=float("nan"), exo=0))
        keep = ["lhs", "op", "rhs", "level", "free", "ustart", "exo"]
        rows += [dict(r) for r in exo[keep].to_dict("records")]
        for v in ov:
            if v in xs:
                continue
            free_mean = level == 2 or v in sets["within"]
            rows.append(dict(lhs=v, op="~1", rhs="", level=level, free=1 if free_mean else 0,
                             ustart=float("nan") if free_mean else 0.0, exo=0))
    out = pd.DataFrame(rows)
    free = out["free"].to_numpy().copy()
    free[free > 0] = range(1, int((free > 0).sum()) + 1)
    out["free"] = free
    out.insert(0, "id", range(1, len(out) + 1))
    out["user"] = 0
    out["block"] = out["level"]
    out["group"] = out["level"]
    out["label"] = ""
    out["plabel"] = [f".p{i}." for i in out["id"]]
    return _renumber(out)
