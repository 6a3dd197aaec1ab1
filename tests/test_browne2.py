"""Browne's model-based residual tests (test = "browne.residual.nt.model" / ".adf.model": Gamma at the
implied moments, survey.sem.inference.browne_model) with ML and least squares, one and two groups, with and
without equality constraints, and the scaling.factor.h1 / .h0 fit measures of the Yuan-Bentler tests,
against lavaan 0.6.14 (tests/fixtures/browne2/make_browne2.R -> browne2.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa

HERE = Path(__file__).parent / "fixtures" / "browne2"
REF = json.loads((HERE / "browne2.json").read_text())
DATA = pd.read_csv(HERE / "hs.csv")


def _fit(case, **extra):
    kw = {"estimator": case["estimator"], **extra}
    if case["group"]:
        kw["group"] = case["group"]
        if case["equal"] not in ("", [], [""]):
            kw["group_equal"] = case["equal"]
    if case["test"] != "default":
        kw["test"] = case["test"]
    return cfa(REF["models"][case["model"]], DATA, **kw)


REFUSED = ("ml_nt.model_mimic",)  # ML + fixed.x + mean structure: NT Browne refused (module browne_model)


@pytest.mark.parametrize("name", sorted(set(REF["cases"]) - set(REFUSED)))
def test_model_based_browne_equals_lavaan(name):
    case = REF["cases"][name]
    res = _fit(case)
    got = res.tests()[case["test"]]
    assert got["stat"] == pytest.approx(case["stat"], abs=1e-3, rel=1e-6)
    assert got["df"] == case["df"]
    assert got["pvalue"] == pytest.approx(case["pvalue"], abs=1e-6)
    expected = case["stat_group"] if isinstance(case["stat_group"], list) else [case["stat_group"]]
    assert list(got["stat.group"]) == pytest.approx(expected, abs=1e-3, rel=1e-6)
    assert res.fit_measures()["chisq"] == pytest.approx(case["chisq"], abs=1e-3, rel=1e-6)


@pytest.mark.parametrize("name", sorted(REF["scaling"]))
def test_yuan_bentler_scaling_factors_equal_lavaan(name):
    case = REF["scaling"][name]
    fm = _fit(case).fit_measures()
    for key, value in case["fit"].items():
        assert fm[key] == pytest.approx(value, abs=1e-3, rel=1e-6), key


@pytest.mark.parametrize("name", REFUSED)
def test_ml_nt_with_covariates_and_means_is_refused(name):
    from survey.errors import SurveyInputError

    with pytest.raises(SurveyInputError, match="not available yet"):
        _fit(REF["cases"][name]).tests()
    with pytest.raises(SurveyInputError, match="not available yet"):
        _fit({**REF["cases"][name], "test": "browne.residual.nt"}).tests()


@pytest.mark.parametrize("name", sorted(REF["mplus"]))
def test_mimic_mplus_mlm_equals_lavaan(name):
    case = REF["mplus"][name]
    kw = {"estimator": "MLM", "mimic": "Mplus"}
    if case["group"]:
        kw["group"] = case["group"]
        if case["equal"] not in ("", [], [""]):
            kw["group_equal"] = case["equal"]
    res = cfa(REF["models"][case["model"]], DATA, **kw)
    fm = res.fit_measures()
    for key, value in case["fit"].items():
        assert fm[key] == pytest.approx(value, abs=1e-5 if key in ("logl", "aic", "bic") else 1e-3,
                                        rel=1e-6), key
    got = res.estimates()
    ref = pd.DataFrame(case["est"])
    assert len(got) >= len(ref)
    key = ["lhs", "op", "rhs"] + (["group"] if "group" in ref else [])
    merged = ref.merge(got, on=key, suffixes=("", "_got"))
    assert len(merged) == len(ref)
    assert merged["est_got"].to_numpy() == pytest.approx(merged["est"].to_numpy(), abs=1e-3)
    assert merged["se_got"].to_numpy() == pytest.approx(merged["se"].to_numpy(), abs=1e-3)


def test_mimic_mplus_mlm_other_se_is_refused():
    from survey.errors import SurveyInputError

    with pytest.raises(SurveyInputError, match="MLM"):
        cfa(REF["models"]["cfa3"], DATA, estimator="MLM", mimic="Mplus", se="robust.huber.white")
