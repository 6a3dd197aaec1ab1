"""Bootstrap standard errors of an ordinal fit (lavaan 0.6.14 ``se = "bootstrap"`` with estimator DWLS, ULS
or WLS; lavaan refuses it with the robust ones WLSMV / ULSMV / WLSM...: "use (D)WLS estimator for bootstrap").

Ordinary case resampling within each group (Efron & Tibshirani 1993, ch. 6; lavaan ``lav_bootstrap_internal``
type "ordinary"): replicate b draws N_g of the group's cases with replacement and refits the model from
scratch — thresholds, polychoric correlations, their Gamma and the weight matrix are the replicate's own,
as lavaan recomputes its sample statistics. With COEF the converged replicates' estimates (B rows), lavaan's
``lav_model_nvcov_bootstrap`` and its categorical vcov give

    vcov = cov(COEF) (B - 1) / B * N / (N - G),

z = est / se, and ``parameterEstimates()``'s default ``boot.ci.type = "perc"`` intervals: boot's
``norm.inter`` on the sorted replicates (the order statistic k = trunc((B + 1) a), interpolated on the
normal quantile scale between k and k + 1; Davison & Hinkley 1997, eq. 5.8) of every row's value over the
replicates. Defined (``:=``) rows keep the delta method with the bootstrap vcov and a Wald interval
(lavaan: a percentile one); rows that are not free keep their value (lavaan). Replicates that fail (e.g. a
category absent from the resample) are left out and counted in a warning. ``indices`` (one B x N_g matrix
of 0-based row positions per group) refits given resamples, e.g. lavaan's own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import ndtri

from survey.distributions import norm
from survey.errors import EstimationError, SurveyInputError


def norm_inter(t: np.ndarray, alpha: float) -> float:
    """boot's ``norm.inter`` (as lavaan's percentile interval): the alpha quantile of the replicates."""
    t = np.sort(t[np.isfinite(t)])
    r = t.size
    rk = (r + 1) * alpha
    k = int(np.trunc(rk))
    if k == rk and 0 < k <= r:
        return float(t[k - 1])
    if k == 0:
        return float(t[0])
    if k >= r:
        return float(t[-1])
    z, z_k, z_k1 = ndtri(alpha), ndtri(k / (r + 1)), ndtri((k + 1) / (r + 1))
    return float(t[k - 1] + (z - z_k) / (z_k1 - z_k) * (t[k] - t[k - 1]))


def group_rows(data: pd.DataFrame, variables: list[str], missing: str, group: str | None,
               labels: list | None) -> list[np.ndarray]:
    """Positions (``iloc``) of the cases the fit uses, per group in group order and data order: complete on
    the model's variables (listwise) or observed on one of them (pairwise)."""
    seen = data[variables].notna()
    used = (seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)).to_numpy()
    if group is None:
        return [np.flatnonzero(used)]
    values = data[group]
    return [np.flatnonzero(used & (values == label).to_numpy()) for label in labels]


def _draws(rows: list[np.ndarray], n_boot: int, seed: int | None,
           indices: list[np.ndarray] | None) -> list[list[np.ndarray]]:
    if indices is None:
        rng = np.random.default_rng(seed)
        return [[r[rng.integers(0, r.size, r.size)] for r in rows] for _ in range(n_boot)]
    if len(indices) != len(rows):
        raise SurveyInputError(f"indices must hold one matrix per group ({len(rows)})", field="indices")
    mats = [np.asarray(m) for m in indices]
    for m, r in zip(mats, rows, strict=True):
        if m.ndim != 2 or m.shape[1] != r.size or m.min() < 0 or m.max() >= r.size:
            raise SurveyInputError(f"indices must be B x {r.size} matrices of row numbers in 0..{r.size - 1}",
                                   field="indices")
    return [[r[m[b]] for m, r in zip(mats, rows, strict=True)] for b in range(mats[0].shape[0])]


def replicates(data: pd.DataFrame, refit: Callable[[pd.DataFrame], object], rows: list[np.ndarray],
               npar: int, n_boot: int, seed: int | None = None,
               indices: list[np.ndarray] | None = None) -> np.ndarray:
    """The replicates' estimates (B x npar; NaN rows for the failed ones)."""
    draws = _draws(rows, n_boot, seed, indices)
    out = np.full((len(draws), npar), np.nan)
    for b, parts in enumerate(draws):
        try:
            rep = refit(data.iloc[np.concatenate(parts)].reset_index(drop=True))
        except (EstimationError, SurveyInputError, np.linalg.LinAlgError):
            continue
        if rep.converged and rep.theta.size == npar:
            out[b] = rep.theta
    return out


def apply(fit, coef: np.ndarray, table_at: Callable[[np.ndarray, np.ndarray], pd.DataFrame]) -> None:
    """Put the bootstrap vcov, SEs, z, p-values and percentile intervals into ``fit`` (module docstring);
    ``table_at(theta, vcov)`` is the fit's estimates table at other estimates and vcov (the intervals are
    those of every row's value over the replicates: fixed rows keep their value)."""
    ok = coef[np.isfinite(coef).all(axis=1)]
    failed = coef.shape[0] - ok.shape[0]
    if ok.shape[0] < 2:
        raise EstimationError("fewer than two bootstrap replicates converged")
    n_tot = float(np.sum(fit.nobs))
    n_groups = 1 if np.ndim(fit.nobs) == 0 else len(fit.nobs)
    v = np.cov(ok.T, ddof=0).reshape(ok.shape[1], ok.shape[1]) * n_tot / (n_tot - n_groups)
    table = table_at(fit.theta, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(table["se"] > 0, table["est"] / table["se"], np.nan)
    table["z"], table["pvalue"] = z, 2 * norm.sf(np.abs(z))
    values = np.array([table_at(t, v)["est"].to_numpy(dtype=float) for t in ok])  # B x rows
    table["ci.lower"] = [norm_inter(values[:, k], 0.025) for k in range(values.shape[1])]
    table["ci.upper"] = [norm_inter(values[:, k], 0.975) for k in range(values.shape[1])]
    fixed = (table["se"] == 0).to_numpy()
    table.loc[fixed, "ci.lower"] = table.loc[fixed, "ci.upper"] = table.loc[fixed, "est"]
    if (table["op"] == ":=").any():  # lavaan's defined rows: a Wald interval from the delta-method SE
        hit = (table["op"] == ":=").to_numpy()
        table.loc[hit, ["ci.lower", "ci.upper"]] = np.nan
    fit.parameter_table = table
    fit.vcov_matrix = v
    fit.bootstrap_coef = coef
    if failed:
        fit.warnings = list(fit.warnings or []) + [f"{failed} bootstrap runs failed or did not converge."]
