"""A root of a monotone function on a bracket, by bisection: numpy and scipy.optimize are not needed.

The RMSEA confidence limits invert the noncentral chi-square CDF in its noncentrality (Browne & Cudeck
1993; lavaan ``lav_fit_rmsea_ci`` uses ``uniroot``). scipy.optimize costs a third of a second to import,
more than a small fit, so the fit path bisects instead: the bracket halves until it is shorter than
``xtol`` (about 50 halvings from a bracket of 1e3 to 1e-12), which needs only the sign change that the
callers check, and lands within ``xtol`` of the root as ``brentq`` does (tests/test_roots.py).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["bisect_root"]


def bisect_root(f: Callable[[float], float], lo: float, hi: float, xtol: float = 1e-12,
                maxiter: int = 200) -> float:
    """x in [lo, hi] with f(x) = 0 (to within ``xtol``), given f(lo) and f(hi) of opposite signs (or 0)."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    if (f_lo > 0) == (f_hi > 0):
        raise ValueError("bisect_root: f(lo) and f(hi) must have opposite signs")
    for _ in range(maxiter):
        mid = 0.5 * (lo + hi)
        if hi - lo <= xtol or mid in (lo, hi):
            return mid
        f_mid = f(mid)
        if f_mid == 0:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
