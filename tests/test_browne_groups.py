"""Browne's residual-based tests (test = "browne.residual.adf" / ".nt") with several groups and equality
constraints across or within them (group.equal, c() labels, explicit ``==``), ML and least squares, against
lavaan 0.6.14 (tests/fixtures/browne_groups/make_browne_groups.R -> browne_groups.json).

With equalities across groups the projection on the model's Jacobian is joint over the groups (Browne 1984,
eq. 2.20a); the per-group projection summed was wrong there (220.615 by lavaan, 121.578 before the fix on
ml_li_adf). ``stat.group`` is lavaan's proxy T_B N_g / N whenever the model has equality constraints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa

HERE = Path(__file__).parent / "fixtures" / "browne_groups"
REF = json.loads((HERE / "browne_groups.json").read_text())
DATA = pd.read_csv(HERE / "hs.csv")


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_browne_with_groups_equals_lavaan(name):
    case = REF["cases"][name]
    equal = case["equal"]
    kw = {"group_equal": equal} if equal not in ("", [], [""]) else {}
    res = cfa(REF["models"][case["model"]], DATA, group="school", estimator=case["estimator"],
              test=case["test"], **kw)
    got = res.tests()[case["test"]]
    assert got["stat"] == pytest.approx(case["stat"], abs=1e-3, rel=1e-6)
    assert got["df"] == case["df"]
    assert got["pvalue"] == pytest.approx(case["pvalue"], abs=1e-6)
    assert list(got["stat.group"]) == pytest.approx(case["stat_group"], abs=1e-3, rel=1e-6)
    assert res.fit_measures()["chisq"] == pytest.approx(case["chisq"], abs=1e-3, rel=1e-6)
