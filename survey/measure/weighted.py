"""Weighted descriptives (statsmodels ``DescrStatsW``), equal to R ``survey``'s design-based estimates.

With sampling weights w (any scale; only ratios matter) and the rows where a variable is observed:

* mean: sum(w x) / sum(w) (``survey::svymean``, ``na.rm = TRUE``);
* variance: n / (n - 1) * sum(w (x - mean)^2) / sum(w), n the number of rows with a positive weight in
  the whole sample (``survey::svyvar``, whose n does not shrink with ``na.rm``); sd = its square root;
* correlation of two variables on their pairwise-complete rows: the weighted covariance over the product
  of the weighted standard deviations (``cov2cor(svyvar(~x + y, design))``; the n / (n - 1) cancels);
* share of a category: the weight of its rows over the weight of all rows (``svymean`` of the indicator,
  a missing value counted as not in the category, so shares of the categories and of "not reported"
  sum to 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from survey.errors import SurveyInputError


def _weights(data: pd.DataFrame | pd.Series, weights: Any) -> np.ndarray:
    """Weights aligned with ``data``'s rows (a Series by index, else by position); positive and finite."""
    if isinstance(weights, pd.Series):
        w = weights.reindex(data.index).to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != len(data):
            raise SurveyInputError(f"{w.size} weights for {len(data)} rows", field="weights")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise SurveyInputError("weight must be a non-negative number", row=int(bad[0]) + 1, field="weights",
                               value=None if np.isnan(w[bad[0]]) else float(w[bad[0]]))
    if not (w > 0).any():
        raise SurveyInputError("every weight is zero", field="weights")
    return w


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def weighted_describe(data: pd.DataFrame, weights: Any) -> pd.DataFrame:
    """One row per column: ``n`` (rows observed), ``mean``, ``sd`` (svymean, sqrt(svyvar)), and Kish's
    effective n of the observed rows, (sum w)^2 / sum(w^2)."""
    w = _weights(data, weights)
    n_total = int(np.count_nonzero(w > 0))
    rows = {}
    for column in data.columns:
        x = _numeric(data[column])
        keep = ~np.isnan(x) & (w > 0)
        if not keep.any():
            rows[column] = {"n": 0, "mean": np.nan, "sd": np.nan, "n.eff": np.nan}
            continue
        stats = DescrStatsW(x[keep], weights=w[keep], ddof=0)
        variance = stats.var * n_total / (n_total - 1) if n_total > 1 else np.nan
        wk = w[keep]
        rows[column] = {"n": int(keep.sum()), "mean": float(stats.mean), "sd": float(np.sqrt(variance)),
                        "n.eff": float(wk.sum() ** 2 / np.dot(wk, wk))}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["n", "mean", "sd", "n.eff"])
    out["n"] = out["n"].astype(int)
    return out


def weighted_correlations(data: pd.DataFrame, weights: Any) -> pd.DataFrame:
    """Weighted Pearson correlations of every pair of columns on pairwise-complete rows: ``var1``,
    ``var2``, ``r``, ``n`` (rows) and ``n.eff`` (Kish's effective n of those rows)."""
    w = _weights(data, weights)
    names = list(data.columns)
    values = {c: _numeric(data[c]) for c in names}
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            keep = ~np.isnan(values[a]) & ~np.isnan(values[b]) & (w > 0)
            r = np.nan
            if keep.sum() > 2:
                r = float(DescrStatsW(np.column_stack([values[a][keep], values[b][keep]]),
                                      weights=w[keep]).corrcoef[0, 1])
            wk = w[keep]
            rows.append({"var1": a, "var2": b, "r": r, "n": int(keep.sum()),
                         "n.eff": float(wk.sum() ** 2 / np.dot(wk, wk)) if keep.any() else np.nan})
    return pd.DataFrame(rows, columns=["var1", "var2", "r", "n", "n.eff"])


def weighted_shares(masks: Iterable[np.ndarray | pd.Series], weights: Any, index: pd.Index | None = None
                    ) -> list[float]:
    """Weighted share of each row set (a boolean mask over the rows) in the weight of all rows."""
    frame = pd.DataFrame(index=index if index is not None else pd.RangeIndex(len(np.asarray(weights))))
    w = _weights(frame, weights)
    total = w.sum()
    return [float(w[np.asarray(m, dtype=bool)].sum() / total) for m in masks]
