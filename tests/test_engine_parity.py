"""The one pipeline (survey.sem.engine) against lavaan 0.6.14 on the combinations of issue 14:
multi-group FIML (ML, MLR; configural, loadings+intercepts, partial), multi-group MLM, MIMIC models with
fixed.x covariates under ML, MLR, MLM, FIML (ML, MLR) and multi-group MLR/FIML.

Reference values: tests/fixtures/sem_engine/make_reference.R (HolzingerSwineford1939 with age-dependent
missingness and three missing covariate values, which lavaan deletes under fixed.x)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "sem_engine"
REF = json.loads((HERE / "reference.json").read_text())
MAR = pd.read_csv(HERE / "hs_mar.csv")
COMPLETE = pd.read_csv(HERE / "hs_complete.csv")
M = REF["models"]
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")
# fit measures lavaan 0.6.14 reports that survey.sem does not compute (yet): skipped by name
NOT_COMPUTED = {
    "rmsea.ci.level",
    "rmsea.close.h0",
    "rmsea.notclose.pvalue",
    "rmsea.notclose.h0",
    "rmsea.notclose.pvalue.scaled",
    "rmsea.notclose.pvalue.robust",
    "rmr",
    "rmr_nomean",
    "srmr_bentler",
    "srmr_bentler_nomean",
    "crmr",
    "crmr_nomean",
    "srmr_mplus",
    "srmr_mplus_nomean",
    "cn_05",
    "cn_01",
    "pgfi",
    "mfi",
    "ecvi",
    "gfi",
    "agfi",
    "pnfi",
    "pnfi.scaled",
}
CASES = {
    "mg_fiml_ml_configural": ("cfa", MAR, dict(group="school", missing="fiml")),
    "mg_fiml_mlr_configural": ("cfa", MAR, dict(group="school", missing="fiml", estimator="MLR")),
    "mg_fiml_ml_scalar": (
        "cfa",
        MAR,
        dict(group="school", missing="fiml", group_equal=["loadings", "intercepts"]),
    ),
    "mg_fiml_mlr_scalar": (
        "cfa",
        MAR,
        dict(group="school", missing="fiml", estimator="MLR", group_equal=["loadings", "intercepts"]),
    ),
    "mg_fiml_ml_partial": (
        "cfa",
        MAR,
        dict(
            group="school",
            missing="fiml",
            group_equal=["loadings", "intercepts"],
            group_partial=["x3~1", "visual=~x2"],
        ),
    ),
    "mg_mlm_configural": ("cfa", COMPLETE, dict(group="school", estimator="MLM")),
    "mg_mlm_metric": ("cfa", COMPLETE, dict(group="school", estimator="MLM", group_equal=["loadings"])),
    "mimic_ml": ("mimic", COMPLETE, {}),
    "mimic_mlr": ("mimic", COMPLETE, dict(estimator="MLR")),
    "mimic_mlm": ("mimic", COMPLETE, dict(estimator="MLM")),
    "mimic_fiml_ml": ("mimic", MAR, dict(missing="fiml")),
    "mimic_fiml_mlr": ("mimic", MAR, dict(missing="fiml", estimator="MLR")),
    "mimic_mg_mlr": ("mimic", COMPLETE, dict(group="school", estimator="MLR")),
    "mimic_mg_fiml": ("mimic", MAR, dict(group="school", missing="fiml")),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    name = request.param
    model, data, kw = CASES[name]
    return name, fit(M[model], data, **kw), REF["cases"][name]


def test_fit_measures_equal_lavaan(case):
    name, res, ref = case
    fm = res.fit_measures()
    nobs = ref["nobs"]
    assert res.nobs == (sum(nobs) if isinstance(nobs, list) else nobs)
    checked = 0
    for key, value in ref["fit_measures"].items():
        if key in NOT_COMPUTED and key not in fm:
            continue
        assert key in fm, f"{name}: {key} missing"
        tol = 1e-5 * max(1.0, abs(value)) if key in LOGL else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol), f"{name}: {key}"
        checked += 1
    assert checked >= 25


def test_estimates_se_std_equal_lavaan(case):
    name, res, ref = case
    est = res.estimates()
    if "group" not in est:
        est = est.assign(group=1)
    pe = pd.DataFrame(ref["estimates"])
    merged = pe.merge(est, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(merged) == len(pe)
    for col in ("est", "se", "std.all"):
        diff = np.abs(merged[col] - merged[f"{col}_r"]).to_numpy()
        assert np.nanmax(diff) < 1e-3, f"{name}: {col}"


def test_missing_covariate_rows_deleted_with_warning():
    res = fit(M["mimic"], MAR, missing="fiml")
    assert res.nobs == REF["cases"]["mimic_fiml_ml"]["nobs"] == len(MAR) - 3
    assert any(w.code == "missing_x" for w in res.warnings)


def test_mlm_with_missing_data_refused_with_lavaans_reason():
    with pytest.raises(SurveyInputError, match="not allowed for estimator MLM"):
        fit(M["cfa"], MAR, estimator="MLM", missing="fiml", group="school")
