"""MIMIC models with fixed.x covariates (ML, MLR, MLM; FIML with lavaan's deletion of rows with a missing
covariate; fixed.x = FALSE) against the fixtures branch's independent lavaan 0.6.14 references
(tests/fixtures/engine/mimic.json, make_mimic.R; README there). Estimates, SEs, std.all and fit measures
within 1e-3 (logl/AIC/BIC 1e-5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "engine"
MIMIC = json.loads((HERE / "mimic.json").read_text())
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")
CASES = {  # case: (data, estimator, missing)
    **{f"mimic{k}_{e.lower()}": ("hs39.csv", e, "listwise") for k in (1, 3) for e in ("ML", "MLR", "MLM")},
    **{
        f"mimic{k}_fiml_{e.lower()}_ml": ("hs39_mimic_mar.csv", e, "fiml")
        for k in (1, 3)
        for e in ("ML", "MLR")
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mimic_equals_lavaan(case):
    data, estimator, missing = CASES[case]
    ref = MIMIC["cases"][case]
    model = MIMIC["models"]["mimic3" if case.startswith("mimic3") else "mimic1"]
    res = fit(model, pd.read_csv(HERE / data), estimator=estimator, missing=missing)
    assert res.nobs == ref["ntotal"]
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if key not in fm or value is None:
            continue
        if missing == "fiml" and key in ("gfi", "agfi"):  # lavaan's GFI with missing data and fixed.x differs
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
    if missing == "fiml":
        assert any(w.code == "missing_x" for w in res.warnings)


def test_fixed_x_false_with_fiml_keeps_every_row_and_equals_lavaan_estimates():
    ref = MIMIC["cases"]["mimic3_fiml_ml_fixedx_false"]
    res = fit(
        MIMIC["models"]["mimic3"], pd.read_csv(HERE / "hs39_mimic_mar.csv"), missing="fiml", fixed_x=False
    )
    assert res.nobs == ref["ntotal"] == 301
    pe = pd.DataFrame(ref["estimates"])
    merged = pe.merge(res.estimates(), on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    for col in ("est", "se"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, col
    fm = res.fit_measures()
    for key in ("chisq", "df", "logl", "rmsea", "srmr"):
        assert fm[key] == pytest.approx(ref["fit_measures"][key], abs=1e-3), key
