"""missing="ml.x" against lavaan 0.6.14 (tests/fixtures/engine/mlx.json, make_mlx.R): MIMIC models whose
covariates have missing values, fixed.x = TRUE with the rows kept (the covariates in the casewise likelihood,
their moments fixed at the EM estimates). nobs, df, chi-square, every fit measure (logl/AIC/BIC 1e-5),
estimates, SEs and std.all (1e-3), under ML and MLR."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "mlx.json").read_text())
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_mlx_equals_lavaan(case):
    ref = REF["cases"][case]
    model = REF["models"][case.split("_")[0]]
    estimator = case.rsplit("_", 1)[1].upper()
    data = pd.read_csv(HERE / REF["data"])
    res = fit(model, data, estimator=estimator, missing="ml.x")
    assert res.nobs == ref["ntotal"] == 301  # no row deleted for its missing covariate
    assert not any(w.code == "missing_x" for w in res.warnings)
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if key not in fm or value is None or key in ("gfi", "agfi"):  # GFI with missing data: as in mimic
            continue
        tol = 1e-5 * max(1.0, abs(value)) if key in LOGL else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol), (case, key)
        checked += 1
    assert checked >= 25
    pe = pd.DataFrame(ref["estimates"])
    merged = pe.merge(res.estimates(), on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(merged) == len(pe)
    for col in ("est", "se", "std.all"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, (case, col)


def test_mlx_differs_from_ml_which_deletes_the_rows():
    model = REF["models"]["mimic3"]
    data = pd.read_csv(HERE / REF["data"])
    ml = fit(model, data, missing="fiml")
    assert ml.nobs == 294 and any(w.code == "missing_x" for w in ml.warnings)
    assert fit(model, data, missing="ml.x").nobs == 301


def test_mlm_with_mlx_refused_as_lavaan():
    with pytest.raises(SurveyInputError, match="MLM"):
        fit(REF["models"]["mimic1"], pd.read_csv(HERE / REF["data"]), estimator="MLM", missing="ml.x")
