"""A third held-out set of lavaan models (tests/fixtures/heldout3/make_heldout3.R, lavaan 0.6.14), none of
them in tests/fixtures/heldout/ or heldout2/: bifactor (full, S-1, MIMIC, multi-group) and second-order CFAs
(equal / fixed second-order loadings, covariates), MIMIC with several covariates, observed product columns
and ``x1:x2`` terms, DIF paths and shared labels; multi-group invariance with group.equal / group.partial on
residuals, lv.variances, lv.covariances, means and regressions, four groups, labels shared across groups,
``c()`` vectors, fixed values, inequality constraints, std.lv + orthogonal; FIML with fixed.x (rows with a
missing covariate deleted, as lavaan) and fixed.x = FALSE; MLR / MLM / MLMV / MLMVS; information =
"expected" / "first.order" under FIML, se = "robust.sem" with observed information, test =
"mean.var.adjusted" / "scaled.shifted"; binary, 3- and 5-category ordered items (WLSMV / ULSMV / WLSM,
theta, groups with equal thresholds and loadings, group.partial on a threshold); piecewise, quadratic and
latent-basis growth with time-varying covariates and dropout; cross-lagged panels and random-intercept
CLPMs (lavaan() with int.ov.free); mediation with three parallel / serial mediators and ``:=`` chains,
moderated mediation with a product term. Each model is fitted through survey.cfa / sem / growth / fit with
the options lavaan got and must equal lavaan: est, se, std.all within 1e-3 (relative beyond 1), the fit
measures within 1e-3 (logl, AIC, BIC 1e-5; every other fitMeasures() entry we report as well). The cases
lavaan refuses are refused with lavaan's reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from heldout_harness import HeldoutSet

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "heldout3"
XFAIL = {  # open deviations from lavaan, each with its cause
    # a Heywood ridge (x1 ~~ x1 = -1.14, se 12.6): lavaan stops 1e-5 short of the optimum (its gradient
    # 1.6e-6, ours 2e-10, F lower by 5e-13) and the near-singular observed information amplifies that into
    # 0.1-0.3% in every se and the MLR scaling factor (.92367 vs .92344: chisq.scaled 37.763 vs 37.772). At
    # lavaan's estimates our observed-information se equal lavaan's (g =~ x1..x3: .16668 .14131 .14307);
    # the ML (expected) and first-order se of this model equal lavaan's
    "bif_mlr": "lavaan stops 1e-5 short of the optimum on a Heywood ridge (se 0.1-0.3% apart)",
}
SAME_BASELINE: dict[str, str] = {}
# secondary measures left open, per case (gr_drop_fiml_fx's FIML-corrected robust RMSEA / CFI, FIML +
# MLR + fixed.x = FALSE with covariate means fixed by growth(), equal since the correction's Wc zeroes the
# ov.x rows as lavaan's fit.tilde does: survey.sem.measures.fiml, is no longer one)
KNOWN = {
    # FIML + MLR + information = "expected": est 1.3e-6 from lavaan's, the scaling factors 2e-6 relative
    # (baseline 1.0374650 vs 1.0374635), baseline.chisq.scaled 801.8274 vs 801.8285 (1.4e-6 relative)
    "fiml_mlr_expected": {"baseline.chisq.scaled"},
    # the same data (hs3m, FIML) with se = "robust.huber.white", test = "yuan.bentler": the baseline scaling
    # factor 1.4704042 vs 1.4704075 (2e-6 relative), baseline.chisq.scaled 565.7409 vs 565.7396
    "fiml_yb": {"baseline.chisq.scaled"},
}

SET = HeldoutSet(HERE, "heldout3.json", SAME_BASELINE, KNOWN)
REF = SET.ref
FITTED = [n for n in REF["cases"] if "error" not in REF["cases"][n]]
REFUSED = [n for n in REF["cases"] if "error" in REF["cases"][n]]


@pytest.mark.parametrize("name", [p for p in SET.params(XFAIL)
                                  if (p if isinstance(p, str) else p.values[0]) in FITTED])
def test_heldout_model_equals_lavaan(name):
    SET.check_model(name)


# lavaan's words for each refusal (the fixture holds its full message)
REASON = {"hs_mlr_first": "information must be either",
          "hs_mlm_first": 'information must be either "expected" or "observed" if robust standard errors',
          "hs_sb_first": 'information must be either "expected" or "observed" if robust test statistics',
          "hs_fiml_mlm": 'missing="ml" is not allowed for estimator',
          "ord_fiml": "not available in the categorical setting",
          "ord_mlr": "estimator ML for ordered data is not supported yet"}


@pytest.mark.parametrize("name", REFUSED)
def test_heldout_refusal_as_lavaan(name):
    """lavaan refuses these option combinations; so do we, in one line with its reason."""
    SET.check_refusal(name, REASON[name])


def test_reversed_covariances_are_named_as_lavaan_names_them():
    """``speed ~~ textual`` / ``y6 ~~ y2`` become ``textual ~~ speed`` / ``y2 ~~ y6`` (lavaan 0.6.14's
    lav_partable_covariance_reorder: latent variables first, then the observed ones, in lavaan's order),
    with their modifiers; ``parTable()`` of lavaan gives these rows (tests/fixtures/heldout3 rev_cov*)."""
    from survey.sem.syntax import lavaanify

    pt = lavaanify(REF["models"]["rev_cov"] + "\nx9 ~~ 0.2*x8")
    user = pt[(pt.op == "~~") & (pt.user == 1)]
    rows = set(zip(user.lhs, user.rhs, strict=True))
    assert rows == {("x7", "x9"), ("x2", "x6"), ("textual", "speed"), ("x8", "x9")}
    assert pt.loc[(pt.lhs == "x8") & (pt.rhs == "x9"), "ustart"].item() == 0.2
    path = lavaanify(REF["models"]["rev_cov_path"], fixed_x=False)
    # y2 before y1 in lavaan's order of the observed names (y2 is the first regression's outcome)
    cov = path[path.op == "~~"]
    assert {("y2", "y1"), ("y2", "y6")} <= set(zip(cov.lhs, cov.rhs, strict=True))
    ref = {(r["lhs"], r["rhs"]) for r in REF["cases"]["rev_cov"]["estimates"] if r["op"] == "~~"}
    assert {("x7", "x9"), ("x2", "x6"), ("textual", "speed")} <= ref


def test_threshold_formulas_without_ordered_items_are_refused_in_one_line():
    """``item | t1`` rows fit with ordered items (ord_labels equals lavaan); a continuous fit refuses them
    in one line naming the line."""
    with pytest.raises(SurveyInputError, match="threshold formulas") as info:
        survey.cfa(REF["models"]["ord_labels"], SET.data["hs"])
    assert "line 3" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["mimic_cx", "mimic_cx_mlr"])
def test_conditional_x_differs_from_fixed_x_as_lavaan(name):
    """lavaan's conditional.x = TRUE (survey.sem.conditional_x): the chi-square of y given x equals the
    fixed.x one, its baseline (y ~ x free: 898.605 on 36 df for mimic_cx) and SRMR do not."""
    case = REF["cases"][name]
    opts = {"estimator": case["opts"]["estimator"]} if "estimator" in case["opts"] else {}
    fixed = survey.sem(REF["models"][case["model"]], SET.data["hs"], conditional_x=False, **opts)
    cond = SET.fit_case(name).fit_measures()
    assert fixed.fit_measures()["chisq"] == pytest.approx(cond["chisq"], abs=1e-6)
    assert cond["baseline.chisq"] == pytest.approx(case["fit_measures"]["baseline.chisq"], abs=1e-3)
    assert abs(fixed.fit_measures()["srmr"] - cond["srmr"]) > 0.01


def test_group_label_orders_the_groups_as_lavaan():
    """lavaan's group.label = c("Grant-White", "Pasteur") makes Grant-White group 1 (mg_group_label equals
    lavaan row by row); it is survey's groups= under lavaan's name."""
    res = SET.fit_case("mg_group_label")
    assert list(res.group_labels) == ["Grant-White", "Pasteur"]


CLI_CASES = ["bif_s1_orth", "mimic_prod", "mg_res_partial", "mg_four", "ord_mg_stdlv", "g6_pw", "riclpm",
             "med3_fiml", "hs_fiml_first"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_heldout_cli_json(name, tmp_path, capsys):
    """``survey fit model.lav data.csv --json`` exits 0 with lavaan's chi-square and estimates."""
    SET.check_cli(name, tmp_path, capsys)
