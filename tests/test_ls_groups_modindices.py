"""Modification indices of the continuous least-squares estimators (GLS, ULS, WLS, DWLS) with several
groups, fixed.x covariates, pairwise moments and sampling weights against lavaan 0.6.14's modindices()
(tests/fixtures/ls_groups/make_ls_groups.R -> ls_groups.json, cases mi_*): HolzingerSwineford1939 (by
school), the CFA and a MIMIC model (covariate ageyr, fixed.x = TRUE), data with holes for pairwise.

The same candidate rows (lhs op rhs group; under ULS with fixed.x lavaan lists the covariate's moments and
regressions too, mi ~ 0); mi, epc, sepc.lv, sepc.all, sepc.nox within 1e-3 or 1e-3 relative: lavaan's
optima are not exact (ULS with groups and fixed.x: its estimates 1.2e-4 from ours, an sepc.all of 2.43
on a residual variance of 0.03 moves by 1.0e-3; WLS with equal loadings: an mi of 29 by 2e-3)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey

HERE = Path(__file__).parent / "fixtures" / "ls_groups"
REF = json.loads((HERE / "ls_groups.json").read_text())
DATA = {k: pd.read_csv(HERE / v) for k, v in REF["data"].items()}
COLS = ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")
MI_CASES = sorted(k for k, c in REF["cases"].items() if "modindices" in c)


@cache  # each case fitted once per module (the tests only read the result)
def fit_case(name: str):
    """The fixture's lavaan call as our fit (estimator, fixed.x, group, pairwise, meanstructure,
    group.equal read off the call)."""
    call = REF["cases"][name]["call"]
    kw: dict = {"estimator": re.search(r'estimator = "(\w+)"', call).group(1)}
    if "fixed.x = TRUE" in call:
        kw["fixed_x"] = True
    if 'group = "school"' in call:
        kw["group"] = "school"
    if '"pairwise"' in call:
        kw["missing"] = "pairwise"
    if "sampling.weights" in call:
        kw["sampling_weights"] = "wt"
    if "meanstructure = TRUE" in call:
        kw["meanstructure"] = True
    equal = re.search(r'group.equal = (c\([^)]*\)|"\w+")', call)
    if equal:
        kw["group_equal"] = re.findall(r'"(\w+)"', equal.group(1))
    model = REF["models"][call.split("models$")[1].split(",")[0]]
    return survey.sem.fit(model, DATA["holes" if "holes" in call else "hs"], **kw)


def close(got, want, atol: float = 1e-3, rel: float = 1e-3) -> None:
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.all(np.abs(got - want) <= np.maximum(atol, rel * np.abs(want))), np.max(np.abs(got - want))


@pytest.mark.parametrize("name", MI_CASES)
def test_ls_modindices_of_groups_fixed_x_pairwise_equal_lavaan(name):
    case = REF["cases"][name]
    assert not case["error"]
    fit = fit_case(name)
    want = pd.DataFrame(case["modindices"])
    key = ["lhs", "op", "rhs"] + (["group"] if "group" in want else [])
    ours = fit.modindices()
    assert ("group" in ours) == ("group" in want)
    both = want.merge(ours, on=key, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) > 50
    for col in COLS:
        close(both[col], both[f"{col}_ref"])


def test_ls_modindices_fixed_x_differ_from_ml_and_uls_lists_the_covariate():
    ml = survey.sem.fit(REF["models"]["mimic"], DATA["hs"], fixed_x=True).modindices()
    gls = fit_case("mi_fixedx_gls").modindices()
    assert not ((gls["lhs"] == "ageyr") & (gls["op"] == "~")).any()
    both = gls.merge(ml, on=["lhs", "op", "rhs"], suffixes=("", "_ml"))
    assert np.max(np.abs(both["mi"] - both["mi_ml"])) > 1.0  # the estimator's own W
    uls = fit_case("mi_fixedx_uls").modindices()
    exo = uls[uls["lhs"] == "ageyr"]
    assert len(exo) == 3 and np.all(np.abs(exo["mi"]) < 1e-6)
