"""Robust standard errors and the scaled tests of WLSMV / WLSM / ULSMV (lavaan 0.6).

With Delta the model Jacobian, W the estimator's weight and Gamma the asymptotic covariance of the
sample statistics (:mod:`survey.sem.ordinal.acov`):

- sandwich vcov (lavaan ``se = "robust.sem"``; Muthen, du Toit & Spisic 1997):
  ``(Delta' W Delta)^-1 Delta' W Gamma W Delta (Delta' W Delta)^-1 / N``; for WLS (W = Gamma^-1) the
  standard ``(Delta' W Delta)^-1 / N``;
- ``U = W - W Delta (Delta' W Delta)^-1 Delta' W`` and the traces of ``U Gamma`` (Satorra 1992);
- mean-adjusted (``WLSM``, lavaan ``satorra.bentler``): ``T / c``, ``c = tr(U Gamma) / df``;
- mean-and-variance adjusted (``WLSMV``, ``ULSMV``; lavaan ``scaled.shifted``, Asparouhov & Muthen
  2010): ``a = sqrt(df / tr((U Gamma)^2))``, ``b = df - a tr(U Gamma)``, ``T* = a T + b`` on df degrees of
  freedom; lavaan reports ``chisq.scaling.factor = 1 / a`` and ``shift.parameter = b``;
- mean-and-variance adjusted with Satterthwaite df (``WLSMVS``, ``ULSMVS``; lavaan ``mean.var.adjusted``,
  Satorra & Bentler 1994): ``df* = tr(U Gamma)^2 / tr((U Gamma)^2)``, ``c = tr(U Gamma) / df*``, ``T / c`` on
  df* (non-integer) degrees of freedom.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from survey.distributions import chi2
from survey.sem.ordinal.objective import weighted


@dataclass
class Test:
    """One test statistic as lavaan's ``lavInspect(fit, "test")`` entry."""

    name: str
    stat: float
    df: float
    pvalue: float
    scaling_factor: float = float("nan")
    shift: float = float("nan")
    trace_ugamma: float = float("nan")


def information(delta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Delta' W Delta."""
    return delta.T @ weighted(weight, delta)


def vcov(delta: np.ndarray, weight: np.ndarray, gamma: np.ndarray, n: int, robust: bool = True) -> np.ndarray:
    """Sandwich (robust) or standard vcov of the estimates (module docstring)."""
    bread = np.linalg.inv(information(delta, weight))
    if not robust:
        return bread / n
    wd = weighted(weight, delta)
    meat = wd.T @ gamma @ wd
    return bread @ meat @ bread / n


def ugamma_traces(delta: np.ndarray, weight: np.ndarray, gamma: np.ndarray) -> tuple[float, float]:
    """tr(U Gamma) and tr((U Gamma)^2)."""
    wd = weighted(weight, delta)
    w_full = np.diag(weight) if weight.ndim == 1 else weight
    u = w_full - wd @ np.linalg.solve(delta.T @ wd, wd.T)
    ug = u @ gamma
    return float(np.trace(ug)), float(np.sum(ug * ug.T))


def standard(stat: float, df: int) -> Test:
    return Test("standard", stat, df, _pvalue(stat, df))


def scaled_shifted(stat: float, df: int, tr: float, tr2: float) -> Test:
    """lavaan's ``scaled.shifted`` (WLSMV, ULSMV); a saturated model (df 0) keeps its statistic with no
    scaling factor or shift (NA in lavaan)."""
    if df == 0:
        return Test("scaled.shifted", stat, df, float("nan"), float("nan"), float("nan"), tr)
    a = np.sqrt(df / tr2)
    shift = df - a * tr
    value = stat * a + shift
    return Test("scaled.shifted", value, df, _pvalue(value, df), 1.0 / a, shift, tr)


def mean_adjusted(stat: float, df: int, tr: float) -> Test:
    """lavaan's ``satorra.bentler`` for WLSM: T / (tr(U Gamma) / df) (df 0: unscaled, no factor)."""
    if df == 0:
        return Test("satorra.bentler", stat, df, float("nan"), float("nan"), float("nan"), tr)
    c = tr / df
    value = stat / c
    return Test("satorra.bentler", value, df, _pvalue(value, df), c, float("nan"), tr)


def mean_var_adjusted(stat: float, df: int, tr: float, tr2: float) -> Test:
    """lavaan's ``mean.var.adjusted`` (WLSMVS, ULSMVS): T / c on df* = tr^2 / tr2 degrees of freedom."""
    df_star = tr * tr / tr2
    c = tr / df_star
    value = stat / c
    return Test("mean.var.adjusted", value, df_star, _pvalue(value, df_star), c, float("nan"), tr)


def browne_adf(resid: np.ndarray, delta: np.ndarray, gamma: np.ndarray, n: int, df: int) -> Test:
    """Browne's (1984, Brit J Math Stat Psych 37, eq. 2.20a) residual-based ADF statistic, lavaan's
    ``browne.residual.adf``: ``T = N e' (G - G Delta (Delta' G Delta)^-1 Delta' G) e``, G = Gamma^-1, e the
    residuals of the sample statistics; lavaan 0.6.14 multiplies by N - 1, as its chi-square."""
    g_inv = np.linalg.inv(gamma)
    gd = g_inv @ delta
    u = g_inv - gd @ np.linalg.solve(delta.T @ gd, gd.T)
    stat = float(n * resid @ u @ resid)
    return Test("browne.residual.adf", stat, df, _pvalue(stat, df))


def robust_test(kind: str, stat: float, df: int, tr: float, tr2: float) -> Test:
    """The robust test ``kind`` (scaled.shifted, satorra.bentler or mean.var.adjusted) of ``stat``."""
    if kind == "scaled.shifted":
        return scaled_shifted(stat, df, tr, tr2)
    if kind == "mean.var.adjusted":
        return mean_var_adjusted(stat, df, tr, tr2)
    return mean_adjusted(stat, df, tr)


def _pvalue(stat: float, df: float) -> float:
    return float(chi2.sf(stat, df)) if df > 0 else float("nan")


MPLUS: ContextVar[bool] = ContextVar("ordinal_mplus", default=False)  # mimic="Mplus" (sem.mimic_mplus_ord)


def test_gamma(gamma: np.ndarray, n: float) -> np.ndarray:
    """Gamma of the scaled tests: under mimic="Mplus" times (N - 1) / N (lav_test_satorra_bentler)."""
    return gamma * ((n - 1.0) / n) if MPLUS.get() else gamma


def meat_gamma(gamma: np.ndarray, n: float) -> np.ndarray:
    """Gamma of robust.sem's meat: under mimic="Mplus" weighted f_g^2 / f1_g, i.e. times N_g / (N_g - 1)
    (lav_model_nvcov_robust_sem)."""
    return gamma * (n / (n - 1.0)) if MPLUS.get() else gamma
