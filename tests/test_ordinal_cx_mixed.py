"""Ordered (A1-A5) and continuous (C1-C5) items with observed covariates (lavaan's conditional.x) against
lavaan 0.6.14 (tests/fixtures/ordinal_cx_mixed/make_reference.R): the conditional sample statistics
(thresholds, -intercepts, slopes, residual variances, polychoric / polyserial / Pearson residual
(co)variances) and their Gamma, then estimates, SEs, std.lv, std.all and every fit measure lavaan reports
for WLSMV (delta and theta, sampling weights, pairwise) and ULSMV; two groups (configural, equal loadings
and regressions, theta, sampling weights)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem.ordinal.fit import fit_ordinal
from survey.sem.ordinal.multigroup import fit_ordinal_groups

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_cx_mixed" / "reference.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv").assign(age10=lambda d: d["age"] / 10)
NUMERIC = tuple(f"C{k}" for k in range(1, 6))
CASES = {"wlsmv": {}, "theta": {"parameterization": "theta"}, "ulsmv": {"estimator": "ULSMV"}}


@cache
def fitted(case: str):
    return fit_ordinal(REF["model"], BFI, ordered=REF["ordered"], **CASES[case])


def test_conditional_mixed_sample_statistics_and_gamma_equal_lavaan():
    ref = REF["cases"]["wlsmv"]
    sample = fitted("wlsmv").sample
    assert sample.nobs == ref["nobs"] == 941
    obs = np.array(ref["wls_obs"])
    assert sample.wls_obs.shape == obs.shape
    assert np.abs(sample.wls_obs - obs).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert np.abs(sample.gamma - g_ref).max() < 1e-6 * np.abs(g_ref).max()
    names = ref["names"]
    # every kind of statistic: threshold, -intercept, ordinal and continuous slopes, residual variance,
    # polychoric, polyserial and Pearson residual (co)variances
    for stat in ("A1|t1", "C1~1", "A1~age10", "C1~gender", "C1~~C1", "A1~~A2", "A1~~C1", "C1~~C2"):
        k = names.index(stat)
        assert sample.wls_obs[k] == pytest.approx(obs[k], abs=1e-7)


@pytest.mark.parametrize("case", sorted(CASES))
def test_conditional_mixed_estimates_equal_lavaan(case):
    ref = pd.DataFrame(REF["cases"][case]["estimates"]).set_index(["lhs", "op", "rhs"])
    mine = fitted(case).estimates().set_index(["lhs", "op", "rhs"])
    assert set(ref.index) == set(mine.index)
    m = mine.join(ref.add_suffix("_r"))
    assert fitted(case).converged
    for col in ("est", "se", "std.lv", "std.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    ops = m.index.get_level_values("op")
    rhs = m.index.get_level_values("rhs")
    assert (ops == "|").sum() == 25 and ((ops == "~") & (rhs == "gender")).sum() == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_conditional_mixed_fit_measures_equal_lavaan(case):
    ref = REF["cases"][case]["fit_measures"]
    mine = fitted(case).fit_measures()
    assert set(ref) <= set(mine)
    for key, value in ref.items():
        tol = 1e-5 if key in ("logl", "aic", "bic") else 1e-3
        assert mine[key] == pytest.approx(value, abs=tol), key
    if case != "ulsmv":
        assert mine["chisq.scaled"] == pytest.approx(360.466966847617, abs=1e-3)
        assert mine["df"] == 51


def test_conditional_mixed_with_sampling_weights_equal_lavaan():
    ref = REF["cases"]["weights"]
    data = BFI.assign(w=1 + (BFI["age"] % 5) / 4)  # the R script's weights
    res = fit_ordinal(REF["model"], data, ordered=REF["ordered"], sampling_weights="w")
    assert np.abs(res.sample.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert np.abs(res.sample.gamma - g_ref).max() < 1e-6 * np.abs(g_ref).max()
    m = res.estimates().set_index(["lhs", "op", "rhs"]).join(
        pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"]).add_suffix("_r"))
    for col in ("est", "se", "std.lv", "std.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    got = res.fit_measures()
    for key, value in ref["fit_measures"].items():
        assert got[key] == pytest.approx(value, abs=1e-3), key


def test_conditional_mixed_pairwise_equal_lavaan():
    """missing = "pairwise": cases observed on the covariates (N = 1000), each statistic from its items'."""
    ref = REF["cases"]["pairwise"]
    res = fit_ordinal(REF["model"], BFI, ordered=REF["ordered"], missing="pairwise")
    assert res.sample.nobs == ref["nobs"] == 1000
    assert np.abs(res.sample.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert np.abs(res.sample.gamma - g_ref).max() < 1e-6 * np.abs(g_ref).max()
    m = res.estimates().set_index(["lhs", "op", "rhs"]).join(
        pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"]).add_suffix("_r"))
    for col in ("est", "se", "std.lv", "std.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    got = res.fit_measures()
    for key, value in ref["fit_measures"].items():
        assert got[key] == pytest.approx(value, abs=1e-3), key


GROUP_CASES = {"groups": {}, "groups_loadings": {"group_equal": ("loadings", "regressions")},
               "groups_theta": {"parameterization": "theta"}, "groups_weights": {"sampling_weights": "w"},
               "groups_pairwise": {"missing": "pairwise"}}


@cache
def fitted_groups(case: str):
    data = BFI.assign(w=1 + (BFI["age"] % 5) / 4)  # the R script's sampling weights
    return fit_ordinal_groups(REF["model_groups"], data, "gender", numeric=NUMERIC, **GROUP_CASES[case])


@pytest.mark.parametrize("case", sorted(GROUP_CASES))
def test_conditional_mixed_groups_equal_lavaan(case):
    """Two groups (gender): configural, equal loadings and regressions, theta, weights, pairwise."""
    res = fitted_groups(case)
    assert res.converged
    ref = pd.DataFrame(REF["cases"][case]["estimates"]).set_index(["lhs", "op", "rhs", "group"])
    mine = res.estimates().set_index(["lhs", "op", "rhs", "group"])
    assert set(ref.index) == set(mine.index)
    m = mine.join(ref.add_suffix("_r"))
    for col in ("est", "se", "std.lv", "std.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    fm = REF["cases"][case]["fit_measures"]
    got = res.fit_measures()
    assert set(fm) <= set(got)
    for key, value in fm.items():
        # 1e-3, or 1e-6 relative for a large statistic (groups_pairwise: baseline.chisq 3565.65, diff 2e-3)
        tol = max(1e-3, 1e-6 * abs(value))
        assert got[key] == pytest.approx(value, abs=tol), key


def test_conditional_mixed_r2_equal_lavaan():
    r2 = fitted("wlsmv").r2()
    ref = REF["cases"]["wlsmv"]["r2"]
    assert set(ref) == set(r2)
    for name, value in ref.items():
        assert r2[name] == pytest.approx(value, abs=1e-4), name
