"""Ordered and continuous items given an observed covariate in two groups with equal thresholds or
intercepts (issue 16, brief ord6 point 1; survey.sem.ordinal.group_mixed_cx) against lavaan 0.6.14
(tests/fixtures/ordinal_groups_mixed/make_groups_mixed_cx.R, bfi by gender): every estimate and SE, the
fit measures; WLSMV, ULSMV and DWLS, delta and theta (also configural, the same map)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_groups_mixed" / "groups_mixed_cx.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")
KEYS = ["lhs", "op", "rhs", "group"]


@cache
def fitted(case: str):
    c = REF["cases"][case]
    equal = [c["group.equal"]] if isinstance(c["group.equal"], str) else list(c["group.equal"])
    return fit(c["model"], BFI, ordered=c["ordered"], group="gender", group_equal=equal,
               estimator=c["estimator"], parameterization=c.get("parameterization", "delta"))


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_mixed_items_with_a_covariate_and_equal_thresholds_equal_lavaan(case):
    c = REF["cases"][case]
    res = fitted(case)
    assert res.converged and c["converged"]
    ref = pd.DataFrame(c["estimates"])
    both = ref.merge(res.estimates(), on=KEYS, how="left", suffixes=("_r", ""))
    assert len(both) == len(ref) and both["est"].notna().all()
    assert np.abs(both["est"] - both["est_r"]).max() < 1e-3
    assert np.abs(both["se"] - both["se_r"]).max() < 1e-3
    fm = res.fit_measures()
    compared = [k for k in c["fit_measures"] if k in fm]
    assert {"chisq", "df", "cfi", "rmsea", "srmr"} <= set(compared)
    for key in compared:
        assert fm[key] == pytest.approx(c["fit_measures"][key], abs=1e-3), key


def test_free_latent_means_and_scale_factors_in_group_two():
    est = fitted("thresholds").estimates()
    two = est[est["group"] == 2]
    means = two[(two["op"] == "~1") & two["lhs"].isin(["A", "C"])]
    assert (means["se"] > 0).all()  # latent intercepts free in group 2 (equal thresholds)
    scale = two[two["op"] == "~*~"]
    assert set(scale["lhs"]) == {f"A{i}" for i in range(1, 6)} and (scale["se"] > 0).all()
