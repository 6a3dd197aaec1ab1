"""The last estimator x weights x cluster combinations lavaan 0.6.14 fits (issue 14/20, robust2), against
tests/fixtures/combos2/combos2.json (make_combos2.R): every fit measure lavaan gives (logl/AIC/BIC 1e-5, the
rest 1e-3), lavInspect(fit, "test"), estimates, SEs and std.all (1e-3)."""

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
REF = json.loads((FIX / "combos2" / "combos2.json").read_text())
MODELS = REF["models"]
WD = pd.read_csv(FIX / "weighted" / "weighted.csv")


BOUNDS = [
    ("cfa_lower_w_ml", "cfa_lower", {"sampling_weights": "w"}),  # the bound is not active
    ("cfa_active_w_ml", "cfa_active", {"sampling_weights": "w"}),  # lower() and upper() both active
    ("cfa_active_w_mlr", "cfa_active", {"sampling_weights": "w", "estimator": "MLR"}),
    ("cfa_active_cluster_ml", "cfa_active", {"cluster": "cid"}),
    ("cfa_active_cluster_mlr", "cfa_active", {"cluster": "cid", "estimator": "MLR"}),
    ("cfa_active_cluster_mlm", "cfa_active", {"cluster": "cid", "estimator": "MLM"}),
    ("cfa_active_cluster_mlmv", "cfa_active", {"cluster": "cid", "estimator": "MLMV"}),
]


@pytest.mark.parametrize("case, model, options", BOUNDS, ids=[c[0] for c in BOUNDS])
def test_bounds_with_sampling_weights_or_clusters_equal_lavaan(case, model, options):
    """lower()/upper() with sampling weights (weighted ML runs as MLR) or clusters (cluster-robust SEs)."""
    ref = REF["cases"][case]
    res = fit(MODELS[model], WD, **options)
    check_against_lavaan(res, ref)
    if "active" in case:
        est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
        assert est[("y1", "~~", "y1")] == pytest.approx(0.5, abs=1e-6)
        assert est[("y5", "~~", "y5")] == pytest.approx(0.3, abs=1e-6)


def test_bounds_with_weights_and_the_bootstrap_refused_as_lavaan():
    """Bounds with the bootstrap are fitted (tests/test_boot_bounds.py); with sampling weights the bootstrap
    itself is refused with lavaan's reason (weights run ML as MLR, whose bootstrap lavaan refuses)."""
    with pytest.raises(SurveyInputError, match="bootstrap is not available with sampling weights"):
        fit(MODELS["cfa_active"], WD, sampling_weights="w", se="bootstrap", bootstrap=5)


SB_SS = ["satorra.bentler", "scaled.shifted"]
TEST_LISTS = [
    ("cfa_w_ml_tests", "cfa", {"sampling_weights": "w", "test": SB_SS}),
    ("sem_w_mlr_tests", "sem", {"sampling_weights": "w", "estimator": "MLR",
                                "test": ["satorra.bentler", "yuan.bentler"]}),
    ("sem_w_mlm_tests", "sem", {"sampling_weights": "w", "estimator": "MLM",
                                "test": [*SB_SS, "mean.var.adjusted"]}),
    ("cfa_cluster_ml_tests", "cfa", {"cluster": "cid", "test": ["satorra.bentler", "yuan.bentler.mplus"]}),
    ("cfa_cluster_ml_tests_ybm", "cfa", {"cluster": "cid",
                                         "test": ["yuan.bentler.mplus", "satorra.bentler"]}),
    ("cfa_cluster_mlr_tests", "cfa", {"cluster": "cid", "estimator": "MLR", "test": SB_SS}),
    ("cfa_cluster_mlm_tests", "cfa", {"cluster": "cid", "estimator": "MLM", "test": SB_SS}),
    ("cfa_eq_ml_tests", "cfa_eq", {"test": SB_SS}),
    ("cfa_eq_ml_tests_ybm", "cfa_eq", {"test": ["satorra.bentler", "yuan.bentler.mplus"]}),
    ("cfa_eq_mlr_tests", "cfa_eq", {"estimator": "MLR", "test": SB_SS}),
    ("cfa_eq_mlm_tests", "cfa_eq", {"estimator": "MLM", "test": [*SB_SS, "mean.var.adjusted"]}),
    ("cfa_ineq_ml_tests", "cfa_ineq", {"test": SB_SS}),
    ("cfa_eq_w_ml_tests", "cfa_eq", {"sampling_weights": "w", "test": SB_SS}),
]


@pytest.mark.parametrize("case, model, options", TEST_LISTS, ids=[c[0] for c in TEST_LISTS])
def test_several_tests_with_weights_clusters_constraints_equal_lavaan(case, model, options):
    """test=[...] with sampling weights, clusters or explicit constraints: each test of lavaan's list
    (clustered MLR / MLM keep only their own test, as lavaan 0.6.14)."""
    ref = REF["cases"][case]
    res = fit(MODELS[model], WD, **options)
    check_against_lavaan(res, ref)
    dropped = "cluster" in options and "estimator" in options
    assert ("test_ignored" in [w.code for w in res.warnings]) == dropped


LS = ["GLS", "ULS", "DWLS", "WLS"]


@pytest.mark.parametrize("model", ["cfa", "sem"])
@pytest.mark.parametrize("estimator", LS)
def test_least_squares_with_sampling_weights_equal_lavaan(model, estimator):
    """GLS / ULS / DWLS / WLS with sampling weights: lavaan 0.6.14 fits the weighted S (divisor sum w)
    with Gamma from the unweighted rows, se "standard" and the standard test."""
    ref = REF["cases"][f"{model}_w_{estimator.lower()}"]
    res = fit(MODELS[model], WD, sampling_weights="w", estimator=estimator)
    check_against_lavaan(res, ref)
    plain = fit(MODELS[model], WD, estimator=estimator).fit_measures()["chisq"]
    assert abs(plain - ref["fit_measures"]["chisq"]) > 0.05  # the weights change the fit


@pytest.mark.parametrize("estimator", LS)
def test_weighted_least_squares_residuals_and_modindices_equal_lavaan(estimator):
    from survey.sem.results.ls_residuals import ls_residuals

    want = REF["ls_extra"][f"cfa_w_{estimator.lower()}"]
    res = fit(MODELS["cfa"], WD, sampling_weights="w", estimator=estimator)
    for kind, matrix in want["residuals"].items():
        got = ls_residuals(res, kind)[0].cov.to_numpy()
        np.testing.assert_allclose(got, np.array(matrix), atol=1e-3, err_msg=kind)
    ref_mi = pd.DataFrame(want["modindices"])
    both = ref_mi.merge(res.modindices(), on=["lhs", "op", "rhs"], suffixes=("_ref", ""))
    assert len(both) == len(ref_mi) > 10
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)


MLMV_CASES = [("cfa_cluster_mlmv", "cfa", "MLMV", {}), ("cfa_cluster_mlmvs", "cfa", "MLMVS", {}),
              ("sem_cluster_mlmv", "sem", "MLMV", {}), ("sem_cluster_mlmvs", "sem", "MLMVS", {}),
              ("cfa_cluster_mg_mlmv", "cfa", "MLMV", {"group": "gender"}),
              ("cfa_w_cluster_mlmv", "cfa", "MLMV", {"sampling_weights": "w"}),
              ("cfa_cluster_mlmv_sb", "cfa", "MLMV", {"test": "satorra.bentler"}),
              ("cfa_cluster_mlmvs_yb", "cfa", "MLMVS", {"test": "yuan.bentler"}),
              ("cfa_w_cluster_mlmv_sb", "cfa", "MLMV", {"sampling_weights": "w", "test": "satorra.bentler"})]


@pytest.mark.parametrize("case, model, estimator, options", MLMV_CASES, ids=[c[0] for c in MLMV_CASES])
def test_mlmv_mlmvs_with_clusters_equal_lavaan(case, model, estimator, options):
    """lavaan: robust.cluster SEs on the expected information; the alias' test and yuan.bentler.mplus on
    observed.information = "h1" (model and baseline), with lavaan's warning about it."""
    ref = REF["cases"][case]
    assert ref["options"]["se"] == "robust.cluster"
    res = fit(MODELS[model], WD, cluster="cid", estimator=estimator, **options)
    check_against_lavaan(res, ref)
    assert res.estimator == "ML" == ref["options"]["estimator"]
    assert "h1_information" in [w.code for w in res.warnings]


@pytest.mark.parametrize("estimator, test", [("MLMV", "scaled.shifted"), ("MLMVS", "mean.var.adjusted"),
                                             ("MLMV", "browne.residual.adf")])
def test_mlmv_with_clusters_and_other_tests_refused_as_lavaan(estimator, test):
    assert "in the clustered case" in REF["cases"]["cfa_cluster_mlmv_ss"]["error"]
    with pytest.raises(SurveyInputError, match="in the clustered case"):
        fit(MODELS["cfa"], WD, cluster="cid", estimator=estimator, test=test)


def test_mlf_with_weights_and_clusters_equals_lavaan():
    """MLF with sampling weights and clusters: its Yuan-Bentler-Mplus test on observed.information = "h1"
    (lavaan 0.6.14: 9.7692; on the expected information it was 9.8650)."""
    ref = REF["cases"]["cfa_w_cluster_mlf"]
    res = fit(MODELS["cfa"], WD, sampling_weights="w", cluster="cid", estimator="MLF")
    check_against_lavaan(res, ref)


DESIGN_CASES = [(c, m, o) for c, m, o in TEST_LISTS if "sampling_weights" in o or "cluster" in o] + [
    (c, m, {"cluster": "cid", "estimator": e, **o}) for c, m, e, o in MLMV_CASES]


@pytest.mark.parametrize("case, model, options", DESIGN_CASES, ids=[c[0] for c in DESIGN_CASES])
def test_json_options_name_lavaans_tests(case, model, options):
    """The JSON's se / test of a weighted or clustered fit are lavInspect(fit, "options")'s."""
    from survey.sem.results.views import to_dict

    ref = REF["cases"][case]["options"]
    out = to_dict(fit(MODELS[model], WD, **options))
    assert out["test"] == (ref["test"] if isinstance(ref["test"], list) else [ref["test"]])
    assert out["se"] == ref["se"]
