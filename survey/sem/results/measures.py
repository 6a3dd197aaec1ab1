"""The fit measures of a :class:`survey.sem.results.result.SEMResult` from the pipeline's pieces: the
standard measures (:func:`survey.sem.measures.measures.standard_measures`), the scaled/robust ones of
MLR/MLM and the FIML-corrected robust ones with missing data (:mod:`survey.sem.measures.fiml`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.inference.tests import ScaledTest
from survey.sem.measures.fiml import fiml_corrected
from survey.sem.measures.measures import scaled_measures, standard_measures


def log_likelihoods(res) -> tuple[float, float, list, list]:
    """(logl, unrestricted logl, implied Sigma_g, implied mu_g); under fixed.x conditional on the covariates
    (the covariates' own log-likelihood subtracted, as lavaan; with missing="ml.x" the EM moments for the
    model and, as lavaan 0.6.14, the pairwise covariances for the unrestricted model)."""
    mg, blocks = res.mg, res.stats.groups
    sigmas, means = [], []
    logl = logl_h1 = 0.0
    for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
        imp = ram.implied(mg.local(res.theta_full, i))
        sigmas.append(imp.sigma)
        means.append(imp.mean if imp.mean is not None else b.mean)
        logl += b.loglik(imp.sigma, means[-1])
        logl_h1 += b.h1_logl
        if b.x_index:
            nx = len(b.x_index)
            s_xx = b.cov[np.ix_(b.x_index, b.x_index)]
            logl_x = -0.5 * b.n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(s_xx)[1] + nx)
            logl_h1_x = logl_x
            if res.missing == "ml.x":  # lavaan's h1: pairwise covariances of the covariates, divisor N
                pairs = pd.DataFrame(b.raw[:, b.x_index]).cov().to_numpy() * (b.n - 1) / b.n
                logl_h1_x = -0.5 * b.n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(pairs)[1] + nx)
            logl, logl_h1 = logl - logl_x, logl_h1 - logl_h1_x
    return float(logl), float(logl_h1), sigmas, means


def fiml_robust_tests(res) -> tuple[ScaledTest | None, ScaledTest | None]:
    """FIML-corrected tests of the model and the baseline (V3 for MLR or a robust test under ML, V6 for
    ML; lavaan ``lav_fit_rmsea_lavobject``); computed once per fit (the core measures and the robust "not
    close" p-value both use them)."""
    cached = getattr(res, "__dict__", {}).get("_fiml_robust_tests")
    if cached is not None:
        return cached
    tests = _fiml_robust_tests(res)
    if hasattr(res, "__dict__"):
        res.__dict__["_fiml_robust_tests"] = tests
    return tests


def _fiml_robust_tests(res) -> tuple[ScaledTest | None, ScaledTest | None]:
    scaled = getattr(res.pieces, "scaled", None)
    version = "V3" if res.estimator == "MLR" or scaled is not None else "V6"
    pieces, base = res.pieces, res.baseline
    info = (getattr(res, "se_options", None) or ("", ""))[1]  # MLF: both with the first-order information
    info = info if info in ("expected", "first.order") else ""
    try:
        (t3, c3), (t3b, c3b) = fiml_corrected(
            [(res.mg, res.theta, pieces.df, *getattr(pieces, "constraint_jacobian", ())),
             (base.mg, base.theta, base.df)], res.stats.groups, version,
            expected=(info, info if info == "first.order" else ""),
        )
    except np.linalg.LinAlgError:
        return None, None
    return (
        ScaledTest("fiml.corrected", t3, pieces.df, c3 * pieces.df, c3),
        ScaledTest("fiml.corrected", t3b, base.df, c3b * base.df, c3b),
    )


def fit_measures(res) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` of a fit."""
    blocks = res.stats.groups
    logl, logl_h1, sigmas, means = log_likelihoods(res)
    ok = all(np.isfinite(getattr(b, "logdet", 0.0)) for b in blocks if b.kind == "complete")
    t = max(float(res.pieces.stat), 0.0) if ok else float("nan")
    out = standard_measures(
        t=t,
        df=res.pieces.df,
        tb=res.baseline.stat,
        dfb=res.baseline.df,
        logl=logl,
        logl_h1=logl_h1,
        npar=res.mg.npar,
        n=res.nobs,
        blocks=blocks,
        sigmas=sigmas,
        means=means,
        meanstructure=res.mg.meanstructure,
    )
    robust = robust_b = None
    if res.missing != "listwise":
        robust, robust_b = fiml_robust_tests(res)
    test, base = res.pieces.scaled, res.baseline.scaled
    if robust is None and test is not None and test.robust is not None and base is not None:
        robust, robust_b = test.robust, base.robust  # scaled.shifted: robust measures from Satorra-Bentler
    if test is not None and base is not None:
        out.update(scaled_measures(test, base, res.nobs, len(blocks), robust=robust, robust_base=robust_b))
    elif robust is not None:
        one = ScaledTest("standard", t, res.pieces.df, res.pieces.df, 1.0)
        one_b = ScaledTest("standard", res.baseline.stat, res.baseline.df, res.baseline.df, 1.0)
        extra = scaled_measures(one, one_b, res.nobs, len(blocks), robust=robust, robust_base=robust_b)
        out.update({k: v for k, v in extra.items() if k.endswith(".robust")})
    return out
