"""Test lists lavaan 0.6.14 fits that were refused (issue 14, the last refusals), against
tests/fixtures/engine/test_lists.json (make_test_lists.R): ``test = c(..., "bollen.stine")`` beside a
scaled test (ML both orders, MLR, two groups): the Bollen-Stine p-value on lavaan's own resamples
(test_lists_<case>_g<g>.csv.gz), the other tests and the fit measures as lavaan's; the Yuan-Bentler-Mplus
entry with lavaan's scaling.factor.h1 / .h0 (also checked on every fixture of tests/test_combos*.py and
test_engine_aliases.py through check_against_lavaan); MLMV / MLMVS with a Satorra-Bentler test; clustered
MLMV / MLMVS with several tests, and with weights + a yuan.bentler test; Browne's tests with FIML refused
with lavaan's reason (browne_fiml.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.bootstrap import bootstrap

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "test_lists.json").read_text())
MODELS = REF["models"]
HS = pd.read_csv(HERE / "hs39.csv")
BS_LISTS = {
    "ml_sb_bs": {"test": ["satorra.bentler", "bollen.stine"]},
    "ml_bs_sb": {"test": ["bollen.stine", "satorra.bentler"]},
    "mlr_bs_sb": {"estimator": "MLR", "test": ["bollen.stine", "satorra.bentler"]},
    "mg_bs_ss": {"group": "school", "test": ["bollen.stine", "scaled.shifted"]},
}
FIELDS = ("stat", "df", "pvalue", "scaling.factor", "shift.parameter")
YBM = ("scaling.factor.h1", "scaling.factor.h0")  # lavaan's Yuan-Bentler-Mplus entry also has these


def _indices(case: str, groups: int) -> np.ndarray | list[np.ndarray]:
    out = [pd.read_csv(HERE / f"test_lists_{case}_g{g}.csv.gz", header=None).to_numpy(np.int64)
           for g in range(1, groups + 1)]
    return out[0] if groups == 1 else out


@pytest.mark.parametrize("case", list(BS_LISTS))
def test_bollen_stine_beside_other_tests_equals_lavaan(case):
    options = BS_LISTS[case]
    ref = REF["cases"][case]
    res = fit(MODELS["hs"], HS, bootstrap=10, seed=3, **options)
    tests = res.tests()
    assert set(tests) == set(ref["test_names"])
    for name, want in ref["test"].items():
        for key in FIELDS:
            if key in want and not (name == "bollen.stine" and key == "pvalue"):  # p: resamples below
                assert tests[name][key] == pytest.approx(want[key], abs=1e-3), (name, key)
        if name == "yuan.bentler.mplus":
            for key in YBM:
                assert tests[name][key] == pytest.approx(want[key], abs=1e-3), (name, key)
    assert tests["bollen.stine"]["replications"] == 10  # our own seeded resamples through fit()
    fm = res.fit_measures()
    for key in ("chisq", "df", "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.scaled",
                "rmsea.scaled", "cfi.robust", "rmsea.robust", "srmr"):
        if ref["fit_measures"].get(key) is not None:
            assert fm[key] == pytest.approx(ref["fit_measures"][key], abs=1e-3), key
    est = pd.DataFrame(ref["estimates"])
    free = (pd.DataFrame(ref["partable"])["free"] > 0).to_numpy()
    mine = res.estimates()[res.partable["free"].to_numpy() > 0]
    np.testing.assert_allclose(mine["se"].to_numpy(float), est.loc[free, "se"].to_numpy(float), atol=1e-3)
    # the Bollen-Stine p-value on lavaan's resamples
    bs = ref["bollen_stine"]
    plain = fit(MODELS["hs"], HS, group=options.get("group"))
    boot = bootstrap(plain, indices=_indices(case, 2 if "group" in options else 1), bollen_stine=True,
                     workers=1, progress=False)
    np.testing.assert_allclose(boot.chisq, bs["boot_T"], atol=1e-3)
    assert boot.bollen_stine_pvalue == pytest.approx(bs["pvalue"], abs=1e-12)


@pytest.mark.parametrize("case, estimator", [("mlmv_sb", "MLMV"), ("mlmvs_sb", "MLMVS")])
def test_mlmv_mlmvs_with_a_satorra_bentler_test_equal_lavaan(case, estimator):
    """lavaan: the alias' own test stays the fit's (scaled.shifted / mean.var.adjusted, its fit measures),
    the Satorra-Bentler test beside it, in lavaan's order."""
    ref = REF["cases"][case]
    res = fit(MODELS["hs"], HS, estimator=estimator, test="satorra.bentler")
    tests = res.tests()
    assert list(tests) == ref["test_names"]
    for name, want in ref["test"].items():
        for key in FIELDS:
            if key in want:
                assert tests[name][key] == pytest.approx(want[key], abs=1e-3), (name, key)
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is not None and key in fm and key not in ("logl", "unrestricted.logl", "aic", "bic", "bic2"):
            assert fm[key] == pytest.approx(value, abs=1e-3), key
            checked += 1
    assert checked > 40
    est = pd.DataFrame(ref["estimates"])
    np.testing.assert_allclose(res.estimates()["se"].to_numpy(float), est["se"].to_numpy(float), atol=1e-3)


@pytest.mark.parametrize("case, estimator, test", [
    ("mlmv_cl_list", "MLMV", ["satorra.bentler", "yuan.bentler.mplus"]),
    ("mlmvs_cl_list", "MLMVS", ["yuan.bentler.mplus", "satorra.bentler"]),
    ("mlmv_cl_sb_yb", "MLMV", ["satorra.bentler", "yuan.bentler"]),
])
def test_clustered_mlmv_mlmvs_with_several_tests_equal_lavaan(case, estimator, test):
    """cluster= with MLMV / MLMVS and two further tests: the alias' test, then the others in the order
    given, all on lavaan's observed.information = "h1" (the Yuan-Bentler-Mplus one with its h1 / h0
    scaling factors)."""
    ref = REF["cases"][case]
    wd = pd.read_csv(HERE.parent / "weighted" / "weighted.csv")
    res = fit(MODELS["w"], wd, estimator=estimator, cluster="cid", test=test)
    tests = res.tests()
    assert list(tests) == ref["test_names"]
    for name, want in ref["test"].items():
        for key in FIELDS + (YBM if name == "yuan.bentler.mplus" else ()):
            if key in want:
                assert tests[name][key] == pytest.approx(want[key], abs=1e-3), (name, key)
    fm = res.fit_measures()
    for key in ("chisq.scaled", "pvalue.scaled", "cfi.scaled", "rmsea.scaled", "cfi.robust", "srmr"):
        want = ref["fit_measures"].get(key)
        assert (fm.get(key) is None or not np.isfinite(fm[key])) if want is None else \
            fm[key] == pytest.approx(want, abs=1e-3), key
    est = pd.DataFrame(ref["estimates"])
    np.testing.assert_allclose(res.estimates()["se"].to_numpy(float), est["se"].to_numpy(float), atol=1e-3)


@pytest.mark.parametrize("test", ["browne.residual.adf", "browne.residual.nt"])
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_browne_with_fiml_refused_with_lavaans_reason(test, estimator):
    """tests/fixtures/engine/browne_fiml.json (make_browne_fiml.R): lavaan 0.6.14 refuses Browne's tests
    with missing = "ml"; our message gives its reason."""
    from survey.errors import SurveyInputError

    ref = json.loads((HERE / "browne_fiml.json").read_text())["cases"][test]
    reason = ref["error"].removeprefix("lavaan ERROR: ")
    assert reason == "Browne's test is not available when data is missing"
    with pytest.raises(SurveyInputError) as info:
        fit(MODELS["hs"], pd.read_csv(HERE / "hs39_mar.csv"), missing="fiml", estimator=estimator, test=test)
    assert reason in str(info.value) and info.value.field == "test"


def test_clustered_weighted_mlmv_with_a_yuan_bentler_test_equals_lavaan():
    """MLMV, sampling weights and cluster=, test = "yuan.bentler": lavaan's statistic on its own Omega
    (not the Satorra-Bentler one it equals without weights)."""
    ref = REF["cases"]["mlmv_w_cl_yb"]
    wd = pd.read_csv(HERE.parent / "weighted" / "weighted.csv")
    res = fit(MODELS["w"], wd, estimator="MLMV", cluster="cid", sampling_weights="w", test="yuan.bentler")
    tests = res.tests()
    assert list(tests) == ref["test_names"]
    for name, want in ref["test"].items():
        for key in FIELDS:
            if key in want:
                assert tests[name][key] == pytest.approx(want[key], abs=1e-3), (name, key)
    assert tests["yuan.bentler"]["stat"] < tests["standard"]["stat"] / 1.2  # not SB's 11.63
    est = pd.DataFrame(ref["estimates"])
    np.testing.assert_allclose(res.estimates()["se"].to_numpy(float), est["se"].to_numpy(float), atol=1e-3)
