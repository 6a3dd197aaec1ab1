"""lavTestLRT (ML; Satorra-Bentler 2001 scaled under MLR and MLM), lavTestScore and lavTestWald against
lavaan 0.6.14. Fixtures: tests/fixtures/language_tests/make_tests.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.results.lrt import lav_test_lrt, lav_test_score, lav_test_wald, lrt_table

FIXTURES = Path(__file__).parent / "fixtures"
REF = json.loads((FIXTURES / "language_tests" / "tests.json").read_text())
MODELS = REF["models"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIXTURES / "sem" / "holzinger.csv")


def _check(table: pd.DataFrame, ref: dict) -> None:
    assert list(table["Df"]) == ref["Df"]
    columns = (("AIC", "AIC", 1e-5), ("BIC", "BIC", 1e-5), ("Chisq", "Chisq", 1e-3),
               ("Chisq diff", "Chisq.diff", 1e-3), ("Df diff", "Df.diff", 0), ("Pr(>Chisq)", "p", 1e-4))
    for col, key, tol in columns:
        want = np.array([np.nan if v is None else v for v in ref[key]], dtype=float)
        np.testing.assert_allclose(table[col].to_numpy(dtype=float), want, atol=tol, err_msg=col)


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM"])
def test_lrt_of_three_nested_models(data, estimator):
    fits = [fit(MODELS[m], data, estimator=estimator) for m in ("free", "equal1", "equal2")]
    table = lav_test_lrt(*fits, names=["f0", "f1", "f2"])
    _check(table, REF["lrt"][estimator])
    assert table.attrs["method"] == ("standard" if estimator == "ML" else "satorra.bentler.2001")


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_lrt_sorts_models_by_df(data, estimator):
    fits = [fit(MODELS[m], data, estimator=estimator) for m in ("equal2", "free")]
    table = lav_test_lrt(*fits, names=["f2", "f0"])
    assert list(table.index) == REF["lrt"][f"{estimator}_pair"]["names"]
    _check(table, REF["lrt"][f"{estimator}_pair"])


def test_lrt_refuses_mixed_estimators(data):
    with pytest.raises(SurveyInputError, match="same estimator"):
        lav_test_lrt(fit(MODELS["free"], data), fit(MODELS["equal1"], data, estimator="MLR"))


def test_score_test_equals_lavaan(data):
    res = lav_test_score(fit(MODELS["equal2"], data))
    total = REF["score"]["total"]
    assert res.total["X2"] == pytest.approx(total["X2"], abs=1e-3)
    assert res.total["df"] == total["df"]
    uni = pd.DataFrame(REF["score"]["uni"])
    assert list(zip(res.uni.lhs, res.uni.rhs, strict=True)) == list(zip(uni.lhs, uni.rhs, strict=True))
    np.testing.assert_allclose(res.uni["X2"], uni["X2"], atol=1e-3)
    epc = pd.DataFrame(REF["score_epc"])
    want = epc["epc"].dropna().to_numpy(dtype=float)
    np.testing.assert_allclose(res.epc, want, atol=1e-3)


def test_score_test_needs_constraints(data):
    with pytest.raises(SurveyInputError, match="no equality constraints"):
        lav_test_score(fit(MODELS["free"], data))


def test_wald_equals_lavaan(data):
    w = lav_test_wald(fit(MODELS["free"], data), REF["wald"]["constraints"])
    assert w.stat == pytest.approx(REF["wald"]["stat"], abs=1e-3)
    assert w.df == REF["wald"]["df"]


def test_lrt_table_is_a_pure_function():
    t = lrt_table([{"df": 10, "chisq": 30.0}, {"df": 8, "chisq": 20.0}], ["a", "b"])
    assert list(t.index) == ["b", "a"] and t["Chisq diff"].iloc[1] == pytest.approx(10.0)


# ---------------------------------------------------------------- the fixtures helper's references
HELPER = json.loads((FIXTURES / "language" / "tests.json").read_text())
HMODELS = json.loads((FIXTURES / "language" / "reference.json").read_text())["models"]
HMODELS |= HELPER.get("models", {})


def _hfit(key: str):
    import re

    call = HELPER["fits"][key]
    fun, model, dat, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    data = pd.read_csv(FIXTURES / "language" / {"hs": "hs39.csv", "pd": "pd.csv"}[dat])
    opts = {k.replace(".", "_"): (v == "TRUE" if v in ("TRUE", "FALSE") else v.strip('"'))
            for k, v in re.findall(r"([\w.]+) = (\"[^\"]*\"|TRUE|FALSE)", rest)}
    return fit(HMODELS[model], data, **opts)


@pytest.mark.parametrize("key, estimator", [("ml", "ML"), ("mlr_default", "MLR")])
def test_lrt_with_rmsea_equals_the_helpers_reference(key, estimator):
    data = pd.read_csv(FIXTURES / "language" / "hs39.csv")
    # the orthogonal CFA written out (orthogonal=TRUE is a single-group ML option for now)
    orth = HMODELS["hs"] + "\nvisual ~~ 0*textual\nvisual ~~ 0*speed\ntextual ~~ 0*speed\n"
    table = lav_test_lrt(fit(HMODELS["hs"], data, estimator=estimator), fit(orth, data, estimator=estimator))
    want = HELPER["lrt"][key]["table"][1]
    got = table.iloc[1]
    assert ("RMSEA" in table.columns) == ("RMSEA" in want)  # lavaan: no RMSEA for the scaled difference
    for col in ("Df", "Chisq", "Chisq diff", "RMSEA", "Df diff", "Pr(>Chisq)"):
        if col in want:
            assert got[col] == pytest.approx(want[col], abs=1e-3), col


@pytest.mark.parametrize("key, fit_key", [("pd_p1_p3", "pd"), ("pd_defined", "pd"), ("pd_ab", "pd"),
                                          ("eq_ab", "eq")])
def test_wald_equals_the_helpers_reference(key, fit_key):
    ref = HELPER["wald"][key]
    w = lav_test_wald(_hfit(fit_key), ref["constraints"])
    assert w.stat == pytest.approx(ref["stat"], abs=1e-3, rel=2e-5) and w.df == ref["df"]
