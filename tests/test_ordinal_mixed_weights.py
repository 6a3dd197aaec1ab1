"""Issue 16 (brief ord4 point 3): ordered and continuous items together with sampling weights, one group,
against lavaan 0.6.14 (tests/fixtures/ordinal_more/mixed_weights.json; make_mixed_weights.R beside it):
the weighted sample statistics (WLS.obs, diag Gamma), estimates, SEs, std.all, tests and fit measures; one
group, and two groups under lavaan's normalizations "total" and "group" (group_weights docstring)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ordinal_more"
MW = json.loads((HERE / "mixed_weights.json").read_text())
DATA = pd.read_csv(Path(__file__).parent / "fixtures" / "ordinal_options" / "bfi_weighted.csv")


@cache
def fitted(case: str):
    ref = MW["cases"][case]
    opts = ref.get("options", {})
    groups = {} if not opts else {"group": "gender", "group_equal": opts.get("group.equal", []),
                                  "sampling_weights_normalization": opts["sampling.weights.normalization"]}
    return fit(MW["model"], DATA, ordered=ref["ordered"], estimator="WLSMV", sampling_weights="w", **groups)


def _statistics(res) -> tuple[np.ndarray, np.ndarray]:
    """WLS.obs and diag Gamma (every group's, stacked; lavaan's ``lavInspect(fit, "gamma")``)."""
    blocks = [b.sample for b in res.blocks] if getattr(res, "blocks", None) else [res.sample]
    return (np.concatenate([b.wls_obs for b in blocks]), np.concatenate([np.diag(b.gamma) for b in blocks]))


@pytest.mark.parametrize("case", sorted(MW["cases"]))
def test_weighted_mixed_items_equal_lavaan(case):
    ref_case, res = MW["cases"][case], fitted(case)
    wls_obs, gamma_diag = _statistics(res)
    np.testing.assert_allclose(wls_obs, ref_case["wls_obs"], atol=1e-6)
    np.testing.assert_allclose(gamma_diag, ref_case["gamma_diag"], rtol=1e-5)
    assert list(np.atleast_1d(res.nobs)) == list(np.atleast_1d(ref_case["nobs"]))
    ref = pd.DataFrame(ref_case["estimates"])
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in ref else [])
    merged = ref.merge(res.estimates(), on=on, how="left", suffixes=("_r", ""))
    assert len(merged) == len(ref) and merged["est"].notna().all()
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], atol=1e-3, err_msg=col)
    assert [t.name for t in res.test_list] == [t["test"] for t in ref_case["tests"]]
    for mine, theirs in zip(res.test_list, ref_case["tests"], strict=True):
        assert mine.df == pytest.approx(theirs["df"], abs=1e-6), mine.name
        assert mine.stat == pytest.approx(theirs["stat"], abs=1e-3), mine.name
    fm = res.fit_measures()
    compared = [k for k in ref_case["fit_measures"] if k in fm]
    assert {"chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"} <= set(compared)
    for key in compared:
        assert fm[key] == pytest.approx(ref_case["fit_measures"][key], abs=1e-3), key


def test_weighted_mixed_items_differ_from_unweighted_and_unit_weights_do_not():
    ordered = MW["cases"]["a_ordered"]["ordered"]
    plain = fit(MW["model"], DATA, ordered=ordered, estimator="WLSMV")
    assert abs(plain.test_list[0].stat - fitted("a_ordered").test_list[0].stat) > 1.0
    unit = fit(MW["model"], DATA.assign(one=2.5), ordered=ordered, estimator="WLSMV", sampling_weights="one")
    assert unit.test_list[0].stat == pytest.approx(plain.test_list[0].stat, rel=1e-8)
    np.testing.assert_allclose(unit.sample.gamma, plain.sample.gamma, rtol=1e-8, atol=1e-10)


NONE = json.loads((HERE / "weights_none.json").read_text())


@pytest.mark.parametrize("case", sorted(NONE["cases"]))
def test_one_group_weights_without_normalization_equal_lavaan(case):
    # lavaan "none": N is the weight sum (Gamma = WLS.W * sum w); the reported N stays the case count
    ref = NONE["cases"][case]
    ordered = True if len(ref["ordered"]) == 10 else ref["ordered"]
    res = fit(ref["model"], DATA, ordered=ordered, estimator="WLSMV", sampling_weights="w",
              sampling_weights_normalization="none")
    assert res.nobs == ref["nobs"]
    for mine, theirs in zip(res.test_list, ref["tests"], strict=True):
        assert mine.stat == pytest.approx(theirs["stat"], abs=1e-3), mine.name
    want = pd.DataFrame(ref["estimates"])
    merged = want.merge(res.estimates(), on=["lhs", "op", "rhs"], how="left", suffixes=("_r", ""))
    for col in ("est", "se"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], atol=1e-3, err_msg=col)
    fm = res.fit_measures()
    compared = [k for k in ref["fit_measures"] if k in fm]
    assert {"chisq", "chisq.scaled", "cfi.scaled", "rmsea"} <= set(compared)
    for key in compared:
        assert fm[key] == pytest.approx(ref["fit_measures"][key], abs=1e-3), key
