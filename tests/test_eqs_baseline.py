"""mimic="EQS"'s baseline model (lavaan 0.6.14 lav_partable_indep_or_unrestricted: the covariates'
covariances are left out, so every observed variable is unrelated to every other one) with fixed.x FALSE
(EQS' default) and TRUE, estimators ML and MLM, against lavaan (tests/fixtures/eqs/make_eqs.R, eqs.json):
every fitMeasures() entry we report within 1e-3 (logl / AIC / BIC and the chi-squares 1e-5 relative).
MLR: lavaan fits it with its EQS Yuan-Bentler test, refused here with that reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import sem
from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "eqs"
REF = json.loads((HERE / "eqs.json").read_text())
HS = pd.read_csv(HERE / REF["data"])
FITTED = [name for name in REF["cases"] if not name.startswith("eqs_mlr")]


def _options(case: dict) -> dict:
    return {k.replace(".", "_"): v for k, v in (case["options"] or {}).items()}


@pytest.mark.parametrize("name", FITTED)
def test_eqs_fit_measures_equal_lavaan(name):
    case = REF["cases"][name]
    fm = sem(REF["models"][case["model"]], HS, mimic="EQS", **_options(case)).fit_measures()
    rf = case["fit_measures"]
    compared = [k for k in rf if k in fm]
    assert len(compared) > 30 and {"baseline.chisq", "baseline.df", "cfi", "tli"} <= set(compared)
    for key in compared:
        relative = key in ("logl", "unrestricted.logl", "aic", "bic", "bic2") or "chisq" in key
        tol = 1e-5 * max(1.0, abs(rf[key])) if relative else 1e-3
        assert abs(fm[key] - rf[key]) < tol, (key, fm[key], rf[key])


def test_eqs_baseline_differs_from_lavaans_default_one():
    """The same model without mimic keeps the covariates' covariance in the baseline (one df fewer)."""
    case = REF["cases"]["eqs_ml_dif"]
    plain = fit(REF["models"]["dif"], HS, likelihood="wishart", fixed_x=False).fit_measures()
    assert plain["baseline.df"] == case["fit_measures"]["baseline.df"] - 1
    assert plain["baseline.chisq"] < case["fit_measures"]["baseline.chisq"] - 1.0


def test_eqs_mlr_is_refused_with_lavaans_difference():
    with pytest.raises(SurveyInputError) as info:
        sem(REF["models"]["dif"], HS, mimic="EQS", estimator="MLR")
    msg = str(info.value)
    assert info.value.field == "mimic" and "Yuan-Bentler" in msg and "available" in msg and "\n" not in msg
