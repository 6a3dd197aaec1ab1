"""lavTestScore(fit)$uni of the continuous least-squares estimators with several groups (group.equal), a mean
structure, fixed.x covariates and pairwise moments (was refused) against lavaan 0.6.14
(tests/fixtures/ls_groups/make_ls_score.R -> ls_score.json): every constraint, its X2 within 1e-3 or 1e-3
relative at our estimates (GLS with equal loadings and intercepts: lavaan's optimum 6e-5 from ours moves an
X2 of 5.8 by 1.3e-3), and within 1e-5 at lavaan's own estimates (the formulas)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_ls_groups_modindices import DATA, close

import survey

HERE = Path(__file__).parent / "fixtures" / "ls_groups"
REF = json.loads((HERE / "ls_score.json").read_text())
KEY = ["lhs", "op", "rhs", "group.a", "group.b"]


@cache  # each case fitted once per module (the tests only read the result)
def _fit(name: str):
    call = REF["cases"][name]["call"]
    kw: dict = {"estimator": re.search(r'estimator = "(\w+)"', call).group(1)}
    if 'group = "school"' in call:
        kw["group"] = "school"
    if "fixed.x = TRUE" in call:
        kw["fixed_x"] = True
    if '"pairwise"' in call:
        kw["missing"] = "pairwise"
    if "meanstructure = TRUE" in call:
        kw["meanstructure"] = True
    equal = re.search(r'group.equal = (c\([^)]*\)|"\w+")', call)
    if equal:
        kw["group_equal"] = re.findall(r'"(\w+)"', equal.group(1))
    model = REF["models"][re.search(r"models\$(\w+)", call).group(1)]
    return survey.sem.fit(model, DATA["holes" if "holes" in call else "hs"], **kw)


def _check(res, name: str, atol: float, rel: float) -> None:
    want = pd.DataFrame(REF["cases"][name]["score"])
    ours = res.score_tests()
    both = want.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) >= 2
    close(both["X2"], both["X2_ref"], atol=atol, rel=rel)
    assert (both["source"] == ("label" if "labels" in name else "group_equal")).all()


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_ls_score_tests_equal_lavaan(name):
    _check(_fit(name), name, atol=1e-3, rel=1e-3)


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_ls_score_tests_at_lavaans_estimates_equal_lavaan_exactly(name):
    res = _fit(name)
    est = pd.DataFrame(REF["cases"][name]["estimates"]).fillna({"rhs": ""})
    est = est.assign(group=est["group"] if "group" in est else 1).set_index(["lhs", "op", "rhs", "group"])
    pt = res.mg.partable
    theta = np.full(res.mg.npar, np.nan)
    for r in pt[(pt["free"] > 0) & ~pt["op"].isin(["==", ":="])].itertuples():
        theta[int(r.free) - 1] = est.loc[(r.lhs, r.op, r.rhs, int(getattr(r, "group", 1) or 1)), "est"]
    assert np.max(np.abs(theta - res.theta)) < 1e-3
    res.theta, res.theta_full = theta, res.mg.k @ theta
    _check(res, name, atol=1e-5, rel=0.0)
