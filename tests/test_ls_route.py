"""survey.fit(..., estimator="GLS"|"ULS"|"DWLS"|"WLS") on continuous data (survey.sem.ls_route) against
lavaan 0.6.14 (tests/fixtures/engine/aliases.json, make_aliases.R: ``sem(model, hs, estimator = ...)``):
estimates / se / z / pvalue / CI / std.all (1e-3), lavaan's fitMeasures (1e-5, lavaan's own optimiser
tolerance; no logl / AIC / BIC, as lavaan), summary(), to_dict(), the CLI, and the one-line refusals."""

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
from survey.sem.estimate.wls import LS_ESTIMATORS

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "aliases.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")


@pytest.mark.parametrize("estimator", LS_ESTIMATORS)
@pytest.mark.parametrize("model", ["hs", "mimic3"])
def test_fit_equals_lavaan(model, estimator):
    ref = REF["cases"][f"{model}_{estimator.lower()}"]
    res = fit(REF["models"][model], HS, estimator=estimator)
    assert res.estimator == estimator and res.converged
    merged = res.estimates().merge(pd.DataFrame(ref["estimates"]), on=["lhs", "op", "rhs"],
                                   suffixes=("", "_r"))
    assert len(merged) == len(ref["estimates"])
    for col in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all"):
        ours, theirs = merged[col].to_numpy(float), merged[f"{col}_r"].to_numpy(float)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), col
        assert np.nanmax(np.abs(ours - theirs)) < 1e-3, col
    fm, rf = res.fit_measures(), ref["fit_measures"]
    for key in ("logl", "aic", "bic", "bic2", "unrestricted.logl"):
        assert key not in fm and key not in rf
    assert fm["df"] == rf["df"] and fm["baseline.df"] == rf["baseline.df"]
    compared = list(rf)
    assert {"chisq", "pvalue", "cfi", "tli", "rmsea", "srmr", "fmin", "gfi", "agfi"} <= set(compared)
    for key in compared:
        if rf[key] is None:  # lavaan's NA: ULS p-values
            assert estimator == "ULS" and key in ("pvalue", "baseline.pvalue") and np.isnan(fm[key])
            continue
        assert fm[key] == pytest.approx(rf[key], rel=1e-5, abs=1e-5), key
    assert set(fm) == set(compared)


def test_summary_and_dict():
    res = fit(REF["models"]["hs"], HS, estimator="GLS")
    text = res.summary()
    assert "GLS" in text and "Loglikelihood" not in text and "Akaike" not in text
    assert f"{REF['cases']['hs_gls']['fit_measures']['chisq']:.3f}" in text
    d = res.to_dict()
    assert json.loads(json.dumps(d, default=float))
    assert len(res.modindices()) > 50  # = lavaan: tests/test_ls_modindices.py
    assert res.score_tests().empty  # no equality constraints (with them: tests/test_score_single.py)


@pytest.mark.parametrize("estimator", LS_ESTIMATORS)
def test_tests_table_as_lavaan(estimator):
    ref = REF["cases"][f"hs_{estimator.lower()}"]["test"]["standard"]
    ours = fit(REF["models"]["hs"], HS, estimator=estimator).tests()["standard"]
    assert ours["stat"] == pytest.approx(ref["stat"], rel=1e-6) and ours["df"] == ref["df"]
    assert ours["refdistr"] == ref["refdistr"]
    if ref["pvalue"] is None:
        assert np.isnan(ours["pvalue"])
    else:
        assert ours["pvalue"] == pytest.approx(ref["pvalue"], rel=1e-4, abs=1e-12)


@pytest.mark.parametrize("kwargs, option", [
    ({"missing": "fiml"}, "missing"),
    ({"se": "robust"}, "se"),
    ({"se": "bootstrap", "sampling_weights": "wt"}, "se"),  # tests/test_ls_bootstrap*.py
    ({"bootstrap": 10}, "bootstrap"),
    ({"cluster": "school"}, "cluster"),
    ({"test": "satorra.bentler"}, "test"),
])
def test_refusals_name_the_option(kwargs, option):
    with pytest.raises(SurveyInputError) as err:
        fit(REF["models"]["hs"], HS, estimator="GLS", **kwargs)
    assert err.value.field == option and "\n" not in str(err.value) and "GLS" in str(err.value)


def test_robust_variants_on_continuous_data_are_lavaans_least_squares():
    """lavaan 0.6.14 fits WLSMV / ULSMV on continuous items as DWLS / ULS with se = "robust.sem" and the
    scaled-shifted test (was refused here; against lavaan: tests/test_heldout4.py hs_wlsmv_cont,
    hs_ulsmv_cont)."""
    for est, base in (("WLSMV", "DWLS"), ("ULSMV", "ULS")):
        got = fit(REF["models"]["hs"], HS, estimator=est).fit_measures()
        want = fit(REF["models"]["hs"], HS, estimator=base, se="robust.sem",
                   test="scaled.shifted").fit_measures()
        assert got["chisq.scaled"] == pytest.approx(want["chisq.scaled"], rel=1e-10)


def test_cli_estimator_gls(tmp_path):
    (tmp_path / "m.lav").write_text(REF["models"]["hs"])
    HS.to_csv(tmp_path / "d.csv", index=False)
    out = subprocess.run([sys.executable, "-m", "survey.cli", "fit", str(tmp_path / "m.lav"),
                          str(tmp_path / "d.csv"), "--estimator", "GLS", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert json.dumps(d).count("77.47") >= 1
    with_res = subprocess.run([sys.executable, "-m", "survey.cli", "fit", str(tmp_path / "m.lav"),
                               str(tmp_path / "d.csv"), "--estimator", "GLS", "--residuals", "raw", "--json"],
                              capture_output=True, text=True)
    assert with_res.returncode == 0, with_res.stderr
    refused = subprocess.run([sys.executable, "-m", "survey.cli", "fit", str(tmp_path / "m.lav"),
                              str(tmp_path / "d.csv"), "--estimator", "ULS", "--residuals", "normalized"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "h1 information" in refused.stderr


@pytest.mark.parametrize("estimator", LS_ESTIMATORS)
@pytest.mark.parametrize("model", ["hs", "mimic3"])
def test_standardized_solution_and_r2_equal_lavaan(model, estimator):
    ref = REF["cases"][f"{model}_{estimator.lower()}"]
    res = fit(REF["models"][model], HS, estimator=estimator)
    std = res.standardized_solution().merge(pd.DataFrame(ref["std_all"]), on=["lhs", "op", "rhs"],
                                            suffixes=("", "_r"))
    assert len(std) == len(ref["std_all"])
    assert np.max(np.abs(std["est.std"] - std["est.std_r"])) < 1e-3
    assert np.max(np.abs(std["se"] - std["se_r"])) < 1e-3
    r2 = res.r2()
    assert max(abs(r2[k] - v) for k, v in ref["r2"].items()) < 1e-3


def test_fit_recovers_known_loadings():
    rng = np.random.default_rng(20261202)
    n, lam = 3000, np.array([1.0, 0.8, 0.6, 0.7])
    eta = rng.standard_normal(n)
    data = pd.DataFrame(eta[:, None] * lam + rng.standard_normal((n, 4)) * 0.6, columns=list("abcd"))
    for est in LS_ESTIMATORS:
        res = fit("f =~ a + b + c + d", data, estimator=est)
        loadings = res.estimates().query("op == '=~'")["est"].to_numpy()[1:]
        assert np.max(np.abs(loadings - lam[1:])) < 0.05, est
        assert res.fit_measures()["rmsea"] < 0.05, est


@pytest.mark.parametrize("options", [{"estimator": "GLS"}, {"estimator": "ULS"}, {"estimator": "MLMV"}])
def test_compare_paths_keeps_the_wald_test_and_gives_lavaans_lr_test(options):
    """Least-squares and scaled-shifted fits: the LR test of equal paths is lavTestLRT's default (standard
    difference, satorra.2000; lavaan's numbers: tests/test_lrt_estimators.py); the Wald comparison stays."""
    from survey.sem.results.lrt import lav_test_lrt

    model = "vis =~ x1 + x2 + x3\ntext =~ x4 + x5 + x6\nx9 ~ vis + text"
    res = fit(model, HS, **options)
    out = res.compare_paths("x9", data=HS)
    assert out.lrt is not None and out.lrt.df_diff == 1
    d = out.to_dict()
    pair = d["pairwise"][0]  # two paths: the omnibus Wald test is the pairwise z squared, on 1 df
    assert d["omnibus_wald"]["df"] == 1
    assert d["omnibus_wald"]["stat"] == pytest.approx(pair["z"] ** 2, rel=1e-9)
    est = res.estimates().query("op == '~'").set_index("rhs")["est"]
    assert pair["diff"] == pytest.approx(est["vis"] - est["text"])
    other = fit(model.replace("vis + text", "a*vis + a*text"), HS, **options)
    assert out.lrt.chisq_diff == pytest.approx(lav_test_lrt(res, other)["Chisq diff"].iloc[1], rel=1e-6)


@pytest.mark.parametrize("estimator, kwargs, reason", [
    ("GLS", {"missing": "fiml"}, "needs estimator ML"),
    ("WLS", {"missing": "ml"}, "needs estimator ML"),
    ("GLS", {"test": "satorra.bentler"}, "invalid value\\(s\\) in test= argument when estimator is GLS"),
    ("WLS", {"test": "scaled.shifted"}, "invalid value\\(s\\) in test= argument when estimator is WLS"),
    ("ULS", {"test": "yuan.bentler"}, "first.order information not available for estimator ULS"),
    ("DWLS", {"test": "yuan.bentler.mplus"}, "first.order information not available for estimator DWLS"),
    ("ULS", {"test": "bollen.stine"}, "not available with estimator ULS yet"),  # a gap
])
def test_refusals_lavaan_makes_too_give_its_reason(estimator, kwargs, reason):
    """Checked in R (lavaan 0.6.14): missing="ml" with GLS/WLS and test= other than standard with GLS/WLS
    are lavaan errors (ULS with satorra.bentler / scaled.shifted: tests/test_ls_more.py)."""
    with pytest.raises(SurveyInputError, match=reason):
        fit(REF["models"]["hs"], HS, estimator=estimator, **kwargs)
