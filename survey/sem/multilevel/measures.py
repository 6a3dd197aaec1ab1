"""lavaan's ``fitMeasures()`` of a two-level fit (lavaan 0.6.14): the chi-square against the saturated
two-level model, df = the number of level-wise moments (within and between covariances, the means once,
fixed.x moments left out) minus the free parameters, baseline = :mod:`.baseline`, CFI/TLI/NFI...,
RMSEA with N = the number of observations, logl and AIC/BIC/BIC2 with N = observations, and
lavaan's ``lav_fit_srmr_twolevel``: SRMR per level from the correlation residuals of the saturated
against the implied covariance matrix (no means), ``srmr`` = srmr_within + srmr_between.
"""

from __future__ import annotations

import numpy as np

from survey.sem.fitmeasures import nfi, rmsea, rmsea_ci, rmsea_pvalue, tests_and_incremental
from survey.sem.inference.tests import pvalue
from survey.sem.multilevel.loglik import LOG2PI


def _cor(s: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(s))
    return s / np.outer(sd, sd)


def srmr_level(s: np.ndarray, sigma: np.ndarray) -> float:
    """sqrt(mean of the squared vech of cor(S) - cor(Sigma)) (lavaan ``lav_fit_srmr_twolevel``)."""
    if s.shape[0] == 0:
        return 0.0
    r = _cor(s) - _cor(sigma)
    low = r[np.tril_indices_from(r)]
    return float(np.sqrt(np.mean(low**2)))


def _level_covs(tl, m):
    """The implied representation of '2l' moments: Sigma_W over the level-1 variables (model order) and
    Sigma_B over the level-2 variables (model order)."""
    st = tl.st
    w, b = tl.within, tl.between
    yi = [st.y.index(v) for v in w.ov]
    sw = m.sw[np.ix_(yi, yi)]
    order = st.z + st.y
    pz = st.p_z
    full = np.zeros((len(order),) * 2)
    full[:pz, :pz] = m.szz
    full[pz:, :pz] = m.syz
    full[:pz, pz:] = m.syz.T
    full[pz:, pz:] = m.sb
    idx = [order.index(v) for v in b.ov]
    return sw, full[np.ix_(idx, idx)]


def force_pd(s: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """lavaan ``lav_matrix_symmetric_force_pd``: eigenvalues below tol * the largest raised to it (a 1 x 1
    matrix: max(s, tol)); ``lav_fit_srmr_twolevel`` applies it to the implied between covariance."""
    if s.shape[0] == 1:
        return np.maximum(s, tol)
    ev, vec = np.linalg.eigh(s)
    top = abs(ev[-1])
    ev = np.where(ev / top < tol, tol * top, ev)
    return (vec * ev) @ vec.T


def ndat(tl, x_within: list[str], x_between: list[str]) -> int:
    """lavaan's number of sample statistics of a two-level model (``lav_partable_ndat``): level 1 its
    covariances and the means of its within-only non-covariates, level 2 its covariances and means; the
    moments of each level's fixed.x covariates (``x_within``, ``x_between``) left out (at level 1 their
    covariances only)."""
    p1, p2 = len(tl.within.ov), len(tl.between.ov)
    level2 = set(tl.between.ov)
    within_y = [v for v in tl.within.ov if v not in level2 and v not in x_within]
    k1, k2 = len(x_within), len(x_between)
    return (p1 * (p1 + 1) // 2 + len(within_y) - k1 * (k1 + 1) // 2
            + p2 * (p2 + 1) // 2 + p2 - k2 * (k2 + 1) // 2 - k2)


def twolevel_measures(fit) -> dict[str, float]:
    """The fit measures of a :class:`survey.sem.multilevel.result.TwoLevelFit`, lavaan's names."""
    tl, st = fit.tl, fit.tl.st
    n = st.n
    npar = tl.mg.npar - getattr(fit, "n_equality", 0)  # lavaan: minus the rank of the == constraints
    logl = -0.5 * fit.h0.minus2 - fit.loglik_x
    logl_h1 = -0.5 * fit.sat.minus2 - fit.loglik_x
    t = max(fit.h0.minus2 - fit.sat.minus2, 0.0)
    df = float(ndat(tl, fit.x_within, fit.x_between) - npar)
    tb = max(fit.base.minus2 - fit.sat.minus2, 0.0)
    dfb = float(ndat(tl, fit.x_within, fit.x_between) - fit.btl.mg.npar)
    const = getattr(st, "n_values", n * st.p_y + st.nclusters * st.p_z) * LOG2PI  # observed values
    lo, hi = rmsea_ci(t, df, n)
    out = {
        "npar": float(npar),
        "fmin": 0.5 * (fit.h0.minus2 - const) / n,
        **tests_and_incremental(t, df, pvalue(t, df), tb, dfb, pvalue(tb, dfb)),
        "pnfi": float("nan") if dfb == 0 else df / dfb * nfi(t, tb),
        "logl": logl,
        "unrestricted.logl": logl_h1,
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * np.log(n),
        "ntotal": float(n),
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": rmsea(t, df, n),
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.ci.level": 0.90,
        "rmsea.pvalue": rmsea_pvalue(t, df, n),
        "rmsea.close.h0": 0.05,
        "rmsea.notclose.pvalue": _notclose(t, df, n),
        "rmsea.notclose.h0": 0.08,
    }
    if df == 0:
        out["tli"] = out["nnfi"] = 1.0
    m0, _ = tl.moments(fit.h0.theta)
    sw0, sb0 = _level_covs(tl, m0)
    sw1, sb1 = _level_covs(tl, fit.sat.moments)
    within, between = srmr_level(sw1, sw0), srmr_level(sb1, force_pd(sb0) if sb0.size else sb0)
    out.update({"srmr": within + between, "srmr_within": within, "srmr_between": between})
    if fit.robust is not None:
        out.update(_scaled(fit, t, df, tb, dfb, n))
    return {k: float(v) for k, v in out.items()}


def _notclose(t: float, df: float, n: int) -> float:
    """P(chi2 <= T) under RMSEA = .08 (lavaan ``rmsea.notclose.pvalue``)."""
    if df <= 0:
        return float("nan")
    from survey import distributions as sps

    return float(1.0 - sps.ncx2.sf(t, df, n * df * 0.08**2))


def _scaled(fit, t: float, df: float, tb: float, dfb: float, n: int) -> dict[str, float]:
    """lavaan's ``.scaled`` and ``.robust`` measures of the Yuan-Bentler-Mplus test (the project's
    :func:`survey.sem.measures.measures.scaled_measures`, one block)."""
    from survey.sem.inference.tests import ScaledTest
    from survey.sem.measures.measures import scaled_measures

    rb = fit.robust
    test = ScaledTest("yuan.bentler.mplus", t, df, rb.scaling * df, rb.scaling,
                      scaling_factor_h1=rb.trace_h1 / rb.h1_ndat,
                      scaling_factor_h0=rb.trace_h0 / fit.tl.mg.free_rows)  # lavaan: rows before ==
    base = ScaledTest("yuan.bentler.mplus", tb, dfb, fit.base_scaling * dfb, fit.base_scaling)
    out = scaled_measures(test, base, n, 1)
    if not np.isfinite(fit.base_scaling):  # lavaan: NA baseline scaling (negative trace) -> NA robust CFI/TLI
        out.update({k: float("nan") for k in ("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust")})
    for suffix, c in (("scaled", 1.0), ("robust", rb.scaling)):
        stat = t / rb.scaling if suffix == "robust" else t
        dof = df if suffix == "robust" else rb.scaling * df
        out[f"rmsea.notclose.pvalue.{suffix}"] = _notclose_scaled(stat, dof, n, c)
    return out


def _notclose_scaled(t: float, df: float, n: int, c: float) -> float:
    """P(chi2_df <= T) with noncentrality N df .08^2 / c (lavaan ``rmsea.notclose.pvalue.scaled/.robust``)."""
    if df <= 0:
        return float("nan")
    from survey import distributions as sps

    return float(1.0 - sps.ncx2.sf(t, df, n * df * 0.08**2 / c))
