"""Full-information ML with missing data (lavaan ``missing="ml"``): casewise likelihood by missing pattern.

Cases are grouped by missing-data pattern; a pattern k with observed variables o, n_k cases, sums
``t_k = sum_i y_io`` and cross-products ``Q_k = sum_i y_io y_io'`` contributes
(Arbuckle 1996; Finkbeiner 1979)

    logl_k = -1/2 [n_k (p_o log 2 pi + log|Sigma_oo|) + tr(Sigma_oo^-1 R_k)],
    R_k = Q_k - t_k mu_o' - mu_o t_k' + n_k mu_o mu_o'

with gradient ``dlogl/dSigma_oo = -1/2 (n_k Sigma_oo^-1 - Sigma_oo^-1 R_k Sigma_oo^-1)`` and
``dlogl/dmu_o = Sigma_oo^-1 (t_k - n_k mu_o)``, chained with dSigma/dtheta and dmu/dtheta of the model.
Patterns with the same number of observed variables are stacked, so every likelihood evaluation is a
few batched Cholesky factorisations (one per pattern) instead of a loop over cases.

The saturated (H1) model is estimated by EM (Dempster, Laird & Rubin 1977; Little & Rubin 2002, ch. 11):
E-step ``E[y_m | y_o] = mu_m + B (y_o - mu_o)``, ``B = Sigma_mo Sigma_oo^-1``,
``Cov = Sigma_mm - B Sigma_om``;
M-step mean and covariance of the completed sufficient statistics. Then (lavaan ``missing="ml"``):

    chisq = 2 (logl_H1 - logl_H0),  df = p(p+3)/2 - q;   baseline: free means and variances (independence)
    standard errors: observed information, vcov = (-d2 logl/dtheta dtheta')^-1 (lavaan's default with missing)
    srmr and gfi use the EM moments in place of S and ybar.

MLR with missing data: sandwich ``A^-1 B0 A^-1`` with casewise scores (B0) and the observed information (A);
Yuan-Bentler (Mplus) trace ``tr(A1^-1 B1) - tr(A^-1 B0)`` with A1 the observed information and B1 the
first-order information of the saturated model at the EM estimates (Yuan & Bentler 2000).
The robust CFI/TLI/RMSEA with missing data are the FIML-corrected ones of Savalei (2018) / Zhang & Savalei
(2023) as lavaan 0.6.14 computes them (``V6`` for ML, ``V3`` for MLR), see :func:`fiml_corrected`.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey.errors import EstimationError, SurveyInputError, SurveyWarning
from survey.sem.data import GroupStats, SampleStats, check_cases, numeric_columns
from survey.sem.data.missing import (  # noqa: F401 - re-exported (moved to survey.sem.data.missing)
    LOG2PI,
    Batch,
    MissingData,
    _batch_inverse,
    _residual_cross,
    _scatter,
    _sub,
    case_scores_moments,
    em_saturated,
    h1_case_scores,
    h1_observed_information,
    loglik,
    missing_patterns,
)
from survey.sem.estimate import Estimation, gradient_and_information
from survey.sem.fitmeasures import fit_measures as complete_fit_measures
from survey.sem.fitmeasures import rmsea as rmsea_plain
from survey.sem.fitmeasures import rmsea_ci, rmsea_pvalue
from survey.sem.model import RAMModel
from survey.sem.model.chain import contract  # noqa: F401 - re-exported
from survey.sem.result import SEMResult
from survey.sem.robust import (
    ScaledTest,
    independence_model,
    scaled_measures,
    vech_index,
)
from survey.sem.vcov import Information

# ---------------------------------------------------------------------------------------------- patterns
# ---------------------------------------------------------------------------------------------- EM (H1)
# ---------------------------------------------------------------------------------------------- model fit


def model_loglik(model: RAMModel, md: MissingData, theta: np.ndarray, gradient: bool = False):
    """logl(theta) [and its gradient] of a mean-structure model."""
    try:
        imp = model.implied(theta)
    except Exception:
        return (-np.inf, None) if gradient else -np.inf
    if not gradient:
        return loglik(md, imp.sigma, imp.mean)
    value, g_sig, g_mu = loglik(md, imp.sigma, imp.mean, gradient=True)
    if not np.isfinite(value):
        return value, None
    return value, contract(model, theta, g_sig, g_mu, imp)


def observed_information(model: RAMModel, md: MissingData, theta: np.ndarray) -> np.ndarray:
    """-d2 logl/dtheta dtheta' (total, not per case) at theta.

    = Delta' W_obs Delta - d/dtheta [Delta(theta)' g_s] with g_s fixed, where W_obs is the observed
    information of the saturated model at the model-implied moments (:func:`h1_observed_information`)
    and g_s the gradient of logl wrt the moments; the second term by central differences of the cheap
    contraction :func:`contract` (no likelihood evaluations).
    """
    imp = model.implied(theta)
    wobs = h1_observed_information(md, imp.sigma, imp.mean)
    delta = _moments_jacobian_ms(model, theta)
    _, g_sig, g_mu = loglik(md, imp.sigma, imp.mean, gradient=True)
    q = theta.size
    second = np.empty((q, q))
    for k in range(q):
        step = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = step
        second[:, k] = (contract(model, theta + e, g_sig, g_mu) - contract(model, theta - e, g_sig, g_mu)) / (
            2 * step
        )
    h = delta.T @ wobs @ delta - second
    return 0.5 * (h + h.T)


def estimate_fiml(
    model: RAMModel,
    md: MissingData,
    start: np.ndarray,
    h1: GroupStats,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> Estimation:
    """Maximise the casewise likelihood: scoring steps with the complete-data expected information at the
    current Sigma(theta) (a fixed-metric Newton method; linear convergence at the rate of the fraction of
    missing information) with step halving. Convergence: max |dlogl/dtheta| / N < ``tol``."""
    theta = np.asarray(start, dtype=float).copy()
    n = md.n
    f, g = model_loglik(model, md, theta, True)
    if not np.isfinite(f):
        return Estimation(
            theta, np.inf, False, 0, np.inf, "fiml", "starting values give a non-positive-definite Sigma"
        )
    gmax = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        gmax = float(np.max(np.abs(g))) / n if g.size else 0.0
        if gmax < tol:
            return Estimation(theta, -f / n, True, it, gmax, "fiml-scoring")
        _, h = gradient_and_information(model, h1, theta)
        h = 0.5 * h
        step = np.linalg.lstsq(h, g / n, rcond=None)[0]
        slope = float(g @ step) / n
        if not np.isfinite(slope) or slope <= 0:
            step, slope = g / n, float(g @ g) / n**2
        alpha, accepted = 1.0, False
        for _ in range(30):
            cand = theta + alpha * step
            f_new, g_new = model_loglik(model, md, cand, True)
            if np.isfinite(f_new) and f_new >= f + 1e-4 * alpha * slope * n - 1e-12 * abs(f):
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            return Estimation(theta, -f / n, gmax < 1e-6, it, gmax, "fiml-scoring", "line search failed")
        theta, f, g = cand, f_new, g_new
    return Estimation(theta, -f / n, False, it, gmax, "fiml-scoring", "iteration limit reached")


# ------------------------------------------------------------------------------------ casewise scores
def _moments_jacobian_ms(model: RAMModel, theta: np.ndarray) -> np.ndarray:
    imp = model.implied(theta)
    rows, cols = vech_index(model.p)
    return np.vstack([model.delta_mean(theta, imp).T, model.delta(theta, imp)[:, rows, cols].T])


def model_case_scores(model: RAMModel, md: MissingData, theta: np.ndarray) -> np.ndarray:
    """Casewise scores dl_i/dtheta (N x q) at theta."""
    imp = model.implied(theta)
    s_mu, s_sig = case_scores_moments(md, imp.sigma, imp.mean)
    dsig = model.delta(theta, imp)
    return np.einsum("nij,kij->nk", s_sig, dsig) + s_mu @ model.delta_mean(theta, imp).T


# ------------------------------------------------------------------------------------ FIML-corrected
def _complete_fml(sigma: np.ndarray, mu: np.ndarray, cov: np.ndarray, mean: np.ndarray) -> float:
    p = sigma.shape[0]
    inv = np.linalg.inv(sigma)
    d = mean - mu
    return float(
        np.linalg.slogdet(sigma)[1] + np.trace(cov @ inv) - np.linalg.slogdet(cov)[1] - p + d @ inv @ d
    )


def fiml_corrected(
    md: MissingData,
    h1_mean: np.ndarray,
    h1_cov: np.ndarray,
    models: list[tuple[RAMModel, np.ndarray]],
    version: str,
    wm: np.ndarray,
    jm: np.ndarray | None,
) -> list[tuple[float, float]]:
    """FIML-corrected (T3, c3) of each (model, theta), for the robust CFI/TLI/RMSEA with missing data.

    Savalei (2018, Psychological Methods 23), Zhang & Savalei (2023, SEM 30); lavaan 0.6.14
    ``lav_fit_fiml_corrected``: T3 = N F_ML(theta_hat; EM moments as complete data),
    U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm (Wm: unit observed h1 information, missing data),
    Wc = unit complete-data information at the EM moments,
    V6: k = tr(Wc Wm^-1 U Wm^-1);  V3: k = tr(U Wm^-1 Wc Wm^-1 U Gamma), Gamma = Wm^-1 Jm Wm^-1; c3 = k / df.
    """
    from survey.sem.robust import h1_information

    n = md.n
    wmi = np.linalg.inv(wm)
    wc = h1_information(h1_cov, True)
    gamma = wmi @ jm @ wmi if version == "V3" else None
    out = []
    for model, theta in models:
        imp = model.implied(theta)
        t3 = n * _complete_fml(imp.sigma, imp.mean, h1_cov, h1_mean)
        delta = _moments_jacobian_ms(model, theta)
        e_inv = np.linalg.inv(delta.T @ wm @ delta)
        u = wm - wm @ delta @ e_inv @ delta.T @ wm
        if version == "V3":
            k = float(np.trace(u @ wmi @ wc @ wmi @ u @ gamma))
        else:
            k = float(np.trace(wc @ wmi @ u @ wmi))
        p = model.p
        df = p * (p + 3) // 2 - model.npar
        out.append((t3, k / df))
    return out


# ---------------------------------------------------------------------------------------------- result
class FIMLResult(SEMResult):
    """:class:`SEMResult` of a FIML fit (``missing="fiml"``), estimator ML or MLR."""

    def __init__(self, *args, missing_data: MissingData, h1_logl: float, **kwargs) -> None:
        self.missing_data = missing_data
        self.h1_logl = h1_logl
        super().__init__(*args, **kwargs)

    @cached_property
    def baseline(self) -> tuple[RAMModel, np.ndarray, float]:
        """Independence model by FIML: each variable's ML mean and variance from its observed values."""
        x = self.missing_data.x
        base = independence_model(self.ram.ov, True)
        mean = np.nanmean(x, axis=0)
        var = np.nanmean((x - mean) ** 2, axis=0)
        theta = np.zeros(base.npar)
        idx = {v: i for i, v in enumerate(base.ov)}
        for row in base.partable.itertuples(index=False):
            if row.free > 0:
                theta[row.free - 1] = var[idx[row.lhs]] if row.op == "~~" else mean[idx[row.lhs]]
        imp = base.implied(theta)
        return base, theta, loglik(self.missing_data, imp.sigma, imp.mean)

    @cached_property
    def _h1_information(self) -> tuple[np.ndarray, np.ndarray]:
        g = self.group_stats
        md = self.missing_data
        wm = h1_observed_information(md, g.cov, g.mean) / md.n
        s1 = h1_case_scores(md, g.cov, g.mean)
        return wm, s1.T @ s1 / md.n

    @cached_property
    def _fit(self) -> dict[str, float]:
        ram, g, md = self.ram, self.group_stats, self.missing_data
        n, p, q = md.n, ram.p, ram.npar
        imp = ram.implied(self.theta)
        logl = model_loglik(ram, md, self.theta)
        t = max(2.0 * (self.h1_logl - logl), 0.0)
        df = p * (p + 3) // 2 - q
        base, theta_b, logl_b = self.baseline
        tb = 2.0 * (self.h1_logl - logl_b)
        dfb = p * (p - 1) // 2
        out = complete_fit_measures(
            stats=g, sigma=imp.sigma, mean=imp.mean, fml=t / n, npar=q, df=df, x_index=[], meanstructure=True
        )
        from survey.sem.fitmeasures import cfi, ifi, nfi, rfi, rni, tli

        lo, hi = rmsea_ci(t, df, n)
        out.update(
            {
                "fmin": t / (2 * n),
                "chisq": t,
                "df": float(df),
                "pvalue": float(sps.chi2.sf(t, df)) if df > 0 else np.nan,
                "baseline.chisq": tb,
                "baseline.df": float(dfb),
                "baseline.pvalue": float(sps.chi2.sf(tb, dfb)),
                "cfi": cfi(t, df, tb, dfb),
                "tli": tli(t, df, tb, dfb),
                "nnfi": tli(t, df, tb, dfb),
                "rfi": rfi(t, df, tb, dfb),
                "nfi": nfi(t, tb),
                "pnfi": df / dfb * nfi(t, tb),
                "ifi": ifi(t, df, tb),
                "rni": rni(t, df, tb, dfb),
                "logl": logl,
                "unrestricted.logl": self.h1_logl,
                "aic": -2 * logl + 2 * q,
                "bic": -2 * logl + q * np.log(n),
                "bic2": -2 * logl + q * np.log((n + 2) / 24),
                "ntotal": float(n),
                "rmsea": rmsea_plain(t, df, n),
                "rmsea.ci.lower": lo,
                "rmsea.ci.upper": hi,
                "rmsea.pvalue": rmsea_pvalue(t, df, n),
            }
        )
        wm, jm = self._h1_information
        version = "V3" if self.estimator == "MLR" else "V6"
        try:
            (t3, c3), (t3b, c3b) = fiml_corrected(
                md, g.mean, g.cov, [(ram, self.theta), (base, theta_b)], version, wm, jm
            )
        except np.linalg.LinAlgError:
            t3 = c3 = t3b = c3b = float("nan")
        robust = ScaledTest("fiml.corrected", t3, df, c3 * df, c3)
        robust_b = ScaledTest("fiml.corrected", t3b, dfb, c3b * dfb, c3b)
        if self.estimator == "MLR":
            test = self.scaled_test
            base_test = self._baseline_scaled_test()
            out.update(scaled_measures(test, base_test, n, robust=robust, robust_base=robust_b))
        else:
            from survey.sem.robust import (
                cfi_robust,
                rmsea_ci_scaled,
                rmsea_close_pvalue,
                rmsea_value,
                rni_robust,
                tli_robust,
            )

            rlo, rhi = rmsea_ci_scaled(robust.stat_scaled, df, n, c3)
            out.update(
                {
                    "cfi.robust": cfi_robust(t3, df, t3b, dfb, c3, c3b),
                    "tli.robust": tli_robust(t3, df, t3b, dfb, c3, c3b),
                    "nnfi.robust": tli_robust(t3, df, t3b, dfb, c3, c3b),
                    "rni.robust": rni_robust(t3, df, t3b, dfb, c3, c3b),
                    "rmsea.robust": rmsea_value(t3, df, n, c3),
                    "rmsea.ci.lower.robust": rlo,
                    "rmsea.ci.upper.robust": rhi,
                    "rmsea.pvalue.robust": rmsea_close_pvalue(robust.stat_scaled, df, n, c3),
                }
            )
        return {k: float(v) for k, v in out.items()}

    # MLR with missing data ------------------------------------------------------------------------
    scaled_test: ScaledTest | None = None

    def _yb_test(
        self, model: RAMModel, theta: np.ndarray, a_inv: np.ndarray, stat: float, df: float
    ) -> ScaledTest:
        md = self.missing_data
        wm, jm = self._h1_information
        scores = model_case_scores(model, md, theta)
        b0 = scores.T @ scores / md.n
        trace_h1 = float(np.sum(jm * np.linalg.inv(wm).T))
        trace_h0 = float(np.sum(b0 * a_inv.T))
        trace = trace_h1 - trace_h0
        c = trace / df
        return ScaledTest(
            "yuan.bentler.mplus",
            stat,
            df,
            trace,
            c if c > 0 else float("nan"),
            trace_h1 / wm.shape[0],
            trace_h0 / theta.size,
        )

    def _baseline_scaled_test(self) -> ScaledTest:
        base, theta_b, logl_b = self.baseline
        md = self.missing_data
        a = observed_information(base, md, theta_b) / md.n
        p = self.ram.p
        return self._yb_test(base, theta_b, np.linalg.inv(a), 2.0 * (self.h1_logl - logl_b), p * (p - 1) // 2)


def fit_fiml(model: str, data: pd.DataFrame, *, estimator: str = "ML") -> FIMLResult:
    """Fit a lavaan-syntax model by FIML (lavaan ``sem(..., missing="ml")``; ``estimator="MLR"`` for robust).

    The model gets a mean structure (free intercepts); cases with every model variable missing are
    dropped and counted (warning ``all_missing``). Standard errors: observed information (ML) or the
    Huber-White sandwich with casewise scores (MLR), as lavaan's defaults.
    """
    from survey.sem.defined import check_definitions
    from survey.sem.diagnostics import check_convergence, check_identification
    from survey.sem.start import start_values
    from survey.sem.syntax import lavaanify

    est = str(estimator).upper()
    if est not in ("ML", "MLR"):
        raise SurveyInputError(
            "missing='fiml' is available with estimator ML or MLR", value=estimator, field="estimator"
        )
    partable = lavaanify(model, meanstructure=True)
    check_definitions(partable)
    ram = RAMModel(partable)
    if ram.names.ov_x:
        raise SurveyInputError(
            "missing='fiml' is not available for models with observed exogenous covariates "
            "(fixed.x); model them as ~~ variables",
            value=", ".join(ram.names.ov_x),
            field="model",
        )
    frame = numeric_columns(data, ram.ov)
    values = frame.to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values)] = np.nan
    md = missing_patterns(values)
    warnings: list[SurveyWarning] = []
    if md.n_dropped:
        warnings.append(
            SurveyWarning(
                "all_missing",
                f"{md.n_dropped} case(s) with every model variable missing were dropped.",
                "sem",
            )
        )
    if md.n < 2:
        raise SurveyInputError(f"only {md.n} case(s) with observed values", field="data")
    check_cases(md.x, list(ram.ov), what="cases with observed values")
    if np.any(np.diag(md.coverage) == 0) or np.any(md.coverage == 0):
        raise SurveyInputError(
            "some pairs of variables are never observed together (zero covariance coverage)", field="data"
        )
    h1_mean, h1_cov, _ = em_saturated(md)
    h1 = GroupStats("", md.n, h1_cov, h1_mean, md.x)
    stats = SampleStats(names=list(ram.ov), groups=[h1], n_raw=int(values.shape[0]))
    start = start_values(ram, h1)
    estimation = estimate_fiml(ram, md, start, h1)
    if not np.isfinite(estimation.fml):
        raise EstimationError(
            "FIML estimation failed: the model-implied covariance matrix is not positive definite"
        )
    warnings += check_convergence(estimation.converged, estimation.iterations, estimation.message)
    h = observed_information(ram, md, estimation.theta)
    eig = np.linalg.eigvalsh(h) if h.size else np.array([1.0])
    singular = bool(eig[0] <= 1e-10 * max(eig[-1], 1e-300))
    warnings += check_identification(singular)
    h1_logl = loglik(md, h1_cov, h1_mean)
    if singular:
        info = Information(h / md.n, np.full(h.shape, np.nan), True, float(eig[0]))
        a_inv = np.full(h.shape, np.nan)
    else:
        a_inv = np.linalg.inv(h / md.n)
        a_inv = (a_inv + a_inv.T) / 2
        info = Information(h / md.n, a_inv / md.n, False, float(eig[0]))
    result = FIMLResult.__new__(FIMLResult)
    result.missing_data = md
    result.h1_logl = h1_logl
    if est == "MLR" and not singular:
        scores = model_case_scores(ram, md, estimation.theta)
        b0 = scores.T @ scores / md.n
        sandwich = a_inv @ b0 @ a_inv / md.n
        info = Information(info.information, (sandwich + sandwich.T) / 2, False, info.min_eigenvalue)
    SEMResult.__init__(
        result,
        model=model,
        partable=partable,
        ram=ram,
        stats=stats,
        estimation=estimation,
        information=info,
        warnings=warnings,
        estimator=est,
        start=start,
    )
    if est == "MLR":
        logl = model_loglik(ram, md, estimation.theta)
        p = ram.p
        result.scaled_test = result._yb_test(
            ram, estimation.theta, a_inv, 2.0 * (h1_logl - logl), p * (p + 3) // 2 - ram.npar
        )
    return result
