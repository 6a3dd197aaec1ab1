"""Degenerate input to survey.sem.fit: one-line SurveyInputError / EstimationError, never a numpy error.

Every case is run with the complete-data ML path, the robust path (MLR), FIML and the multi-group path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import EstimationError, SurveyInputError
from survey.sem import fit

HS = pd.read_csv(Path(__file__).parent / "fixtures" / "robust" / "hs.csv")
MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
OPTIONS = [{}, {"estimator": "MLR"}, {"missing": "fiml"}]


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text
    return text


@pytest.mark.parametrize("opts", OPTIONS)
@pytest.mark.parametrize("n", [2, 9])
def test_fewer_cases_than_variables(opts, n):
    with pytest.raises(EstimationError) as exc:
        fit(MODEL, HS.head(n), **opts)
    assert f"N = {n}" in _one_line(exc) and "9 observed variables" in str(exc.value)


@pytest.mark.parametrize("opts", OPTIONS)
def test_no_data_left(opts):
    data = HS.copy()
    data["x1"] = np.nan
    with pytest.raises(SurveyInputError) as exc:
        fit(MODEL, data, **opts)
    _one_line(exc)
    with pytest.raises(SurveyInputError):
        fit(MODEL, HS.head(0), **opts)


@pytest.mark.parametrize("opts", OPTIONS)
def test_constant_column_is_named(opts):
    data = HS.copy()
    data["x2"] = 3.0
    with pytest.raises(SurveyInputError) as exc:
        fit(MODEL, data, **opts)
    assert exc.value.column == "x2" and "constant" in _one_line(exc)


@pytest.mark.parametrize("opts", OPTIONS)
def test_non_numeric_column_is_named(opts):
    data = HS.copy()
    data["x3"] = data["x3"].astype(object)
    data.loc[4, "x3"] = "n/a?"
    with pytest.raises(SurveyInputError) as exc:
        fit(MODEL, data, **opts)
    assert exc.value.column == "x3" and exc.value.row == 5 and exc.value.value == "n/a?"
    _one_line(exc)


@pytest.mark.parametrize("opts", OPTIONS)
def test_absent_column_is_named(opts):
    with pytest.raises(SurveyInputError) as exc:
        fit(MODEL, HS.drop(columns=["x4", "x7"]), **opts)
    assert exc.value.column == "x4" and "x4, x7" in _one_line(exc)


def test_multigroup_names_the_degenerate_group():
    data = HS.assign(g=["a"] * (len(HS) - 5) + ["b"] * 5)
    with pytest.raises(EstimationError) as exc:
        fit(MODEL, data, group="g")
    assert "group 'b'" in _one_line(exc) and "N = 5" in str(exc.value)
    data = HS.assign(g=["a"] * 150 + ["b"] * (len(HS) - 150))
    data.loc[150:, "x5"] = 2.0
    with pytest.raises(SurveyInputError) as exc:
        fit(MODEL, data, group="g")
    assert exc.value.column == "x5" and "group 'b'" in _one_line(exc)
