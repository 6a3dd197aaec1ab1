"""Exploratory (efa) blocks in the parameter table: lavaan 0.6.14's ``lav_partable_flat`` (auto.efa) and
``lav_partable_efa_constraints``.

``efa("b")*f1 + efa("b")*f2 =~ x1 + ... + xp`` puts f1, f2 in block "b". lavaan then (Asparouhov &
Muthen 2009, "Exploratory structural equation modeling", SEM 16(3); lavaan's ESEM implementation):

* fixes the variances of the efa factors to 1 (std.lv for them, whatever ``std_lv`` says) and does not fix
  their first loadings (auto.fix.first skips them);
* with an orthogonal rotation (``orthogonal_efa``) fixes their default covariances to 0;
* identifies the unrotated solution by the echelon pattern: factor k of a block (k = 2, 3, ...) has its
  first k - 1 loadings fixed to 0, and (oblique rotation) the covariances among the block's factors
  fixed to 0. These rows get ``user`` = 7 (lavaan's code): the rotated model frees them again and the
  rotation criterion's stationarity conditions take their place (:mod:`survey.sem.efa`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

ECHELON = 7  # lavaan's user code of the rows fixed for the unrotated (echelon) solution


def efa_factors(user) -> dict[str, list[str]]:
    """Block name -> its factors in syntax order, from the user formulas (``Formula.mod.efa``)."""
    sets: dict[str, list[str]] = {}
    for f in user:
        if f.op == "=~" and f.mod.efa:
            lvs = sets.setdefault(f.mod.efa, [])
            if f.lhs not in lvs:
                lvs.append(f.lhs)
    return sets


def mark_efa(pt: pd.DataFrame, user, sets: dict[str, list[str]], orthogonal: bool,
             group_equal=()) -> pd.DataFrame:
    """The ``efa`` column (each =~ row's block, "" elsewhere) and the echelon pattern of every block
    and group (lavaan's ``lav_partable_efa_constraints``; ``pt``: the flat table with its ``mod`` column).
    With ``group_equal`` loadings the loadings of the first group identify the factors of every group, so
    in the later groups (as lavaan 0.6.14) the efa factors' variances are free (unless lv.variances) and
    so are their covariances (unless lv.covariances; lavaan's user 77 rows)."""
    efa = np.array([""] * len(pt), dtype=object)
    for k, f in enumerate(user):
        if f.op == "=~" and f.mod.efa:
            efa[(pt["mod"] == k).to_numpy()] = f.mod.efa
    pt["efa"] = efa
    group = pt["group"] if "group" in pt else pd.Series(1, index=pt.index)
    equal_loadings = "loadings" in group_equal
    for n, g in enumerate(pd.unique(group)):
        for lvs in sets.values():
            in_g = group == g
            if n > 0 and equal_loadings and "lv.variances" not in group_equal:
                var = in_g & (pt["op"] == "~~") & (pt["user"] == 0) & pt["lhs"].isin(lvs) \
                    & (pt["lhs"] == pt["rhs"])
                pt.loc[var, ["free", "ustart"]] = [1, np.nan]
            if len(lvs) < 2:
                continue
            for k, lv in enumerate(lvs[1:], start=1):
                idx = pt.index[in_g & (pt["op"] == "=~") & (pt["lhs"] == lv)]
                if len(idx) < k:
                    raise SurveyInputError(f"efa factor {lv} has not enough indicators for the echelon "
                                           "pattern (as lavaan)", field="model", value=lv)
                pt.loc[idx[:k], ["free", "ustart", "user"]] = [0, 0.0, ECHELON]
            if not orthogonal and not (n > 0 and equal_loadings and "lv.covariances" not in group_equal):
                cov = in_g & (pt["op"] == "~~") & (pt["user"] == 0) & pt["lhs"].isin(lvs) \
                    & pt["rhs"].isin(lvs) & (pt["lhs"] != pt["rhs"])
                pt.loc[cov, ["free", "ustart", "user"]] = [0, 0.0, ECHELON]
    return pt
