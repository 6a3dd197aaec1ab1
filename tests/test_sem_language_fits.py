"""Fits with lavaan's options and syntax features against lavaan 0.6.14 (cfa()/sem()/growth()):
estimates, SEs and standardized values within 1e-3, logl/AIC/BIC within 1e-5.
Fixtures: tests/fixtures/language_syntax/make_fits.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

FIXTURES = Path(__file__).parent / "fixtures" / "language_syntax"
CASES = json.loads((FIXTURES / "fit_cases.json").read_text())
REFERENCE = json.loads((FIXTURES / "fits.json").read_text())["cases"]
DATA = {
    "holzinger": Path(__file__).parent / "fixtures" / "sem" / "holzinger.csv",
    "poldem": Path(__file__).parent / "fixtures" / "sem" / "politicaldemocracy.csv",
    "growth": FIXTURES / "growth.csv",
}


def _fit(name: str):
    case = CASES[name]
    options = {k.replace(".", "_"): v for k, v in case.get("options", {}).items()}
    fun = survey.fit if case["fun"] == "lavaan" else getattr(survey, case["fun"])
    return fun(REFERENCE[name]["model"], pd.read_csv(DATA[case["data"]]), **options)


@pytest.mark.parametrize("name", [n for n in CASES if n != "fixed_x_false"])
def test_fit_equals_lavaan(name):
    res = _fit(name)
    ref = pd.DataFrame(REFERENCE[name]["estimates"])
    ours = res.estimates()
    ours = ours[~ours.op.isin(["==", "<", ">"])]  # lavaan's parameterEstimates() leaves constraint rows out
    keys = list(zip(ref.lhs, ref.op, ref.rhs, strict=True))
    assert list(zip(ours.lhs, ours.op, ours.rhs, strict=True)) == keys
    for col in ("est", "se", "std.lv", "std.all"):
        want = ref[col].to_numpy(dtype=float)
        got = ours[col].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], atol=1e-3, err_msg=col)
    fm, want = res.fit_measures(), REFERENCE[name]["fit_measures"]
    for key in ("npar", "chisq", "df", "cfi", "rmsea"):
        assert fm[key] == pytest.approx(want[key], abs=1e-3), key
    for key in ("logl", "aic", "bic"):
        assert fm[key] == pytest.approx(want[key], abs=1e-5), key


def test_growth_intercepts_fixed_and_latent_means_free():
    est = _fit("growth").estimates()
    means = est[est.op == "~1"].set_index("lhs")
    assert (means.loc[["t1", "t2", "t3", "t4"], "est"] == 0).all()
    assert means.loc["s", "se"] > 0 and means.loc["i", "se"] > 0


def test_single_indicator_residual_fixed_at_zero():
    est = _fit("single_indicator").estimates()
    row = est[(est.lhs == "x7") & (est.op == "~~")].iloc[0]
    assert row.est == 0 and row.se == 0


def test_unknown_option_lists_the_available_ones():
    data = pd.read_csv(DATA["holzinger"])
    with pytest.raises(SurveyInputError, match="available: meanstructure, int_ov_free"):
        survey.cfa("f =~ x1 + x2 + x3", data, std_lvv=True)


def test_fixed_x_false_with_covariates_counts_their_moments_as_lavaan():
    """The engine models the covariates under fixed_x=False: their (co)variances are free parameters and
    the baseline keeps their covariances (lavaan); every fit measure equals lavaan in
    test_sem_language_reference[fixed_x_false]."""
    ref = json.loads((Path(__file__).parent / "fixtures" / "language" / "reference.json").read_text())
    want = ref["cases"]["fixed_x_false"]["fit_measures"]
    res = survey.sem(ref["models"]["hs_mimic"], pd.read_csv(Path(__file__).parent / "fixtures" / "language"
                                                           / "hs39.csv"), fixed_x=False)
    fm = res.fit_measures()
    for key in ("npar", "df", "baseline.df", "chisq", "baseline.chisq", "cfi"):
        assert fm[key] == pytest.approx(want[key], abs=1e-3), key


def test_inequality_constraint_is_refused_not_ignored_where_not_available():
    data = pd.read_csv(DATA["holzinger"])
    with pytest.raises(SurveyInputError, match="cannot be imposed"):  # weights: label equalities only
        survey.sem("f =~ x1 + a*x2 + x3\na > 0.9", data.assign(w=1.0), sampling_weights="w")
    boot = survey.sem("f =~ x1 + a*x2 + x3\na > 0.9", data, estimator="MLR", se="bootstrap", bootstrap=5,
                      seed=1)  # the bootstrap: every replicate refitted under the constraint (as lavaan)
    assert boot.bootstrap.n_failed == 0 and (boot.bootstrap.ok["a"] >= 0.9 - 1e-6).all()
    res = survey.sem("f =~ x1 + a*x2 + x3\na > 0.9", data, estimator="MLR")  # imposed under MLR
    est = res.estimates()
    assert est.loc[(est["op"] == "=~") & (est["rhs"] == "x2"), "est"].iloc[0] >= 0.9 - 1e-6


def test_binding_inequality_reports_zero_slack_and_the_bound():
    res = _fit("binding_inequality")
    pt = res.partable
    assert pt.loc[pt.op == ">", "est"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert pt.loc[pt.label == "a", "est"].iloc[0] == pytest.approx(0.7, abs=1e-6)
    assert "Constraints:" in res.summary() and "a - (0.7)" in res.summary()


@pytest.mark.parametrize("option, value, match", [
    ("information", "hessian", "available: expected, observed"),  # first.order: fitted (lavaan)
    ("test", "yuan.chan", "available: standard, satorra.bentler"),
])
def test_information_and_test_refusals_list_what_is_available(option, value, match):
    with pytest.raises(SurveyInputError, match=match):
        survey.cfa("f =~ x1 + x2 + x3", pd.read_csv(DATA["holzinger"]), **{option: value})


def test_bounds_the_engine_does_not_impose_are_refused_not_ignored():
    data = pd.read_csv(DATA["holzinger"])
    with pytest.raises(SurveyInputError, match="lower\\(\\)/upper\\(\\) bounds") as info:
        survey.cfa("f =~ x1 + lower(0.9)*x2 + x3", data, ordered=["x1", "x2", "x3"])
    assert info.value.field == "model" and "available" in str(info.value)
    res = survey.cfa("f =~ x1 + b*x2 + x3\nb > 0.9", data)  # the alternative the message names
    est = res.estimates()
    assert est.loc[est["rhs"] == "x2", "est"].iloc[0] == pytest.approx(0.9, abs=1e-6)
