"""MLR / MLM (survey.sem.robust) against lavaan 0.6.14 (tests/fixtures/robust/make_reference.R)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem.robust import (
    duplication_matrix,
    fit_robust,
    gamma_adf,
    h1_information,
    h1_scores,
    scaled_difference,
    vech_index,
)

HERE = Path(__file__).parent / "fixtures" / "robust"
REF = json.loads((HERE / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location("robust_make_data", HERE / "make_data.py")
make_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_data)
TOL = 1e-3
COLUMNS = ["est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all"]
CASES = {
    "hs_mlr": ("hs", "MLR"),
    "hs_mlm": ("hs", "MLM"),
    "study_mlr": ("study", "MLR"),
    "study_mlm": ("study", "MLM"),
}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"{name}.csv")


def _model(name: str) -> str:
    return make_data.HS_MODEL if name == "hs" else make_data.STUDY_MODEL


@pytest.fixture(scope="module")
def fits():
    return {case: fit_robust(_model(d), _data(d), estimator=e) for case, (d, e) in CASES.items()}


def compare_estimates(result, ref_case: dict) -> dict[str, float]:
    """Max abs difference per column between our estimates and lavaan's parameterEstimates."""
    ours = result.estimates()
    ref = pd.DataFrame(ref_case["estimates"])
    merged = ours.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ours) == len(ref)
    return {
        c: float(np.nanmax(np.abs(merged[c].astype(float) - merged[c + "_r"].astype(float)))) for c in COLUMNS
    }


def compare_measures(result, ref_case: dict) -> dict[str, float]:
    ours = result.fit_measures()
    ref = ref_case["fit_measures"]
    common = [k for k in ours if k in ref and ref[k] is not None]
    return {k: abs(ours[k] - ref[k]) for k in common}


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(fits, case):
    diffs = compare_estimates(fits[case], REF["cases"][case])
    assert max(diffs.values()) < TOL, diffs


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(fits, case):
    diffs = compare_measures(fits[case], REF["cases"][case])
    required = [
        "chisq.scaled",
        "df.scaled",
        "pvalue.scaled",
        "chisq.scaling.factor",
        "baseline.chisq.scaled",
        "baseline.pvalue.scaled",
        "baseline.chisq.scaling.factor",
        "cfi.scaled",
        "tli.scaled",
        "rmsea.scaled",
        "rmsea.ci.lower.scaled",
        "rmsea.ci.upper.scaled",
        "cfi.robust",
        "tli.robust",
        "rmsea.robust",
        "rmsea.ci.lower.robust",
        "rmsea.ci.upper.robust",
        "chisq",
        "cfi",
        "srmr",
    ]
    assert set(required) <= set(diffs)
    bad = {k: v for k, v in diffs.items() if v > TOL}
    assert not bad, bad


def test_mlr_reports_h1_h0_factors(fits):
    f = fits["hs_mlr"].fit_measures()
    ref = REF["cases"]["hs_mlr"]["fit_measures"]
    assert f["scaling.factor.h1"] == pytest.approx(ref["scaling.factor.h1"], abs=TOL)
    assert f["scaling.factor.h0"] == pytest.approx(ref["scaling.factor.h0"], abs=TOL)
    assert fits["hs_mlr"].to_dict()["fit_measures"]["chisq.scaled"] == pytest.approx(
        ref["chisq.scaled"], abs=TOL
    )


@pytest.mark.parametrize("est", ["MLR", "MLM"])
def test_scaled_difference_matches_lavTestLRT(fits, est):
    orth = make_data.HS_MODEL + "visual ~~ 0*textual\nvisual ~~ 0*speed\ntextual ~~ 0*speed\n"
    fit0 = fit_robust(orth, _data("hs"), estimator=est)
    out = scaled_difference(fit0, fits[f"hs_{est.lower()}"])
    ref = REF["cases"][f"hs_diff_{est.lower()}"]
    assert out["df.diff"] == ref["df"]
    assert out["chisq.diff"] == pytest.approx(ref["stat"], abs=TOL)
    assert out["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-6)


def test_moment_helpers():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) @ np.array([[1, 0.3, 0.2], [0, 1, 0.4], [0, 0, 1.0]])
    s = np.cov(x.T, bias=True)
    rows, cols = vech_index(3)
    d = duplication_matrix(3)
    assert np.allclose(d @ s[rows, cols], s.ravel())
    # the scores of the saturated model sum to zero at the ML estimates and have the right covariance
    sc = h1_scores(x, s, x.mean(axis=0), True)
    assert np.allclose(sc.sum(axis=0), 0, atol=1e-8)
    w = h1_information(s, True)
    # for normal data B1 ~ A1 and W Gamma W ~ W (information matrix equality, up to sampling error)
    b1 = sc.T @ sc / len(x)
    assert np.allclose(np.trace(np.linalg.solve(w, b1)) / w.shape[0], 1.0, atol=0.15)
    g = gamma_adf(x, False)
    assert g.shape == (6, 6) and np.allclose(g, g.T)


def test_rejects_unknown_estimator():
    from survey.errors import SurveyInputError

    with pytest.raises(SurveyInputError):
        fit_robust(make_data.HS_MODEL, _data("hs"), estimator="WLS")
