"""survey.sem.roots.bracket_root (the RMSEA confidence limits without scipy.optimize: Illinois false
position) lands where scipy's brentq does, in about as many evaluations; the RMSEA interval it gives
inverts the noncentral chi-square (lavaan's values of the fit fixtures are held by the fit-measure
tests; here the inversion itself, against brentq and the defining equation)."""

from __future__ import annotations

import math

import pytest
from scipy import optimize, stats

from survey.sem.fitmeasures import rmsea_ci
from survey.sem.measures.robust import rmsea_ci_scaled as robust_rmsea_ci
from survey.sem.roots import bracket_root


@pytest.mark.parametrize("t, df, p", [(18.7, 24, 0.05), (420.0, 356, 0.95), (55.0, 8, 0.05), (5.0, 1, 0.95),
                                      (2500.0, 300, 0.05), (30000.0, 200, 0.95), (120.0, 40, 0.05)])
def test_the_noncentrality_root_equals_brentq(t, df, p) -> None:
    calls = [0]

    def f(lam: float) -> float:
        calls[0] += 1
        return float(stats.ncx2.cdf(t, df, lam)) - p if lam > 0 else float(stats.chi2.cdf(t, df)) - p

    hi = max(4 * t, 1000.0)
    assert f(0.0) > 0 > f(hi)  # a bracket with a sign change
    calls[0] = 0
    ours = bracket_root(f, 0.0, hi, xtol=1e-12)
    ours_calls, calls[0] = calls[0], 0
    ref = optimize.brentq(f, 0.0, hi, xtol=1e-12)
    assert abs(ours - ref) < 1e-12 * max(1.0, ref)
    assert abs(f(ours)) < 1e-9
    assert ours_calls <= 2 * calls[0] + 5  # superlinear: not bisection's 45-55 evaluations


def test_rmsea_interval_brackets_and_inverts() -> None:
    t, df, n = 120.0, 40, 500
    lo, hi = rmsea_ci(t, df, n)
    assert 0 < lo < math.sqrt(max(t / (n * df) - 1 / n, 0)) < hi
    assert stats.ncx2.cdf(t, df, lo**2 * n * df) == pytest.approx(0.95, abs=1e-9)
    assert stats.ncx2.cdf(t, df, hi**2 * n * df) == pytest.approx(0.05, abs=1e-9)
    r_lo, r_hi = robust_rmsea_ci(t, df, n, 1.0)
    assert (r_lo, r_hi) == pytest.approx((lo, hi), abs=1e-12)


def test_a_root_at_an_end_and_a_bad_bracket() -> None:
    assert bracket_root(lambda x: x - 2.0, 2.0, 5.0) == 2.0
    assert bracket_root(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2), abs=1e-12)
    calls = []
    step = bracket_root(lambda x: calls.append(x) or math.tanh(1e4 * (x - 0.3)), 0.0, 1.0)  # nearly a step
    assert step == pytest.approx(0.3, abs=1e-12) and len(calls) < 200
    with pytest.raises(ValueError):
        bracket_root(lambda x: x + 1.0, 0.0, 1.0)
