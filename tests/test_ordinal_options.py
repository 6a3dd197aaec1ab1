"""Ordered items with lavaan's other estimators and options (issue 16): DWLS / ULS / WLS plain, WLSMVS /
ULSMVS (mean.var.adjusted), ``se = "standard" | "robust.sem" | "none"``, a second ``test=``, and
``information = "observed"`` (lavaan warns and keeps expected information), each equal to lavaan 0.6.14
(tests/fixtures/ordinal_options/make_options.R); the combinations lavaan refuses are refused with its
reason."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.ordinal.choices import resolve

HERE = Path(__file__).parent / "fixtures" / "ordinal_options"
REF = json.loads((HERE / "options.json").read_text())
MODEL = REF["model"]
MEASURES = ("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
            "baseline.chisq", "baseline.chisq.scaled", "baseline.df.scaled", "cfi", "tli", "cfi.scaled",
            "tli.scaled", "rmsea", "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
            "rmsea.pvalue.scaled", "cfi.robust", "tli.robust", "rmsea.robust", "srmr")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "bfi_weighted.csv")


def check_against(res, case: str) -> None:
    """Estimates, SEs, std.all, the tests and the fit measures equal lavaan's (1e-3; chi-squares 1e-5)."""
    ref = REF["cases"][case]
    want = {(r["lhs"], r["op"], r["rhs"]): r for r in ref["estimates"]}
    est = res.estimates()
    assert len(est) == len(want)
    for row in est.to_dict("records"):
        w = want[(row["lhs"], row["op"], row["rhs"])]
        assert row["est"] == pytest.approx(w["est"], abs=1e-3)
        assert row["std.all"] == pytest.approx(w["std.all"], abs=1e-3)
        if "se" in w and w["se"] not in (None, "NA") and w["se"] > 0:
            assert row["se"] == pytest.approx(w["se"], abs=1e-3)
    got = res.fit_measures()
    for name in MEASURES:
        if name in ref["fit_measures"]:
            assert got[name] == pytest.approx(ref["fit_measures"][name], rel=1e-5, abs=1e-5), name
        else:  # lavaan leaves it out (no robust RMSEA after mean.var.adjusted, no ULS p-value)
            assert name not in got or not math.isfinite(got[name]), name
    r2 = res.r2()
    for name, value in ref["r2"].items():
        assert r2[name] == pytest.approx(value, abs=1e-4), name
    kinds = [t["test"] for t in ref["tests"]]
    assert [t.name for t in res.test_list] == kinds
    for t, w in zip(res.test_list, ref["tests"], strict=True):
        assert t.stat == pytest.approx(w["stat"], rel=1e-6)
        assert t.df == pytest.approx(w["df"], rel=1e-6)


CASES = {
    "dwls": {"estimator": "DWLS"},
    "uls": {"estimator": "ULS"},
    "wls": {"estimator": "WLS"},
    "wlsmvs": {"estimator": "WLSMVS"},
    "ulsmvs": {"estimator": "ULSMVS"},
    "wlsmv_se_standard": {"estimator": "WLSMV", "se": "standard"},
    "dwls_se_robust": {"estimator": "DWLS", "se": "robust.sem"},
    "uls_se_robust": {"estimator": "ULS", "se": "robust"},
    "dwls_test_ss": {"estimator": "DWLS", "test": "scaled.shifted"},
    "dwls_test_sb": {"estimator": "DWLS", "test": "satorra.bentler"},
    "dwls_test_mva": {"estimator": "DWLS", "test": "mean.var.adjusted"},
    "wlsmv_test_sb": {"estimator": "WLSMV", "test": "satorra.bentler"},
    "wlsmv_test_standard": {"estimator": "WLSMV", "test": "standard"},
    "wlsmv_test_browne": {"estimator": "WLSMV", "test": "browne.residual.adf"},
    "dwls_test_browne": {"estimator": "DWLS", "test": "browne.residual.adf"},
    "wlsmv_orthogonal": {"estimator": "WLSMV", "orthogonal": True},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimator_se_and_test_options_equal_lavaan(data, case):
    res = fit(MODEL, data, ordered=True, **CASES[case])
    assert res.nobs == REF["cases"][case]["nobs"]
    check_against(res, case)


def test_se_none_gives_estimates_without_standard_errors(data):
    res = fit(MODEL, data, ordered=True, se="none")
    se = res.estimates()["se"]
    assert ((se == 0) | se.isna()).all()  # the fixed rows keep lavaan's 0
    assert se.isna().sum() == REF["cases"]["wlsmv_se_none"]["fit_measures"]["npar"]
    assert REF["cases"]["wlsmv_se_none"]["options"]["se"] == "none"
    check_against(res, "wlsmv_se_none")


@pytest.mark.parametrize("case,options", [
    ("wlsmv_info_observed", {"estimator": "WLSMV", "information": "observed"}),
    ("wls_info_observed", {"estimator": "WLS", "information": "observed"}),
    ("dwls_se_first_order", {"estimator": "DWLS", "se": "first.order"}),
])
def test_observed_information_falls_back_to_expected_with_lavaans_warning(data, case, options):
    ref = REF["cases"][case]
    assert ref["options"]["information"] == "expected"
    assert "information will be set to" in ref["warnings"]  # lavaan's one warning (a string in the JSON)
    res = fit(MODEL, data, ordered=True, **options)
    check_against(res, case)
    assert any('information will be set to "expected"' in w for w in res.warnings)


def test_observed_information_with_groups_warns_as_lavaan(data):
    plain = fit(MODEL, data, ordered=True, group="gender")
    observed = fit(MODEL, data, ordered=True, group="gender", information="observed")
    assert observed.fit_measures()["chisq.scaled"] == plain.fit_measures()["chisq.scaled"]
    assert any('information will be set to "expected"' in w for w in observed.warnings)


@pytest.mark.parametrize("case,options,message", [
    ("wlsmv_se_first_order", {"se": "first.order"}, "if robust test statistics are requested"),
    ("wlsmv_se_huber_white", {"se": "robust.huber.white"}, "invalid value in se= argument"),
    ("wlsmv_test_yuan_bentler", {"test": "yuan.bentler"}, 'information = "first.order" not available'),
    ("wlsmv_bootstrap", {"se": "bootstrap", "bootstrap": 2}, "use (D)WLS estimator for bootstrap"),
    ("dwls_browne_nt", {"estimator": "DWLS", "test": "browne.residual.nt"},
     "normal theory version not available in the categorical setting"),
])
def test_combinations_lavaan_refuses_are_refused_with_its_reason(data, case, options, message):
    assert message in REF["errors"][case]
    with pytest.raises(SurveyInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit(MODEL, data, ordered=True, **{"estimator": "WLSMV", **options})


@pytest.mark.parametrize("estimator", ["MLR", "MLM"])
def test_ml_estimators_with_ordered_items_give_lavaans_reason(data, estimator):
    assert "estimator ML for ordered data is not supported yet" in REF["errors"]["mlr"]
    with pytest.raises(SurveyInputError, match="estimator ML for ordered data is not supported yet"):
        fit(MODEL, data, ordered=True, estimator=estimator)


def test_resolve_maps_estimators_as_lavaan():
    assert resolve("WLSMV").tests == ("scaled.shifted",) and resolve("WLSMV").se == "robust.sem"
    assert resolve("DWLS", test="satorra.bentler").tests == ("satorra.bentler",)
    assert resolve("WLSMV", test="satorra.bentler").tests == ("scaled.shifted", "satorra.bentler")
    assert resolve("ULS").se == "standard" and resolve("ULSMVS").tests == ("mean.var.adjusted",)
    with pytest.raises(SurveyInputError, match="estimator='PML'"):
        resolve("PML")


# ---- sampling weights (lavaan sampling.weights = "w", normalised to sum to N)
WEIGHTED = {
    "wlsmv_weighted": {"estimator": "WLSMV"},
    "dwls_weighted": {"estimator": "DWLS"},
    "wls_weighted": {"estimator": "WLS"},
    "wlsmv_weighted_pairwise": {"estimator": "WLSMV", "missing": "pairwise"},
}


@pytest.mark.parametrize("case", sorted(WEIGHTED))
def test_sampling_weights_with_ordered_items_equal_lavaan(data, case):
    res = fit(MODEL, data, ordered=True, sampling_weights="w", **WEIGHTED[case])
    ref = REF["cases"][case]
    assert res.nobs == ref["nobs"]
    # weighted thresholds and polychorics, and the diagonal of the weighted Gamma (lavaan's NACOV)
    assert res.sample.wls_obs == pytest.approx(ref["wls_obs"], abs=1e-6)
    if ref["gamma_diag"] is not None:
        assert res.sample.gamma.diagonal() == pytest.approx(ref["gamma_diag"], rel=1e-5)
    check_against(res, case)


def test_weights_change_the_fit(data):
    """The weights are used: the weighted fit is lavaan's weighted one, not the unweighted one."""
    weighted = fit(MODEL, data, ordered=True, sampling_weights="w").fit_measures()["chisq"]
    lav_plain = REF["cases"]["wlsmv_se_standard"]["fit_measures"]["chisq"]
    lav_weighted = REF["cases"]["wlsmv_weighted"]["fit_measures"]["chisq"]
    assert abs(lav_plain - lav_weighted) > 10
    assert weighted == pytest.approx(lav_weighted, rel=1e-6)


def test_bad_sampling_weight_is_refused_naming_its_row(data):
    bad = data.copy()
    bad.loc[4, "w"] = -1.0
    with pytest.raises(SurveyInputError, match="sampling weight is negative") as info:
        fit(MODEL, bad, ordered=True, sampling_weights="w")
    assert info.value.row == 5


# weights with groups (every normalization) and with ordered and continuous items: fitted as lavaan
# (tests/test_ordinal_more.py, tests/test_ordinal_mixed_weights.py)


# ---- observed covariates (lavaan conditional.x = TRUE, its default with ordered items)
COVARIATE_CASES = {
    "mimic_wlsmv": ("mimic", {"estimator": "WLSMV"}),
    "mimic2_wlsmv": ("mimic2", {"estimator": "WLSMV"}),
    "mimic2_wlsm": ("mimic2", {"estimator": "WLSM"}),
    "mimic2_dwls": ("mimic2", {"estimator": "DWLS"}),
    "mimic2_weighted": ("mimic2", {"estimator": "WLSMV", "sampling_weights": "w"}),
    "mimic2_theta": ("mimic2", {"estimator": "WLSMV", "parameterization": "theta"}),
    "mimic2_pairwise": ("mimic2", {"estimator": "WLSMV", "missing": "pairwise"}),
    "mimic2_stdlv": ("mimic2", {"estimator": "WLSMV", "std_lv": True}),
}


def test_conditional_sample_statistics_equal_lavaan(data):
    """Probit thresholds and slopes, residual polychorics and their Gamma given gender and age."""
    ref = REF["cases"]["mimic_wlsmv"]
    res = fit(REF["mimic"], data, ordered=True)
    assert res.nobs == ref["nobs"]  # listwise over the items and the covariates
    assert np.abs(res.sample.slopes - np.array(ref["slopes"])).max() < 1e-6
    assert res.sample.wls_obs == pytest.approx(ref["wls_obs"], abs=1e-6)
    assert res.sample.gamma.diagonal() == pytest.approx(ref["gamma_diag"], rel=1e-5)


@pytest.mark.parametrize("case", sorted(COVARIATE_CASES))
def test_mimic_with_ordered_indicators_equals_lavaan(data, case):
    model, options = COVARIATE_CASES[case]
    res = fit(REF[model], data, ordered=True, **options)
    check_against(res, case)


def test_standardized_vcov_with_covariates_equals_lavaan(data):
    """lavInspect(fit, "vcov.std.all"): the delta-method SEs of std.all given the covariates."""
    want = REF["cases"]["mimic2_wlsmv"]["std_se"]
    v = fit(REF["mimic2"], data, ordered=True).vcov_std()
    got = dict(zip(v.index, np.sqrt(np.diag(v.to_numpy())), strict=True))
    assert set(want) == set(got)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=1e-4), name


def test_mimic_recovers_the_simulated_paths():
    """Known truth: eta = .5 x1 - .4 x2 + zeta (var .6), five 5-category items, N = 4000, seed 16."""
    rng = np.random.default_rng(16)
    n = 4000
    x = rng.normal(size=(n, 2))
    eta = 0.5 * x[:, 0] - 0.4 * x[:, 1] + rng.normal(scale=np.sqrt(0.6), size=n)
    lam = np.array([0.8, 0.7, 0.75, 0.6, 0.65])
    ystar = eta[:, None] * lam + rng.normal(size=(n, 5)) * np.sqrt(1 - lam**2 * 1.01)
    cuts = np.array([-1.2, -0.3, 0.4, 1.1])
    frame = pd.DataFrame((ystar[:, :, None] > cuts).sum(axis=2), columns=[f"y{k}" for k in range(1, 6)])
    frame["x1"], frame["x2"] = x[:, 0], x[:, 1]
    res = fit("f =~ y1 + y2 + y3 + y4 + y5\nf ~ x1 + x2\n", frame, ordered=True)
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    # the delta scale: y* given x has variance 1, i.e. y*_j / s_j with s_j^2 = 1 - .41 lambda_j^2 (the part
    # of var(eta) that x explains); the first loading fixed at 1 puts f on the scale of lambda_1 / s_1
    s = np.sqrt(1 - 0.41 * lam**2)
    unit = lam[0] / s[0]
    assert est[("f", "~", "x1")] == pytest.approx(0.5 * unit, abs=0.03)
    assert est[("f", "~", "x2")] == pytest.approx(-0.4 * unit, abs=0.03)
    assert est[("f", "=~", "y3")] == pytest.approx(lam[2] / s[2] / unit, abs=0.06)
    assert res.fit_measures()["pvalue.scaled"] > 0.001  # the true model fits


def test_non_numeric_covariate_is_refused_naming_row_and_column(data):
    bad = data.astype({"age": object})
    bad.loc[7, "age"] = "old"
    with pytest.raises(SurveyInputError, match="a covariate must be numeric") as info:
        fit(REF["mimic"], bad, ordered=True)
    assert (info.value.row, info.value.column) == (8, "age")


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from survey.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_fits_a_weighted_mimic_with_lavaans_numbers(tmp_path, capsys):
    model = tmp_path / "mimic2.lav"
    model.write_text(REF["mimic2"])
    code, out, err = _cli(["fit", str(model), str(HERE / "bfi_weighted.csv"), "--ordered", "all", "--weights",
                           "w", "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    ref = REF["cases"]["mimic2_weighted"]["fit_measures"]
    assert got["fit_measures"]["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)


def test_cli_refuses_what_lavaan_refuses_with_exit_status_2(tmp_path, capsys):
    model = tmp_path / "bfi.lav"
    model.write_text(MODEL)
    code, out, err = _cli(["fit", str(model), str(HERE / "bfi_weighted.csv"), "--ordered", "all", "--se",
                           "robust.huber.white"], capsys)
    assert code == 2
    assert "invalid value in se= argument" in err and "Traceback" not in err


def test_constant_or_collinear_covariates_are_refused(data):
    flat = data.assign(k=1.0)
    with pytest.raises(SurveyInputError, match="a covariate has no variance") as info:
        fit("A =~ A1 + A2 + A3 + A4 + A5\nA ~ k", flat, ordered=True)
    assert info.value.column == "k"
    twin = data.assign(age2=2 * data["age"])
    with pytest.raises(SurveyInputError, match="collinear"):
        fit("A =~ A1 + A2 + A3 + A4 + A5\nA ~ age + age2", twin, ordered=True)


def test_summary_shows_each_estimators_tests(data):
    """ULSMVS: lavaan's NA p-value of the ULS statistic and the Satterthwaite df; DWLS with Browne's test
    only: no scaled column."""
    ref = REF["cases"]["ulsmvs"]
    text = fit(MODEL, data, ordered=True, estimator="ULSMVS").summary()
    df_line = next(line for line in text.splitlines() if line.strip().startswith("Degrees of freedom"))
    assert df_line.split()[-1] == f"{ref['fit_measures']['df.scaled']:.3f}"
    assert "NA" in next(line for line in text.splitlines() if "P-value" in line)
    text = fit(MODEL, data, ordered=True, estimator="DWLS", test="browne.residual.adf").summary()
    assert "Scaled" not in text and "Estimator" in text
