"""Scaled and robust RMSEA, CFI, TLI, RNI (lavaan ``lav_fit_rmsea``, ``lav_fit_cfi``): Brosseau-Liard,
Savalei & Li (2012, MBR 47) for the RMSEA, Brosseau-Liard & Savalei (2014, MBR 49) for CFI/TLI/RNI."""

from __future__ import annotations

import numpy as np

from survey import distributions as sps
from survey.sem.roots import bracket_root


def rmsea_ci_scaled(
    t: float, df: float, n: int, c_hat: float = 1.0, level: float = 0.90
) -> tuple[float, float]:
    """RMSEA CI by inverting the noncentral chi2 in its noncentrality, times sqrt(c_hat) (lavaan).

    Non-integer ``df`` is allowed (lavaan's rmsea.scaled uses df = tr(U Gamma)).
    """
    if np.isfinite(df) and df < 1 and np.isfinite(t):  # lavaan lav_fit_rmsea_ci: 0 below one df
        return 0.0, 0.0
    if not (np.isfinite(t) and np.isfinite(df) and np.isfinite(c_hat)):
        return float("nan"), float("nan")
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam: float) -> float:
        return sps.ncx2_cdf_scalar(t, df, max(lam, 0.0))

    if cdf(0.0) - upper_p < 0:
        lower = 0.0
    else:
        lam = bracket_root(lambda v: cdf(v) - upper_p, 0.0, t, xtol=1e-12)
        lower = float(np.sqrt(c_hat * lam / (n * df)))
    n_rmsea = max(n, 4 * t)
    if cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        upper = 0.0
    else:
        lam = bracket_root(lambda v: cdf(v) - lower_p, 0.0, n_rmsea, xtol=1e-12)
        upper = float(np.sqrt(c_hat * lam / (n * df)))
    return lower, upper


def rmsea_value(t: float, df: float, n: int, c_hat: float = 1.0) -> float:
    """sqrt(max(T/(N df) - c/N, 0)) (Steiger & Lind 1980; robust: Brosseau-Liard et al. 2012)."""
    if not np.isfinite(t) or not np.isfinite(df):
        return float("nan")
    return float(np.sqrt(max(t / n / df - c_hat / n, 0.0))) if df > 0 else 0.0


def rmsea_close_pvalue(t: float, df: float, n: int, c_hat: float = 1.0, h0: float = 0.05) -> float:
    """P(chi2_df(ncp = N df h0^2 / c) > T) (Browne & Cudeck 1993; lavaan's ``rmsea.pvalue``)."""
    if not (np.isfinite(t) and np.isfinite(df)) or df <= 0:
        return float("nan")
    return float(sps.ncx2.sf(t, df, n * df * h0**2 / c_hat))


def cfi_robust(t: float, df: float, tb: float, dfb: float, c: float, cb: float) -> float:
    """Robust CFI (Brosseau-Liard & Savalei 2014): 1 - max(T - c df, 0) / max(T - c df, T_b - c_b df_b, 0)."""
    cdf = 0.0 if df == 0 else c * df  # a saturated model: no scaling factor (lavaan's NA), c df = 0
    t1 = max(t - cdf, 0.0)
    t2 = max(t - cdf, tb - cb * dfb, 0.0)
    return 1.0 if np.isclose(t1, 0.0) and np.isclose(t2, 0.0) else 1.0 - t1 / t2


def tli_robust(t: float, df: float, tb: float, dfb: float, c: float, cb: float) -> float:
    """Robust TLI (Brosseau-Liard & Savalei 2014): 1 - (T - c df) df_b / ((T_b - c_b df_b) df)."""
    t1 = (t - c * df) * dfb
    t2 = (tb - cb * dfb) * df
    return 1.0 - t1 / t2 if df > 0 and abs(t2) > 0 else 1.0


def rni_robust(t: float, df: float, tb: float, dfb: float, c: float, cb: float) -> float:
    """Robust RNI: 1 - (T - c df) / (T_b - c_b df_b)."""
    t2 = tb - cb * dfb
    cdf = 0.0 if df == 0 else c * df  # a saturated model: c df = 0 (as cfi_robust)
    return float("nan") if np.isclose(t2, 0.0) else 1.0 - (t - cdf) / t2
