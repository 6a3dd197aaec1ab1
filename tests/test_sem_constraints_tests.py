"""Explicit constraints with the test= / information= options that were refused, against lavaan 0.6.14
(tests/fixtures/language/make_constraints_tests.R -> constraints_tests.json): FIML with yuan.bentler(.mplus)
under ML and MLR (an active inequality 'd < 1' besides 'b == c'), MLM with information = "observed", MLM's
second tests (scaled.shifted, mean.var.adjusted, Browne's), MLR with satorra.bentler, Browne's residual tests
with an inequality or a linear equality ('b == 1.1*c'), and MLM + information = "observed" with a second
test without constraints. Estimates, SEs, std.all and every fitMeasures() key 1e-3 (logl/AIC/BIC 1e-5);
lavInspect(fit, "test") 1e-3. Browne's test with a nonlinear equality is refused with lavaan's own
message; with an inequality and an equality together (lavaan then leaves the equality out of Delta) it
is refused as not reproduced."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "constraints_tests.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
TEST_KEYS = ("stat", "df", "pvalue", "scaling.factor", "shift.parameter", "trace.UGamma")
REFUSED = {"nonlinear_browne": "nonlinear equality constraints", "active_browne": "inequality and equality"}


@cache
def _run(name: str):
    """The case's fit, once per module (the tests only read it; a refused case raises each time)."""
    case = REF["cases"][name]
    return survey.cfa(REF["models"][case["model"]], DATA[case["data"]], **case["options"])


@pytest.mark.parametrize("name", sorted(set(REF["cases"]) - set(REFUSED)))
def test_constrained_tests_equal_lavaan(name):
    case = REF["cases"][name]
    res = _run(name)
    fm = all_fit_measures(res)
    compared = 0
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
        compared += 1
    assert compared > 30
    ref = pd.DataFrame(case["estimates"])
    both = res.estimates().merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)
    tests = res.tests()
    assert set(tests) == set(case["test"])
    for test, values in case["test"].items():
        for key in TEST_KEYS:
            if isinstance(values.get(key), (int, float)):
                assert tests[test][key] == pytest.approx(values[key], abs=1e-3), (test, key)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_browne_refusals(name):
    with pytest.raises(SurveyInputError, match=REFUSED[name]) as info:
        _run(name)
    assert info.value.field == "test"
    if "error" in REF["cases"][name]:  # lavaan refuses it too: our message carries its reason
        assert "Browne's test is not available (yet) when nonlinear equality" in REF["cases"][name]["error"]
        assert "Browne's test is not available (yet) when nonlinear equality" in str(info.value)
    else:  # lavaan fits it (a gap, documented)
        assert "browne.residual.adf" in REF["cases"][name]["test"]


def test_the_inequality_binds_and_the_constrained_path_is_taken():
    res = _run("mlm_obs_active")
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("textual", "=~", "x5")] == pytest.approx(1.0, abs=1e-6)
    assert res.estimation.method == "slsqp"
