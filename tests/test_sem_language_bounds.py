"""lower() / upper() bounds against lavaan 0.6.14 (tests/fixtures/language/make_bounds.R -> bounds.json):
an upper bound active on a loading, a lower bound active on a residual variance, an inactive bound, and
the active upper bound under MLR and MLM. Estimates, SEs, std.all 1e-3; fitMeasures() 1e-3
(logl/AIC/BIC 1e-5); a parameter on its bound keeps its usual standard error and the df do not change
(lavaan)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "bounds.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")


def _run(name: str):
    call = REF["cases"][name]["call"]
    fun, model, data, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    opts = {key: value for key, value in re.findall(r'([\w.]+) = "([^"]*)"', rest)}
    return {"sem": survey.sem, "cfa": survey.cfa}[fun](REF["models"][model], DATA[data], **opts)


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_bounds_equal_lavaan(name):
    case = REF["cases"][name]
    res = _run(name)
    fm = all_fit_measures(res)
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
    both = res.estimates().merge(pd.DataFrame(case["estimates"]), on=["lhs", "op", "rhs"],
                                 suffixes=("", "_ref"))
    assert len(both) == len(case["estimates"])
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)


def test_an_active_bound_holds_the_estimate_on_it():
    res = _run("active_upper")
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("textual", "=~", "x5")] == pytest.approx(1.0, abs=1e-8)
    free = survey.cfa(REF["models"]["inactive"], DATA["hs"]).estimates().set_index(["lhs", "op", "rhs"])
    assert free.loc[("textual", "=~", "x5"), "est"] > 1.05  # the bound does bind
