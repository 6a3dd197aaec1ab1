"""residuals() of the continuous least-squares estimators against lavaan 0.6.14 (tests/fixtures/language/
make_ls_residuals.R -> ls_residuals.json): raw, cor, normalized and standardized under GLS, ULS, WLS and
DWLS on the HS CFA, within 1e-3; normalized/standardized under ULS and DWLS are refused with lavaan's
own reason (lavaan errors there)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.fit_report import extra_tables
from survey.sem.results.ls_residuals import ls_residuals
from survey.sem.results.residuals import result_residuals

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "ls_residuals.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")
CASES = [(e, t) for e in sorted(REF["cases"]) for t in ("raw", "cor", "normalized", "standardized")]


@pytest.fixture(scope="module")
def fits():
    return {e: survey.cfa(REF["models"]["hs"], HS, estimator=e) for e in REF["cases"]}


@pytest.mark.parametrize("estimator, kind", CASES)
def test_ls_residuals_equal_lavaan(fits, estimator, kind):
    want = REF["cases"][estimator][kind]
    if isinstance(want, dict):  # lavaan refuses: so do we, with its reason
        assert "could not invert h1 information" in want["error"]
        with pytest.raises(SurveyInputError, match="could not invert h1 information"):
            ls_residuals(fits[estimator], kind)
        return
    got = ls_residuals(fits[estimator], kind)[0].cov.to_numpy()
    np.testing.assert_allclose(got, np.array(want), atol=1e-3)
    assert np.abs(got).max() > 0.01


def test_ls_residuals_use_the_n_minus_1_covariance_and_reach_the_cli_table(fits):
    gls = fits["GLS"]
    ml_raw = result_residuals(survey.cfa(REF["models"]["hs"], HS), "raw")[0].cov.to_numpy()
    ours = ls_residuals(gls, "raw")[0].cov.to_numpy()
    assert np.abs(ours - ml_raw).max() > 1e-3  # a different fit and S with divisor N - 1
    table = extra_tables(gls, residuals="normalized")["residuals"]
    assert table["json"]["type"] == "normalized"
    want = REF["cases"]["GLS"]["normalized"][0][0]
    assert table["json"]["groups"][0]["cov"]["x1"]["x1"] == pytest.approx(want, abs=1e-3)
