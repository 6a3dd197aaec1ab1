"""lavaan's ``std.ov = TRUE``: the observed variables standardized before the analysis.

lavaan 0.6.14 ``lav_data_full`` (lav_data.R): per group, on the rows the analysis keeps, every numeric
observed variable that is not an exogenous covariate (``ov$exo == 0``) is replaced by R's ``scale()``:
(x - mean) / sd, with the mean and the standard deviation (divisor n - 1) of its observed values. The
fixed.x covariates keep their units (lavaan scales only its separate ``eXo`` copy, which the
unconditional ML estimator does not use); under ``fixed.x = FALSE`` they are scaled too. Ordered items
are not numeric and stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def model_variables(partable: pd.DataFrame, columns: Iterable[str]) -> tuple[list[str], list[str]]:
    """(observed variables of the parameter table, the exogenous covariates among them)."""
    latent = set(partable.loc[partable["op"].isin(["=~", "<~"]), "lhs"])
    cols = set(columns)
    seen: list[str] = []
    for row in partable[partable["op"].isin(["=~", "<~", "~", "~~", "~1"])].itertuples(index=False):
        for name in (row.lhs, row.rhs):
            if name and name in cols and name not in latent and name not in seen:
                seen.append(name)
    exo = set(partable.loc[(partable["op"] == "~~") & (partable["exo"] == 1), "lhs"])
    return seen, [v for v in seen if v in exo]


def kept_rows(data: pd.DataFrame, ov: list[str], exo: list[str], missing: str) -> np.ndarray:
    """The rows lavaan analyses: complete cases (listwise); under FIML the rows with every fixed.x
    covariate observed and at least one other variable observed (``missing="ml.x"``: any observed)."""
    observed = data[ov].notna()
    if str(missing).lower() in ("listwise", "default"):
        return observed.all(axis=1).to_numpy()
    ys = [v for v in ov if v not in exo] if missing != "ml.x" else ov
    keep = observed[ys].any(axis=1)
    if missing != "ml.x" and exo:
        keep = keep & observed[exo].all(axis=1)
    return keep.to_numpy()


def standardize_observed(model: str, data: pd.DataFrame, *, group: str | None = None,
                         missing: str = "listwise", ordered: Iterable[str] | None = None,
                         **partable_options) -> pd.DataFrame:
    """A copy of ``data`` with the model's numeric, non-exogenous observed variables scaled per group on the
    rows the analysis keeps (lavaan ``std.ov = TRUE``; see the module notes)."""
    from survey.sem.syntax import lavaanify

    options = {k: v for k, v in partable_options.items() if k in ("fixed_x", "model_type", "meanstructure")}
    pt = lavaanify(model, **options)
    ov, exo = model_variables(pt, data.columns)
    skip = set(exo)
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return data
    skip |= set(ordered or ())
    scale = [v for v in ov if v not in skip and pd.api.types.is_numeric_dtype(data[v])]
    out = data.copy()
    out[scale] = out[scale].astype(float)
    keep = kept_rows(data, ov, exo, missing)
    if group is not None:
        keep = keep & data[group].notna().to_numpy()
    labels = data[group] if group is not None else pd.Series(0, index=data.index)
    for _, idx in labels[keep].groupby(labels[keep], sort=False).groups.items():
        part = out.loc[idx, scale]
        out.loc[idx, scale] = (part - part.mean()) / part.std(ddof=1)
    return out
