"""A root of a function on a bracket where it changes sign (no numpy, no scipy.optimize).

The RMSEA confidence limits invert the noncentral chi-square CDF in its noncentrality (Browne & Cudeck
1993; lavaan ``lav_fit_rmsea_ci`` uses ``uniroot``). scipy.optimize costs a third of a second to import,
more than a small fit, so the fit path uses the Illinois variant of false position (Dowell & Jarratt
1971): each step interpolates linearly between the bracket's ends, halving the value kept at an end that
stays twice in a row (convergence of order 1.44 where plain false position stalls), and bisects when the
interpolant leaves the bracket or the bracket did not halve over three steps (at most about three times
bisection's count where the CDF is nearly a step). The bracket always holds the root and the search
stops when it is shorter than ``xtol + 4 eps |x|`` (brentq's rtol: the spacing of doubles near x), so the
answer is as close to the root as ``brentq``'s (tests/test_roots.py).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["bracket_root"]


def bracket_root(f: Callable[[float], float], lo: float, hi: float, xtol: float = 1e-12,
                 maxiter: int = 500) -> float:
    """x in [lo, hi] with f(x) = 0 (to within ``xtol``), given f(lo) and f(hi) of opposite signs (or 0)."""
    a, b = lo, hi
    fa, fb = f(a), f(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    if (fa > 0) == (fb > 0):
        raise ValueError("bracket_root: f(lo) and f(hi) must have opposite signs")
    kept = 0  # which end stayed at the last step: -1 a, +1 b
    width = abs(b - a)
    for step in range(maxiter):
        if abs(b - a) <= xtol + 8.9e-16 * max(abs(a), abs(b)):
            break
        c = (a * fb - b * fa) / (fb - fa)
        if step % 3 == 2:  # every third step: bisect unless the bracket halved over the last three
            if abs(b - a) > 0.5 * width:
                c = 0.5 * (a + b)
            width = abs(b - a)
        if not (min(a, b) < c < max(a, b)):
            c = 0.5 * (a + b)
        fc = f(c)
        if fc == 0:
            return c
        if (fc > 0) == (fb > 0):  # the root lies between a and c: c replaces b, a stays
            b, fb = c, fc
            if kept == -1:
                fa *= 0.5
            kept = -1
        else:
            a, fa = c, fc
            if kept == 1:
                fb *= 0.5
            kept = 1
    return 0.5 * (a + b)
