"""Estimator x missing-data x cluster x test combinations lavaan 0.6.14 fits (issue 14), against
tests/fixtures/combos/combos.json (make_combos.R): every fit measure lavaan gives (logl/AIC/BIC 1e-5, the rest
1e-3), lavInspect(fit, "test"), estimates, SEs and std.all (1e-3)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from tests.test_engine_aliases import check_against_lavaan

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "combos" / "combos.json").read_text())
MODELS = REF["models"]
HS = pd.read_csv(FIX / "engine" / "hs39.csv")
MAR = pd.read_csv(FIX / "engine" / "hs39_mar.csv")
MMAR = pd.read_csv(FIX / "engine" / "hs39_mimic_mar.csv")
WD = pd.read_csv(FIX / "weighted" / "weighted.csv")


def test_mlf_with_fiml_multigroup_metric_equals_lavaan():
    res = fit(MODELS["hs"], MAR, estimator="MLF", missing="fiml", group="school", group_equal="loadings")
    check_against_lavaan(res, REF["cases"]["hs_mg_mlf_fiml"])


@pytest.mark.parametrize("missing", ["fiml", "ml.x"])
def test_mlf_with_fiml_mimic_equals_lavaan(missing):
    """fixed.x covariates: rows with a missing covariate deleted under "ml" (lavaan's warning), kept under
    "ml.x"."""
    ref = REF["cases"][f"mimic3_mlf_{'fiml' if missing == 'fiml' else 'mlx'}"]
    res = fit(MODELS["mimic3"], MMAR, estimator="MLF", missing=missing)
    assert res.nobs == ref["ntotal"]
    check_against_lavaan(res, ref)


@pytest.mark.parametrize("case, options", [
    ("cfa_cluster_mlm", {}),
    ("sem_cluster_mlm", {}),  # an observed covariate (fixed.x)
    ("cfa_w_cluster_mlm", {"sampling_weights": "w"}),
    ("cfa_cluster_mg_mlm", {"group": "gender"}),
])
def test_mlm_with_clusters_equals_lavaan_robust_cluster_sem(case, options):
    """lavaan's robust.cluster.sem: robust.sem SEs and the Satorra-Bentler test with Gamma from the
    cluster-summed moment deviations times C/(C-1)."""
    ref = REF["cases"][case]
    assert ref["options"]["se"] == "robust.cluster.sem" and not ref["warnings"]
    res = fit(MODELS[case.split("_")[0]], WD, cluster="cid", estimator="MLM", **options)
    check_against_lavaan(res, ref)


def test_mlm_cluster_scaling_differs_from_the_unclustered_one():
    plain = fit(MODELS["cfa"], WD, estimator="MLM").fit_measures()["chisq.scaling.factor"]
    clustered = fit(MODELS["cfa"], WD, estimator="MLM", cluster="cid").fit_measures()["chisq.scaling.factor"]
    assert clustered == pytest.approx(REF["cases"]["cfa_cluster_mlm"]["fit_measures"]["chisq.scaling.factor"],
                                      abs=1e-6)
    assert abs(plain - clustered) > 3e-3  # lavaan: 1.0102 clustered, 1.0048 without


@pytest.mark.parametrize("model", ["cfa", "sem"])
def test_weighted_mlm_equals_lavaan(model):
    """sampling.weights with MLM (lavaan: robust.sem + Satorra-Bentler, Gamma of the unweighted rows), against
    tests/fixtures/weighted/reference.json."""
    ref = json.loads((FIX / "weighted" / "reference.json").read_text())["cases"][f"{model}_w_mlm"]
    check_against_lavaan(fit(MODELS[model], WD, sampling_weights="w", estimator="MLM"), ref)


def test_clustered_mlr_ignores_test_as_lavaan():
    """lavaan 0.6.14 overrides test= with yuan.bentler.mplus for a clustered MLR fit (a Satorra-Bentler second
    test used to switch the Yuan-Bentler-Mplus test to the h1 information: 14.3535 vs lavaan's 14.5640)."""
    ref = REF["cases"]["cfa_cluster_mlr_sb"]
    assert sorted(ref["test"]) == ["standard", "yuan.bentler.mplus"]
    res = fit(MODELS["cfa"], WD, cluster="cid", estimator="MLR", test="satorra.bentler")
    check_against_lavaan(res, ref)
    assert [w.code for w in res.warnings] == ["test_ignored"]


@pytest.mark.parametrize("test, message", [
    ("mean.var.adjusted", "in the clustered case"),  # lavaan's refusal
    ("scaled.shifted", "in the clustered case"),
    ("satorra.bentler", "with cluster= and estimator ML is not available yet"),  # lavaan fits it: a gap
])
def test_clustered_ml_tests_refused(test, message):
    with pytest.raises(SurveyInputError, match=message):
        fit(MODELS["cfa"], WD, cluster="cid", test=test)


@pytest.mark.parametrize("estimator", ["MLF", "MLMV", "MLMVS"])
def test_aliases_with_sampling_weights_equal_lavaan(estimator):
    """lavaan keeps the alias' se / test with sampling.weights= (ML alone would run as MLR): MLF first-order
    SEs from the weighted scores and the standard test; MLMV / MLMVS robust.sem with their scaled tests."""
    ref = REF["cases"][f"sem_w_{estimator.lower()}"]
    res = fit(MODELS["sem"], WD, sampling_weights="w", estimator=estimator)
    assert res.estimator == "ML" and "weights_robust" not in [w.code for w in res.warnings]
    check_against_lavaan(res, ref)


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
@pytest.mark.parametrize("test", ["satorra.bentler", "mean.var.adjusted", "scaled.shifted"])
def test_fiml_with_satorra_bentler_style_tests_goes_listwise_as_lavaan(estimator, test):
    """lavaan 0.6.14: 'missing will be set to "listwise" for satorra.bentler style test' (the whole fit on
    the complete cases: N 186 of 301), with the test beside MLR's own yuan.bentler.mplus."""
    ref = REF["cases"][f"hs_fiml_{estimator.lower()}_{test}"]
    assert any("listwise" in w for w in ref["warnings"]) and ref["ntotal"] == 186
    res = fit(MODELS["hs"], MAR, estimator=estimator, missing="fiml", test=test)
    assert res.missing == "listwise" and res.nobs == 186
    assert "missing_listwise" in [w.code for w in res.warnings]
    check_against_lavaan(res, ref)


def test_fiml_robust_sem_goes_listwise_as_lavaan():
    """lavaan 0.6.14: 'missing will be set to "listwise" for se = "robust.sem"'; the same fit as listwise."""
    res = fit(MODELS["hs"], MAR, missing="fiml", se="robust.sem")
    listwise = fit(MODELS["hs"], MAR.dropna(subset=[f"x{i}" for i in range(1, 10)]), se="robust.sem")
    assert "missing_listwise" in [w.code for w in res.warnings] and res.nobs == listwise.nobs == 186
    assert res.estimates()["se"].to_numpy() == pytest.approx(listwise.estimates()["se"].to_numpy(), abs=1e-10)


def test_fiml_mlr_with_yuan_bentler_second_test_equals_lavaan():
    ref = REF["cases"]["hs_fiml_mlr_yuan.bentler"]
    res = fit(MODELS["hs"], MAR, estimator="MLR", missing="fiml", test="yuan.bentler")
    assert res.missing != "listwise"
    check_against_lavaan(res, ref)


@pytest.mark.parametrize("test", ["mean.var.adjusted", "scaled.shifted", "browne.residual.adf"])
def test_mlr_with_a_second_test_equals_lavaan(test):
    """Beside MLR's own yuan.bentler.mplus, on lavaan's observed.information = "h1" for all tests."""
    check_against_lavaan(fit(MODELS["hs"], HS, estimator="MLR", test=test), REF["cases"][f"hs_mlr_{test}"])
