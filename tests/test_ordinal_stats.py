"""Ordinal sample statistics against lavaan 0.6.14 / psych / polycor
(tests/fixtures/ordinal/make_reference.R): thresholds, two-step polychorics (listwise and pairwise
present), polyserial correlations, the Muthen (1984) asymptotic covariance Gamma; the bivariate
normal CDF against scipy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from survey.errors import SurveyInputError
from survey.sem.ordinal.acov import gamma
from survey.sem.ordinal.bivariate import dbinorm, dpbinorm_da, pbinorm
from survey.sem.ordinal.fit import sample_statistics
from survey.sem.ordinal.polychoric import (
    as_matrix,
    pair_index,
    pair_tables,
    polychoric,
    polyserial,
    polyserial_adhoc,
)
from survey.sem.ordinal.thresholds import encode, univariate_thresholds

HERE = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((HERE / "reference.json").read_text())
BFI = pd.read_csv(HERE / "bfi.csv")
ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]


@pytest.mark.parametrize("rho", [-0.9999, -0.97, -0.93, -0.6, 0.0, 0.2, 0.5, 0.8, 0.924, 0.926, 0.97, 0.999])
def test_bivariate_normal_cdf_equals_scipy(rho):
    rng = np.random.default_rng(int(abs(rho) * 1e4))
    a, b = rng.normal(scale=1.5, size=25), rng.normal(scale=1.5, size=25)
    mine = pbinorm(a, b, rho)
    cov = [[1, rho], [rho, 1]]
    ref = [multivariate_normal.cdf([x, y], cov=cov, abseps=1e-12, releps=1e-12)
           for x, y in zip(a, b, strict=True)]
    assert np.abs(mine - np.array(ref)).max() < 1e-9


def test_bivariate_limits_and_derivatives():
    assert pbinorm(np.inf, 0.3, 0.5) == pytest.approx(0.6179114221889527)  # Phi(0.3)
    assert pbinorm(-np.inf, 0.3, 0.5) == 0.0
    assert pbinorm(np.inf, np.inf, 0.5) == 1.0
    a, b, r, h = 0.4, -0.7, 0.35, 1e-6
    d_rho = (pbinorm(a, b, r + h) - pbinorm(a, b, r - h)) / (2 * h)
    d_a = (pbinorm(a + h, b, r) - pbinorm(a - h, b, r)) / (2 * h)
    assert dbinorm(a, b, r) == pytest.approx(d_rho, rel=1e-7)
    assert dpbinorm_da(a, b, r) == pytest.approx(d_a, rel=1e-7)


def test_pair_order_is_lavaans_vech():
    ii, jj = pair_index(4)
    pairs = list(zip(ii.tolist(), jj.tolist(), strict=True))
    assert pairs == [(1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2)]


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_thresholds_and_polychorics_equal_lavcor(missing):
    codes = encode(BFI, ITEMS)
    if missing == "listwise":
        codes = codes.complete()
    taus = univariate_thresholds(codes)
    rho = polychoric(pair_tables(codes), taus)
    ref = REF[f"lavcor_{missing}"]
    assert np.abs(np.concatenate(taus) - np.array(ref["th"])).max() < 1e-6
    assert np.abs(as_matrix(rho, len(ITEMS)) - np.array(ref["cor"]["values"])).max() < 1e-6


def test_polychorics_equal_psych_polychoric():
    codes = encode(BFI, ITEMS).complete()
    taus = univariate_thresholds(codes)
    rho = as_matrix(polychoric(pair_tables(codes), taus), len(ITEMS))
    ref = REF["psych_polychoric"]
    assert np.abs(rho - np.array(ref["rho"]["values"])).max() < 1e-4  # psych's optimizer tolerance
    assert np.abs(np.array(taus) - np.array(ref["tau"])).max() < 1e-6
    # these tables have no empty cell, so psych's default correction (0.5 in empty cells) changes nothing
    assert np.abs(rho - np.array(ref["rho_correct"]["values"])).max() < 1e-4


@pytest.mark.parametrize("case,missing", [("bfi_wlsmv", "listwise"), ("bfi_pairwise_wlsmv", "pairwise"),
                                          ("bfi_mixed_pairwise_wlsmv", "pairwise")])
def test_gamma_equals_lavaan(case, missing):
    data = pd.read_csv(HERE / "bfi_mixed.csv") if "mixed" in case else BFI  # 3-, 2- and 6-category items
    stats = sample_statistics(data, ITEMS, missing)
    ref = REF["cases"][case]
    assert stats.nobs == ref["nobs"]
    assert np.abs(stats.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert np.abs(stats.gamma - g_ref).max() < 1e-5 * np.abs(g_ref).max()


def test_gamma_diagonal_of_the_study_equals_lavaan():
    study = pd.read_csv(HERE / "study.csv")
    ref = REF["cases"]["study_wlsmv"]
    names = list(dict.fromkeys(n.split("|")[0] for n in ref["names"] if "|" in n))
    stats = sample_statistics(study, names)
    assert np.abs(stats.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    assert np.abs(np.diag(stats.gamma) - np.array(ref["gamma_diag"])).max() < 1e-6


def test_polyserial_equals_lavcor_and_polycor():
    items = [f"A{i}" for i in range(1, 6)]
    frame = BFI[items + ["age"]].dropna()
    codes = encode(frame, items)
    taus = univariate_thresholds(codes)
    age = frame["age"].to_numpy(dtype=float)
    ref = np.array(REF["lavcor_polyserial"]["cor"]["values"])  # covariance metric for age
    for k in range(5):
        rho = polyserial(age, codes.codes[:, k], taus[k])
        assert rho * age.std() == pytest.approx(ref[5, k], abs=1e-5)
    pair = BFI[["A2", "age"]].dropna()
    adhoc = polyserial_adhoc(pair["age"], pair["A2"])
    assert adhoc == pytest.approx(REF["polycor_polyserial"]["A2_age"], abs=1e-8)


def test_codes_follow_the_observed_values_and_bad_input_is_named():
    frame = pd.DataFrame({"x": [2, 5, 5, np.nan, 9], "y": [1, 1, 2, 2, 1]})
    codes = encode(frame, ["x", "y"])
    assert codes.codes[:, 0].tolist() == [0, 1, 1, -1, 2]
    assert codes.ncat.tolist() == [3, 2]
    with pytest.raises(SurveyInputError, match="'z'"):
        encode(frame.assign(z=1), ["z"])
    with pytest.raises(SurveyInputError, match="row 2, column 'w'"):
        encode(frame.assign(w=["1", "a", "2", "1", "2"]), ["w"])
    with pytest.raises(SurveyInputError, match="not found"):
        encode(frame, ["nope"])


def test_gamma_is_a_function_of_the_cases_not_their_order():
    codes = encode(BFI, ITEMS).complete()
    taus = univariate_thresholds(codes)
    rho = polychoric(pair_tables(codes), taus)
    g1 = gamma(codes, taus, rho)
    perm = np.random.default_rng(3).permutation(codes.n)
    codes.codes = codes.codes[perm]
    assert np.abs(gamma(codes, taus, rho) - g1).max() < 1e-10


def test_two_group_sample_statistics_equal_lavaan_per_group():
    """(c) of the issue: the per-group thresholds, polychorics and Gamma of lavaan's two-group fit
    (group = "gender", listwise over the model's items); the multi-group estimation is the engine's."""
    ref = REF["cases"]["bfi_groups_configural"]
    complete = BFI.dropna(subset=ITEMS)
    for k, level in enumerate(sorted(complete["gender"].unique())):
        stats = sample_statistics(complete[complete["gender"] == level], ITEMS)
        group = ref["groups"][k]
        assert stats.nobs == ref["nobs"][k]
        assert np.abs(stats.wls_obs - np.array(group["wls_obs"])).max() < 1e-6
        g_ref = np.array(group["gamma"])
        assert np.abs(stats.gamma - g_ref).max() < 1e-5 * np.abs(g_ref).max()


def test_binary_items_with_empty_cells_follow_lavaans_rules():
    """2 x 2 tables: one empty cell gets 0.5 with the margins kept, equal margins at 0 use the closed form;
    without these rules the b1 x b2 correlation would be off by more than .3."""
    data = pd.read_csv(HERE / "binary.csv")
    stats = sample_statistics(data, list(data.columns))
    ref = REF["lavcor_binary"]
    assert np.abs(stats.correlations - np.array(ref["cor"]["values"])).max() < 1e-6
    assert np.abs(np.concatenate(stats.thresholds) - np.array(ref["th"])).max() < 1e-8
    g_ref = np.array(ref["gamma"])
    assert np.abs(stats.gamma - g_ref).max() < 1e-5 * np.abs(g_ref).max()
