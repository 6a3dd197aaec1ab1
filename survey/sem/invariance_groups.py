"""Which groups an invariance sequence compares, and what it reports once scalar invariance holds.

- ``groups``: the grouping column's values to use, in the order given (CLI ``--groups a,b,...``);
  default every value in order of first appearance (lavaan's order).
- ``min_group_size``: groups with fewer analytic cases are left out with a warning (CLI
  ``--min-group-size N``). Analytic cases: complete cases on the model's variables under listwise deletion;
  under FIML every case with at least one observed model variable (and, with fixed.x covariates, all of them
  observed), as lavaan's ``missing="ml"``.
- latent mean differences: with (partial) scalar invariance the latent means of groups 2..G are
  estimated against group 1 (fixed at 0; lavaan's ``group.equal = c("loadings", "intercepts")``); they are
  reported with their standard errors, z, p and CI, and ``d`` = mean / sqrt(latent variance in group 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.blocks import group_label
from survey.sem.syntax import lavaanify, variable_names


def analytic_counts(model: str, data: pd.DataFrame, group: str, missing: str) -> dict:
    """Analytic cases per group value (see the module docstring)."""
    names = variable_names(lavaanify(model))
    cols = [c for c in names.ov if c in data.columns]
    values = data[cols].apply(pd.to_numeric, errors="coerce")
    if str(missing).lower() in ("listwise",):
        ok = values.notna().all(axis=1)
    else:
        x = [c for c in names.ov_x if c in values.columns]
        ok = values.notna().any(axis=1) & (values[x].notna().all(axis=1) if x else True)
    column = data[group]
    return {v: int(ok[column == v].sum()) for v in pd.unique(column.dropna())}


def choose_groups(
    model: str, data: pd.DataFrame, group: str, missing: str, groups=None, min_group_size: int | None = None
) -> tuple[list | None, list[SurveyWarning]]:
    """The group values to fit (None: all) and the warnings about groups left out."""
    if group not in data.columns:
        raise SurveyInputError("grouping column not found in the data", column=group, field="group")
    if groups is None and not min_group_size:
        return None, []
    counts = analytic_counts(model, data, group, missing)
    by_label = {group_label(v): v for v in counts}
    if groups is not None:
        chosen = []
        for g in groups:
            key = g if g in counts else by_label.get(str(g))
            if key is None:
                raise SurveyInputError(
                    "group not found in the grouping column", column=group, value=str(g), field="groups"
                )
            chosen.append(key)
    else:
        chosen = list(counts)
    warnings = []
    if min_group_size:
        small = [g for g in chosen if counts[g] < int(min_group_size)]
        for g in small:
            warnings.append(
                SurveyWarning(
                    "small_group",
                    f"group {group_label(g)!r} of {group!r} has {counts[g]} analytic case(s), fewer "
                    f"than --min-group-size {int(min_group_size)}, and was left out of the comparison",
                    "sem",
                )
            )
        chosen = [g for g in chosen if g not in small]
    if len(chosen) < 2:
        raise SurveyInputError(
            f"fewer than two groups of {group!r} left to compare"
            + (f" with at least {int(min_group_size)} analytic cases" if min_group_size else ""),
            column=group,
            field="groups",
        )
    return chosen, warnings


def latent_means(fit, level: float = 0.95) -> pd.DataFrame:
    """Latent means of groups 2..G relative to group 1 (fixed at 0) with SEs, z, p, CI and ``d``."""
    est = fit.estimates(standardized=False)
    lv = set(fit.mg.models[0].lv)
    rows = est[(est["op"] == "~1") & est["lhs"].isin(lv) & (est["group"] > 1)]
    var1 = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].isin(lv) & (est["group"] == 1)]
    psi = dict(zip(var1["lhs"], var1["est"], strict=True))
    out = rows[["lhs", "group", "group.label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper"]].copy()
    out.insert(2, "reference", fit.group_labels[0])
    out["d"] = [
        e / np.sqrt(psi[v]) if psi.get(v, 0) > 0 else np.nan
        for v, e in zip(out["lhs"], out["est"], strict=True)
    ]
    return out.reset_index(drop=True)
