"""FIML (survey.sem.fiml) against lavaan 0.6.14 ``missing="ml"`` (tests/fixtures/robust/make_reference.R)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem.fiml import (
    em_saturated,
    fit_fiml,
    h1_observed_information,
    loglik,
    missing_patterns,
    model_loglik,
    observed_information,
)
from survey.sem.model import RAMModel
from survey.sem.syntax import lavaanify

HERE = Path(__file__).parent / "fixtures" / "robust"
REF = json.loads((HERE / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location("robust_make_data", HERE / "make_data.py")
make_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_data)
TOL = 1e-3
COLUMNS = ["est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all"]


@pytest.fixture(scope="module")
def mcar() -> pd.DataFrame:
    return pd.read_csv(HERE / "study_mcar.csv")


@pytest.fixture(scope="module")
def fits(mcar):
    return {est: fit_fiml(make_data.STUDY_MODEL, mcar, estimator=est) for est in ("ML", "MLR")}


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_estimates_match_lavaan(fits, est):
    ours = fits[est].estimates()
    ref = pd.DataFrame(REF["cases"][f"study_fiml_{est.lower()}"]["estimates"])
    merged = ours.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ref) == len(ours)  # intercepts included (mean structure)
    diffs = {c: float(np.nanmax(np.abs(merged[c] - merged[c + "_r"]))) for c in COLUMNS}
    assert max(diffs.values()) < TOL, diffs


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_fit_measures_match_lavaan(fits, est):
    ours = fits[est].fit_measures()
    ref = REF["cases"][f"study_fiml_{est.lower()}"]["fit_measures"]
    common = [k for k in ours if k in ref and ref[k] is not None]
    must = [
        "chisq",
        "df",
        "pvalue",
        "baseline.chisq",
        "cfi",
        "tli",
        "rmsea",
        "rmsea.ci.lower",
        "rmsea.ci.upper",
        "srmr",
        "logl",
        "unrestricted.logl",
        "aic",
        "bic",
        "cfi.robust",
        "tli.robust",
        "rmsea.robust",
    ]
    if est == "MLR":
        must += [
            "chisq.scaled",
            "chisq.scaling.factor",
            "baseline.chisq.scaled",
            "cfi.scaled",
            "rmsea.scaled",
        ]
    assert set(must) <= set(common)
    bad = {k: (ours[k], ref[k]) for k in common if abs(ours[k] - ref[k]) > TOL}
    assert not bad, bad


def test_all_missing_rows_dropped_and_counted(mcar):
    data = mcar.copy()
    data.iloc[:3, :] = np.nan
    model = "A =~ SHI1 + SHI2 + SHI3\nB =~ SKL1 + SKL2 + SKL3\nC =~ EMO1 + EMO2 + EMO3\n"
    res = fit_fiml(model, data)
    assert res.nobs == len(data) - 3 and res.missing_data.n_dropped == 3
    assert any(w.code == "all_missing" for w in res.warnings)


def test_em_equals_sample_moments_without_missing():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(150, 4)) @ np.array(
        [[1, 0.5, 0.2, 0], [0, 1, 0.3, 0.1], [0, 0, 1, 0.4], [0, 0, 0, 1]]
    )
    md = missing_patterns(x)
    mu, cov, _ = em_saturated(md)
    assert np.allclose(mu, x.mean(axis=0)) and np.allclose(cov, np.cov(x.T, bias=True))


def test_em_recovers_truth_under_mcar():
    rng = np.random.default_rng(5)
    sigma = np.array([[1, 0.5, 0.3], [0.5, 1, 0.4], [0.3, 0.4, 1.0]])
    x = rng.multivariate_normal([1, 2, 3], sigma, size=4000)
    x[rng.random(x.shape) < 0.2] = np.nan
    mu, cov, _ = em_saturated(missing_patterns(x))
    assert np.allclose(mu, [1, 2, 3], atol=0.05) and np.allclose(cov, sigma, atol=0.06)
    # EM is the maximum: the likelihood gradient vanishes there
    _, g_sig, g_mu = loglik(missing_patterns(x), cov, mu, gradient=True)
    assert np.max(np.abs(g_sig)) < 1e-4 and np.max(np.abs(g_mu)) < 1e-4


def test_analytic_information_equals_numerical_hessian(mcar):
    ram = RAMModel(
        lavaanify("A =~ SHI1 + SHI2 + SHI3 + SHI4\nB =~ SKL1 + SKL2 + SKL3\nB ~ A", meanstructure=True)
    )
    md = missing_patterns(mcar[ram.ov].to_numpy()[:200])
    theta = np.concatenate([np.full(5, 0.8), np.full(9, 0.9), [0.2], np.full(7, 4.0)])[: ram.npar]
    h = observed_information(ram, md, theta)
    eye = np.eye(theta.size)
    num = -np.array(
        [
            (
                model_loglik(ram, md, theta + 1e-5 * e, True)[1]
                - model_loglik(ram, md, theta - 1e-5 * e, True)[1]
            )
            / 2e-5
            for e in eye
        ]
    )
    assert np.allclose(h, num, atol=1e-5 * np.abs(h).max())
    mu, cov, _ = em_saturated(md)
    w = h1_observed_information(md, cov, mu)
    assert np.allclose(w, w.T) and np.linalg.eigvalsh(w)[0] > 0
