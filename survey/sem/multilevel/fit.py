"""``survey.fit(model, data, cluster=...)`` with lavaan ``level:`` blocks: the two-level fit (lavaan 0.6.14
``sem(model, data, cluster = "id")``): estimator ML (observed information, lavaan's default for two-level
models; ``information="expected"|"first.order"``, ``se="robust.huber.white"``), MLF (first-order SEs) or
MLR (Huber-White sandwich over cluster scores, Yuan-Bentler-Mplus scaled test), complete rows (incomplete
ones dropped as lavaan's listwise default) or ``missing="ml"`` (two-level FIML, ML only: :mod:`.missing`),
the chi-square against the saturated two-level model and the
fit measures lavaan reports (:mod:`.measures`); explicit constraints (:mod:`.constraints`), a fixed.x
covariate at both levels (fixed at lavaan's EM h1 moments), ``se="none"``, ``test="yuan.bentler"``
(:mod:`.yuan_bentler`) and lavaan()'s int.*/auto.*/orthogonal/fixed.x options.
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.inference.vcov import augmented_inverse
from survey.sem.multilevel.baseline import baseline_partable
from survey.sem.multilevel.constraints import estimate_constrained, has_constraints
from survey.sem.multilevel.estimate import build_model, estimate
from survey.sem.multilevel.h1 import fit_saturated, loglik_x
from survey.sem.multilevel.stats import cluster_stats
from survey.sem.multilevel.syntax import level_partable, level_variables

# the parameter-table options checked against lavaan (tests/test_multilevel*.py)
_OPTIONS = ("std_lv", "meanstructure", "model_type", "orthogonal", "fixed_x", "int_ov_free", "int_lv_free",
            "auto_fix_first", "auto_fix_single", "auto_var", "auto_cov_lv_x", "auto_cov_y")
# lavaan 0.6.14 (lav_options_set) in the multilevel case
_LAVAAN_SE = ("`se' argument must one of \"none\", \"standard\" or \"robust.huber.white\" in the multilevel "
              "case")
_LAVAAN_TEST = ("`test' argument must one of \"none\", \"standard\" or \"yuan.bentler\" in the multilevel "
                "case")


def _refuse(message: str, field: str, value=None):
    raise SurveyInputError(message, field=field, value=None if value is None else str(value))


def check_twolevel(*, estimator: str, missing: str, group, se: str, bootstrap, sampling_weights, ordered,
                   information, test, cluster, options: dict) -> tuple[str, str, str]:
    """The options a two-level fit takes, each other one refused in one line (with lavaan's reason where
    lavaan refuses it). Returns (estimator, se, information)."""
    est = str(estimator).upper()
    if not cluster:
        _refuse("a model with 'level:' blocks needs cluster= (the column of cluster ids; lavaan: cluster "
                "argument is missing)", "cluster")
    if est == "MLM":  # lavaan 0.6.14 stops inside its robust.sem code on two-level data
        _refuse("estimator 'MLM' is not available with a two-level model (lavaan 0.6.14 fails there: "
                "'requires numeric/complex matrix/vector arguments'; its robust.sem SEs and Satorra-Bentler "
                "test are not defined for two-level data; available: ML, MLR, MLF)", "estimator", estimator)
    if est not in ("ML", "MLR", "MLF"):
        _refuse(f"estimator {estimator!r} is not available with a two-level model yet (available: ML, MLR, "
                "MLF)", "estimator", estimator)
    if group:  # lavaan 0.6.14 stops with 'subscript out of bounds' on group= with level: blocks
        _refuse("group= with a two-level model is not available (lavaan 0.6.14 fails on it: 'subscript out "
                "of bounds'; available: one group)", "group", group)
    for value, what in ((sampling_weights, "sampling_weights="), (ordered, "ordered=")):
        if value:
            _refuse(f"{what} is not available with a two-level model yet (available: continuous data, "
                    "no weights, ML / MLR / MLF)", "model")
    se_name = str(se).lower()
    if bootstrap or se_name in ("bootstrap", "robust.sem", "robust.cluster.sem", "robust.cluster"):
        _refuse(f"se={'bootstrap' if bootstrap else se!r} is not available with a two-level model (lavaan: "
                f"{_LAVAAN_SE})", "se", se)
    fiml = str(missing).lower() in ("ml", "fiml", "direct")
    if str(missing).lower() not in ("listwise", "default") and not fiml:
        _refuse(f"missing={missing!r} is not available with a two-level model (available: listwise, ml)",
                "missing", missing)
    if fiml:
        check_fiml(est, se, information)
    # lavaan 0.6.14 runs MLF on two-level data as ML: se "standard", observed information (checked)
    default = {"ML": "standard", "MLR": "robust.huber.white", "MLF": "standard"}[est]
    se_kind = default if se_name == "default" else "robust.huber.white" if se_name == "robust" else se_name
    if se_kind not in ("standard", "robust.huber.white", "first.order", "none"):
        _refuse(f"se={se!r} is not available with a two-level model (available: standard, "
                f"robust.huber.white, none; lavaan: {_LAVAAN_SE})", "se", se)
    info = "observed" if information in (None, "default") else str(information)
    if info not in ("observed", "expected", "first.order"):
        _refuse(f"information={information!r} is not available with a two-level model (available: "
                "observed, lavaan's default there; expected; first.order)", "information", information)
    if est == "MLR" and info == "first.order":
        _refuse("information='first.order' with MLR is not available (lavaan: information must be either "
                "\"expected\" or \"observed\" if robust standard errors are requested)", "information",
                information)
    wanted = "yuan.bentler.mplus" if est == "MLR" else "standard"
    if test not in (None, "default", wanted, "standard", "yuan.bentler"):
        _refuse(f"test={test!r} with a two-level model (lavaan: {_LAVAAN_TEST})", "test", test)
    if test == "yuan.bentler" and fiml:  # lavaan 0.6.14: no scaled statistic there, only warnings
        _refuse("test='yuan.bentler' with missing='ml' is not available with a two-level model (lavaan "
                "0.6.14 computes no scaled statistic there; available: standard)", "test", test)
    if test == "yuan.bentler" and info == "first.order":
        _refuse("test='yuan.bentler' with information='first.order' is not available (lavaan: information "
                "must be either \"expected\" or \"observed\" if robust test statistics are requested)",
                "test", test)
    # lavaan 0.6.14 fits these, but the model is not identified: the latent means are free at both
    # levels beside the level-2 intercepts (growth() frees them; int.lv.free), a single-indicator factor
    # keeps its residual variance (auto.fix.single = FALSE): its information matrix cannot be inverted
    if str(options.get("model_type", "sem")) == "growth" or options.get("int_lv_free"):
        what = "growth()" if str(options.get("model_type", "sem")) == "growth" else "int_lv_free=True"
        _refuse(f"{what} with a two-level model is not available: latent means free at both levels are not "
                "identified (lavaan 0.6.14: 'Could not compute standard errors!')", "model_type")
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        _refuse(f"option {unknown[0]!r} is not available with a two-level model yet (available: "
                f"{', '.join(_OPTIONS)})", unknown[0])
    return est, se_kind, info


def _yuan_bentler(est: str, robust, tl, theta, btl, base_theta, sat, xw, xb, df: float, dfb: float, cons,
                  expected: bool = False):
    """test='yuan.bentler': ML gets lavaan's Yuan-Bentler scaling; MLR keeps its first test,
    Yuan-Bentler-Mplus, as lavaan 0.6.14 does (test = c("yuan.bentler.mplus", "yuan.bentler"), fitMeasures
    from the first), with its h0 trace from E = Delta' A1 Delta (lavaan: "observed.information for ALL
    test statistics is set to h1"). Returns the model's pieces and the baseline's scaling."""
    from survey.sem.multilevel.yuan_bentler import yuan_bentler_pieces

    model = yuan_bentler_pieces(tl, theta, sat, xw, xb, df, None if cons is None else cons.jacobian, expected)
    base = yuan_bentler_pieces(btl, base_theta, sat, xw, xb, dfb, None, expected)
    if est != "MLR":
        return model, base.scaling
    robust.trace_h0 = model.trace_h0
    robust.scaling = (robust.trace_h1 - model.trace_h0) / df if df > 0 else float("nan")
    return robust, (base.trace_h1 - base.trace_h0) / dfb if dfb > 0 else float("nan")


def _free_single_indicator(pt) -> bool:
    """A factor with one indicator whose residual variance and the factor's variance are both free."""
    loads = pt[pt["op"] == "=~"]
    for (level, lv), rows in loads.groupby(["level", "lhs"]):
        if len(rows) == 1:
            var = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["level"] == level)]
            free = dict(zip(var["lhs"], var["free"] > 0, strict=True))
            if free.get(rows["rhs"].iloc[0]) and free.get(lv):
                return True
    return False


def check_fiml(est: str, se, information) -> None:
    """The options two-level FIML takes here: ML with observed-information standard errors."""
    if est == "MLR":  # lavaan 0.6.14 stops in its robust test: eigen(VarCov): infinite or missing values
        _refuse("estimator 'MLR' with missing='ml' is not available with a two-level model (lavaan 0.6.14 "
                "fails there: 'infinite or missing values in x' in its scaled test; available: ML)",
                "estimator", est)
    if str(se).lower() in ("robust.huber.white", "robust"):  # lavaan 0.6.14 stops (checked in R)
        _refuse(f"se={se!r} with missing='ml' is not available with a two-level model (lavaan 0.6.14 fails "
                "there: 'infinite or missing values in x'; available: standard, none)", "se", se)
    if str(se).lower() not in ("default", "standard", "none"):
        _refuse(f"se={se!r} with missing='ml' is not available with a two-level model yet (available: "
                "standard, none)", "se", se)
    if information not in (None, "default", "observed"):
        _refuse(f"information={information!r} with missing='ml' is not available with a two-level model "
                "yet (available: observed, lavaan's default)", "information", information)


def fit_twolevel(model: str, data, *, cluster: str, estimator: str = "ML", missing: str = "listwise",
                 group=None, se: str = "default", bootstrap=None, sampling_weights=None, ordered=None,
                 information=None, test=None, **options):
    """Fit a two-level model; returns a :class:`survey.sem.multilevel.result.TwoLevelFit`.

    ``test="none"`` gives lavaan's estimates and standard errors (ML: standard, MLR: robust.huber.white);
    the unscaled test is still reported beside them, as in one-level fits (lavaan reports none)."""
    if test == "none":
        test = "standard"
    from survey.errors import SurveyWarning
    from survey.sem.multilevel.information import expected_information
    from survey.sem.multilevel.measures import ndat
    from survey.sem.multilevel.result import TwoLevelFit
    from survey.sem.multilevel.robust import model_sandwich, robust_pieces

    est_name, se_kind, info_kind = check_twolevel(
        estimator=estimator, missing=missing, group=group, se=se, bootstrap=bootstrap,
        sampling_weights=sampling_weights, ordered=ordered, information=information, test=test,
        cluster=cluster, options=options)
    options.pop("meanstructure", None)
    pt = level_partable(model, **options)
    if options.get("auto_fix_single") is False and _free_single_indicator(pt):
        _refuse("auto_fix_single=False with a single-indicator factor in a two-level model is not available: "
                "not identified (lavaan 0.6.14 gives no standard errors)", "auto_fix_single")
    sets = level_variables(pt)
    fiml = str(missing).lower() in ("ml", "fiml", "direct")
    exo_vars = sorted(set(pt.loc[pt["exo"] == 1, "lhs"]))
    dropped_x = 0
    if fiml and exo_vars:  # lavaan: rows with a missing fixed.x covariate are deleted
        missing_cols = [v for v in exo_vars if v not in data.columns]
        if missing_cols:
            _refuse(f"model variable {missing_cols[0]!r} is not a column of the data", "model")
        has_x = data[exo_vars].notna().all(axis=1).to_numpy()
        dropped_x, data = int((~has_x).sum()), data[has_x]
    if fiml:
        from survey.sem.multilevel.missing import missing_stats
        st, dropped = missing_stats(data, cluster, sets["ov1"], sets["between"])
    else:
        st, dropped = cluster_stats(data, cluster, sets["ov1"], sets["between"])
    warnings = []
    if est_name == "MLF":
        est_name = "ML"
        warnings.append(SurveyWarning("mlf_twolevel", "estimator MLF with a two-level model runs as ML with "
                                      "observed-information standard errors, as lavaan 0.6.14 does "
                                      "(first-order SEs: information='first.order')", "sem"))
    if dropped_x:
        warnings.append(SurveyWarning("listwise", f"{dropped_x} row(s) with a missing fixed.x covariate "
                                      "deleted (lavaan: cases deleted due to missing values in exogenous "
                                      "variable(s), while fixed.x = TRUE)", "sem"))
    if dropped and fiml:
        warnings.append(SurveyWarning("empty_rows", f"{dropped} row(s) missing every level-1 variable "
                                      "deleted (lavaan: empty cases are ignored)", "sem"))
    elif dropped:
        warnings.append(SurveyWarning("listwise", f"{dropped} row(s) with a missing value in a model "
                                      "variable deleted (lavaan's listwise default)", "sem"))
    tl = build_model(pt, st)
    xw, xb = ([v for v in mod.ov if v in set(pt.loc[(pt["exo"] == 1) & (pt["level"] == lev), "lhs"])]
              for lev, mod in ((1, tl.within), (2, tl.between)))  # the fixed.x covariates of each level
    if fiml and set(xw) & set(xb):
        _refuse(f"the fixed.x covariate {sorted(set(xw) & set(xb))[0]!r} at both levels with missing='ml' is "
                "not available: lavaan 0.6.14 fixes its mean at an arbitrary part of its h1 mean (free at "
                "both levels there, not identified)", "model")
    if fiml:
        from survey.sem.multilevel.missing import fit_saturated_missing
        sat = fit_saturated_missing(st, tl.y_both)
    else:
        sat = fit_saturated(st, tl.y_both)
    if fiml and sat.mu_w is None:  # lavaan's unrestricted FIML h1: the means at level 2, within-only at 1
        sat.mu_w, sat.mu_b = sat.moments.mu_y.copy(), sat.moments.mu_y.copy()
    # a covariate at both levels, or FIML: lavaan's h1 moments as the fixed.x values (lav_start)
    h1_x = bool(set(xw) & set(xb)) or (fiml and bool(xw or xb))
    if h1_x:
        from survey.sem.multilevel.estimate import set_h1_exogenous
        set_h1_exogenous(tl, sat)
    h0 = estimate(tl)
    cons = None
    if has_constraints(pt):  # lavaan's explicit constraints (:mod:`.constraints`)
        h0, cons = estimate_constrained(tl, pt, h0)
    if not h0.converged:
        warnings.append(SurveyWarning("nonconvergence", "the two-level model did not converge", "sem"))
    if not sat.converged:
        warnings.append(SurveyWarning("h1", "the saturated two-level model did not converge" + (
            "" if fiml else " in 5000 EM iterations (lavaan's limit)"), "sem"))
    btl = build_model(baseline_partable(pt), st)
    if h1_x:
        set_h1_exogenous(btl, sat)
    base = estimate(btl)
    one_level = ([v for v in xw if v not in xb], [v for v in xb if v not in xw])
    lx = loglik_x(cluster_stats(data, cluster, *one_level)[0] if fiml else st, *one_level)
    expected = info_kind == "expected"
    info = expected_information(lambda t: tl.moments(t)[0], st, h0.theta) if expected else h0.hessian
    nd = ndat(tl, xw, xb)
    n_eq = cons.n_equality if cons is not None else 0
    robust = base_robust = None
    try:
        # under constraints every inverse information is lavaan's augmented one
        a_inv = np.linalg.inv(info) if cons is None else augmented_inverse(info, cons.jacobian)
        if est_name == "MLR":
            robust = robust_pieces(tl, h0.theta, info, sat, xw, xb, nd - tl.mg.npar + n_eq, expected, a_inv)
            b_info = expected_information(lambda t: btl.moments(t)[0], st, base.theta) if expected \
                else base.hessian
            dfb = nd - btl.mg.npar
            base_robust = (robust.trace_h1 - model_sandwich(btl, base.theta, b_info)[1]) / dfb if dfb > 0 \
                else float("nan")
        if se_kind == "none":  # lavaan se = "none": no standard errors
            vcov = np.full(info.shape, np.nan)
        elif se_kind == "robust.huber.white":
            vcov = robust.vcov if robust is not None else model_sandwich(tl, h0.theta, info, a_inv)[0]
        elif se_kind == "first.order" or info_kind == "first.order":
            b0 = model_sandwich(tl, h0.theta, info, a_inv)[2]
            vcov = np.linalg.inv(b0) if cons is None else augmented_inverse(b0, cons.jacobian)
        else:
            vcov = a_inv
        if test == "yuan.bentler":  # lavaan's Yuan-Bentler test (:mod:`.yuan_bentler`)
            robust, base_robust = _yuan_bentler(est_name, robust, tl, h0.theta, btl, base.theta, sat, xw, xb,
                                                nd - tl.mg.npar + n_eq, nd - btl.mg.npar, cons, expected)
        if est_name == "MLR" and test == "standard":  # robust SEs, the unscaled test only (lavaan)
            robust = base_robust = None
    except np.linalg.LinAlgError:
        vcov = np.full(h0.hessian.shape, np.nan)
        warnings.append(SurveyWarning("vcov", "the information matrix is singular: no standard errors",
                                      "sem"))
    out = TwoLevelFit(model=model, estimator=est_name, information=info_kind, se_kind=se_kind,
                      cluster=cluster, pt=pt, tl=tl, h0=h0, sat=sat, base=base, btl=btl, loglik_x=lx,
                      vcov=vcov, robust=robust, base_scaling=base_robust, warnings=warnings, x_within=xw,
                      x_between=xb, n_equality=n_eq)
    out.explicit_constraints = cons is not None
    out.scaled_test = "yuan.bentler" if test == "yuan.bentler" and est_name == "ML" else "yuan.bentler.mplus"
    return out
