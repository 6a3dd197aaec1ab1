"""lavaan 0.6.14's ``fitMeasures()`` for a categorical (DWLS / ULS / WLS) fit, one group.

- baseline: the independence model (thresholds free, correlations 0). With e = (0, rho_s) and
  Delta_0 = [I; 0], its minimum is ``N e' U_0 e``, U_0 = W - W Delta_0 (Delta_0' W Delta_0)^-1 Delta_0' W;
  its scaled test uses the traces of U_0 Gamma (:mod:`survey.sem.ordinal.test`).
- ``cfi``, ``tli``, ``nnfi``, ``rni``, ``nfi``, ``rfi``, ``ifi``, ``pnfi`` (and ``.scaled`` on the scaled
  statistics), ``rmsea = sqrt(max(0, X2 / (N df) - 1 / N))`` with Browne & Cudeck's (1993) 90% CI and
  close-fit p-value (lavaan ``lav_fit_rmsea``, ``lav_fit_cfi``).
- robust CFI / TLI / RMSEA for categorical data (Savalei 2021, Multivariate Behav Res 56; lavaan
  ``lav_fit_catml_dwls``): the ML discrepancy of the DWLS-implied correlation matrix P from the polychoric
  matrix R, ``XX3 = N (log|P| - log|R| + tr(R P^-1) - p)``, rescaled by
  ``c = tr(U' V U Gamma_rho) / df`` with U = I - Delta_rho E^-1 Delta_rho' W_rho, E = Delta' W Delta,
  V the normal-theory ML weight of the correlations ``V_(ij),(kl) = a_ik a_jl + a_il a_jk`` (A = P^-1);
  the baseline's ``XX3_0 = -N log|R|`` with ``c_0 = tr(Gamma_rho) / (p (p - 1) / 2)``; then
  ``rmsea.robust = sqrt(max(0, XX3 / (N df) - c / N))`` (XX3 uses N, the RMSEA N - 1, as lavaan),
  ``cfi.robust = 1 - max(XX3 - c df, 0) / max(XX3 - c df, XX3_0 - c_0 df_0, 0)``.
- ``srmr`` from the residual correlations over p (p + 1) / 2 (with continuous variables Bentler's
  ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` off the diagonal, lavaan's ``lav_residuals_summary``);
  ``wrmr = sqrt(chisq / nstat)`` (lavaan's value for these estimators). lavaan's statistics use (N - 1):
  chisq = (N - 1) F and N - 1 in the RMSEA formulas.
"""

from __future__ import annotations

import numpy as np

from survey.sem.ordinal import measures_more
from survey.sem.ordinal import test as tests
from survey.sem.ordinal.indices import _cfi, _close, _tli, rmsea, rmsea_ci
from survey.sem.ordinal.objective import OrdinalStructure, weighted


def _baseline(structure: OrdinalStructure, sample, weight: np.ndarray, kind: str):
    nth, nstat = structure.nuni, structure.nstat  # thresholds, means and variances stay free
    d0 = np.zeros((nstat, nth))
    d0[:nth, :nth] = np.eye(nth)
    e = np.concatenate([np.zeros(nth), sample.wls_obs[nth:]])
    wd = weighted(weight, d0)
    we = weighted(weight, e[:, None])[:, 0]
    stat = (sample.nobs - 1) * float(e @ we - (wd.T @ e) @ np.linalg.solve(d0.T @ wd, wd.T @ e))
    df = nstat - nth
    out = [tests.standard(stat, df)]
    if kind != "standard":
        tr, tr2 = tests.ugamma_traces(d0, weight, tests.test_gamma(sample.gamma, sample.nobs))
        out.append(tests.robust_test(kind, stat, df, tr, tr2))
    return out


def _catml(structure: OrdinalStructure, theta: np.ndarray, sample, weight: np.ndarray,
           delta: np.ndarray, df: int) -> tuple[float, float, float, float]:
    """XX3, c.hat3, XX3.null, c.hat3.null of lavaan's ``lav_fit_catml_dwls`` (module docstring)."""
    n, p, nth = sample.nobs, structure.p, structure.nuni  # catML's statistic: N F_ML
    implied = structure.moments(theta).sigma
    r = sample.correlations
    _, logdet_p = np.linalg.slogdet(implied)
    _, logdet_r = np.linalg.slogdet(r)
    a = np.linalg.inv(implied)
    xx3 = n * (logdet_p - logdet_r + np.trace(r @ a) - p)
    ii, jj = structure.ii, structure.jj
    v = a[ii][:, ii] * a[jj][:, jj] + a[ii][:, jj] * a[jj][:, ii]
    w_full = np.diag(weight) if weight.ndim == 1 else weight
    e_inv = np.linalg.inv(delta.T @ weighted(weight, delta))
    d_rho = delta[nth:]
    w_rho = w_full[nth:, nth:]
    u = np.eye(ii.size) - d_rho @ e_inv @ d_rho.T @ w_rho
    g_rho = sample.gamma[nth:, nth:]
    c3 = float(np.trace(u.T @ v @ u @ g_rho)) / df if df > 0 else 1.0  # df: catML's (catml_df); 0: saturated
    xx3_null = -n * logdet_r
    c3_null = float(np.trace(g_rho)) / ii.size
    return float(xx3), c3, float(xx3_null), c3_null


def positive_definite(matrices) -> bool:
    """lavaan's ``check.pd`` of ``lav_fit_catml_dwls``: every sample correlation matrix has eigenvalues
    of at least sqrt(machine epsilon) (else no robust CFI/TLI/RMSEA)."""
    return all(np.linalg.eigvalsh(m).min() >= np.sqrt(np.finfo(float).eps) for m in matrices)


def catml_df(n_pairs: int, tables) -> int:
    """The df of lavaan's catML fit (``lav_object_catml``: the table without its ``|`` and ``~1`` rows):
    the correlations less the free parameters of the other rows; ``tables`` are (RAM table, its local ->
    global index or None). It differs from the fit's df when thresholds are fixed (lavaan's c.hat3 =
    ks / df3, its robust RMSEA on df3, its CFI / TLI on the fit's df)."""
    used: set = set()
    for pt, index in tables:
        free = pt.loc[(pt["free"] > 0) & (pt["op"] != "~1"), "free"].to_numpy(dtype=int) - 1
        used |= {int(index[k]) if index is not None else int(k) for k in free
                 if index is None or index[k] >= 0}
    return int(n_pairs - len(used))


def fit_measures(structure: OrdinalStructure, theta: np.ndarray, sample, weight: np.ndarray,
                 test_list: list, fmin: float, delta: np.ndarray, vcov: np.ndarray) -> dict[str, float]:
    """The fit measures lavaan reports for this fit (names as ``fitMeasures()``)."""
    n = sample.nobs - 1  # lavaan's N for fit measures: ntotal - ngroups (lav_utils_get_ntotal)
    std = test_list[0]
    x2, df = std.stat, std.df
    out: dict[str, float] = {"npar": float(structure.npar), "fmin": fmin, "chisq": x2, "df": float(df),
                             "pvalue": std.pvalue}
    scaled = test_list[1] if len(test_list) > 1 else None
    base = _baseline(structure, sample, weight, scaled.name if scaled else "standard")
    x0, df0 = base[0].stat, base[0].df
    if scaled is not None:
        out.update({"chisq.scaled": scaled.stat, "df.scaled": float(scaled.df),
                    "pvalue.scaled": scaled.pvalue, "chisq.scaling.factor": scaled.scaling_factor})
    out.update({"baseline.chisq": x0, "baseline.df": float(df0), "baseline.pvalue": base[0].pvalue})
    if scaled is not None:
        out.update({"baseline.chisq.scaled": base[1].stat, "baseline.df.scaled": float(base[1].df),
                    "baseline.pvalue.scaled": base[1].pvalue,
                    "baseline.chisq.scaling.factor": base[1].scaling_factor})
    out["cfi"] = _cfi(x2, df, x0, df0)
    out["tli"] = out["nnfi"] = _tli(x2, df, x0, df0)
    out["rni"] = 1 - (x2 - df) / (x0 - df0)
    out["nfi"] = 1 - x2 / x0 if df <= df0 else np.nan  # lavaan: NA when df > the baseline's df
    out["rfi"] = (max(0.0, (x0 / df0 - x2 / df) / (x0 / df0)) if df > 0 else 1.0) if df <= df0 else np.nan
    out["ifi"] = (x0 - x2) / (x0 - df)
    out["pnfi"] = df / df0 * (1 - x2 / x0)
    if scaled is not None:
        xs, x0s = scaled.stat, base[1].stat
        dfs, df0s = scaled.df, base[1].df  # df, or mean.var.adjusted's df*
        out["cfi.scaled"] = _cfi(xs, dfs, x0s, df0s)
        out["tli.scaled"] = out["nnfi.scaled"] = _tli(xs, dfs, x0s, df0s)
        out["rni.scaled"] = 1 - (xs - dfs) / (x0s - df0s)
    out["rmsea"] = rmsea(x2, df, n)
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = rmsea_ci(x2, df, n)
    out["rmsea.pvalue"] = _close(x2, df, n, 0.05)
    if scaled is not None:
        # lavaan: the shifted statistic on df, or the unscaled one on tr(U Gamma) degrees of freedom
        x2s, df2 = (scaled.stat, df) if scaled.name == "scaled.shifted" else (x2, scaled.trace_ugamma)
        out["rmsea.scaled"] = rmsea(x2s, df2, n)
        out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = rmsea_ci(x2s, df2, n)
        out["rmsea.pvalue.scaled"] = _close(x2s, df2, n, 0.05)
    # lavaan has no catML for continuous variables, nor a robust RMSEA after mean.var.adjusted
    # nor with observed covariates (conditional.x)
    # nor after threshold formulas tying thresholds (its catML fit fails: NA), nor for a non-PD sample matrix
    catml = None
    tie = getattr(structure, "tie", None)
    tied = tie is not None and bool((tie.K.sum(axis=0) > 1).any())
    if (scaled is not None and not structure.mixed and scaled.name != "mean.var.adjusted" and not structure.q
            and not tied and positive_definite([sample.correlations])):
        df3 = catml_df(structure.ii.size, [(structure.ram.partable, None)])
        xx3, c3, xx3_0, c3_0 = _catml(structure, theta, sample, weight, delta, df3)
        catml = xx3, c3, xx3_0, c3_0, df3
        out["cfi.robust"] = _cfi(xx3, df, xx3_0, df0, c3, c3_0)
        out["tli.robust"] = out["nnfi.robust"] = _tli(xx3, df, xx3_0, df0, c3, c3_0)
        out["rmsea.robust"] = rmsea(xx3, df3, n, c3)
        lo, hi = rmsea_ci(xx3 / c3, df3, n, c3)
        out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
        out["rmsea.pvalue.robust"] = _close(xx3 / c3, df3, n, 0.05, c3)
    resid = sample.wls_obs - structure.moments(theta).stats
    rho_res = resid[structure.nuni :]
    p = structure.p
    if structure.mixed:  # lavaan: Bentler's (S - Sigma) / sqrt(s_ii s_jj), off the diagonal
        d_s = 1 / np.sqrt(np.diag(sample.cov))
        res = (sample.cov - structure.moments(theta).sigma) * np.outer(d_s, d_s)
        rho_res = res[np.tril_indices(p, -1)]
    # lavaan: over the pairs and every observed variable (the covariates too: lav_residuals_summary)
    out["srmr"] = float(np.sqrt(np.sum(rho_res**2) / (rho_res.size + len(structure.ram.ov))))
    out["wrmr"] = float(np.sqrt(x2 / structure.nstat))
    group = measures_more.pieces(sample.wls_obs, structure.moments(theta).stats, weight, structure,
                                 len(structure.ram.ov), sample.nobs)
    return measures_more.complete(out, n=n, n_groups=1, std=std, scaled=scaled, base_std=base[0],
                                  base_scaled=base[1] if scaled is not None else None, catml=catml,
                                  groups=[group])
