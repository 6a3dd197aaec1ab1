"""Equality tests of structural paths (survey.sem.compare) against lavaan 0.6.14.

Reference: tests/fixtures/compare/make_reference.R (lavaan ``lavTestWald``, defined parameters
``d := a - b`` with ``standardizedSolution``, ``lavTestLRT`` under ML and MLR) on the simulated 6-driver
data in tests/fixtures/compare/data.csv. lavaan's own estimates and vcov are fed to the Python
functions, so the Wald algebra is checked exactly; the LR test refits with semopy (and with
``survey.sem.fit`` once it exists).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.compare import (
    compare_fitted_paths,
    constraint_matrix,
    equal_paths_model,
    free_parameters,
    holm,
    lr_equal_paths,
    omnibus_equal_paths,
    pairwise_path_differences,
    path_comparison,
    path_names,
    scaled_chisq_difference,
    standardized_vcov,
    wald_test,
)

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
DRIVERS = ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]
LABELS = [f"b_{d}" for d in DRIVERS]
TOL = 1e-3


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((FIXTURES / "reference.json").read_text())


def _matrix(block: dict) -> pd.DataFrame:
    return pd.DataFrame(np.array(block["matrix"], dtype=float), index=block["names"], columns=block["names"])


@pytest.fixture(scope="module")
def lav(ref: dict) -> tuple[pd.Series, pd.DataFrame]:
    vcov = _matrix(ref["vcov"])
    theta = free_parameters(pd.DataFrame(ref["estimates"]), vcov)
    return theta, vcov


# ---------------------------------------------------------------------------------------------------
# Wald tests: lavaan's estimates + vcov -> our algebra == lavTestWald
# ---------------------------------------------------------------------------------------------------
def test_wald_reproduces_lavtestwald(ref, lav):
    theta, vcov = lav
    assert len(ref["wald"]) == 18  # 15 pairs, omnibus, 3-path, linear with constant
    worst = 0.0
    for case in ref["wald"]:
        res = wald_test(theta, vcov, case["constraints"])
        assert res.df == case["df"]
        worst = max(worst, abs(res.stat - case["stat"]), abs(res.pvalue - case["pvalue"]))
    assert worst < 1e-8


def test_omnibus_equal_paths_matches_lavaan(ref, lav):
    theta, vcov = lav
    omni = [c for c in ref["wald"] if c["df"] == 5][0]
    res = omnibus_equal_paths(theta, vcov, LABELS)
    assert res.df == 5
    assert res.stat == pytest.approx(omni["stat"], abs=1e-8)
    assert res.pvalue == pytest.approx(omni["pvalue"], abs=1e-10)
    # any full-rank set of contrasts gives the same statistic
    other = wald_test(theta, vcov, [f"b_SHI == {lab}" for lab in LABELS[1:]])
    assert other.stat == pytest.approx(res.stat, rel=1e-10)


def test_constraint_syntax_variants_are_equivalent(lav):
    theta, vcov = lav
    base = wald_test(theta, vcov, "b_SHI == b_SKL").stat
    for form in [
        "b_SHI - b_SKL == 0",
        "0 == b_SKL - b_SHI",
        "2*b_SHI == 2*b_SKL",
        "b_SHI/2 == 0.5*b_SKL",
        " b_SHI==b_SKL # comment",
        "-b_SKL + b_SHI == 0",
    ]:
        assert wald_test(theta, vcov, form).stat == pytest.approx(base, rel=1e-12), form
    R, r = constraint_matrix("2*b_SHI - b_PEER == 0.3; b_EMO + 1 == b_AUT", list(theta.index))
    assert R.loc["2*b_SHI - b_PEER == 0.3", ["b_SHI", "b_PEER"]].tolist() == [2.0, -1.0]
    assert R.loc["b_EMO + 1 == b_AUT", ["b_EMO", "b_AUT"]].tolist() == [1.0, -1.0]
    assert r.tolist() == [0.3, -1.0]
    assert R.to_numpy().sum() == pytest.approx(1.0)


def test_wald_with_matrix_input(ref, lav):
    theta, vcov = lav
    case = [c for c in ref["wald"] if c["constraints"] == "2*b_SHI - b_PEER == 0.3"][0]
    R = pd.DataFrame([[2.0, -1.0]], columns=["b_SHI", "b_PEER"])
    assert wald_test(theta, vcov, R, r=[0.3]).stat == pytest.approx(case["stat"], abs=1e-8)
    arr = np.zeros((1, len(theta)))
    arr[0, list(theta.index).index("b_SHI")] = 2.0
    arr[0, list(theta.index).index("b_PEER")] = -1.0
    assert wald_test(theta, vcov, arr, r=[0.3]).stat == pytest.approx(case["stat"], abs=1e-8)


def test_wald_redundant_constraints_use_rank(lav):
    theta, vcov = lav
    single = wald_test(theta, vcov, "b_SHI == b_SKL")
    res = wald_test(theta, vcov, ["b_SHI == b_SKL", "2*b_SHI == 2*b_SKL"])
    assert res.df == 1
    assert res.stat == pytest.approx(single.stat, rel=1e-8)
    assert [w.code for w in res.warnings] == ["wald_rank_deficient"]


@pytest.mark.parametrize(
    "bad",
    ["b_SHI == b_NOPE", "b_SHI * b_SKL == 0", "b_SHI = b_SKL", "b_SHI == ", "b_SHI == b_SKL +", "3 == 4", ""],
)
def test_wald_rejects_bad_constraints(lav, bad):
    theta, vcov = lav
    with pytest.raises(SurveyInputError):
        wald_test(theta, vcov, bad)


def test_wald_rejects_missing_vcov_parameter(lav):
    theta, vcov = lav
    with pytest.raises(SurveyInputError, match="not found in vcov"):
        wald_test(theta, vcov.drop(index="b_SKL", columns="b_SKL"), "b_SHI == b_SKL")


# ---------------------------------------------------------------------------------------------------
# pairwise differences, unstandardized and standardized
# ---------------------------------------------------------------------------------------------------
def test_pairwise_unstandardized_matches_lavaan_defined_parameters(ref, lav):
    theta, vcov = lav
    got = pairwise_path_differences(theta, vcov, LABELS)
    want = pd.DataFrame(ref["pairwise"])
    assert list(got.columns) == ["a", "b", "diff", "se", "z", "pvalue", "pvalue.holm"]
    assert got[["a", "b"]].equals(want[["a", "b"]])
    cols = ["diff", "se", "z", "pvalue", "pvalue.holm"]
    assert np.max(np.abs(got[cols].to_numpy() - want[cols].to_numpy())) < 1e-8
    # z^2 is the one-constraint Wald statistic
    wald = {c["constraints"]: c["stat"] for c in ref["wald"] if c["df"] == 1}
    for row in got.itertuples():
        assert row.z**2 == pytest.approx(wald[f"{row.a} == {row.b}"], rel=1e-8)


def test_pairwise_standardized_matches_lavaan_std_solution(ref):
    vcov_std = _matrix(ref["vcov_std"])
    std = pd.DataFrame(ref["std_paths"]).set_index("label")
    # the std vcov reproduces standardizedSolution()'s standard errors of the paths
    assert np.max(np.abs(np.sqrt(np.diag(vcov_std.loc[LABELS, LABELS])) - std["se"].to_numpy())) < 1e-8
    got = pairwise_path_differences(std["est.std"], vcov_std, LABELS)
    want = pd.DataFrame(ref["pairwise"])
    pairs = {
        "diff": "std.diff",
        "se": "std.se",
        "z": "std.z",
        "pvalue": "std.pvalue",
        "pvalue.holm": "std.pvalue.holm",
    }
    diffs = [np.max(np.abs(got[a].to_numpy() - want[b].to_numpy())) for a, b in pairs.items()]
    assert max(diffs) < 1e-6


def test_pairwise_with_jacobian_equals_transformed_vcov(lav):
    theta, vcov = lav
    scale = pd.Series([0.9, 1.1, 1.3, 0.7, 1.0, 1.2], index=LABELS)
    jac = pd.DataFrame(0.0, index=[f"std_{lab}" for lab in LABELS], columns=vcov.columns)
    for lab in LABELS:
        jac.loc[f"std_{lab}", lab] = scale[lab]
    std_est = pd.Series((theta[LABELS] * scale).to_numpy(), index=jac.index)
    via_jac = pairwise_path_differences(std_est, vcov, list(jac.index), jacobian=jac)
    v = standardized_vcov(vcov, jac)
    direct = pairwise_path_differences(std_est, v, list(jac.index))
    pd.testing.assert_frame_equal(via_jac, direct)
    d = np.diag(scale.to_numpy())
    manual = d @ vcov.loc[LABELS, LABELS].to_numpy() @ d
    assert np.allclose(v.to_numpy(), manual, atol=1e-15)


def test_holm_matches_r_p_adjust():
    # p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") in R: 0.03 0.06 0.06 0.02
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # p.adjust(c(0.5, NA, 0.9, 0.01), "holm"): 1.00 NA 1.00 0.03 (NA kept, m counts the others)
    assert holm([0.5, np.nan, 0.9, 0.01]) == pytest.approx([1.0, np.nan, 1.0, 0.03], nan_ok=True)


# ---------------------------------------------------------------------------------------------------
# likelihood-ratio version
# ---------------------------------------------------------------------------------------------------
INSTRUMENT_MODEL = """
# measurement
SHI =~ SHI1 + SHI2 + SHI3
SKL =~ SKL1 + SKL2 + SKL3 ; AUT =~ AUT1 + AUT2 + AUT3
FOL =~ FOL1 + FOL2 + FOL3
FOL ~ b_SHI*SHI + b_SKL*SKL +
      AUT
FOL ~ 1
FOLLOWED30 ~ c_FOL*FOL
ind_SHI := b_SHI*c_FOL
ind_SKL := b_SKL*c_FOL
b_SHIX := 2*c_FOL
"""


def test_equal_paths_model_rewrites_labels_everywhere():
    out = equal_paths_model(INSTRUMENT_MODEL, "FOL", label="beq")
    lines = out.strip().splitlines()
    assert "FOL ~ beq*SHI + beq*SKL + beq*AUT" in lines
    assert "FOL ~ 1" in [ln.strip() for ln in lines]
    assert "ind_SHI := beq*c_FOL" in lines and "ind_SKL := beq*c_FOL" in lines
    assert "b_SHIX := 2*c_FOL" in lines  # whole-word replacement only
    assert "FOLLOWED30 ~ c_FOL*FOL" in lines
    assert "AUT =~ AUT1 + AUT2 + AUT3" in [ln.strip() for ln in lines]
    assert not any("#" in ln for ln in lines)


def test_equal_paths_model_subset_and_errors():
    out = equal_paths_model(INSTRUMENT_MODEL, "FOL", ["SHI", "AUT"], label="beq")
    assert "FOL ~ beq*SHI + b_SKL*SKL + beq*AUT" in out
    assert "ind_SKL := b_SKL*c_FOL" in out
    with pytest.raises(SurveyInputError, match="no path FOL ~ EMO"):
        equal_paths_model(INSTRUMENT_MODEL, "FOL", ["SHI", "EMO"])
    with pytest.raises(SurveyInputError, match="fixed"):
        equal_paths_model("F =~ a + b + c\nY ~ 0.5*F + x", "Y")
    with pytest.raises(SurveyInputError, match="at least two"):
        equal_paths_model(INSTRUMENT_MODEL, "FOLLOWED30")


def _semopy_fit(model: str, data: pd.DataFrame):
    """A minimal fit function with the survey.sem.fit contract used by lr_equal_paths (ML, semopy)."""
    import semopy

    class _Fit:
        def __init__(self) -> None:
            mod = semopy.Model(model)
            res = mod.fit(data, obj="MLW")
            st = semopy.calc_stats(mod)
            self.converged = bool(res.success)
            self.warnings: list = []
            self._fm = {"chisq": float(st["chi2"].iloc[0]), "df": float(st["DoF"].iloc[0])}

        def fit_measures(self) -> dict:
            return self._fm

    return _Fit()


@pytest.mark.slow  # the default run covers the LR test with survey.sem.fit (test_full_pipeline_...)
def test_lr_equal_paths_with_semopy_matches_lavaan(ref):
    data = pd.read_csv(FIXTURES / "data.csv")
    res = lr_equal_paths(_semopy_fit, ref["model"], data, "FOL")
    want = ref["lrt_ml"]
    assert res.method == "standard"
    assert res.df_diff == want["df_diff"] == 5
    assert abs(res.chisq_free - want["chisq1"]) < TOL
    assert abs(res.chisq_equal - want["chisq0"]) < TOL
    assert abs(res.chisq_diff - want["chisq_diff"]) < TOL
    assert abs(res.pvalue - want["pvalue"]) < 1e-5
    assert "b_equal*PEER" in res.model_equal
    assert res.to_frame().shape == (2, 5)


def test_scaled_difference_matches_lavaan_mlr(ref):
    mlr = ref["lrt_mlr"]
    f1, f0 = mlr["fit1"], mlr["fit0"]
    stat, ddf = scaled_chisq_difference(
        f0["chisq"], f0["df"], f0["chisq.scaling.factor"], f1["chisq"], f1["df"], f1["chisq.scaling.factor"]
    )
    assert ddf == mlr["df_diff"]
    assert stat == pytest.approx(mlr["chisq_diff"], abs=1e-8)

    class _Given:
        def __init__(self, fm: dict) -> None:
            self._fm = fm

        def fit_measures(self) -> dict:
            return self._fm

    fits = iter([_Given(f1), _Given(f0)])
    res = lr_equal_paths(lambda model, data: next(fits), ref["model"], pd.DataFrame(), "FOL")
    assert res.method == "satorra.bentler.2001"
    assert res.chisq_diff == pytest.approx(mlr["chisq_diff"], abs=1e-8)
    assert res.pvalue == pytest.approx(mlr["pvalue"], abs=1e-10)


# ---------------------------------------------------------------------------------------------------
# bridging an estimates table, the CLI JSON block, and the full pipeline with survey.sem.fit
# ---------------------------------------------------------------------------------------------------
def test_path_names_from_estimates_table(ref):
    est = pd.DataFrame(ref["estimates"])
    names = path_names(est, "FOL")
    assert names.to_dict() == dict(zip(DRIVERS, LABELS, strict=True))
    unlabelled = est.assign(label="")
    assert path_names(unlabelled, "FOL", ["EMO", "SHI"]).tolist() == ["FOL~EMO", "FOL~SHI"]
    with pytest.raises(SurveyInputError):
        path_names(est, "NOPE")


def test_path_comparison_block(ref, lav):
    theta, vcov = lav
    cor = _matrix(ref["cor_lv"])
    rng = np.random.default_rng(1)
    reps = pd.DataFrame(
        rng.normal([0.33, 0.15, 0.21, 0.35, 0.08, 0.17], 0.04, size=(400, 6)), columns=DRIVERS
    )
    out = path_comparison(
        theta, vcov, dict(zip(DRIVERS, LABELS, strict=True)), corr=cor, outcome="FOL", replicates=reps
    )
    contract = {"omnibus_wald", "pairwise", "dominance", "relative_weights", "rank_interval"}
    assert contract <= set(out) <= contract | {"supported_orderings", "p_strongest", "pairwise_std"}
    omni = [c for c in ref["wald"] if c["df"] == 5][0]
    assert out["omnibus_wald"]["stat"] == pytest.approx(omni["stat"], abs=1e-8)
    assert out["omnibus_wald"]["df"] == 5
    first = out["pairwise"][0]
    assert len(out["pairwise"]) == 15 and (first["a"], first["b"]) == ("SHI", "SKL")
    assert set(first) == {"a", "b", "diff", "se", "z", "pvalue", "pvalue.holm"}
    want = pd.DataFrame(ref["pairwise"])
    assert first["pvalue.holm"] == pytest.approx(want["pvalue.holm"][0], abs=1e-10)
    assert sum(out["dominance"].values()) == pytest.approx(ref["r2_FOL"], abs=1e-8)
    assert sum(out["relative_weights"].values()) == pytest.approx(ref["r2_FOL"], abs=1e-8)
    assert all(1 <= lo <= hi <= 6 for lo, hi in out["rank_interval"].values())
    sig = want[want["pvalue.holm"] < 0.05]
    assert len(out["supported_orderings"]) == len(sig)
    json.dumps(out)


def test_compare_fitted_paths_with_standardized(ref):
    class _Result:  # the SEMResult contract, filled with lavaan's numbers
        def estimates(self) -> pd.DataFrame:
            return pd.DataFrame(ref["estimates"])

        def vcov(self) -> pd.DataFrame:
            return _matrix(ref["vcov"])

    std = pd.DataFrame(ref["std_paths"]).set_index("label")["est.std"]
    res = compare_fitted_paths(
        _Result(), "FOL", std_est=std, std_vcov=_matrix(ref["vcov_std"]), corr=_matrix(ref["cor_lv"])
    )
    want = pd.DataFrame(ref["pairwise"])
    assert np.max(np.abs(res.pairwise_std["se"].to_numpy() - want["std.se"].to_numpy())) < 1e-8
    sig = want[want["std.pvalue.holm"] < 0.05]
    assert len(res.supported) == len(sig)
    frame = res.to_frame()
    assert list(frame.index) == DRIVERS and frame["dominance"].sum() == pytest.approx(ref["r2_FOL"])
    assert "all paths equal (Wald)" in res.summary() and "<table" in res._repr_html_()
    assert "pairwise_std" in res.to_dict()


def _sem_fit():
    """survey.sem.fit (the contract), or survey.sem.api.fit before the package re-exports it."""
    try:
        from survey.sem import fit
    except ImportError:
        try:
            from survey.sem.api import fit
        except ImportError:
            return None
    return fit


@pytest.fixture(scope="module")
def sem_result(ref):
    return _sem_fit()(ref["model"], pd.read_csv(FIXTURES / "data.csv"))


@pytest.mark.skipif(_sem_fit() is None, reason="survey.sem.fit not available yet")
def test_full_pipeline_with_survey_sem_fit(ref, sem_result):
    fit = _sem_fit()
    data = pd.read_csv(FIXTURES / "data.csv")
    res = sem_result
    vcov = res.vcov()
    theta = free_parameters(res.estimates(), vcov)
    labels = path_names(res.estimates(), "FOL").tolist()
    assert labels == LABELS
    for case in ref["wald"]:  # every lavTestWald case, from survey.sem's own estimates and vcov
        got = wald_test(theta, vcov, case["constraints"])
        assert got.df == case["df"]
        assert abs(got.stat - case["stat"]) < TOL and abs(got.pvalue - case["pvalue"]) < TOL
    pw = pairwise_path_differences(theta, vcov, labels)
    want = pd.DataFrame(ref["pairwise"])
    cols = ["diff", "se", "z", "pvalue", "pvalue.holm"]
    assert np.max(np.abs(pw[cols].to_numpy() - want[cols].to_numpy())) < TOL
    lrt = lr_equal_paths(fit, ref["model"], data, "FOL")
    assert lrt.df_diff == 5
    assert abs(lrt.chisq_diff - ref["lrt_ml"]["chisq_diff"]) < TOL
    assert abs(lrt.pvalue - ref["lrt_ml"]["pvalue"]) < 1e-6


@pytest.mark.skipif(_sem_fit() is None, reason="survey.sem.fit not available yet")
def test_compare_fitted_paths_with_survey_sem_fit(ref, sem_result):
    from survey.sem.importance import implied_correlation

    res = sem_result
    corr = implied_correlation(res.estimates(), "FOL")
    lav = _matrix(ref["cor_lv"]).loc[corr.index, corr.columns]
    assert np.max(np.abs(corr.to_numpy() - lav.to_numpy())) < TOL
    out = compare_fitted_paths(res, "FOL", corr=corr)
    omni = [c for c in ref["wald"] if c["df"] == 5][0]
    assert abs(out.omnibus.stat - omni["stat"]) < TOL
    assert abs(out.dominance.r2 - ref["r2_FOL"]) < TOL
    assert list(out.to_frame().index) == DRIVERS


def test_scaled_difference_against_a_saturated_model_equals_lavaan():
    """A saturated free model (df 0) has no scaling factor; lavaan takes it as 1 (its term drops out):
    lavTestLRT(MLR) of x1 ~ b*x2 + b*x3 against the saturated x1 ~ x2 + x3 (make_lrt_saturated.R)."""
    import pandas as pd

    import survey
    from survey.sem.results.lrt import lav_test_lrt

    folder = Path(__file__).parent / "fixtures" / "lrt_saturated"
    ref = json.loads((folder / "lrt_saturated.json").read_text())
    hs = pd.read_csv(Path(__file__).parent / "fixtures" / "heldout2" / "hs.csv")
    free = survey.fit("x1 ~ x2 + x3", hs, estimator="MLR")
    restricted = survey.fit("x1 ~ b*x2 + b*x3", hs, estimator="MLR")
    r = ref["restricted"]
    stat, ddf = scaled_chisq_difference(r["chisq"], r["df"], r["chisq.scaling.factor"],
                                        0.0, 0, float("nan"))
    assert (stat, ddf) == (pytest.approx(ref["chisq_diff"], abs=1e-8), 1.0)
    table = lav_test_lrt(free, restricted)
    assert float(table["Chisq diff"].iloc[1]) == pytest.approx(ref["chisq_diff"], abs=1e-3)
    assert float(table["Pr(>Chisq)"].iloc[1]) == pytest.approx(ref["pvalue"], abs=1e-4)
