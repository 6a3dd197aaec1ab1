"""Fit measures of a multi-group ML fit, lavaan's multi-group definitions (``fitMeasures()``, lavaan 0.6).

With G groups, N = sum_g N_g, T = sum_g N_g F_ML,g (the chi-square, = 2 N fmin):

    df   = G p* - q,  p* = p(p+1)/2 + p per group (fixed.x moments excluded), q the free parameters
    baseline: per group, free variances and free means, no equality across groups:
              T_b = sum_g N_g F_ML,g(diag S_g),  df_b = G (p* - 2 (p - n_x))
    cfi, tli  as in one group on (T, df, T_b, df_b)
    rmsea = sqrt(max(T/(N df) - 1/N, 0)) * sqrt(G)      (lavaan; Steiger 1998's multi-group correction)
            90% CI: the one-group noncentral interval times sqrt(G); close-fit p-value with
            noncentrality N df 0.05^2 / G
    srmr  = sum_g N_g srmr_g / N, srmr_g Bentler's with the mean residuals (lavaan ``srmr``)
    logl  = sum_g logl_g;  aic = -2 logl + 2 q;  bic = -2 logl + q log N;  bic2 = -2 logl + q log((N+2)/24)

References: Steiger, J. H. (1998). A note on multiple sample extensions of the RMSEA fit index.
*Structural Equation Modeling, 5*, 411-419. Rosseel (2012), lavaan, *J Stat Softw 48*(2).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from survey.sem.data import SampleStats
from survey.sem.fitmeasures import MEASURES, baseline_fml, loglik, rmsea_ci, srmr, tests_and_incremental
from survey.sem.test import n_moments

MG_MEASURES = tuple(m for m in MEASURES if m not in ("pnfi", "gfi", "agfi"))  # lavaan: not for G > 1


def rmsea_multigroup(t: float, df: float, n: int, n_groups: int) -> float:
    """lavaan's multi-group RMSEA: the one-group formula times sqrt(G) (Steiger 1998)."""
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(t / (n * df) - 1.0 / n, 0.0)) * np.sqrt(n_groups))


def rmsea_multigroup_ci(
    t: float, df: float, n: int, n_groups: int, level: float = 0.90
) -> tuple[float, float]:
    """90% CI of the multi-group RMSEA (the one-group interval times sqrt(G))."""
    lo, hi = rmsea_ci(t, df, n, level)
    return lo * np.sqrt(n_groups), hi * np.sqrt(n_groups)


def rmsea_multigroup_pvalue(t: float, df: float, n: int, n_groups: int, close: float = 0.05) -> float:
    """Test of close fit, H0: RMSEA <= .05, noncentrality N df close^2 / G."""
    if df <= 0:
        return float("nan")
    return float(sps.ncx2.sf(t, df, n * df * close**2 / n_groups))


def srmr_multigroup(stats: SampleStats, sigmas: list[np.ndarray], means: list[np.ndarray]) -> float:
    """N_g-weighted mean of the groups' SRMR (with mean residuals)."""
    n = np.array([g.n for g in stats.groups], dtype=float)
    values = [srmr(g.cov, s, g.mean, m) for g, s, m in zip(stats.groups, sigmas, means, strict=True)]
    return float(np.dot(n, values) / n.sum())


def fit_measures_multigroup(
    *,
    stats: SampleStats,
    sigmas: list[np.ndarray],
    means: list[np.ndarray],
    fml: float,
    npar: int,
    x_index: list[int],
) -> dict[str, float]:
    """All measures of :data:`MG_MEASURES` for a multi-group ML fit with a mean structure."""
    n_groups = len(stats.groups)
    n = stats.ntotal
    p, nx = len(stats.names), len(x_index)
    t = float(n * fml)
    df = n_groups * n_moments(p, nx, True) - npar
    pvalue = float(sps.chi2.sf(t, df)) if df > 0 else float("nan")
    tb = float(sum(g.n * baseline_fml(g, x_index) for g in stats.groups))
    dfb = n_groups * (n_moments(p, nx, True) - 2 * (p - nx))
    pb = float(sps.chi2.sf(tb, dfb)) if dfb > 0 else float("nan")
    logl = logl_h1 = 0.0
    for g, s, m in zip(stats.groups, sigmas, means, strict=True):
        logl += loglik(s, g, m)
        logl_h1 += loglik(g.cov, g, None)
        if x_index:
            s_xx = g.cov[np.ix_(x_index, x_index)]
            logl_x = -0.5 * g.n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(s_xx)[1] + nx)
            logl, logl_h1 = logl - logl_x, logl_h1 - logl_x
    lo, hi = rmsea_multigroup_ci(t, df, n, n_groups)
    out = {
        "npar": float(npar),
        "fmin": fml / 2.0,
        **tests_and_incremental(t, df, pvalue, tb, dfb, pb),
        "logl": logl,
        "unrestricted.logl": logl_h1,
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * np.log(n),
        "ntotal": float(n),
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": rmsea_multigroup(t, df, n, n_groups),
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.pvalue": rmsea_multigroup_pvalue(t, df, n, n_groups),
        "srmr": srmr_multigroup(stats, sigmas, means),
    }
    return {k: float(out[k]) for k in MG_MEASURES}
