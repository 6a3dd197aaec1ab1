"""survey.sem.roots.bisect_root (the RMSEA confidence limits without scipy.optimize) lands where scipy's
brentq does, and the RMSEA interval it gives is lavaan's (the lavaan values of the fit fixtures are held
by the fit-measure tests; here the inversion itself, against brentq and the defining equation)."""

from __future__ import annotations

import math

import pytest
from scipy import optimize, stats

from survey.sem.fitmeasures import rmsea_ci
from survey.sem.measures.robust import rmsea_ci_scaled as robust_rmsea_ci
from survey.sem.roots import bisect_root


@pytest.mark.parametrize("t, df, p", [(18.7, 24, 0.05), (420.0, 356, 0.95), (55.0, 8, 0.05), (5.0, 1, 0.95),
                                      (2500.0, 300, 0.05)])
def test_the_noncentrality_root_equals_brentq(t, df, p) -> None:
    def f(lam: float) -> float:
        return float(stats.ncx2.cdf(t, df, lam)) - p if lam > 0 else float(stats.chi2.cdf(t, df)) - p

    hi = max(4 * t, 1000.0)
    assert f(0.0) > 0 > f(hi)  # a bracket with a sign change
    ours = bisect_root(f, 0.0, hi, xtol=1e-12)
    ref = optimize.brentq(f, 0.0, hi, xtol=1e-12)
    assert abs(ours - ref) < 1e-9 * max(1.0, ref)
    assert abs(f(ours)) < 1e-9


def test_rmsea_interval_brackets_and_inverts() -> None:
    t, df, n = 120.0, 40, 500
    lo, hi = rmsea_ci(t, df, n)
    assert 0 < lo < math.sqrt(max(t / (n * df) - 1 / n, 0)) < hi
    assert stats.ncx2.cdf(t, df, lo**2 * n * df) == pytest.approx(0.95, abs=1e-9)
    assert stats.ncx2.cdf(t, df, hi**2 * n * df) == pytest.approx(0.05, abs=1e-9)
    r_lo, r_hi = robust_rmsea_ci(t, df, n, 1.0)
    assert (r_lo, r_hi) == pytest.approx((lo, hi), abs=1e-12)


def test_a_root_at_an_end_and_a_bad_bracket() -> None:
    assert bisect_root(lambda x: x - 2.0, 2.0, 5.0) == 2.0
    assert bisect_root(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2), abs=1e-12)
    with pytest.raises(ValueError):
        bisect_root(lambda x: x + 1.0, 0.0, 1.0)
