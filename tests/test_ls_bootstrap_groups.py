"""se = "bootstrap" with the continuous least-squares estimators and several groups (was refused) against
lavaan 0.6.14 refits on identical within-group resamples (tests/fixtures/ls_bootstrap_groups/:
make_ls_bootstrap_groups_indices.py draws the rows, make_ls_bootstrap_groups.R refits lavaan on them):
HolzingerSwineford1939 by school with equal loadings, ULS, DWLS and GLS, B = 60; bootstrap SEs within 1e-4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import cfa
from survey.sem.ls_bootstrap import group_resample_indices

HERE = Path(__file__).parent / "fixtures" / "ls_bootstrap_groups"
REF = json.loads((HERE / "ls_bootstrap_groups.json").read_text())
HS = pd.read_csv(Path(__file__).parent / "fixtures" / "mg_modindices" / "hs39_weighted.csv")
B = 60


def test_committed_indices_are_the_resampler_draws():
    groups = list(pd.unique(HS["school"]))
    sizes = [int((HS["school"] == g).sum()) for g in groups]
    for g, idx in zip(groups, group_resample_indices(sizes, B, REF["seed"]), strict=True):
        committed = np.loadtxt(HERE / f"indices_{g}.csv", delimiter=",", dtype=int)
        np.testing.assert_array_equal(idx, committed)


@pytest.mark.parametrize("estimator", sorted(REF["cases"]))
def test_group_bootstrap_se_equals_lavaan(estimator):
    case = REF["cases"][estimator]
    assert case["failed"] == []
    res = cfa(REF["model"], HS, group="school", group_equal="loadings", estimator=estimator,
              se="bootstrap", bootstrap=B, seed=REF["seed"])
    want = pd.DataFrame(case["est"]).assign(se_r=case["se"])
    groups = list(pd.unique(HS["school"]))
    ours = res.estimates()
    ours = ours.assign(group=ours["group"].map({g: i + 1 for i, g in enumerate(groups)})
                       if ours["group"].dtype == object else ours["group"])
    got = want.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(got) == len(want)
    np.testing.assert_allclose(got["est"], got["est_r"], atol=1e-4)
    np.testing.assert_allclose(got["se"], got["se_r"], atol=1e-4)
