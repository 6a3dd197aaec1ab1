"""Issue 16 point 1 (brief ordcov): two-group ordinal fits with group.equal "residuals",
"residual.covariances", "lv.variances", "lv.covariances", "regressions" (and all of them together), delta and
theta parameterization, WLSMV / ULSMV / WLSM / DWLS, and group.partial under theta (thresholds, loadings,
residual variances and covariances), against lavaan 0.6.14
(tests/fixtures/ordinal_cov_equal/cov_equal.json; make_cases.R beside it).

lavaan's identification: under delta the ordered items' residual variances are not parameters (nothing to
constrain: "residuals" changes no number) and the scale factors of group 2 are free with equal thresholds;
under theta the residual variances are free in group 2 with equal thresholds, and "residuals" ties them to
group 1's fixed 1 unless group.partial names them."""

from __future__ import annotations

import pytest
from ordinal_group_harness import DATA, check_case, fitted, load

from survey.errors import SurveyInputError
from survey.sem import fit

CASES = load("cov_equal")


@pytest.mark.parametrize("case", sorted(CASES))
def test_group_equal_covariance_kinds_equal_lavaan(case):
    check_case("cov_equal", case)


def _row(res, lhs, op, rhs, group):
    est = res.estimates()
    pick = (est["lhs"] == lhs) & (est["op"] == op) & (est["rhs"] == rhs) & (est["group"] == group)
    return est[pick].iloc[0]


def test_theta_residuals_fix_group_two_at_one_except_the_released_item():
    res = fitted("cov_equal", "partial_residuals_theta")
    assert _row(res, "A1", "~~", "A1", 2)["est"] == 1.0 and _row(res, "A1", "~~", "A1", 2)["se"] == 0.0
    released = _row(res, "A3", "~~", "A3", 2)
    assert released["se"] > 0 and abs(released["est"] - 1.0) > 0.05


def test_equal_residual_covariances_share_one_value():
    res = fitted("cov_equal", "rescov_delta")
    assert _row(res, "A1", "~~", "A2", 1)["est"] == _row(res, "A1", "~~", "A2", 2)["est"]
    free = fitted("cov_equal", "partial_rescov_theta")
    assert _row(free, "A1", "~~", "A2", 1)["est"] != pytest.approx(_row(free, "A1", "~~", "A2", 2)["est"],
                                                                   abs=1e-3)


def test_unknown_and_unavailable_group_equal_values_are_one_line_refusals():
    model = "A =~ A1 + A2 + A3 + A4 + A5\n"
    with pytest.raises(SurveyInputError, match="unknown value for group.equal argument: 'slopes'"):
        fit(model, DATA, ordered=True, group="gender", estimator="WLSMV", group_equal=["loadings", "slopes"])


@pytest.mark.parametrize("case", ["robust_lvvar_theta", "robust_means_delta"])
def test_robust_cfi_rmsea_are_lavaans_numbers_when_thresholds_are_free(case):
    ref = CASES[case]["fit_measures"]
    fm = fitted("cov_equal", case).fit_measures()
    for key in ("cfi.robust", "tli.robust", "rmsea.robust"):
        assert fm[key] == pytest.approx(ref[key], abs=1e-3), key
