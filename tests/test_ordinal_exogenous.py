"""Issue 16 point 2 (brief ordcov): two-group ordinal fits with exogenous observed covariates (lavaan's
conditional.x = TRUE, its default with ordered items) and group.equal "residuals", "residual.covariances",
"means", "lv.variances", "regressions" (all together too), delta and theta, WLSMV and ULSMV, std.lv, ordered
and continuous items, and group.partial under theta, against lavaan 0.6.14
(tests/fixtures/ordinal_cov_equal/exogenous.json; make_cases.R beside it)."""

from __future__ import annotations

import pytest
from ordinal_group_harness import check_case, fitted, load

CASES = load("exogenous")


@pytest.mark.parametrize("case", sorted(CASES))
def test_covariates_with_group_equal_equal_lavaan(case):
    check_case("exogenous", case)


def test_equal_regressions_on_the_covariate_except_the_released_one():
    est = fitted("exogenous", "x2_partial_theta").estimates()

    def slope(lhs, g):
        pick = (est["lhs"] == lhs) & (est["op"] == "~") & (est["rhs"] == "age") & (est["group"] == g)
        return est[pick].iloc[0]

    assert slope("A", 1)["est"] == slope("A", 2)["est"]
    assert slope("A1", 1)["est"] != pytest.approx(slope("A1", 2)["est"], abs=1e-4)
