"""se = "none" with the continuous least-squares estimators (was refused) against lavaan 0.6.14
(tests/fixtures/ls_options/make_ls_se_none.R -> ls_se_none.json): the estimates and std.all within 1e-3,
no standard errors (NaN here, absent in lavaan), the fit measures of the standard test within 1e-3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_ls_options import DATA

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ls_options"
REF = json.loads((HERE / "ls_se_none.json").read_text())


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_se_none_equals_lavaan(name):
    case = REF["cases"][name]
    est = case["call"].split('estimator = "')[1].split('"')[0]
    kw = {"group": "school"} if "group" in case["call"] else {}
    res = fit(REF["models"]["hs"], DATA["hs"], estimator=est, se="none", **kw)
    fm, rf = res.fit_measures(), case["fit_measures"]
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "baseline.chisq", "gfi"):
        assert fm[key] == pytest.approx(rf[key], abs=1e-3), key
    ours = res.estimates()
    ours = ours if "group" in ours else ours.assign(group=1)
    want = pd.DataFrame(case["estimates"])
    want = want if "group" in want else want.assign(group=1)
    both = want.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(both) == len(want) and "se" not in want
    np.testing.assert_allclose(both["est"], both["est_r"], atol=1e-3)
    np.testing.assert_allclose(both["std.all"], both["std.all_r"], atol=1e-3)
    fixed = both["se"] == 0.0  # the marker loadings
    assert fixed.sum() >= 3 and both.loc[~fixed, "se"].isna().all()  # markers, latent means: 0
    assert res.se_options[0] == "none" and "Estimate" in res.summary()
