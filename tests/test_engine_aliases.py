"""Combinations lavaan 0.6.14 supports that survey used to refuse (issue 14), against
tests/fixtures/engine/aliases.json (make_aliases.R): the estimator aliases MLF / MLMV / MLMVS, fixed.x = FALSE
with exogenous covariates (listwise ML / MLR / MLM) and group.equal without group= (lavaan ignores it).
Every fit measure lavaan prints (logl/AIC/BIC 1e-5, the rest 1e-3), lavInspect(fit, "test"), estimates, SEs
and std.all (1e-3); and lavaan's refusals of these estimators with missing data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.inference.adjusted import test_table as lavaan_tests

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "aliases.json").read_text())
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")
HS = pd.read_csv(HERE / "hs39.csv")
MAR = pd.read_csv(HERE / "hs39_mar.csv")


def check_against_lavaan(res, ref, skip=()):
    """Fit measures, lavaan's test table, estimates, SEs and std.all of ``res`` equal ``ref``'s."""
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is None or key in skip:
            continue
        assert key in fm and fm[key] is not None, key
        tol = 1e-5 * max(1.0, abs(value)) if key in LOGL else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol), key
        checked += 1
    assert checked >= 30
    table = lavaan_tests(res)
    assert sorted(table) == sorted(ref["test"])
    for name, entry in ref["test"].items():
        for key in ("stat", "df", "pvalue", "scaling.factor", "shift.parameter"):
            if entry.get(key) is not None:
                assert table[name][key] == pytest.approx(entry[key], abs=1e-3), (name, key)
        for key in ("scaling.factor.h1", "scaling.factor.h0"):  # Yuan-Bentler-Mplus (yuan.bentler: not yet)
            if entry.get(key) is not None and (name == "yuan.bentler.mplus" or key in table[name]):
                assert table[name][key] == pytest.approx(entry[key], abs=1e-3), (name, key)
    pe, est = pd.DataFrame(ref["estimates"]), res.estimates()
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in est else [])
    merged = pe.merge(est, on=on, suffixes=("_r", ""))
    assert len(merged) == len(pe)
    for col in ("est", "se", "std.all"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, col
    assert res.fit_measures()["npar"] == ref["npar"]
    ss_ref, ss = pd.DataFrame(ref["std_all"]), res.standardized_solution()  # delta-method SEs of std.all
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in ss else [])
    merged = ss_ref.merge(ss, on=on, suffixes=("_r", ""))
    assert len(merged) == len(ss_ref)
    for col in ("est.std", "se"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, col


@pytest.mark.parametrize("case", [c for c in sorted(REF["cases"]) if c.split("_", 1)[1] in
                                  ("mlf", "mlmv", "mlmvs")])
def test_estimator_alias_equals_lavaan(case):
    ref = REF["cases"][case]
    model, estimator = case.split("_")
    res = fit(REF["models"][model], HS, estimator=estimator.upper())
    assert res.estimator == ref["options"]["estimator"] == "ML"  # lavaan runs the aliases as ML
    check_against_lavaan(res, ref)


@pytest.mark.parametrize("estimator", ["MLF", "MLMV", "MLMVS"])
def test_estimator_alias_multigroup_metric_equals_lavaan(estimator):
    ref = REF["cases"][f"hs_mg_{estimator.lower()}"]
    res = fit(REF["models"]["hs"], HS, estimator=estimator, group="school", group_equal="loadings")
    assert list(res.estimates()["group"].unique()) == [1, 2]
    check_against_lavaan(res, ref)


def test_mlf_with_fiml_equals_lavaan():
    """lavaan fits MLF with missing="ml": the FIML-corrected robust CFI/TLI/RMSEA then take the first-order
    information of the model and of the baseline (lav_fit_fiml_corrected; cfi.robust 0.9264, not the
    0.9346 of the observed information)."""
    ref = REF["cases"]["hs_mlf_fiml"]
    res = fit(REF["models"]["hs"], MAR, estimator="MLF", missing="fiml")
    check_against_lavaan(res, ref)
    assert res.fit_measures()["cfi.robust"] == pytest.approx(0.926407, abs=1e-5)


def test_mlf_summary_describes_the_standard_errors_as_lavaan():
    text = str(fit(REF["models"]["hs"], HS, estimator="MLF").summary())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "Standard errors Standard" in lines and "Information First.order" in lines  # lavaan's summary()
    assert "Estimator ML" in lines


def test_aliases_differ_where_lavaan_differs():
    ses = {e: fit(REF["models"]["hs"], HS, estimator=e).estimates()["se"].to_numpy() for e in ("ML", "MLF",
                                                                                              "MLMV")}
    assert np.nanmax(np.abs(ses["MLF"] - ses["ML"])) > 1e-3
    assert np.nanmax(np.abs(ses["MLMV"] - ses["ML"])) > 1e-3


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM"])
def test_fixed_x_false_listwise_equals_lavaan(estimator):
    ref = REF["cases"][f"mimic3_fixedx_false_{estimator.lower()}"]
    res = fit(REF["models"]["mimic3"], HS, estimator=estimator, fixed_x=False)
    assert ref["options"]["fixed.x"] is False
    covariates = res.estimates().query("op == '~~' and lhs == 'ageyr' and rhs == 'ageyr'")
    assert covariates["se"].iloc[0] > 0  # the covariates' (co)variances are free parameters
    check_against_lavaan(res, ref)


def test_fixed_x_false_multigroup_mlr_equals_lavaan():
    ref = REF["cases"]["mimic3_mg_fixedx_false_mlr"]
    res = fit(REF["models"]["mimic3"], HS, estimator="MLR", group="school", fixed_x=False)
    check_against_lavaan(res, ref)


def test_group_equal_without_group_is_ignored_as_lavaan():
    ref = REF["cases"]["hs_group_equal_nogroup"]
    assert ref["warnings"] == [] and ref["options"]["group.equal"] == ["loadings"]
    res = fit(REF["models"]["hs"], HS, group_equal="loadings")
    check_against_lavaan(res, ref)
    assert any(w.code == "group_equal_ignored" for w in res.warnings)


@pytest.mark.parametrize("estimator", ["MLMV", "MLMVS"])
@pytest.mark.parametrize("missing", ["fiml", "ml.x"])
def test_mlmv_with_missing_data_refused_as_lavaan(estimator, missing):
    with pytest.raises(SurveyInputError, match=f'missing="ml" is not allowed for estimator {estimator}'):
        fit(REF["models"]["hs"], MAR, estimator=estimator, missing=missing)


def test_mlf_with_robust_se_refused_as_lavaan():
    with pytest.raises(SurveyInputError, match="if robust standard errors are requested"):
        fit(REF["models"]["hs"], HS, estimator="MLF", se="robust.sem")


@pytest.mark.parametrize("options", [{"estimator": "MLMV"}, {"estimator": "MLMVS"},
                                     {"estimator": "ML", "test": "scaled.shifted"}])
def test_lr_tests_of_scaled_shifted_fits_take_satorra_2000(options):
    """lavTestLRT takes Satorra (2000) for scaled-shifted / mean-and-variance adjusted tests (not the SB2001
    difference of the scaling factors): path comparison and lav_test_lrt give it (lavaan's numbers:
    tests/test_lrt_estimators.py)."""
    from survey.sem.compare import lr_equal_paths
    from survey.sem.results.lrt import lav_test_lrt

    model = "vis =~ x1 + x2 + x3\ntext =~ x4 + x5 + x6\nx9 ~ vis + text"
    lr = lr_equal_paths(fit, model, HS, "x9", **options)
    one = fit(model, HS, **options)
    two = fit(model.replace("vis + text", "a*vis + a*text"), HS, **options)
    table = lav_test_lrt(one, two)
    assert lr.method == table.attrs["method"] == "satorra.2000"
    assert lr.chisq_diff == pytest.approx(table["Chisq diff"].iloc[1], rel=1e-6)
    mlm = lr_equal_paths(fit, model, HS, "x9", estimator="MLM")  # SB2001 stays for MLM
    assert mlm.method == "satorra.bentler.2001" and np.isfinite(mlm.chisq_diff) and mlm.df_diff == 1


@pytest.mark.parametrize("name", ["mlm", "mlr", "mlmv", "mlmvs"])
def test_estimator_names_are_not_test_names(name):
    """lavaan 0.6.14: 'invalid value(s) in test= argument' for estimator names given as test=."""
    with pytest.raises(SurveyInputError, match="not available"):
        fit("vis =~ x1 + x2 + x3", HS, test=name)
