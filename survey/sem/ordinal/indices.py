"""The formulas of lavaan 0.6.14's incremental and RMSEA indices shared by the ordinal fit measures
(:mod:`survey.sem.ordinal.fitmeasures`, :mod:`survey.sem.ordinal.measures_more`): CFI / TLI with lavaan's
``c.hat`` rescaling (``lav_fit_cfi``, ``lav_fit_tli``), ``rmsea = sqrt(max(0, X2 / (N df) - c / N))``
(``lav_fit_rmsea``), Browne & Cudeck's (1993) interval (``lav_fit_rmsea_ci``) and the close-fit p-value."""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from survey.distributions import chi2, ncx2


def _cfi(x2: float, df: float, x0: float, df0: float, c: float = 1.0, c0: float = 1.0) -> float:
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x0 - c0 * df0, 0.0)
    return 1.0 if np.isclose(t1, 0) and np.isclose(t2, 0) else 1.0 - t1 / t2


def _tli(x2: float, df: float, x0: float, df0: float, c: float = 1.0, c0: float = 1.0) -> float:
    t1 = (x2 - c * df) * df0
    t2 = (x0 - c0 * df0) * df
    return 1.0 - t1 / t2 if df > 0 and abs(t2) > 0 else 1.0


def rmsea(x2: float, df: float, n: int, c: float = 1.0) -> float:
    return float(np.sqrt(max(x2 / n / df - c / n, 0.0))) if df > 0 else 0.0


def rmsea_ci(x2: float, df: float, n: int, c: float = 1.0, level: float = 0.90) -> tuple[float, float]:
    """Browne & Cudeck (1993) interval, as lavaan's ``lav_fit_rmsea_ci``."""
    if not (np.isfinite(x2) and df >= 1):
        return 0.0, 0.0
    up, lo = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam: float) -> float:
        return float(chi2.cdf(x2, df)) if lam <= 0 else float(ncx2.cdf(x2, df, lam))

    lower = 0.0
    if cdf(0.0) - up >= 0:
        lam = brentq(lambda v: cdf(v) - up, 0.0, x2)
        lower = np.sqrt(c * lam / (n * df))
    n_rmsea = max(n, x2 * 4)
    upper = 0.0
    if not (cdf(n_rmsea) - lo > 0 or cdf(0.0) - lo < 0):
        lam = brentq(lambda v: cdf(v) - lo, 0.0, n_rmsea)
        upper = np.sqrt(c * lam / (n * df))
    return float(lower), float(upper)


def _close(x2: float, df: float, n: int, h0: float, c: float = 1.0) -> float:
    return float(ncx2.sf(x2, df, n * df / c * h0**2)) if df > 0 else float("nan")
