"""Browne's residual-based tests (test = "browne.residual.adf" / "browne.residual.nt") of the continuous
least-squares estimators against lavaan 0.6.14 (tests/fixtures/ls_options/make_ls_browne.R ->
ls_browne.json): GLS, ULS, WLS, DWLS; one group, two groups with equal loadings, fixed.x, sampling
weights, an explicit equality a == b (Delta times the null space of its Jacobian). The statistic
within 1e-3 or 1e-5 relative (with equal loadings lavaan's optimum is ~1e-5 from ours: 123.809 vs 123.808),
df equal, the p-value within 1e-6; the standard test stays the fit's; with pairwise moments lavaan refuses
(so do we, with its reason)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ls_options import DATA

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ls_options"
REF = json.loads((HERE / "ls_browne.json").read_text())
MODELS = REF["models"]


def _call(name: str):
    call = REF["cases"][name]["call"]
    est = call.split('estimator = "')[1].split('"')[0]
    test = call.split('test = "')[1].split('"')[0]
    kw = {"estimator": est, "test": test}
    if "group.equal" in call:
        kw.update(group="school", group_equal="loadings")
    if "fixed.x = TRUE" in call:
        kw["fixed_x"] = True
    if "pairwise" in call:
        kw["missing"] = "pairwise"
    if "sampling.weights" in call:
        kw["sampling_weights"] = "wt"
    model = MODELS[call.split("models$")[1].split(",")[0]]
    return model, DATA["mar" if ", mar," in call else "hs"], kw


@pytest.mark.parametrize("name", sorted(k for k, c in REF["cases"].items() if "error" not in c))
def test_browne_residual_test_equals_lavaan(name):
    model, data, kw = _call(name)
    res = fit(model, data, **kw)
    ours, want = res.tests(), REF["cases"][name]["test"]
    assert set(ours) == set(want) == {"standard", kw["test"]}
    got, ref = ours[kw["test"]], want[kw["test"]]
    assert got["stat"] == pytest.approx(ref["stat"], abs=1e-3, rel=1e-5)
    assert got["df"] == ref["df"] and got["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-6)
    assert res.fit_measures()["chisq"] == pytest.approx(REF["cases"][name]["chisq"], abs=1e-3)


def test_browne_with_pairwise_refused_with_lavaans_reason():
    model, data, kw = _call("adf_pairwise_uls")
    assert "not available when data is missing" in REF["cases"]["adf_pairwise_uls"]["error"]
    with pytest.raises(SurveyInputError, match="Browne's test is not available when data is missing"):
        fit(model, data, **kw)
