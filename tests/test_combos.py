"""Estimator x missing-data x cluster x test combinations lavaan 0.6.14 fits (issue 14), against
tests/fixtures/combos/combos.json (make_combos.R): every fit measure lavaan gives (logl/AIC/BIC 1e-5, the rest
1e-3), lavInspect(fit, "test"), estimates, SEs and std.all (1e-3)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey.sem import fit
from tests.test_engine_aliases import check_against_lavaan

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "combos" / "combos.json").read_text())
MODELS = REF["models"]
HS = pd.read_csv(FIX / "engine" / "hs39.csv")
MAR = pd.read_csv(FIX / "engine" / "hs39_mar.csv")
MMAR = pd.read_csv(FIX / "engine" / "hs39_mimic_mar.csv")
WD = pd.read_csv(FIX / "weighted" / "weighted.csv")


def test_mlf_with_fiml_multigroup_metric_equals_lavaan():
    res = fit(MODELS["hs"], MAR, estimator="MLF", missing="fiml", group="school", group_equal="loadings")
    check_against_lavaan(res, REF["cases"]["hs_mg_mlf_fiml"])


@pytest.mark.parametrize("missing", ["fiml", "ml.x"])
def test_mlf_with_fiml_mimic_equals_lavaan(missing):
    """fixed.x covariates: rows with a missing covariate deleted under "ml" (lavaan's warning), kept under
    "ml.x"."""
    ref = REF["cases"][f"mimic3_mlf_{'fiml' if missing == 'fiml' else 'mlx'}"]
    res = fit(MODELS["mimic3"], MMAR, estimator="MLF", missing=missing)
    assert res.nobs == ref["ntotal"]
    check_against_lavaan(res, ref)
