"""Least-squares estimators for continuous, complete data (lavaan 0.6.14 ``estimator = "GLS" | "ULS" |
"DWLS" | "WLS"`` without ordered items), one block per group, with or without a mean structure:

    F(theta) = 1/2 (s - sigma(theta))' W (s - sigma(theta)),   s = vech(S),  S with divisor N - 1
    (under meanstructure = TRUE s = (xbar', vech(S)')' and sigma(theta) = (mu', vech(Sigma)')'; the means'
    block of the GLS weight is S^-1, ULS the identity, DWLS / WLS the ADF Gamma of (xbar, vech S))
    W:  GLS   the normal-theory weight W(S) = 1/2 D' (S^-1 x S^-1) D       (Browne 1974)
        ULS   the identity
        DWLS  diag(Gamma)^-1,  WLS (ADF)  Gamma^-1,  Gamma the ADF covariance of s  (Browne 1984)

minimised by Gauss-Newton, theta <- theta + (Delta' W Delta)^-1 Delta' W (s - sigma),
Delta = d sigma / d theta.
lavaan's scale (checked on tests/fixtures/engine/aliases.json): chisq = (N - 1) (s - sigma)' W (s - sigma),
fmin = chisq / (2 N), vcov (se "standard") = (Delta' W Delta)^-1 / (N - 1). The independence (baseline)
model, sigma = diag(v) (plus the covariances among the exogenous covariates, free under lavaan's fixed.x =
FALSE, ``lav_partable_indep_or_unrestricted``), is linear in v: v = (A' W A)^-1 A' W s, A selecting those
elements of vech.

This is the estimation core; :func:`survey.sem.fit` reaches it through :mod:`survey.sem.ls_route` (fit
measures: :mod:`survey.sem.results.ls_result`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.data.blocks import BlockStats
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import (
    gamma_adf,
    gamma_adf_fixed_x,
    h1_information,
    moments_jacobian,
    vech_index,
)

LS_ESTIMATORS = ("GLS", "ULS", "DWLS", "WLS")


@dataclass
class LSFit:
    """A least-squares fit: estimates, lavaan's test statistic and vcov, and the baseline test."""

    estimator: str
    theta: np.ndarray
    chisq: float
    df: int
    fmin: float
    vcov: np.ndarray
    baseline_chisq: float
    baseline_df: int
    converged: bool
    iterations: int


def sample_cov(block: BlockStats) -> np.ndarray:
    """S of a block: divisor N - 1 from the block's moments (with missing="pairwise" the pairwise ones,
    survey.sem.ls_route); with sampling weights lavaan 0.6.14's weighted covariance matrix (divisor sum w,
    ``cov.wt(method = "ML")``, not rescaled; checked on tests/fixtures/combos2/combos2.json)."""
    if getattr(block, "wt", None) is not None:
        return np.asarray(block.cov)
    return np.asarray(block.cov) * block.n / (block.n - 1)  # block.cov has divisor N


def sample_moments(block: BlockStats, meanstructure: bool) -> np.ndarray:
    """s of a block: vech(S) (:func:`sample_cov`), preceded by the means under a mean structure."""
    cov = sample_cov(block)
    rows, cols = vech_index(cov.shape[0])
    s = cov[rows, cols]
    return np.concatenate([np.asarray(block.mean), s]) if meanstructure else s


def weight_matrix(estimator: str, block: BlockStats, meanstructure: bool = False) -> np.ndarray:
    """W of the estimator (module notes) for the block's complete data; under a mean structure the means
    lead (GLS: S^-1 for them, lavaan ``lav_samplestats``' WLS.V of estimator GLS); with sampling weights
    Gamma is still that of the unweighted rows (lavaan 0.6.14's NACOV ignores the weights; S is weighted)."""
    cov = sample_cov(block)
    if estimator == "GLS":
        return h1_information(cov, meanstructure)
    if estimator == "ULS":
        p = cov.shape[0]
        return np.eye(p * (p + 1) // 2 + (p if meanstructure else 0))
    x_index = list(getattr(block, "x_index", []) or [])
    pairwise = getattr(block, "pairwise_rows", None)  # missing="pairwise" (survey.sem.ls_route)
    if pairwise is not None:
        gamma = gamma_pairwise(pairwise, meanstructure)
    else:
        gamma = gamma_adf_fixed_x(block.raw, x_index, meanstructure) if x_index else gamma_adf(block.raw,
                                                                                               meanstructure)
        gamma = mplus_gamma(block, gamma, meanstructure)
    free = ~fixed_x_moments(p_of(block), x_index, meanstructure)  # fixed.x: the covariates' rows are 0
    out = np.zeros_like(gamma)
    sub = np.ix_(free, free)
    out[sub] = np.diag(1.0 / np.diag(gamma[sub])) if estimator == "DWLS" else np.linalg.inv(gamma[sub])
    return out


def mplus_gls_weight(w: np.ndarray, block: BlockStats) -> np.ndarray:
    """GLS's WLS.V under mimic="Mplus" with a mean structure (lav_samplestats_from_data): its mean block
    times N / (N - 1); lavaan uses it for the information only (the GLS objective reads S^-1 itself)."""
    p = p_of(block)
    out = w.copy()
    out[:p, :p] *= block.n / (block.n - 1.0)
    return out


def mplus_gamma(block: BlockStats, gamma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """lavaan's ``Mplus.WLS`` Gamma under mimic="Mplus" (lav_samplestats_Gamma; survey.sem.mimic_mplus_ls):
    the covariance block minus w w' - w_b w_b', w = vech(S) (divisor N - 1), w_b = (N - 1) / N w; other
    blocks unchanged."""
    if not getattr(block, "mplus", False):
        return gamma
    cov = sample_cov(block)
    rows, cols = vech_index(cov.shape[0])
    w = cov[rows, cols]
    n = float(block.n)
    out = gamma.copy()
    k = cov.shape[0] if meanstructure else 0
    out[k:, k:] -= (1.0 - ((n - 1.0) / n) ** 2) * np.outer(w, w)
    return out


def gamma_pairwise(x: np.ndarray, meanstructure: bool) -> np.ndarray:
    """The ADF Gamma of missing="pairwise" (lavaan 0.6.14 ``lav_samplestats_Gamma`` on rows with holes):
    each variable centred at its available-case mean, the row products (missing where either value is),
    centred at their available-case means, and Gamma_kl = sum over the rows observing both of the
    products' cross-products / N, N all rows (Browne 1984's moments, available cases)."""
    d = x - np.nanmean(x, axis=0)
    rows, cols = vech_index(x.shape[1])
    z = d[:, rows] * d[:, cols]
    z = np.hstack([x, z]) if meanstructure else z
    zc = np.nan_to_num(z - np.nanmean(z, axis=0))
    return zc.T @ zc / x.shape[0]


def p_of(block: BlockStats) -> int:
    return int(block.raw.shape[1])


def fixed_x_moments(p: int, x_index: list[int], meanstructure: bool) -> np.ndarray:
    """Mask of the moments (means first under a mean structure, then vech) among the fixed.x covariates
    only: fitted exactly (their parameters fixed at the sample values), they carry no weight and no
    degree of freedom (lavaan 0.6.14: its fixed.x Gamma has zero rows there; df = p* - q - those)."""
    rows, cols = vech_index(p)
    mask = np.isin(rows, x_index) & np.isin(cols, x_index)
    return np.concatenate([np.isin(np.arange(p), x_index), mask]) if meanstructure else mask


def fit_ls(mg: MultiGroupModel, blocks, estimator: str, start: np.ndarray,
           max_iter: int = 500, tol: float = 1e-10,
           bounds: tuple[np.ndarray, np.ndarray] | None = None) -> LSFit:
    """Gauss-Newton minimisation of F (module notes) from ``start`` (e.g. the ML estimates of the same
    model with ``fixed_x=False``, lavaan's setting for these estimators). ``blocks``: the complete-data
    block of each group (one BlockStats for one group); with G groups F = sum_g (N_g / N) F_g and the
    test sum_g (N_g - 1) e_g' W_g e_g, vcov (sum_g (N_g / N) Delta_g' W_g Delta_g)^-1 / (N - G) (lavaan
    ``lav_model_objective`` weighs by nobs_g / ntotal).
    ``bounds`` (lower()/upper()): when the Gauss-Newton solution leaves the box, F is minimised inside it
    by L-BFGS-B (lavaan: nlminb with lower/upper) and the test and vcov are the usual formulas at the
    bounded estimate."""
    est = str(estimator).upper()
    if est not in LS_ESTIMATORS:
        raise SurveyInputError(f"estimator is not a least-squares estimator (available: "
                               f"{', '.join(LS_ESTIMATORS)})", value=str(estimator), field="estimator")
    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    if len(blocks) != len(mg.models) or any(b.kind != "complete" for b in blocks):
        raise SurveyInputError("least-squares estimators: one complete-data block per group only",
                               field="estimator", value=est)
    ms = mg.meanstructure
    p = len(mg.ov)
    rows, cols = vech_index(p)
    ns = np.array([b.n for b in blocks], dtype=float)
    cond = [bool(getattr(b, "conditional_x", False)) for b in blocks]  # y given x (estimate.wls_conditional)
    if any(cond):
        from survey.sem.estimate import wls_conditional as wc
    pairs = list(zip(blocks, cond, strict=True))
    ss = [wc.conditional_moments(b, sample_cov(b)) if c else sample_moments(b, ms) for b, c in pairs]
    ws = [wc.conditional_ls_weight(est, b) if c else weight_matrix(est, b, ms) for b, c in pairs]
    cw = ns / ns.sum()

    def residual_and_delta(theta, g):
        ram, local = mg.models[g], mg.local(mg.k @ theta, g)
        imp = ram.implied(local)
        if cond[g]:
            return wc.conditional_residual(blocks[g], ss[g], imp.sigma, imp.mean,
                                           moments_jacobian(ram, local, True) @ mg.k[mg.index[g], :])
        sigma = imp.sigma[rows, cols]
        model_moments = np.concatenate([imp.mean, sigma]) if ms else sigma
        return ss[g] - model_moments, moments_jacobian(ram, local, ms) @ mg.k[mg.index[g], :]

    def normal_equations(theta, weights=None):
        weights = ws if weights is None else weights
        info, grad, quads = 0.0, 0.0, []
        for g in range(len(blocks)):
            e, d = residual_and_delta(theta, g)
            info = info + cw[g] * d.T @ weights[g] @ d
            grad = grad + cw[g] * d.T @ weights[g] @ e
            quads.append(float(e @ weights[g] @ e))
        return info, grad, np.array(quads)

    theta, converged, it = _gauss_newton(normal_equations, cw, start, max_iter, tol, halving=False)
    if not converged and bounds is None:  # full steps overshoot: again from the start, halving the steps
        theta, converged, extra = _gauss_newton(normal_equations, cw, start, max_iter, tol, halving=True)
        it += extra
    if bounds is not None and (np.any(theta < bounds[0]) or np.any(theta > bounds[1]) or not converged):
        from scipy import optimize

        def fun(t):
            _, grad_t, quads_t = normal_equations(t)
            return float(cw @ quads_t), -2.0 * grad_t

        sol = optimize.minimize(fun, np.clip(np.asarray(start, float), *bounds), jac=True, method="L-BFGS-B",
                                bounds=list(zip(*bounds, strict=True)),
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 50})
        theta, converged, it = np.clip(sol.x, *bounds), bool(sol.success), it + int(sol.nit)
    info, _, quads = normal_equations(theta)
    chisq = float((ns - 1) @ quads)
    if est == "GLS" and ms and any(getattr(b, "mplus", False) for b in blocks):  # survey.sem.mimic_mplus_ls
        info = normal_equations(theta, [mplus_gls_weight(w, b) for w, b in zip(ws, blocks, strict=True)])[0]
    vcov = np.linalg.inv(info) / (ns.sum() - len(blocks))  # lavaan: N - G
    base_chisq, base_df, k = 0.0, 0, 0
    from survey.sem.baseline import independent_x
    for g, block in enumerate(blocks):
        xs = [mg.ov.index(v) for v in mg.models[g].names.ov_x]
        if cond[g]:  # y given x: intercepts, slopes and residual variances free, nothing fixed
            keep = wc.conditional_baseline_free(block)
            fixed = np.zeros(keep.size, bool)
        else:
            fixed = fixed_x_moments(p, list(getattr(block, "x_index", []) or []), ms)
            keep = (rows == cols) | (np.isin(rows, xs) & np.isin(cols, xs))  # variances, covariates' cov.
            if independent_x():  # mimic="EQS": no covariates' covariances (survey.sem.baseline)
                keep = rows == cols
            keep = np.concatenate([np.ones(p, bool), keep]) if ms else keep  # means free
            keep &= ~fixed  # fixed.x: the covariates' moments fitted exactly (no residual, no df)
        a = np.eye(len(ss[g]))[:, keep]
        target = np.where(fixed, 0.0, ss[g])  # residuals of the fixed.x moments are 0
        v = np.linalg.solve(a.T @ ws[g] @ a, a.T @ ws[g] @ target)
        e0 = target - a @ v
        base_chisq += (block.n - 1) * float(e0 @ ws[g] @ e0)
        base_df += len(ss[g]) - int(keep.sum()) - int(fixed.sum())
        k += len(ss[g]) - int(fixed.sum())
    return LSFit(est, theta, chisq, k - mg.npar, chisq / (2 * ns.sum()), (vcov + vcov.T) / 2,
                 base_chisq, base_df, converged, it)


def _gauss_newton(normal_equations, cw: np.ndarray, start, max_iter: int, tol: float, halving: bool):
    """Gauss-Newton steps theta += (D'WD)^-1 D'We until the largest step is below ``tol``; ``halving``:
    each step halved (up to 30 times) until F = sum_g c_g e_g' W_g e_g does not increase (a damped
    Gauss-Newton, for fits whose full steps oscillate, e.g. WLS with equal loadings and intercepts); it
    also stops when F changes by less than 1e-14 relative and the gradient D'We is below 1e-8 (a large-
    residual fit, where Gauss-Newton steps of ~1e-8 circle the minimum of F)."""
    theta = np.asarray(start, dtype=float).copy()
    it = 0
    f_old = float(cw @ normal_equations(theta)[2]) if halving else 0.0
    while it < max_iter:
        it += 1
        info, grad, _ = normal_equations(theta)
        step = np.linalg.solve(info, grad)
        if halving:
            for _ in range(30):
                f_new = float(cw @ normal_equations(theta + step)[2])
                if np.isfinite(f_new) and f_new <= f_old + 1e-15:
                    break
                step = step / 2.0
            flat = abs(f_old - f_new) <= 1e-14 * max(1.0, f_old) and np.max(np.abs(grad)) < 1e-8
            f_old = f_new
        theta = theta + step
        if np.max(np.abs(step)) < tol or (halving and flat):
            return theta, True, it
    return theta, False, it


def ls_indices(res: LSFit, n: int) -> dict[str, float]:
    """CFI, TLI and RMSEA from the fit's and the baseline's statistics (Bentler 1990; Tucker & Lewis 1973;
    Steiger 1990; lavaan ``lav_fit_rmsea`` with N - 1 for these estimators, as their chi-square)."""
    x, df, xb, dfb = res.chisq, res.df, res.baseline_chisq, res.baseline_df
    denom = max(x - df, xb - dfb, 0.0)
    cfi = 1.0 - max(x - df, 0.0) / denom if denom > 0 else 1.0
    tli = ((xb / dfb) - (x / df)) / ((xb / dfb) - 1.0) if df > 0 else 1.0
    rmsea = float(np.sqrt(max(0.0, (x / (n - 1)) / df - 1.0 / (n - 1)))) if df > 0 else 0.0
    return {"cfi": cfi, "tli": tli, "rmsea": rmsea}
