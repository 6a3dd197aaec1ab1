"""The tails a fit reports, in the standard library's ``math``: no scipy import on the fit path.

``import scipy.special`` costs about 0.17 s of CPU (its array-API layer loads numpy.testing and f2py),
as much as the ML fit of a 9-item CFA. The fit reports z-test p-values and confidence intervals (normal),
chi-square p-values, and the RMSEA interval and close-fit test (noncentral chi-square). This module
computes those scalar functions; :mod:`survey.distributions` applies them elementwise inside scipy.stats'
own argument and support handling. tests/test_tails.py holds them to 40-digit mpmath values, far tails
included (1e-12 relative; noncentral 1e-11; measured at most 5e-13), tests/test_distributions.py to
scipy.special on grids (1e-12; noncentral 1e-10 where scipy's values are above 1e-100).

Sources: the normal CDF is ``0.5 erfc(-x / sqrt 2)`` (``math.erfc``); its inverse is Acklam's rational
approximation refined by one Halley step (Acklam 2003; Press et al. 2007, sect. 6.14.1), accurate to
about 1e-16. The regularized incomplete gamma P(a, x) and Q(a, x) are its series (x < a + 1) and
Lentz's continued fraction for Q (otherwise) (Press et al. 2007, sect. 6.2; Abramowitz & Stegun 6.5.29,
6.5.31); chi2 tails are P and Q at (df/2, x/2); the chi-square quantile solves P = p by safeguarded
Newton steps. The noncentral chi-square is the Poisson(nc/2) mixture of central ones (Johnson, Kotz &
Balakrishnan 1995, eq. 29.2), its terms P(a + j, y) / Q(a + j, y) by the recurrence
Q(a + 1, y) = Q(a, y) + y^a e^-y / Gamma(a + 1) (A&S 6.5.21), run only in the direction in which it adds
positive terms (upward for Q, downward for P), so no term cancels; the sum runs over the Poisson weights
until they are below 1e-17 of the sum.
"""

from __future__ import annotations

import math

__all__ = ["chi2_cdf", "chi2_ppf", "chi2_sf", "gamma_pq", "ncx2_cdf", "ncx2_sf", "ndtr", "ndtri"]

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_TINY = 1e-300
_EPS = 1e-17


def ndtr(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


# Acklam's coefficients
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def ndtri(p: float) -> float:
    """Standard normal quantile, 0 < p < 1 (above 1/2 by symmetry: 1 - p is exact there)."""
    if p > 0.5:
        return -ndtri(1.0 - p)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / \
            (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    for _ in range(2):  # Halley steps on ndtr(x) = p
        u = (ndtr(x) - p) * _SQRT2PI * math.exp(0.5 * x * x)
        if not math.isfinite(u):
            break
        x -= u / (1.0 + 0.5 * x * u)
    return x


def _log_prefactor(a: float, x: float) -> float:
    """log(x^a e^-x / Gamma(a))."""
    return a * math.log(x) - x - math.lgamma(a)


def gamma_pq(a: float, x: float) -> tuple[float, float]:
    """Regularized incomplete gamma (P(a, x), Q(a, x)), a > 0, x >= 0."""
    if x <= 0.0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    lg = _log_prefactor(a, x)
    if x < a + 1.0:  # series: P = x^a e^-x / Gamma(a + 1) * sum x^n / ((a + 1) ... (a + n))
        ap, term = a, 1.0 / a
        total = term
        for _ in range(100000):
            ap += 1.0
            term *= x / ap
            total += term
            if term < total * _EPS:
                break
        p = total * math.exp(lg)
        return p, 1.0 - p
    b = x + 1.0 - a  # Lentz's continued fraction for Q
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    q = math.exp(lg) * h
    return 1.0 - q, q


def chi2_cdf(x: float, df: float) -> float:
    """Central chi-square CDF, df > 0."""
    return gamma_pq(0.5 * df, 0.5 * x)[0]


def chi2_sf(x: float, df: float) -> float:
    """Central chi-square survival function, df > 0."""
    return gamma_pq(0.5 * df, 0.5 * x)[1]


def chi2_ppf(p: float, df: float) -> float:
    """Central chi-square quantile, 0 < p < 1: the root y of P(df/2, y) = p (x = 2y), solved on the smaller
    tail (Q(df/2, y) = 1 - p above the median) by Newton steps on its logarithm, kept inside a bracket that
    halves when a step leaves it. Start: Wilson-Hilferty, or y = (p Gamma(a + 1))^(1/a) in the far lower
    tail, where P(a, y) ~ y^a / Gamma(a + 1)."""
    a = 0.5 * df
    upper = p > 0.5
    log_target = math.log1p(-p) if upper else math.log(p)
    h = 1.0 / (9.0 * a)
    cube = 1.0 - h + ndtri(p) * math.sqrt(h)
    y = a * cube**3 if cube > 0.2 else math.exp((math.log(p) + math.lgamma(a + 1.0)) / a)
    lo, hi = 0.0, math.inf
    for _ in range(400):
        pq = gamma_pq(a, y)
        tail = pq[1] if upper else pq[0]
        if tail <= 0.0:  # underflow: far beyond the root
            hi, lo = (hi, y) if upper else (y, lo)
            y = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * y + 1.0
            continue
        f = math.log(tail) - log_target
        if f == 0.0:
            break
        if (f > 0) != upper:  # P too large (or Q too small): the root is below y
            hi = y
        else:
            lo = y
        density = math.exp((a - 1.0) * math.log(y) - y - math.lgamma(a))
        slope = density / tail  # d log P / dy (and -d log Q / dy)
        new = y + f / slope if upper else y - f / slope
        if not (lo < new < hi):
            new = (math.sqrt(lo * hi) if lo > 0 else 0.5 * hi) if math.isfinite(hi) else 2.0 * y + 1.0
        if abs(new - y) <= 1e-12 * y:  # quadratic convergence: the next error is ~1e-24
            y = new
            break
        y = new
    return 2.0 * y


def _poisson_log(j: int, lam: float) -> float:
    return j * math.log(lam) - lam - math.lgamma(j + 1.0)


def _term_log(a: float, y: float) -> float:
    """log(y^a e^-y / Gamma(a + 1)): Q(a + 1, y) - Q(a, y)."""
    return a * math.log(y) - y - math.lgamma(a + 1.0)


def ncx2_sf(x: float, df: float, nc: float) -> float:
    """Noncentral chi-square survival function, df > 0, nc > 0, x > 0: sum_j w_j Q(df/2 + j, x/2)."""
    lam, y, a = 0.5 * nc, 0.5 * x, 0.5 * df
    j = max(0, int(lam - 8.0 * math.sqrt(lam) - 20.0))  # below: Poisson weights < 1e-15 of the sum
    q = gamma_pq(a + j, y)[1]
    w = math.exp(_poisson_log(j, lam))
    t = math.exp(_term_log(a + j, y))
    total = w * q
    while True:
        q += t  # Q(a + j + 1, y)
        j += 1
        fresh = not j & 15  # every 16th step from the closed form (rounding does not build up)
        w = math.exp(_poisson_log(j, lam)) if fresh or w < 1e-280 else w * lam / j
        t = math.exp(_term_log(a + j, y)) if fresh or t < 1e-280 else t * y / (a + j)
        total += w * q
        if j > lam and w <= _EPS * total:
            return min(total, 1.0)


def ncx2_cdf(x: float, df: float, nc: float) -> float:
    """Noncentral chi-square CDF, df > 0, nc > 0, x > 0: sum_j w_j P(df/2 + j, x/2)."""
    lam, y, a = 0.5 * nc, 0.5 * x, 0.5 * df
    j = int(lam + 8.0 * math.sqrt(lam) + 20.0)  # above: Poisson weights < 1e-15 of the sum
    p = gamma_pq(a + j, y)[0]
    w = math.exp(_poisson_log(j, lam))
    total = w * p
    t = 0.0
    while j > 0:
        j -= 1
        fresh = not j & 15  # every 16th step from the closed form; subnormal terms too (lost digits)
        t = math.exp(_term_log(a + j, y)) if fresh or t < 1e-280 else t * (a + j + 1.0) / y
        p += t  # P(a + j, y) = P(a + j + 1, y) + y^(a+j) e^-y / Gamma(a + j + 1)
        w = math.exp(_poisson_log(j, lam)) if fresh or w < 1e-280 else w * (j + 1.0) / lam
        total += w * p
        if j < lam and w <= _EPS * total:
            break
    return min(total, 1.0)
