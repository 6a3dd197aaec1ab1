"""Two-level fits with test = "none" against lavaan 0.6.14 (tests/fixtures/multilevel_testnone/
make_multilevel_testnone.R): the same estimates and standard errors as lavaan (ML: standard, MLR:
robust.huber.white) and the unscaled test kept beside them, as one-level fits with test = "none" do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "multilevel_testnone" / "multilevel_testnone.json").read_text())
DATA = pd.read_csv(HERE / "multilevel" / "demo_twolevel.csv")


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_two_level_test_none_equals_lavaan(est):
    want = REF["cases"][est]
    assert want["se_option"] == {"ML": "standard", "MLR": "robust.huber.white"}[est]
    assert "not available if test" in want["fit_measures"]
    res = fit(REF["model"], DATA, cluster="cluster", estimator=est, test="none")
    ours = res.estimates().set_index(["lhs", "op", "rhs", "level"])
    rows = list(zip(want["lhs"], want["op"], want["rhs"], map(str, want["level"]), strict=True))
    got = ours.loc[rows]
    np.testing.assert_allclose(got["est"], want["est"], atol=1e-3)
    se = np.array([np.nan if v in (None, "NA") else v for v in want["se"]], float)
    np.testing.assert_allclose(got["se"].to_numpy(float), se, atol=1e-3)
    same = fit(REF["model"], DATA, cluster="cluster", estimator=est)
    assert res.fit_measures()["chisq"] == pytest.approx(same.fit_measures()["chisq"], rel=1e-9)
