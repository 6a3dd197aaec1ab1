"""Estimator x missing-data x cluster x test combinations lavaan 0.6.14 fits (issue 14), against
tests/fixtures/combos/combos.json (make_combos.R): every fit measure lavaan gives (logl/AIC/BIC 1e-5, the rest
1e-3), lavInspect(fit, "test"), estimates, SEs and std.all (1e-3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


@pytest.mark.parametrize("test", ["mean.var.adjusted", "scaled.shifted"])
def test_clustered_ml_tests_refused_with_lavaans_message(test):
    assert "in the clustered case" in REF["cases"][f"cfa_cluster_ml_{test}"]["error"]
    with pytest.raises(SurveyInputError, match="in the clustered case"):
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


YB_H1 = ("scaling.factor.h1", "scaling.factor.h0")  # lavaan's logl scaling of a yuan.bentler fit: not given


@pytest.mark.parametrize("case, data, options, skip", [
    ("hs_ml_tests", "hs", {"test": ["satorra.bentler", "yuan.bentler", "yuan.bentler.mplus",
                                    "mean.var.adjusted", "scaled.shifted"]}, ()),
    ("hs_mlr_tests", "hs", {"estimator": "MLR", "test": ["satorra.bentler", "scaled.shifted"]}, ()),
    ("mimic3_mlm_tests", "hs", {"estimator": "MLM", "test": ["satorra.bentler", "scaled.shifted",
                                                             "mean.var.adjusted"]}, ()),
    ("hs_fiml_ml_tests", "mar", {"missing": "fiml", "test": ["yuan.bentler", "yuan.bentler.mplus"]}, YB_H1),
    ("hs_fiml_mlr_tests", "mar", {"missing": "fiml", "estimator": "MLR",
                                  "test": ["yuan.bentler.mplus", "yuan.bentler"]}, ()),
    ("hs_fiml_ml_tests_sb", "mar", {"missing": "fiml", "test": ["yuan.bentler", "satorra.bentler"]}, YB_H1),
])
def test_several_tests_equal_lavaan(case, data, options, skip):
    """lavaan's test = c(...): every test reported (lavInspect(fit, "test")), the first one scaling the fit
    measures; under MLR all on observed.information = "h1" (its own yuan.bentler.mplus too: 67.2666, not
    the Hessian's 72.8491); an SB-style test among them drops FIML to listwise."""
    ref = REF["cases"][case]
    res = fit(MODELS[case.split("_")[0]], {"hs": HS, "mar": MAR}[data], **options)
    check_against_lavaan(res, ref, skip=skip)


def test_mlmv_with_fiml_refused_with_lavaans_reason():
    assert 'missing="ml" is not allowed for estimator' in REF["cases"]["hs_fiml_mlmv"]["error"]
    with pytest.raises(SurveyInputError, match='missing="ml" is not allowed for estimator MLMV'):
        fit(MODELS["hs"], MAR, estimator="MLMV", missing="fiml")


@pytest.mark.parametrize("case, model, data, options", [
    ("hs_fiml_ml", "hs", "mar", {"missing": "fiml"}),
    ("hs_fiml_mlr", "hs", "mar", {"missing": "fiml", "estimator": "MLR"}),
    ("mimic3_fiml_ml", "mimic3", "mmar", {"missing": "fiml"}),  # fixed.x covariates
    ("mimic3_fiml_mlx", "mimic3", "mmar", {"missing": "ml.x"}),
])
def test_fiml_modindices_equal_lavaan(case, model, data, options):
    """modindices() of a FIML fit: lavaan's information = "expected" (the missing-data expected information
    of the extended model) and the FIML score; every candidate lavaan lists (survey used to drop 7 of 54
    and was off by up to 11.6 in mi)."""
    ref = pd.DataFrame(REF["modindices"][case]["modindices"])
    res = fit(MODELS[model], {"mar": MAR, "mmar": MMAR}[data], **options)
    merged = ref.merge(res.modindices(), on=["lhs", "op", "rhs"], how="outer", suffixes=("_r", ""),
                       indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(ref)
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, col


def test_invariance_with_mlf_under_fiml_equals_lavaan():
    """estimator MLF in the invariance sequence: each step's fit measures and lavTestLRT's standard chi-square
    differences as lavaan's; the latent means of the scalar step carry MLF's first-order SEs."""
    from survey.sem import invariance
    from survey.sem.invariance_groups import latent_means

    res = invariance(MODELS["hs"], MAR, "school", estimator="MLF", missing="fiml",
                     steps=["configural", "metric", "scalar"], partial=False, criterion="lrt")
    frame = res.to_frame().set_index("model")
    lrt = REF["invariance_mlf_lrt"]
    for i, step in enumerate(("configural", "metric", "scalar")):
        if step not in frame.index:
            continue
        fm = REF["cases"][f"hs_inv_mlf_{step}"]["fit_measures"]
        for name in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
            assert frame.loc[step, name] == pytest.approx(fm[name], abs=1e-3), (step, name)
        if i:
            assert frame.loc[step, "lrt.chisq"] == pytest.approx(lrt["chisq_diff"][i], abs=1e-3)
            assert frame.loc[step, "lrt.df"] == lrt["df_diff"][i]
    assert {"configural", "metric", "scalar"} <= set(frame.index)
    scalar = fit(MODELS["hs"], MAR, estimator="MLF", missing="fiml", group="school",
                 group_equal=["loadings", "intercepts"])
    ref = pd.DataFrame(REF["cases"]["hs_inv_mlf_scalar"]["estimates"])
    ref = ref[(ref["op"] == "~1") & ref["lhs"].isin(["visual", "textual", "speed"]) & (ref["group"] == 2)]
    merged = latent_means(scalar).merge(ref, on=["lhs", "group"], suffixes=("", "_r"))
    assert len(merged) == 3
    np.testing.assert_allclose(merged[["est", "se"]].to_numpy(), merged[["est_r", "se_r"]].to_numpy(),
                               atol=1e-3)


def test_invariance_refuses_mlmv():
    from survey.sem import invariance

    with pytest.raises(SurveyInputError, match="Satorra"):
        invariance(MODELS["hs"], HS, "school", estimator="MLMV")


WMAR = pd.read_csv(FIX / "weighted" / "weighted_mar.csv")


@pytest.mark.parametrize("case, estimator, data", [
    ("cfa_w_ml_satorra.bentler", "ML", "d"), ("cfa_w_ml_yuan.bentler", "ML", "d"),
    ("cfa_w_ml_scaled.shifted", "ML", "d"), ("cfa_w_ml_mean.var.adjusted", "ML", "d"),
    ("cfa_w_ml_browne.residual.adf", "ML", "d"), ("cfa_w_mlm_scaled.shifted", "MLM", "d"),
    ("cfa_w_fiml_ml_yuan.bentler", "ML", "m"),
])
def test_second_tests_with_sampling_weights_equal_lavaan(case, estimator, data):
    """Weighted ML runs as MLR: its yuan.bentler.mplus, then the asked test; yuan.bentler takes the h1 Omega
    of the weighted scores (10.43911 as lavaan; it used to be the Satorra-Bentler value 11.70941)."""
    ref = REF["cases"][case]
    test = case.rsplit("_", 1)[1]
    options = {"missing": "fiml"} if data == "m" else {}
    res = fit(MODELS["cfa"], WMAR if data == "m" else WD, sampling_weights="w", estimator=estimator,
              test=test, **options)
    big = ("baseline.chisq.scaled",)  # in the thousands: 1e-5 relative (as tests/test_sem_weighted.py)
    check_against_lavaan(res, ref, skip=YB_H1 + big)
    for key in big:
        assert res.fit_measures()[key] == pytest.approx(ref["fit_measures"][key], rel=1e-5)


def test_mlf_with_weights_and_fiml_equals_lavaan():
    res = fit(MODELS["sem"], WMAR, sampling_weights="w", estimator="MLF", missing="fiml")
    check_against_lavaan(res, REF["cases"]["sem_w_fiml_mlf"])


@pytest.mark.parametrize("test", ["satorra.bentler", "yuan.bentler"])
def test_clustered_ml_with_a_satorra_bentler_test_equals_lavaan(test):
    """lavaan 0.6.14: se robust.cluster, information observed for the SEs and the test (model and baseline),
    Gamma cluster-summed; its clustered yuan.bentler is the same statistic (14.297108)."""
    ref = REF["cases"][f"cfa_cluster_ml_{'sb' if test == 'satorra.bentler' else 'yb'}"]
    res = fit(MODELS["cfa"], WD, cluster="cid", test=test)
    assert res.estimator == "ML" and "test_ignored" not in [w.code for w in res.warnings]
    check_against_lavaan(res, ref, skip=YB_H1)
    assert res.tests()[test]["stat"] == pytest.approx(14.297108, abs=1e-5)


def test_clustered_mlm_with_its_own_test_warns_nothing():
    res = fit(MODELS["cfa"], WD, cluster="cid", estimator="MLM", test="satorra.bentler")
    assert "test_ignored" not in [w.code for w in res.warnings]


def test_mlm_cluster_summary_names_lavaans_standard_errors():
    """lavaan's summary(): 'Standard errors  Robust.cluster.sem', 'Information  Expected'."""
    text = fit(MODELS["cfa"], WD, cluster="cid", estimator="MLM").summary(fit_measures=False)
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    assert "Standard errors Robust.cluster.sem" in lines and "Information Expected" in lines
    assert "Number of clusters [cid] 50" in lines


@pytest.mark.parametrize("case, options", [
    ("cfa_cluster_mlf", {"estimator": "MLF"}),  # lavaan: information = c("expected", "observed")
    ("cfa_cluster_ml_expected", {"information": "expected"}),  # its test on the expected one too
])
def test_clustered_ml_information_variants_equal_lavaan(case, options):
    """Cluster-robust SEs on the expected information; the Yuan-Bentler-Mplus test on lavaan's h1 observed
    information under MLF, on the expected one under ML with information="expected" (it had taken the h1
    observed one: 14.3535 vs lavaan's 14.3553)."""
    ref = REF["cases"][case]
    assert ref["options"]["se"] == "robust.cluster"
    check_against_lavaan(fit(MODELS["cfa"], WD, cluster="cid", **options), ref)


@pytest.mark.parametrize("case, options", [
    ("sem_cluster_ml_sb", {"test": "satorra.bentler"}),  # a fixed.x covariate
    ("cfa_cluster_mg_ml_sb", {"test": "satorra.bentler", "group": "gender"}),
    ("sem_cluster_mlf", {"estimator": "MLF"}),
])
def test_clustered_ml_variants_with_covariates_and_groups_equal_lavaan(case, options):
    check_against_lavaan(fit(MODELS[case.split("_")[0]], WD, cluster="cid", **options), REF["cases"][case])
