"""mimic="EQS"'s baseline model (lavaan 0.6.14 lav_partable_indep_or_unrestricted: the covariates'
covariances are left out, so every observed variable is unrelated to every other one) with fixed.x FALSE
(EQS' default) and TRUE, estimators ML and MLM, against lavaan (tests/fixtures/eqs/make_eqs.R, eqs.json):
every fitMeasures() entry we report within 1e-3 (logl / AIC / BIC and the chi-squares 1e-5 relative).
MLR: lavaan's ML with robust.huber.white SEs and the yuan.bentler test (not yuan.bentler.mplus): est, se,
lavInspect(fit, "test") too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import sem
from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "eqs"
REF = json.loads((HERE / "eqs.json").read_text())
HS = pd.read_csv(HERE / REF["data"])
FITTED = [name for name in REF["cases"] if name.startswith("eqs_")]
PLAIN = [name for name in REF["cases"] if name.startswith("wishart_")]


def _options(case: dict) -> dict:
    return {k.replace(".", "_"): v for k, v in (case["options"] or {}).items()}


@pytest.mark.parametrize("name", FITTED + PLAIN)
def test_eqs_fit_measures_equal_lavaan(name):
    """mimic="EQS" fits, and (wishart_rhw_yb_*) the Wishart ML fit with robust.huber.white SEs and the
    yuan.bentler test that EQS' MLR is, without mimic (lavaan's baseline with the covariates' covariance)."""
    case = REF["cases"][name]
    mimic = {"mimic": "EQS"} if name.startswith("eqs_") else {}
    res = sem(REF["models"][case["model"]], HS, **mimic, **_options(case))
    fm, rf = res.fit_measures(), case["fit_measures"]
    assert res.estimator == _options(case).get("estimator", "ML")
    compared = [k for k in rf if k in fm]
    assert len(compared) > 30 and {"baseline.chisq", "baseline.df", "cfi", "tli"} <= set(compared)
    for key in compared:
        relative = key in ("logl", "unrestricted.logl", "aic", "bic", "bic2") or "chisq" in key
        tol = 1e-5 * max(1.0, abs(rf[key])) if relative else 1e-3
        assert abs(fm[key] - rf[key]) < tol, (key, fm[key], rf[key])
    ours = res.tests()
    assert set(ours) == set(case["test"])
    for test, entry in case["test"].items():
        assert ours[test]["stat"] == pytest.approx(entry["stat"], rel=1e-5), test
        if entry["scaling.factor"] is not None:
            assert ours[test]["scaling.factor"] == pytest.approx(entry["scaling.factor"], rel=1e-5), test
    theirs = pd.DataFrame(case["estimates"])
    both = theirs.merge(res.estimates(), on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(both) == len(theirs)
    for col in ("est", "se"):
        assert np.abs(both[col].to_numpy(float) - both[f"{col}_r"].to_numpy(float)).max() < 1e-3, col


def test_eqs_baseline_differs_from_lavaans_default_one():
    """The same model without mimic keeps the covariates' covariance in the baseline (one df fewer)."""
    case = REF["cases"]["eqs_ml_dif"]
    plain = fit(REF["models"]["dif"], HS, likelihood="wishart", fixed_x=False).fit_measures()
    assert plain["baseline.df"] == case["fit_measures"]["baseline.df"] - 1
    assert plain["baseline.chisq"] < case["fit_measures"]["baseline.chisq"] - 1.0


def test_eqs_mlr_other_se_is_refused():
    with pytest.raises(SurveyInputError) as info:
        sem(REF["models"]["dif"], HS, mimic="EQS", estimator="MLR", se="standard")
    msg = str(info.value)
    assert info.value.field == "mimic" and "robust.huber.white" in msg and "available" in msg
    assert "\n" not in msg
