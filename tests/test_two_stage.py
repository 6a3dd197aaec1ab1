"""missing = "two.stage" / "robust.two.stage" (Savalei & Bentler 2009; Savalei & Falk 2014) against lavaan
0.6.14 (tests/fixtures/twostage/twostage.json, make_twostage.R): one and two groups, configural and
loadings + intercepts equal, information expected/observed/first.order, MLF, lavaan's se/test overrides with
its warnings, covariates with fixed.x = FALSE (missing covariate values in stage 1), shared-label equality;
estimates, SEs, std.all within 1e-3, every fit measure lavaan reports within 1e-3 (logl/AIC/BIC 1e-5);
lavaan's refusals with its reasons; recovery of known values on simulated MAR data; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "twostage" / "twostage.json").read_text())
MODELS = REF["models"]
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")
HS = MODELS["hs_model"]
SCALAR = ["loadings", "intercepts"]
EQUAL_AB = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\na == b"
EQUAL_2B = EQUAL_AB.replace("a == b", "a == 2*b")
GROUP_EQ = "visual =~ x1 + c(a1, a2)*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\na1 == 1.2*a2"
BOUNDS = "visual =~ x1 + upper(0.5)*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
BOUNDS_EQ = ("visual =~ x1 + upper(0.5)*x2 + a*x3\ntextual =~ x4 + b*x5 + x6\nspeed =~ x7 + x8 + x9\n"
             "a == 0.6*b")
INEQ = "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\na > 0.7"


def _mar() -> pd.DataFrame:
    mar = pd.read_csv(HERE / "engine" / "hs39_mar.csv")
    mar["wt"] = 0.5 + (mar["id"] % 3) / 2  # as make_twostage.R
    mar["cl"] = mar["id"] % 40
    return mar


MAR = _mar()
MAR_EMPTY = MAR.copy()
MAR_EMPTY.loc[[4, 16], [f"x{i}" for i in range(1, 10)]] = np.nan  # as make_twostage.R (rows 5 and 17)
MIMIC = pd.read_csv(HERE / "engine" / "hs39_mimic_mar.csv")
FITTED = {  # case: (model, data, fit options, lavaan's warning -> our code)
    "ts_single": (HS, MAR, {"missing": "two.stage"}, None),
    "rts_single": (HS, MAR, {"missing": "robust.two.stage"}, None),
    "ts_groups": (HS, MAR, {"missing": "two.stage", "group": "school"}, None),
    "rts_groups": (HS, MAR, {"missing": "robust.two.stage", "group": "school"}, None),
    "ts_scalar": (HS, MAR, {"missing": "two.stage", "group": "school", "group_equal": SCALAR}, None),
    "rts_scalar": (HS, MAR, {"missing": "robust.two.stage", "group": "school", "group_equal": SCALAR}, None),
    "ts_expected": (HS, MAR, {"missing": "two.stage", "information": "expected"}, None),
    "rts_expected": (HS, MAR, {"missing": "robust.two.stage", "information": "expected"}, None),
    "ts_mlf": (HS, MAR, {"missing": "two.stage", "estimator": "MLF"}, None),
    "ts_se_hw": (HS, MAR, {"missing": "two.stage", "se": "robust.huber.white"}, "se_two_stage"),
    "ts_test_yb": (HS, MAR, {"missing": "two.stage", "test": "yuan.bentler"}, "test_two_stage"),
    "ts_boot": (HS, MAR, {"missing": "two.stage", "se": "bootstrap", "bootstrap": 20}, "se_two_stage"),
    "ts_first_order": (HS, MAR, {"missing": "two.stage", "information": "first.order"},
                       "information_two_stage"),
    "ts_mimic_free_x": (MODELS["mimic_model"], MIMIC, {"missing": "two.stage", "fixed_x": False}, None),
    "rts_mimic_free_x": (MODELS["mimic_model"], MIMIC, {"missing": "robust.two.stage", "fixed_x": False},
                         None),
    "ts_spelling": (HS, MAR, {"missing": "two.step"}, None),
    "ts_equality": (EQUAL_AB, MAR, {"missing": "two.stage"}, None),
    "ts_mlr": (HS, MAR, {"missing": "two.stage", "estimator": "MLR"}, None),
    "ts_constraint": (EQUAL_2B, MAR, {"missing": "two.stage"}, None),
    "ts_mlr_constraint": (EQUAL_2B, MAR, {"missing": "two.stage", "estimator": "MLR"}, None),
    "rts_constraint_groups": (GROUP_EQ, MAR, {"missing": "robust.two.stage", "group": "school"}, None),
    "ts_inequality": (INEQ, MAR, {"missing": "two.stage"}, None),
    "ts_mlmvs": (HS, MAR, {"missing": "two.stage", "estimator": "MLMVS"}, None),
    "rts_mlmvs_groups": (HS, MAR, {"missing": "robust.two.stage", "estimator": "MLMVS", "group": "school"},
                         None),
    "rts_mlr_groups": (HS, MAR, {"missing": "robust.two.stage", "estimator": "MLR", "group": "school"}, None),
    "ts_bounds": (BOUNDS, MAR, {"missing": "two.stage"}, None),
    "rts_bounds_constraint": (BOUNDS_EQ, MAR, {"missing": "robust.two.stage"}, ("bounds_ignored",)),
    "rts_empty_rows": (HS, MAR_EMPTY, {"missing": "robust.two.stage"}, ("all_missing",)),
    "rts_empty_rows_cluster": (HS, MAR_EMPTY, {"missing": "robust.two.stage", "cluster": "cl"},
                               ("se_two_stage", "test_two_stage", "all_missing")),
    "ts_cluster": (HS, MAR, {"missing": "two.stage", "cluster": "cl"}, ("se_two_stage", "test_two_stage")),
    "rts_cluster": (HS, MAR, {"missing": "robust.two.stage", "cluster": "cl"},
                    ("se_two_stage", "test_two_stage")),
}


@pytest.mark.parametrize("case", sorted(FITTED))
def test_two_stage_equals_lavaan(case):
    model, data, options, warning = FITTED[case]
    ref = REF["cases"][case]
    res = fit(model, data, **options)
    assert res.nobs == ref["ntotal"]
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is None or key not in fm:
            continue
        tol = 1e-5 * max(1.0, abs(value)) if key in LOGL else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol), (case, key)
        checked += 1
    assert checked >= 40, checked  # the scaled and robust measures included
    for key in ("chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled", "cfi.robust",
                "rmsea.robust"):
        value = ref["fit_measures"].get(key)
        if value is None:  # lavaan: NA (MLMVS has no robust CFI/RMSEA)
            assert key not in fm or not np.isfinite(fm[key]), key
        else:
            assert fm[key] == pytest.approx(value, abs=1e-4), key
    pe = pd.DataFrame(ref["estimates"])
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in options else [])
    merged = pe.merge(res.estimates(), on=on, suffixes=("_r", ""))
    assert len(merged) == len(pe)
    for col in ("est", "se", "std.all"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, (case, col)
    codes = [w.code for w in res.warnings]
    if warning is None:
        assert not [c for c in codes if c.endswith("two_stage")] and not ref["warnings"]
    else:
        expected = (warning,) if isinstance(warning, str) else warning
        shown = ("bounds_ignored", "all_missing")
        assert sorted(c for c in codes if c.endswith("two_stage") or c in shown) == sorted(expected)
        assert len(ref["warnings"]) == len(expected)
    assert getattr(res, "bootstrap", None) is None  # lavaan: no bootstrap either, the two-stage SEs


def test_two_stage_ses_are_not_the_naive_ml_ses_on_the_em_moments():
    """The two-stage sandwich carries the missing-data information loss: every loading's SE is larger than
    that of ML fitted to the EM moments as if they came from complete data (lavaan's "standard" on them)."""
    res = fit(HS, MAR, missing="two.stage")
    ts = res.estimates().set_index(["lhs", "op", "rhs"])
    from survey.sem.inference import vcov as vcmod

    naive = np.sqrt(np.diag(vcmod.standard(res.information.information, res.nobs).vcov))
    free = ts[ts["se"] > 0]
    assert len(free) == len(naive)
    loadings = (free.index.get_level_values("op") == "=~")
    assert np.all(free["se"].to_numpy()[loadings] > naive[loadings] * 1.01)


NOT_ALLOWED = 'missing="two.stage" is not allowed for estimator'
REFUSED = {  # case: (fit options, the reason, in lavaan's words, in both messages)
    "ts_mlm": ({"missing": "two.stage", "estimator": "MLM"}, NOT_ALLOWED),
    "ts_mlmv": ({"missing": "two.stage", "estimator": "MLMV"}, NOT_ALLOWED),
    "rts_mlm": ({"missing": "robust.two.stage", "estimator": "MLM"},
                'missing="robust.two.stage" is not allowed for estimator'),
    "ts_uls": ({"missing": "two.stage", "estimator": "ULS"}, NOT_ALLOWED),
    "ts_weights": ({"missing": "two.stage", "sampling_weights": "wt"},
                   "two.stage + sampling.weights is not supported yet"),
    "ts_dwls": ({"missing": "two.stage", "estimator": "DWLS"}, "non-conformable arguments"),
    "ts_ordered": ({"missing": "two.stage", "ordered": ["x1", "x2", "x3"]},
                   'missing="two.stage" not available in the categorical setting'),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_two_stage_refusals_give_lavaans_reason(case):
    options, reason = REFUSED[case]
    assert reason in REF["cases"][case]["error"]  # lavaan 0.6.14 refuses it, for this reason
    with pytest.raises(SurveyInputError) as err:
        fit(HS, MAR, **options)
    assert reason in str(err.value)


@pytest.mark.parametrize("data", ["mar", "mimic"])
def test_two_stage_with_fixed_x_covariates_is_refused_as_lavaan_stops(data):
    ref = REF["cases"]["ts_fixed_x" if data == "mar" else "ts_fixed_x_na"]
    assert "error" in ref  # lavaan 0.6.14: "NA/NaN/Inf in foreign function call"
    with pytest.raises(SurveyInputError, match="fixed.x covariates .ageyr, sex.*fixed_x=False"):
        fit(MODELS["mimic_model"], MAR if data == "mar" else MIMIC, missing="two.stage")


@pytest.mark.parametrize("case", ["ts_single", "rts_groups", "ts_mlr", "rts_mlmvs_groups", "rts_mlr_groups"])
def test_two_stage_test_table_equals_lavaans(case):
    """lavInspect(fit, "test"): standard, then satorra.bentler (MLR: yuan.bentler.mplus with lavaan's pairwise
    ADF Gamma of the incomplete rows, then satorra.bentler with the stage-1 Gamma)."""
    from survey.sem.inference.adjusted import test_table

    model, data, options, _ = FITTED[case]
    ours = test_table(fit(model, data, **options))
    ref = REF["cases"][case]["test"]
    assert list(ours) == list(ref)
    for name, entry in ref.items():
        for key in ("stat", "df", "pvalue", "scaling.factor", "trace.UGamma", "trace.UGamma2"):
            if entry.get(key) is not None:
                assert ours[name][key] == pytest.approx(entry[key], abs=1e-5), (name, key)


def test_two_stage_recovers_known_values_on_simulated_mar_data():
    """One factor, loadings (1, .8, .6, .7), residual variances .5, factor variance 1, means 0; 30% MAR holes
    in y2..y4 driven by y1; n = 3000 (seed 14): estimates near the truth, and the 95% intervals cover."""
    rng = np.random.default_rng(14)
    n = 3000
    f = rng.normal(size=n)
    lam = np.array([1.0, 0.8, 0.6, 0.7])
    y = f[:, None] * lam + rng.normal(scale=np.sqrt(0.5), size=(n, 4))
    p_miss = 1 / (1 + np.exp(-(-1.2 + 1.2 * y[:, 0])))
    for j in (1, 2, 3):
        y[rng.random(n) < p_miss, j] = np.nan
    data = pd.DataFrame(y, columns=["y1", "y2", "y3", "y4"])
    truth = {("F", "=~", "y2"): 0.8, ("F", "=~", "y3"): 0.6, ("F", "=~", "y4"): 0.7, ("F", "~~", "F"): 1.0,
             ("y2", "~~", "y2"): 0.5, ("y4", "~1", ""): 0.0}
    for variant in ("two.stage", "robust.two.stage"):
        est = fit("F =~ y1 + y2 + y3 + y4", data, missing=variant).estimates().set_index(["lhs", "op", "rhs"])
        listwise = fit("F =~ y1 + y2 + y3 + y4", data, meanstructure=True).estimates()\
            .set_index(["lhs", "op", "rhs"])
        for key, value in truth.items():
            row = est.loc[key]
            assert abs(row["est"] - value) < 3.5 * row["se"], (variant, key)
        # listwise deletion under MAR is biased on the means; two-stage is not
        assert abs(listwise.loc[("y4", "~1", ""), "est"]) > 5 * est.loc[("y4", "~1", ""), "se"]


def test_cli_fit_two_stage_json(tmp_path):
    model = tmp_path / "hs.lav"
    model.write_text(HS + "\n")
    data = tmp_path / "mar.csv"
    MAR.drop(columns=["wt", "cl"]).to_csv(data, index=False)
    out = subprocess.run([sys.executable, "-m", "survey", "fit", str(model), str(data), "--missing",
                          "robust.two.stage", "--json"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    ref = REF["cases"]["rts_single"]["fit_measures"]
    assert result["nobs"] == 301
    assert result["fit_measures"]["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], abs=1e-3)
    bad = subprocess.run([sys.executable, "-m", "survey", "fit", str(model), str(data), "--missing",
                          "two.stage", "--estimator", "MLM"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert 'missing="two.stage" is not allowed for estimator "MLM"' in bad.stderr


def test_two_stage_summary_prints_lavaans_se_lines_and_patterns():
    """summary() as lavaan 0.6.14 prints a robust.two.stage fit: 33 missing patterns, SEs Robust.two.stage,
    observed information based on H1, the h1 information Unstructured."""
    text = fit(HS, MAR, missing="robust.two.stage").summary()
    text = text if isinstance(text, str) else str(text)
    for line in ("  Number of missing patterns                        33",
                 "  Standard errors                        Robust.two.stage",
                 "  Observed information based on                        H1",
                 "  Information saturated (h1) model           Unstructured"):
        assert line in text.splitlines(), line


@pytest.mark.parametrize("case", ["ts_single", "rts_single"])
def test_two_stage_modindices_equal_lavaan(case):
    """modindices() of a two-stage fit: the information weighted at the EM moments (lavaan's h1.information
    "unstructured"), mi / epc / sepc within 1e-3 on every candidate lavaan lists."""
    ref = pd.DataFrame(json.loads((HERE / "twostage" / "twostage_mi.json").read_text())["cases"][case]
                       ["modindices"])
    missing = {"ts_single": "two.stage", "rts_single": "robust.two.stage"}[case]
    ours = fit(HS, MAR, missing=missing).modindices()
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(merged) == len(ref) == len(ours)
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.nanmax(np.abs(merged[col] - merged[f"{col}_r"])) < 1e-3, col


def test_two_stage_lrt_is_lavaans_scaled_difference():
    """lavTestLRT(configural, scalar) of two-stage fits: the Satorra-Bentler (2001) scaled difference."""
    from survey.sem.results.lrt import lav_test_lrt

    ref = json.loads((HERE / "twostage" / "twostage_mi.json").read_text())["lrt"]["table"][1]
    conf = fit(HS, MAR, missing="two.stage", group="school")
    scalar = fit(HS, MAR, missing="two.stage", group="school", group_equal=SCALAR)
    row = lav_test_lrt(conf, scalar).iloc[1]
    assert row["Chisq diff"] == pytest.approx(ref["Chisq diff"], abs=1e-4)
    assert row["Df diff"] == ref["Df diff"]
    assert row["Pr(>Chisq)"] == pytest.approx(ref["Pr(>Chisq)"], rel=1e-4)


def test_invariance_with_two_stage_runs_its_sequence():
    """Formerly refused; the sequence against lavaan: tests/test_invariance_two_stage.py."""
    from survey.sem.invariance import invariance

    res = invariance(HS, MAR, group="school", missing="two.stage", steps=("configural", "metric"))
    assert [s.model for s in res.steps] == ["configural", "metric"]
    assert res.measures["chisq"] == "chisq.scaled"
