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
from survey.sem.lrt import lav_test_lrt, lav_test_score, lav_test_wald, lrt_table

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
