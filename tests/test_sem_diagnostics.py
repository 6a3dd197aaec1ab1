"""Diagnostics of survey.sem.fit: each warning on data built to trigger it; input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem import fit
from survey.sem.diagnostics import check_convergence

FIXTURES = Path(__file__).parent / "fixtures" / "sem"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def exact_data(cov: np.ndarray, n: int, seed: int = 1) -> pd.DataFrame:
    """Data whose sample covariance (divisor N) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    x = z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=[f"y{i + 1}" for i in range(cov.shape[0])])


def codes(res) -> set[str]:
    return {w.code for w in res.warnings}


def test_clean_fit_has_no_warnings():
    res = fit(HS, pd.read_csv(FIXTURES / "holzinger.csv"))
    assert res.warnings == [] and res.converged


def test_heywood_and_standardized_loading_above_one():
    # r12 r13 / r23 = .8 * .8 / .5 = 1.28: the loading of y1 exceeds 1, its residual variance is negative
    r = np.array(
        [
            [1, 0.8, 0.8, 0.3, 0.3, 0.3],
            [0.8, 1, 0.5, 0.3, 0.3, 0.3],
            [0.8, 0.5, 1, 0.3, 0.3, 0.3],
            [0.3, 0.3, 0.3, 1, 0.5, 0.5],
            [0.3, 0.3, 0.3, 0.5, 1, 0.5],
            [0.3, 0.3, 0.3, 0.5, 0.5, 1],
        ]
    )
    res = fit("f =~ y1 + y2 + y3\ng =~ y4 + y5 + y6", exact_data(r, 400))
    assert {"heywood", "std_loading_gt1"} <= codes(res)
    est = res.estimates()
    assert est.loc[(est.lhs == "y1") & (est.op == "~~"), "est"].iloc[0] < 0
    msg = next(w for w in res.warnings if w.code == "heywood")
    assert isinstance(msg, SurveyWarning) and "y1" in msg.message and msg.stage == "sem"


def test_latent_covariance_not_positive_definite():
    # items correlate more across the two factors than within them: factor correlation > 1
    within, between = 0.4, 0.5
    r = np.full((6, 6), between)
    r[:3, :3] = within
    r[3:, 3:] = within
    np.fill_diagonal(r, 1.0)
    res = fit("f =~ y1 + y2 + y3\ng =~ y4 + y5 + y6", exact_data(r, 500))
    assert "lv_cov_not_pd" in codes(res)


def test_sample_covariance_not_positive_definite():
    data = pd.read_csv(FIXTURES / "holzinger.csv")
    data["x10"] = data["x1"] + data["x2"]
    res = fit(HS.replace("x1 + x2 + x3", "x1 + x2 + x3 + x10"), data)
    assert "sample_not_pd" in codes(res)
    assert np.isnan(res.fit_measures()["chisq"])


def test_not_identified_singular_information():
    # a single factor with two indicators: 4 parameters for 3 moments
    data = pd.read_csv(FIXTURES / "holzinger.csv")
    res = fit("f =~ x1 + x2", data)
    assert "not_identified" in codes(res)
    assert res.estimates()["se"].iloc[1:].isna().all()


def test_small_n():
    data = pd.read_csv(FIXTURES / "holzinger.csv").iloc[:60]
    res = fit(HS, data)
    assert "small_n" in codes(res)
    assert "N = 60" in next(w.message for w in res.warnings if w.code == "small_n")


def test_not_converged_on_data_with_a_solution_at_infinity():
    # r12 r13 / r23 with r23 = 0: the ML loading of y1 diverges, no finite optimum
    r = np.array([[1, 0.5, 0.5], [0.5, 1, 0.0], [0.5, 0.0, 1]])
    res = fit("f =~ y1 + y2 + y3", exact_data(r, 300))
    assert not res.converged
    assert "not_converged" in codes(res)
    assert "not_converged" in {w.code for w in res.warnings}
    assert res.to_dict()["converged"] is False


def test_not_converged_warning():
    (w,) = check_convergence(False, 400, "iteration limit reached")
    assert w.code == "not_converged" and "400 iterations" in w.message
    assert check_convergence(True, 10) == []


def test_listwise_deletion_counts():
    data = pd.read_csv(FIXTURES / "holzinger.csv")
    data.loc[[0, 5, 9], "x4"] = np.nan
    res = fit(HS, data)
    assert res.nobs == 298 and res.stats.n_raw == 301
    assert res.fit_measures()["ntotal"] == 298


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"estimator": "PML"}, "estimator"),  # GLS/ULS/DWLS/WLS: tests/test_ls_route.py
        ({"missing": "pairwise"}, "missing"),
        ({"se": "twostep"}, "se"),
    ],  # group_equal without group= is ignored with a warning, as lavaan (tests/test_engine_aliases.py)
)
def test_unavailable_options_raise(kwargs, field):
    with pytest.raises(SurveyInputError, match="not available yet") as info:
        fit(HS, pd.read_csv(FIXTURES / "holzinger.csv"), **kwargs)
    assert info.value.field == field


def test_bad_input():
    data = pd.read_csv(FIXTURES / "holzinger.csv")
    with pytest.raises(SurveyInputError, match="not found in the data"):
        fit(HS.replace("x9", "x99"), data)
    bad = data.astype({"x3": object})
    bad.loc[4, "x3"] = "n/a?"
    with pytest.raises(SurveyInputError, match="row 5, column 'x3'"):
        fit(HS, bad)
    with pytest.raises(SurveyInputError, match="operator"):
        fit("visual x1 x2", data)
    with pytest.raises(SurveyInputError, match="unknown label"):
        fit(HS + "d := a*b\n", data)
