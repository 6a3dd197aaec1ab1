"""Two-level SEM, the remaining model features (issues 14/15) against lavaan 0.6.14 on simulated clustered
data (100 clusters; tests/fixtures/multilevel/make_multilevel_more.R): a fixed.x covariate at both levels,
explicit constraints, se = "none", test = "yuan.bentler", lavaan() options; estimates, SEs,
std.lv/std.all (1e-3), logl / unrestricted.logl / AIC / BIC (1e-5 relative) and every other fit measure
lavaan reports (1e-3); what lavaan fits without identification is refused with its reason."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

FIX = Path(__file__).parent / "fixtures" / "multilevel"
REF = json.loads((FIX / "multilevel_more.json").read_text())
DATA = pd.read_csv(FIX / "twolevel_more.csv")
LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
OPTIONS = {"constr_mlr": {"estimator": "MLR"}, "both_mlr": {"estimator": "MLR"}, "two_none": {"se": "none"},
           "two_orthogonal": {"orthogonal": True}, "onex_fixedx": {"fixed_x": False},
           "novar_lavaan": {"auto_var": False}, "two_noint": {"int_ov_free": False},
           "two_stdlv": {"auto_fix_first": False, "std_lv": True}, "reg_covy": {"auto_cov_y": False},
           "two_covlvx": {"auto_cov_lv_x": False}, "two_yb": {"test": "yuan.bentler"},
           "two_mlr_yb": {"estimator": "MLR", "test": "yuan.bentler"}, "constr_yb": {"test": "yuan.bentler"},
           "constr_mlr_yb": {"estimator": "MLR", "test": "yuan.bentler"}, "both_yb": {"test": "yuan.bentler"},
           "constr_rhw": {"se": "robust.huber.white"}, "constr_expected": {"information": "expected"},
           "constr_firstorder": {"information": "first.order"},
           "onex_expyb": {"information": "expected", "test": "yuan.bentler"},
           "onex_mlrexpyb": {"estimator": "MLR", "information": "expected", "test": "yuan.bentler"}}


@cache
def _fit(case: str):
    return fit(REF[case]["model"], DATA, cluster="cluster", **OPTIONS.get(case, {}))


def _check(res, ref, na_zero: tuple[str, ...] = ()) -> None:
    """``na_zero``: rows (lhs op rhs) whose SE lavaan gives as NA and ours as 0 (see the constraints test)."""
    est, want = res.estimates(), pd.DataFrame(ref["estimates"])
    assert list(est["lhs"] + est["op"] + est["rhs"]) == list(want["lhs"] + want["op"] + want["rhs"])
    assert list(est["level"].astype(str)) == list(want["level"].astype(str))
    for col in ("est", "se", "std.lv", "std.all"):
        w = pd.to_numeric(want[col], errors="coerce").to_numpy(dtype=float).copy()  # lavaan NA: null
        o = est[col].to_numpy(dtype=float)
        if col == "se" and na_zero:  # lavaan's NA there (a negative rounding-level variance): ours ~0
            hit = (est["lhs"] + est["op"] + est["rhs"]).isin(na_zero).to_numpy() & np.isnan(w)
            assert hit.any() and np.abs(o[hit]).max() < 1e-6
            w[hit] = o[hit]
        assert (np.isnan(o) == np.isnan(w)).all(), col
        np.testing.assert_allclose(o[~np.isnan(w)], w[~np.isnan(w)], atol=1e-3, err_msg=col)
    fm = res.fit_measures()
    for key, value in ref["fit_measures"].items():
        if value is None:  # NA in lavaan
            assert not np.isfinite(fm[key]), key
        elif key in LIKELIHOOD:
            assert fm[key] == pytest.approx(value, rel=1e-5), key
        else:
            assert fm[key] == pytest.approx(value, abs=1e-3, rel=1e-3), key
    assert res.converged is ref["converged"] is True


@pytest.mark.parametrize("case", ["both_ml", "both_mlr"])
def test_covariate_at_both_levels_equals_lavaan(case):
    """x1 a fixed.x covariate at both levels (x2 within-only, w1 between-only): lavaan 0.6.14 fixes x1's
    level-1 moments at the EM h1 Sigma_W (its level-1 intercept at 0), its level-2 moments at the h1
    Sigma_B / Mu.B; df = lavaan's ndat (x1's level-1 mean not counted) - npar = 16; loglik.x of x2 and w1
    only; MLR: the h1 trace over the h1 moments that are not fixed.x moments."""
    res = _fit(case)
    _check(res, REF[case])
    assert res.fit_measures()["df"] == 16
    est = res.estimates().set_index(["lhs", "op", "rhs", "block"])
    assert est.loc[("x1", "~1", "", 1), "est"] == 0.0
    k = res.tl.st.y.index("x1")
    assert est.loc[("x1", "~~", "x1", 2), "est"] == pytest.approx(res.sat.moments.sb[k, k])


@pytest.mark.parametrize("case", ["constr_ml", "constr_mlr", "constr_rhw", "constr_expected",
                                  "constr_firstorder"])
def test_explicit_constraints_equal_lavaan(case):
    """a == c across the levels (one parameter, as lavaan's ceq.simple), e == b^2 (nonlinear) and b < 0.6
    (active at the optimum): lavaan's estimates under them, SEs and the MLR sandwich / Yuan-Bentler-Mplus
    traces from the augmented inverse information (J: the equality and the active inequality rows), npar
    18 = 19 - 1 equality, df 6. lavaan's ML SEs of b and e (fixed by the active constraints) are NA: the
    square root of a -1e-17 variance; ours are 0 (the MLR ones are 0 in lavaan too). Also ML with
    se = "robust.huber.white", information = "expected" and "first.order" (augmented B0^-1) under them."""
    res = _fit(case)
    has_na = any(r["se"] is None for r in REF[case]["estimates"])
    _check(res, REF[case], na_zero=("fw=~y3", "fb=~y3") if has_na else ())
    est = res.estimates().set_index(["lhs", "op", "rhs", "block"])
    b, e = est.loc[("fw", "=~", "y3", 1), "est"], est.loc[("fb", "=~", "y3", 2), "est"]
    assert b == pytest.approx(0.6, abs=1e-7) and e == pytest.approx(b**2, abs=1e-7)
    assert est.loc[("fw", "=~", "y2", 1), "est"] == est.loc[("fb", "=~", "y2", 2), "est"]
    fm = res.fit_measures()
    assert fm["npar"] == 18 and fm["df"] == 6


def test_modindices_and_score_tests_of_a_constrained_two_level_fit_are_refused():
    """Not checked against lavaan under explicit constraints: one line, not unprojected numbers."""
    res = _fit("constr_ml")
    for call in (res.modindices, res.score_tests):
        with pytest.raises(SurveyInputError, match="explicit constraints"):
            call()


def test_constraints_change_the_fit():
    """The unconstrained model is another fit (b = .73 there): the constraints are imposed, not ignored."""
    model = REF["constr_ml"]["model"].split("\na == c")[0]
    free = fit(model, DATA, cluster="cluster")
    assert free.fit_measures()["df"] == 4
    assert free.fit_measures()["chisq"] < REF["constr_ml"]["fit_measures"]["chisq"] - 10


@pytest.mark.parametrize("case", ["two_none", "two_orthogonal", "onex_fixedx", "novar_lavaan", "two_noint",
                                  "two_stdlv", "reg_sem", "reg_covy", "two_covlvx"])
def test_options_equal_lavaan(case):
    """se = "none" (no SEs: NA in every row, as lavaan's missing column; the test and fit measures kept);
    orthogonal = TRUE; fixed.x = FALSE (the covariates' moments free at their level); lavaan() with
    auto.var = FALSE (variances as written), int.ov.free = FALSE (all intercepts 0), auto.fix.first = FALSE
    with std.lv, auto.cov.y = FALSE, auto.cov.lv.x = FALSE; lavaan's SRMR between from the implied between
    covariance forced positive definite (lav_matrix_symmetric_force_pd: two_* has a Heywood case there)."""
    res = _fit(case)
    _check(res, REF[case])
    if case == "two_none":
        assert res.estimates()["se"].isna().all()
        assert "Standard errors                                    None" in res.summary()


@pytest.mark.parametrize("case, kwargs, message", [
    ("two_lvint", {"int_lv_free": True}, "int_lv_free=True with a two-level model is not available"),
    ("reg_single", {"auto_fix_single": False}, "auto_fix_single=False with a single-indicator factor"),
])
def test_unidentified_options_refused(case, kwargs, message):
    """lavaan 0.6.14 fits these without identification: NA standard errors (the fixture keeps them)."""
    assert any(r["se"] is None for r in REF[case]["estimates"])
    with pytest.raises(SurveyInputError, match=None) as info:
        fit(REF[case]["model"], DATA, cluster="cluster", **kwargs)
    assert message in str(info.value) and "not identified" in str(info.value)


def test_growth_with_levels_refused():
    """lavaan 0.6.14's growth() with level: blocks frees the growth factors' means at both levels beside the
    level-2 intercepts: 'Could not compute standard errors! The information matrix could not be inverted'
    (checked in R on Demo.twolevel)."""
    from survey import growth

    model = ("level: 1\n i =~ 1*y1 + 1*y2 + 1*y3 + 1*y4\n s =~ 0*y1 + 1*y2 + 2*y3 + 3*y4\n"
             "level: 2\n ib =~ 1*y1 + 1*y2 + 1*y3 + 1*y4\n sb =~ 0*y1 + 1*y2 + 2*y3 + 3*y4")
    with pytest.raises(SurveyInputError, match="growth\\(\\) with a two-level model is not available"):
        growth(model, DATA, cluster="cluster")


@pytest.mark.parametrize("case", ["two_yb", "two_mlr_yb", "constr_yb", "constr_mlr_yb", "both_yb",
                                  "onex_expyb", "onex_mlrexpyb"])
def test_yuan_bentler_test_equals_lavaan(case):
    """test = "yuan.bentler": ML gets lavaan's Yuan-Bentler trace tr(U Gamma) (U from the h1 observed
    information at the implied moments, Gamma from the EM h1 moments; NA baseline scaling when its trace is
    negative, as in two_yb, so NA robust CFI/TLI); MLR keeps Yuan-Bentler-Mplus as its reported test, its h0
    trace from E = Delta' A1 Delta (lavaan 0.6.14: 'observed.information for ALL test statistics is set
    to h1'); under constraints E^-1 is the augmented inverse; a covariate at both levels (both_yb);
    information = "expected" (onex_*expyb: A1, E and Gamma from the expected h1 information, lavaan's
    omega.information = "expected"; MLR's YB-Mplus then its default one)."""
    res = _fit(case)
    _check(res, REF[case], na_zero=("fw=~y3", "fb=~y3") if case == "constr_yb" else ())
    name = "yuan.bentler" if "mlr" not in case else "yuan.bentler.mplus"
    if case == "onex_mlrexpyb":
        default = fit(REF[case]["model"], DATA, cluster="cluster", estimator="MLR", information="expected")
        assert default.fit_measures()["chisq.scaled"] == pytest.approx(res.fit_measures()["chisq.scaled"])
    assert list(res.tests()) == ["standard", name]
    label = "(Yuan-Bentler)   " if name == "yuan.bentler" else "(Yuan-Bentler-Mplus)"
    assert f"Scaled test statistic {label}" in res.summary()
    if case == "two_mlr_yb":  # another scaling than MLR's default test
        default = fit(REF[case]["model"], DATA, cluster="cluster", estimator="MLR")
        assert abs(default.fit_measures()["chisq.scaling.factor"] - res.fit_measures()["chisq.scaling.factor"]
                   ) > 1e-2


REF_FIML = json.loads((FIX / "multilevel_more_fiml.json").read_text())
DATA_FIML = pd.read_csv(FIX / "twolevel_more_fiml.csv")


@pytest.mark.parametrize("case, kwargs", [("onex_fiml", {}), ("onex_fiml_none", {"se": "none"})])
def test_fiml_with_fixed_x_covariates_equals_lavaan(case, kwargs):
    """missing = "ml" with a within-only (x2) and a between-only (w1) fixed.x covariate
    (tests/fixtures/multilevel/make_multilevel_more_fiml.R): rows with a missing covariate deleted (12, as
    lavaan), the covariates' moments fixed at the FIML h1 estimates (lavaan's lav_start with lavh1),
    loglik.x off both likelihoods; every estimate, SE and fit measure at lavaan's tolerances except the
    fixed w1 moments: lavaan's h1 (nlminb, rel.tol 1e-7) stops 1.2e-3 short of the exact MLE of w1's mean
    (-0.032682 there; the MLE is the mean of the complete cluster values, -0.031454), 4e-4 of its variance;
    ours are the exact MLE, checked against the data. se = "none" (onex_fiml_none): the same fit, no SEs."""
    ref = REF_FIML[case]
    res = fit(ref["model"], DATA_FIML, cluster="cluster", missing="ml", **kwargs)
    assert res.nobs == ref["nobs"] == 979 and any("12 row(s) with a missing fixed.x" in w.message
                                                  for w in res.warnings)
    est = res.estimates()
    key = est["lhs"] + est["op"] + est["rhs"]
    fixed_w1 = key.isin(["w1~1", "w1~~w1"]).to_numpy()
    want = pd.DataFrame(ref["estimates"])
    if "se" not in want:  # lavaan se = "none": no column
        want["se"] = np.nan
        assert res.estimates()["se"].isna().all()
    for col in ("est", "std.lv", "std.all"):
        np.testing.assert_allclose(est[col][fixed_w1], want[col][fixed_w1], atol=2e-3)
    used = DATA_FIML.dropna(subset=["x2", "w1"])
    w1 = used.groupby("cluster")["w1"].first()
    assert est.loc[key == "w1~1", "est"].item() == pytest.approx(w1.mean(), abs=1e-6)
    assert est.loc[key == "w1~~w1", "est"].item() == pytest.approx(w1.var(ddof=0), abs=1e-5)
    x2 = est.loc[key == "x2~~x2", "est"].item()
    assert x2 == pytest.approx(used["x2"].var(ddof=0), abs=1e-5)
    ours = res.fit_measures()
    na = [k for k, v in ref["fit_measures"].items() if v is None]  # lavaan's NA robust CFI/RMSEA (FIML)
    assert na and all(not np.isfinite(ours.get(k, np.nan)) for k in na)
    fm = {k: v for k, v in ref["fit_measures"].items() if k not in na}
    other = {**ref, "fit_measures": fm,
             "estimates": want.assign(**{c: np.where(fixed_w1, est[c], want[c]) for c in ("est", "std.lv",
                                                                                          "std.all")})}
    _check(res, other)


def test_fiml_covariate_at_both_levels_refused():
    """lavaan 0.6.14's FIML h1 frees the means of a split variable at both levels (not identified: its
    Mu.W/Mu.B split is arbitrary) and fixes the covariate's level-2 mean at its Mu.B part: chisq 26.576
    there, the value depending on where nlminb stopped; refused, naming why."""
    ref = REF_FIML["both_fiml"]
    assert ref["fit_measures"]["chisq"] == pytest.approx(26.576, abs=1e-3)
    with pytest.raises(SurveyInputError, match="'x1' at both levels with missing='ml' is not available"):
        fit(ref["model"], DATA_FIML, cluster="cluster", missing="ml")


@pytest.mark.parametrize("kwargs, message", [
    ({"missing": "ml", "test": "yuan.bentler"}, "lavaan 0.6.14 computes no scaled statistic there"),
    ({"missing": "ml", "se": "robust.huber.white"}, "lavaan 0.6.14 fails there: 'infinite or missing values"),
    ({"test": "yuan.bentler", "information": "first.order"}, "lavaan: information must be either"),
    ({"estimator": "MLR", "information": "first.order"}, "if robust standard errors are requested"),
])
def test_remaining_refusals(kwargs, message):
    """What lavaan 0.6.14 does (checked in R on these data): FIML + yuan.bentler gives no scaled statistic
    (warnings only), FIML + robust.huber.white stops in eigen(VarCov), the Yuan-Bentler test on
    first-order information stops in lav_options_set (test = "none": tests/test_multilevel_testnone.py)."""
    data = DATA_FIML if kwargs.get("missing") == "ml" else DATA
    with pytest.raises(SurveyInputError, match=None) as info:
        fit(REF_FIML["onex_fiml"]["model"], data, cluster="cluster", **kwargs)
    assert message in str(info.value) and len(str(info.value)) <= 240


def test_cli_two_level_constraints_and_yuan_bentler(tmp_path, capsys):
    """survey fit --cluster --test yuan.bentler on the constrained model: lavaan's numbers in the JSON
    (chisq.scaled to 1e-3 relative, as in _check: lavaan's nlminb.constr stops 1.4e-5 short in logl, fb ~~ fb
    3e-4 from the optimum, which moves its scaling factor by 3e-4)."""
    from survey.cli import main

    model = tmp_path / "constr.lav"
    model.write_text(REF["constr_yb"]["model"] + "\n")
    data = tmp_path / "d.csv"
    DATA.to_csv(data, index=False)
    with pytest.raises(SystemExit) as info:
        main(["fit", str(model), str(data), "--cluster", "cluster", "--test", "yuan.bentler", "--json"])
    assert (info.value.code or 0) == 0
    obj = json.loads(capsys.readouterr().out)
    ref = REF["constr_yb"]["fit_measures"]
    for name in ("chisq", "df", "npar", "chisq.scaled", "chisq.scaling.factor"):
        assert obj["fit_measures"][name] == pytest.approx(ref[name], rel=1e-3, abs=1e-3), name
    assert obj["fit_measures"]["logl"] == pytest.approx(ref["logl"], rel=1e-5)


def test_fiml_with_constraints_equals_lavaan():
    """The constrained model with missing = "ml": the FIML loglik minimised under the constraints, the
    augmented-inverse SEs (lavaan's NA SE of the parameter fixed by the active constraint: ours 0)."""
    ref = REF_FIML["constr_fiml"]
    res = fit(ref["model"], DATA_FIML, cluster="cluster", missing="ml")
    na = [k for k, v in ref["fit_measures"].items() if v is None]
    assert na and all(not np.isfinite(res.fit_measures().get(k, np.nan)) for k in na)
    _check(res, {**ref, "fit_measures": {k: v for k, v in ref["fit_measures"].items() if k not in na}},
           na_zero=("fw=~y3", "fb=~y3"))
    assert res.fit_measures()["df"] == ref["fit_measures"]["df"] == 6
