"""``survey.fit(model, data, cluster=...)`` with lavaan ``level:`` blocks: the two-level fit (lavaan 0.6.14
``sem(model, data, cluster = "id")``): estimator ML (observed information, lavaan's default for two-level
models) or MLR (Huber-White sandwich over cluster scores, Yuan-Bentler-Mplus scaled test), complete data
(incomplete rows dropped as lavaan's listwise default), the chi-square test against the saturated
two-level model and the fit measures lavaan reports (:mod:`.measures`).
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.multilevel.baseline import baseline_partable
from survey.sem.multilevel.estimate import build_model, estimate
from survey.sem.multilevel.h1 import fit_saturated, loglik_x
from survey.sem.multilevel.stats import cluster_stats
from survey.sem.multilevel.syntax import level_partable, level_variables

_OPTIONS = ("std_lv", "orthogonal", "int_ov_free", "int_lv_free", "fixed_x", "auto_fix_first",
            "auto_fix_single", "auto_var", "auto_cov_lv_x", "auto_cov_y", "model_type", "meanstructure")


def check_twolevel(*, estimator: str, missing: str, group, se: str, bootstrap, sampling_weights, ordered,
                   information, test, cluster, options: dict) -> tuple[str, str]:
    """The options a two-level fit takes; everything else refused in one line. Returns (estimator, se)."""
    est = str(estimator).upper()
    if not cluster:
        raise SurveyInputError("a model with 'level:' blocks needs cluster= (the column of cluster ids; "
                               "lavaan: 'cluster' argument is required for multilevel models)",
                               field="cluster")
    if est not in ("ML", "MLR"):
        raise SurveyInputError(f"estimator {estimator!r} is not available with a two-level model yet "
                               "(available: ML, MLR)", field="estimator", value=estimator)
    refused = [(group, "group= (multiple groups)"), (sampling_weights, "sampling_weights="),
               (ordered, "ordered="), (bootstrap, "bootstrap=")]
    for value, what in refused:
        if value:
            raise SurveyInputError(f"{what} is not available with a two-level model yet (available: "
                                   "one group, continuous complete data, ML or MLR)", field="model")
    if str(missing).lower() not in ("listwise", "default"):
        raise SurveyInputError(f"missing={missing!r} is not available with a two-level model yet (available: "
                               "listwise)", field="missing", value=missing)
    se_name = str(se).lower()
    allowed = {"default", "standard"} if est == "ML" else {"default", "robust.huber.white", "robust"}
    if se_name not in allowed:
        raise SurveyInputError(f"se={se!r} is not available with a two-level {est} fit yet (available: "
                               f"{', '.join(sorted(allowed))})", field="se", value=se)
    if information not in (None, "observed", "expected"):
        raise SurveyInputError(f"information={information!r} is not available with a two-level model "
                               "(available: observed, lavaan's default there; expected)", field="information",
                               value=information)
    if information == "expected" and est == "MLR":
        raise SurveyInputError("information='expected' with a two-level MLR fit is not available yet "
                               "(available: observed, lavaan's default there)", field="information",
                               value=information)
    if test not in (None, "standard", "default") and not (est == "MLR" and test == "yuan.bentler.mplus"):
        raise SurveyInputError(f"test={test!r} is not available with a two-level model yet (available: "
                               "standard; MLR: yuan.bentler.mplus)", field="test", value=test)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise SurveyInputError(f"option {unknown[0]!r} is not available with a two-level model yet "
                               f"(available: {', '.join(_OPTIONS)})", field=unknown[0])
    return est, "robust.huber.white" if est == "MLR" else "standard"


def fit_twolevel(model: str, data, *, cluster: str, estimator: str = "ML", missing: str = "listwise",
                 group=None, se: str = "default", bootstrap=None, sampling_weights=None, ordered=None,
                 information=None, test=None, **options):
    """Fit a two-level model; returns a :class:`survey.sem.multilevel.result.TwoLevelFit`."""
    from survey.errors import SurveyWarning
    from survey.sem.multilevel.result import TwoLevelFit
    from survey.sem.multilevel.robust import robust_pieces

    est_name, se_kind = check_twolevel(estimator=estimator, missing=missing, group=group, se=se,
                                       bootstrap=bootstrap, sampling_weights=sampling_weights,
                                       ordered=ordered, information=information, test=test,
                                       cluster=cluster, options=options)
    options.pop("meanstructure", None)
    pt = level_partable(model, **options)
    sets = level_variables(pt)
    st, dropped = cluster_stats(data, cluster, sets["ov1"], sets["between"])
    warnings = []
    if dropped:
        warnings.append(SurveyWarning("listwise", f"{dropped} row(s) with a missing value in a model "
                                      "variable deleted (lavaan's listwise default)", "sem"))
    tl = build_model(pt, st)
    h0 = estimate(tl)
    if not h0.converged:
        warnings.append(SurveyWarning("nonconvergence", "the two-level model did not converge", "sem"))
    sat = fit_saturated(st, tl.y_both)
    if not sat.converged:
        warnings.append(SurveyWarning("h1", "the EM of the saturated two-level model did not converge "
                                      "in 5000 iterations (lavaan's limit)", "sem"))
    btl = build_model(baseline_partable(pt), st)
    base = estimate(btl)
    xw = [v for v in sets["within"] if v in tl.within.names.ov_x]
    xb = [v for v in sets["between"] if v in tl.between.names.ov_x]
    lx = loglik_x(st, xw, xb)
    info = h0.hessian
    if information == "expected":  # lavaan information = "expected" (survey.sem.multilevel.information)
        from survey.sem.multilevel.information import expected_information

        info = expected_information(tl, h0.theta)
    try:
        vcov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        vcov = np.full(h0.hessian.shape, np.nan)
        warnings.append(SurveyWarning("vcov", "the observed information is singular: no standard errors",
                                      "sem"))
    robust = base_robust = None
    if est_name == "MLR":
        from survey.sem.multilevel.measures import ndat
        from survey.sem.multilevel.robust import model_sandwich

        nd = ndat(tl, xw, xb)
        robust = robust_pieces(tl, h0, sat, xw, xb, nd - tl.mg.npar)
        vcov = robust.vcov
        dfb = nd - btl.mg.npar
        base_robust = (robust.trace_h1 - model_sandwich(btl, base)[1]) / dfb if dfb > 0 else float("nan")
    return TwoLevelFit(model=model, estimator=est_name, information=information or "observed",
                       se_kind=se_kind, cluster=cluster, pt=pt, tl=tl,
                       h0=h0, sat=sat, base=base, btl=btl, loglik_x=lx, vcov=vcov, robust=robust,
                       base_scaling=base_robust,
                       warnings=warnings, x_within=xw, x_between=xb)
