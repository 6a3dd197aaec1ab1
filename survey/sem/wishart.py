"""lavaan's ``likelihood = "wishart"`` (estimator ML, complete data).

lavaan 0.6.14 with ``likelihood = "wishart"`` (lav_options.R: ``sample.cov.rescale = FALSE``) keeps the
unbiased sample covariance matrix S_u = S N_g / (N_g - 1) of each group (divisor N_g - 1) and
- estimates by ML against S_u (the fit function is unchanged);
- takes the test statistic as sum_g (N_g - 1) F_g (lav_test.R, ``NFAC``), F_g the group's ML discrepancy;
  the same for the baseline model;
- divides the inverted information by N - G instead of N (lav_model_vcov.R, "denominator");
- uses N - G in the measures that take lav_utils_get_ntotal (RMSEA, its interval and p-values, fmin,
  ECVI, Hoelter's CN, MFI; tests/fixtures/lang3/lang3.json: mfi .903297 with N - 1);
- computes logl, AIC, BIC, SRMR with S_u and N.

Here the rows of each group are moved away from the group means by sqrt(N_g / (N_g - 1)), so that their
moments with divisor N are S_u and the means stay; the ML fit of those rows is lavaan's Wishart fit,
and the statistic, the vcov and the RMSEA are then rescaled as above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError


def _check(estimator: str, missing: str, se: str, options: dict, group=None) -> None:
    if _robust_mlm(estimator, se, options):  # MLM's SB test and robust.sem (survey.sem.wishart_robust)
        from survey.sem.wishart_robust import check_robust

        check_robust(missing, group, options)
        return
    if str(estimator).upper() != "ML" or str(missing).lower() not in ("listwise", "default"):
        raise SurveyInputError("likelihood='wishart' is available with estimator ML on complete data only "
                               "yet (available: estimator='ML', missing='listwise')", field="likelihood")
    if str(se).lower() not in ("default", "standard", "none"):
        raise SurveyInputError(f"se={se!r} is not available with likelihood='wishart' yet (available: "
                               "standard, none)", field="se", value=str(se))
    for key in ("bootstrap", "sampling_weights", "cluster", "ordered"):
        if options.get(key):
            raise SurveyInputError(f"{key}= is not available with likelihood='wishart' yet", field=key)
    if str(options.get("test", "standard")) != "standard":
        raise SurveyInputError("test= is not available with likelihood='wishart' yet (available: standard)",
                               field="test", value=str(options.get("test")))


def _robust_mlm(estimator: str, se: str, options: dict) -> bool:
    """Estimator MLM / MLR with its own se and test (robust.sem + satorra.bentler; robust.huber.white +
    yuan.bentler.mplus), R-checked; ML with those options given one by one is refused by :func:`_check`."""
    test, est = str(options.get("test", "default")).lower(), str(estimator).upper()
    if est == "ML" and str(se).lower() == "robust.huber.white" and test == "yuan.bentler":
        return True  # mimic="EQS" with MLR (lavaan 0.6.14: its test is yuan.bentler; survey.sem.mimic)
    if est == "MLR":  # its own robust.huber.white and yuan.bentler.mplus
        return str(se).lower() in ("default", "robust.huber.white") and \
            test in ("default", "yuan.bentler.mplus")
    return est == "MLM" and str(se).lower() in ("default", "robust.sem") and \
        test in ("default", "satorra.bentler")


def unbiased_rows(model: str, data: pd.DataFrame, group: str | None, options: dict) -> pd.DataFrame:
    """The kept rows of each group spread by sqrt(N_g / (N_g - 1)) around their means (see the module)."""
    from survey.sem.data.std_ov import kept_rows, model_variables
    from survey.sem.syntax import lavaanify

    pt = lavaanify(model, **{k: v for k, v in options.items() if k in ("fixed_x", "model_type")})
    ov, exo = model_variables(pt, data.columns)
    keep = kept_rows(data, ov, exo, "listwise")
    if group is not None:
        keep = keep & data[group].notna().to_numpy()
    out = data.loc[keep].copy()
    out[ov] = out[ov].astype(float)
    labels = out[group] if group is not None else pd.Series(0, index=out.index)
    for _, idx in out.groupby(labels, sort=False).groups.items():
        part = out.loc[idx, ov]
        n = len(part)
        if n > 1:
            out.loc[idx, ov] = part.mean() + (part - part.mean()) * np.sqrt(n / (n - 1))
    return out


def _chisq_by_group(mg, blocks, theta_full) -> np.ndarray:
    """2 (logl_h1 - logl) of each block at ``theta_full`` (N_g F_g)."""
    out = []
    for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
        imp = ram.implied(mg.local(theta_full, i))
        mean = imp.mean if imp.mean is not None else b.mean
        out.append(2.0 * (b.h1_logl - b.loglik(imp.sigma, mean)))
    return np.maximum(np.array(out), 0.0)


def fit_wishart(fit, model: str, data: pd.DataFrame, *, estimator: str = "ML", missing: str = "listwise",
                group: str | None = None, se: str = "default", **options):
    """``fit(model, data, likelihood="wishart", ...)``: ``fit`` is :func:`survey.sem.api.fit`."""
    est = str(estimator).upper()
    if est not in ("ML", "MLM", "MLMV", "MLMVS", "MLR", "MLF") or options.get("ordered"):
        raise SurveyInputError("likelihood='wishart': lavaan 0.6.14 refuses it (\"likelihood argument is "
                               "only relevant if estimator = ML\"; available: the ML estimators, continuous "
                               "data)",
                               field="likelihood", value="wishart")
    from survey.sem.options import check_options

    check_options(est, missing, se)  # lavaan's own refusals first (MLM with missing="ml", ...)
    if str(missing).lower() in ("fiml", "ml", "direct"):  # FIML: survey.sem.wishart_fiml
        from survey.sem.wishart_fiml import check_fiml

        check_fiml(estimator, se, options)
        res = fit(model, data, estimator=estimator, missing=missing, group=group, se=se, **options)
        return _finish(res, robust=str(estimator).upper() == "MLR", rescaled=False)
    from survey.sem.wishart_direct import fit_direct, wants_direct

    if wants_direct(estimator, se, group, options):  # the blocks hold S_u (survey.sem.wishart_direct)
        res = fit_direct(fit, model, data, estimator=estimator, missing=missing, group=group, se=se,
                         **options)
        return _finish(res, robust=res.pieces.scaled is not None, rescaled=True, spread=False)
    _check(estimator, missing, se, options, group)
    rows = unbiased_rows(model, data, group, options)
    robust = _robust_mlm(estimator, se, options)
    res = fit(model, rows, estimator=str(estimator).upper() if robust else "ML", missing="listwise",
              group=group, se=se, **options)
    return _finish(res, robust=robust, rescaled=True)


def _finish(res, *, robust: bool, rescaled: bool, spread: bool = True):
    """The statistic (``rescaled``: of the spread rows), the vcov and the measures of the module notes."""
    from survey.sem.fitmeasures import rmsea_ci
    from survey.sem.measures.robust import rmsea_value

    blocks = res.stats.groups
    n_g = np.array([b.n for b in blocks], dtype=float)
    if rescaled:
        factor = (n_g - 1.0) / n_g
        res.pieces.stat = float(factor @ _chisq_by_group(res.mg, blocks, res.theta_full))
        base = res.baseline
        base.stat = float(factor @ _chisq_by_group(base.mg, blocks, base.mg.k @ base.theta))
    else:  # FIML: lavaan's 2 (N_g - 1) F_g (survey.sem.wishart_fiml)
        from survey.sem.wishart_fiml import rescale_fiml

        rescale_fiml(res, _chisq_by_group)
    n, g = float(n_g.sum()), len(blocks)
    res._vcov = res._vcov * n / (n - g)
    if robust and not spread:  # the scaled tests' T (their factors are lavaan's already)
        from survey.sem.wishart_fiml import restat

        restat(res)
    elif robust and rescaled:  # the sandwich and the SB factor with lavaan's Gamma (sem.wishart_robust)
        from survey.sem.wishart_robust import rescale_robust

        rescale_robust(res, n)
    if res.information is not None:
        res.information.vcov = res._vcov
    res.partable = res._fill_partable(res.mg.partable.copy())
    for key in ("_fit", "_fit_all"):
        res.__dict__.pop(key, None)
    fm = dict(res._fit)  # chisq, CFI, logl, BIC ... from the rescaled statistic and N
    t, df, root = fm["chisq"], fm["df"], np.sqrt(g)
    lo, hi = rmsea_ci(t, df, n - g)
    fm.update({"rmsea": rmsea_value(t, df, n - g) * root, "rmsea.ci.lower": lo * root,
               "rmsea.ci.upper": hi * root})
    if df > 0:
        from survey import distributions as sps

        fm["rmsea.pvalue"] = float(sps.ncx2.sf(t, df, (n - g) * df * 0.05**2 / g))
    if robust and rescaled and res.pieces.scaled is not None:  # the scaled / robust RMSEA with N - G too
        from survey.sem.wishart_robust import scaled_rmsea

        fm.update(scaled_rmsea(res, n - g, g))
    if not rescaled:  # FIML: the FIML-corrected robust RMSEA with N - G (survey.sem.wishart_fiml)
        from survey.sem.wishart_fiml import fiml_robust_rmsea

        robust_rmsea = fiml_robust_rmsea(res, n - g, g)
        fm.update({k: v for k, v in robust_rmsea.items() if k in fm})
    res.__dict__["_fit"] = fm
    res.__dict__["_fit_all"] = _all_measures(res, fm)
    if not rescaled:
        res.__dict__["_fit_all"].update({k: v for k, v in robust_rmsea.items() if k in res._fit_all})
    res.likelihood = "wishart"
    return res


N_MINUS_G = ("fmin", "rmsea.notclose.pvalue", "ecvi", "cn_05", "cn_01", "mfi")


def _all_measures(res, core: dict) -> dict[str, float]:
    """lavaan's full fitMeasures() of a Wishart fit: those of :data:`N_MINUS_G` with N_g - 1 per group."""
    import dataclasses

    from survey.sem.results.fit_adapter import all_fit_measures, group_moments
    from survey.sem.results.fit_more import more_fit_measures

    out = all_fit_measures(res)
    moments = [dataclasses.replace(m, n=m.n - 1) for m in group_moments(res)]
    scaled = None
    if "chisq.scaled" in core:  # MLM pieces (survey.sem.wishart_robust)
        scaled = {k: core[k] for k in ("chisq.scaled", "baseline.chisq.scaled", "chisq.scaling.factor")}
        scaled["method"] = res.pieces.scaled.method
    extra = more_fit_measures(moments, chisq=core["chisq"], df=core["df"],
                              baseline_chisq=core["baseline.chisq"], baseline_df=core["baseline.df"],
                              npar=int(core["npar"]), scaled=scaled)
    n = sum(m.n for m in moments)
    keys = (*N_MINUS_G, "rmsea.notclose.pvalue.scaled", "rmsea.notclose.pvalue.robust")
    out.update({k: float(extra[k]) for k in keys if k in extra and k in out})
    out.update({k: float(v) for k, v in core.items() if k.startswith("rmsea") and k in out})
    if "fmin" in out:
        out["fmin"] = core["chisq"] / (2.0 * n)
    return out
