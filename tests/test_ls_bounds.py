"""lower()/upper() bounds with the continuous least-squares estimators against lavaan 0.6.14
(tests/fixtures/language/make_ls_bounds.R -> ls_bounds.json): an active upper bound on a loading under GLS,
ULS, WLS and DWLS; estimates, SEs, std.all and every fitMeasures() key lavaan gives within 1e-3."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "ls_bounds.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_ls_bounds_equal_lavaan(name):
    case = REF["cases"][name]
    res = survey.cfa(REF["models"]["upper"], HS, estimator=name.upper())
    fm = res.fit_measures()  # LSResult: lavaan's fitMeasures() of these estimators
    compared = 0
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        assert fm[key] == pytest.approx(value, abs=1e-3) or (math.isnan(fm[key]) and math.isnan(value)), key
        compared += 1
    assert compared > 20 and set(fm) <= set(case["fit_measures"])
    ref = pd.DataFrame(case["estimates"])
    both = res.estimates().merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(both) == len(case["estimates"])
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("textual", "=~", "x5")] == pytest.approx(1.0, abs=1e-8)


def test_explicit_constraints_with_least_squares_imposed():
    """Fitted now (= lavaan: tests/test_ls_constrained.py); the inequality holds at the estimate."""
    res = survey.cfa("f =~ x1 + a*x2 + x3\na < 0.5", HS, estimator="GLS")
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("f", "=~", "x2")] <= 0.5 + 1e-6
    # beside information="observed" too (was refused; equalities: tests/test_ls_options.py c_obs_gls)
    observed = survey.cfa("f =~ x1 + a*x2 + x3\na < 0.5", HS, estimator="GLS", information="observed")
    assert observed.estimates().set_index(["lhs", "op", "rhs"])["est"][("f", "=~", "x2")] <= 0.5 + 1e-6
