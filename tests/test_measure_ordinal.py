"""Ordinal reliability against psych / semTools (tests/fixtures/ordinal/make_reference.R): ordinal alpha
(psych::alpha on the polychorics), categorical omega (semTools compRelSEM on an ordered CFA, obs.var TRUE
and FALSE), AVE as semTools AVE() (ordinal and continuous) and Fornell-Larcker's mean squared loading."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.measure.ordinal import (
    ave_fornell_larcker,
    ave_semtools,
    categorical_omega,
    ordinal_alpha,
    ordinal_reliability,
)
from survey.sem.ordinal.fit import fit_ordinal

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "ordinal" / "reference.json").read_text())


@cache
def study_cfa():
    fit = fit_ordinal(REF["models"]["study_cfa"], pd.read_csv(FIX / "ordinal" / "study.csv"))
    names = fit.sample.names
    poly = pd.DataFrame(fit.sample.correlations, index=names, columns=names)
    implied = pd.DataFrame(fit.implied_cor, index=names, columns=names)
    return fit, poly, implied, dict(zip(names, fit.sample.thresholds, strict=True))


@pytest.mark.parametrize("which", ["observed", "implied"])
def test_ordinal_reliability_equals_psych_and_semtools(which):
    fit, poly, implied, thresholds = study_cfa()
    table = ordinal_reliability(fit.estimates(), poly, thresholds, implied if which == "implied" else None)
    omega_ref = REF["omega_categorical" if which == "observed" else "omega_categorical_implied"]
    for factor, row in table.iterrows():
        assert row["alpha_ordinal"] == pytest.approx(REF["ordinal_alpha"][factor], abs=1e-4)  # psych's R
        assert row["omega_categorical"] == pytest.approx(omega_ref[factor], abs=1e-5)
        assert row["ave_semtools"] == pytest.approx(REF["ave_semtools"][factor], abs=1e-6)
        # delta parameterization: var(y*) = 1, so the two AVEs coincide for ordered items
        assert row["ave_fornell_larcker"] == pytest.approx(row["ave_semtools"], abs=1e-6)
    assert table.loc["FOL", "n_items"] == 3


def test_ordinal_alpha_on_the_polychoric_matrix_of_psych():
    names = REF["polychoric_study"]["names"]
    r = pd.DataFrame(REF["polychoric_study"]["values"], index=names, columns=names)
    items = [f"EMO{i}" for i in range(1, 5)]
    assert ordinal_alpha(r.loc[items, items]) == pytest.approx(REF["ordinal_alpha"]["EMO"], abs=1e-10)


def test_ave_two_ways_on_continuous_items_differ_as_in_semtools():
    ref = json.loads((FIX / "measure" / "reference.json").read_text())
    cfa = ref["cfa"]  # std.lv = TRUE: psi = 1
    for factor, loads in cfa["loadings"].items():
        lam = np.array(list(loads.values()))
        theta = np.array([cfa["theta"][i] for i in loads])
        assert ave_semtools(lam, 1.0, theta) == pytest.approx(ref["ave_semtools"][factor], abs=1e-6)
        std = np.array(list(cfa["std_loadings"][factor].values()))
        assert ave_fornell_larcker(std) == pytest.approx(ref["ave"][factor], abs=1e-6)
    assert abs(ref["ave_semtools"]["D"] - ref["ave"]["D"]) > 1e-3  # not the same statistic


def test_categorical_omega_limits():
    tau = [np.array([-1.0, 0.0, 1.0])] * 3
    # loadings of 1: the common part is the whole latent correlation -> omega 1
    assert categorical_omega(np.ones(3), 1.0, tau, np.ones((3, 3))) == pytest.approx(1.0)
    # categorization loses information: omega below the latent-response reliability
    lam = np.full(3, 0.7)
    total = np.full((3, 3), 0.49) + 0.51 * np.eye(3)
    latent_omega = (lam.sum() ** 2) / (lam.sum() ** 2 + 3 * 0.51)
    assert 0.5 < categorical_omega(lam, 1.0, tau, total) < latent_omega
