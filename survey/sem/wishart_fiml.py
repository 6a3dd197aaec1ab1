"""lavaan's ``likelihood = "wishart"`` with ``missing = "ml"`` (FIML; estimators ML and MLR).

lavaan 0.6.14 accepts the combination. With missing data the sample statistics are the raw cases (the
``sample.cov.rescale`` of the Wishart likelihood has nothing to rescale), and the test statistic is
sum_g 2 (N_g - 1) F_g with F_g = (logl_H1,g - logl_H0,g) / N_g the group's FIML discrepancy (lav_model_test
``NFAC``; its likelihood-based branch is for two-level fits only): per group the normal FIML chi-square
times (N_g - 1) / N_g, the baseline's too, and the scaled statistic is that over the unchanged
Yuan-Bentler factor (MLR). The estimates, logl, AIC and BIC are those of the normal FIML fit. Also
(lav_model_vcov, lav_utils_get_ntotal): the inverted information (or MLR's sandwich) is divided by N - G
instead of N, and the measures built on lav_utils_get_ntotal (RMSEA with its interval and p-values, the
robust RMSEA from the FIML-corrected test, fmin, ECVI, Hoelter's CN, MFI) take N - G. survey.sem.wishart
applies both to the normal FIML fit (tests/fixtures/wishart_options: w_fiml, w_mlr_fiml, w_fiml_groups,
w_mlr_fiml_groups).
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError


def check_fiml(estimator: str, se: str, options: dict) -> None:
    """One-line refusals of the FIML + Wishart combinations not checked against lavaan."""
    est = str(estimator).upper()
    if est not in ("ML", "MLR"):
        raise SurveyInputError(f"likelihood='wishart' with missing='fiml' and estimator {est} is not "
                               "available yet (available: estimator ML, MLR)", field="likelihood",
                               value="wishart")
    if str(se).lower() not in ("default", "standard", "none") and not (
            est == "MLR" and str(se).lower() == "robust.huber.white"):
        raise SurveyInputError(f"se={se!r} is not available with likelihood='wishart' and missing='fiml' "
                               "yet (available: the estimator's own)", field="se", value=str(se))
    for key in ("bootstrap", "sampling_weights", "cluster", "ordered", "test", "information"):
        if options.get(key) not in (None, False, "default"):
            raise SurveyInputError(f"{key}= is not available with likelihood='wishart' and missing='fiml' "
                                   "yet", field=key)


def rescale_fiml(res, chisq_by_group) -> None:
    """The FIML statistics (model, baseline, the scaled ones' T): sum_g (N_g - 1) / N_g T_g (module
    notes); ``chisq_by_group(mg, blocks, theta_full)`` gives the T_g."""
    blocks = res.stats.groups
    f = np.array([(b.n - 1.0) / b.n for b in blocks])
    res.pieces.stat = float(f @ chisq_by_group(res.mg, blocks, res.theta_full))
    base = res.baseline
    base.stat = float(f @ chisq_by_group(base.mg, blocks, base.mg.k @ base.theta))
    restat(res)


def restat(res) -> None:
    """The scaled tests (model, baseline) on the fit's current statistics (their factors unchanged)."""
    import dataclasses

    def on(test, stat: float):
        inner = None if test.robust is None else dataclasses.replace(test.robust, stat=stat)
        return dataclasses.replace(test, stat=stat, robust=inner)

    if res.pieces.scaled is not None:
        res.pieces.scaled = on(res.pieces.scaled, float(res.pieces.stat))
    base = getattr(res.baseline, "scaled", None)
    if base is not None:
        res.baseline.scaled = on(base, float(res.baseline.stat))


ROBUST_KEYS = ("rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust")


def fiml_robust_rmsea(res, n: float, g: int) -> dict[str, float]:
    """The robust RMSEA family of a Wishart FIML fit: lavaan's FIML-corrected test (lav_fit_fiml_corrected:
    XX3 and c3 as in the normal FIML fit; tests/fixtures/wishart_options: w_fiml, w_mlr_fiml) with N - G."""
    from survey.sem.inference.tests import ScaledTest
    from survey.sem.measures.measures import scaled_measures
    from survey.sem.results.fit_more import rmsea_notclose_pvalue
    from survey.sem.results.measures import fiml_robust_tests

    robust, robust_b = fiml_robust_tests(res)
    if robust is None or robust_b is None:
        return {}
    test = res.pieces.scaled or ScaledTest("standard", res.pieces.stat, res.pieces.df, res.pieces.df, 1.0)
    base = res.baseline.scaled or ScaledTest("standard", res.baseline.stat, res.baseline.df,
                                             res.baseline.df, 1.0)
    out = scaled_measures(test, base, int(round(n)), g, robust=robust, robust_base=robust_b)
    found = {k: float(out[k]) for k in ROBUST_KEYS if k in out}
    c3 = robust.scaling_factor
    if np.isfinite(robust.stat) and c3:
        found["rmsea.notclose.pvalue.robust"] = float(rmsea_notclose_pvalue(
            robust.stat / c3, robust.df, int(round(n)), g, c_hat=c3))
    return found
