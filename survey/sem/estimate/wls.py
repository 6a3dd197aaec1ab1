"""Least-squares estimators for continuous, complete data (lavaan 0.6.14 ``estimator = "GLS" | "ULS" |
"DWLS" | "WLS"`` without ordered items), one block, no mean structure (lavaan's default for them):

    F(theta) = 1/2 (s - sigma(theta))' W (s - sigma(theta)),   s = vech(S),  S with divisor N - 1
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
from survey.sem.model.moments import gamma_adf, h1_information, moments_jacobian, vech_index

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
    """S: divisor N - 1; with sampling weights lavaan 0.6.14's weighted covariance matrix (divisor sum w,
    ``cov.wt(method = "ML")``, not rescaled; checked on tests/fixtures/combos2/combos2.json)."""
    if getattr(block, "wt", None) is not None:
        return block.cov
    s = block.raw - block.raw.mean(axis=0)
    return s.T @ s / (block.n - 1)


def weight_matrix(estimator: str, block: BlockStats) -> np.ndarray:
    """W of the estimator (module notes) for the block's complete data; with sampling weights Gamma is
    still that of the unweighted rows (lavaan 0.6.14's NACOV ignores the weights; S is weighted)."""
    cov = sample_cov(block)
    if estimator == "GLS":
        return h1_information(cov, False)
    if estimator == "ULS":
        p = cov.shape[0]
        return np.eye(p * (p + 1) // 2)
    gamma = gamma_adf(block.raw, False)
    if estimator == "DWLS":
        return np.diag(1.0 / np.diag(gamma))
    return np.linalg.inv(gamma)


def fit_ls(mg: MultiGroupModel, block: BlockStats, estimator: str, start: np.ndarray,
           max_iter: int = 500, tol: float = 1e-10,
           bounds: tuple[np.ndarray, np.ndarray] | None = None) -> LSFit:
    """Gauss-Newton minimisation of F (module notes) from ``start`` (e.g. the ML estimates of the same
    model with ``fixed_x=False``, lavaan's setting for these estimators). ``bounds`` (lower()/upper()):
    when the Gauss-Newton solution leaves the box, F is minimised inside it by L-BFGS-B (lavaan: nlminb
    with lower/upper) and the test and vcov are the usual formulas at the bounded estimate."""
    est = str(estimator).upper()
    if est not in LS_ESTIMATORS:
        raise SurveyInputError(f"estimator is not a least-squares estimator (available: "
                               f"{', '.join(LS_ESTIMATORS)})", value=str(estimator), field="estimator")
    if len(mg.models) != 1 or mg.meanstructure or block.kind != "complete":
        raise SurveyInputError("least-squares estimators: one group, complete data, no mean structure only",
                               field="estimator", value=est)
    ram, n = mg.models[0], block.n
    p = len(mg.ov)
    rows, cols = vech_index(p)
    s = sample_cov(block)[rows, cols]
    w = weight_matrix(est, block)

    def residual_and_delta(theta):
        local = mg.local(mg.k @ theta, 0)
        sigma = ram.implied(local).sigma[rows, cols]
        return s - sigma, moments_jacobian(ram, local, False) @ mg.k[mg.index[0], :]

    theta = np.asarray(start, dtype=float).copy()
    converged, it = False, 0
    while it < max_iter:
        it += 1
        e, delta = residual_and_delta(theta)
        step = np.linalg.solve(delta.T @ w @ delta, delta.T @ w @ e)
        theta = theta + step
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    if bounds is not None and (np.any(theta < bounds[0]) or np.any(theta > bounds[1]) or not converged):
        from scipy import optimize

        def fun(t):
            e_t, d_t = residual_and_delta(t)
            return float(e_t @ w @ e_t), -2.0 * (d_t.T @ (w @ e_t))

        sol = optimize.minimize(fun, np.clip(np.asarray(start, float), *bounds), jac=True, method="L-BFGS-B",
                                bounds=list(zip(*bounds, strict=True)),
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 50})
        theta, converged, it = np.clip(sol.x, *bounds), bool(sol.success), it + int(sol.nit)
    e, delta = residual_and_delta(theta)
    quad = float(e @ w @ e)
    chisq = (n - 1) * quad
    info = delta.T @ w @ delta
    vcov = np.linalg.inv(info) / (n - 1)
    xs = [mg.ov.index(v) for v in ram.names.ov_x]
    keep = (rows == cols) | (np.isin(rows, xs) & np.isin(cols, xs))  # variances, covariates' covariances
    a = np.eye(len(s))[:, keep]
    v = np.linalg.solve(a.T @ w @ a, a.T @ w @ s)
    e0 = s - a @ v
    return LSFit(est, theta, chisq, len(s) - mg.npar, chisq / (2 * n), (vcov + vcov.T) / 2,
                 (n - 1) * float(e0 @ w @ e0), len(s) - int(keep.sum()), converged, it)


def ls_indices(res: LSFit, n: int) -> dict[str, float]:
    """CFI, TLI and RMSEA from the fit's and the baseline's statistics (Bentler 1990; Tucker & Lewis 1973;
    Steiger 1990; lavaan ``lav_fit_rmsea`` with N - 1 for these estimators, as their chi-square)."""
    x, df, xb, dfb = res.chisq, res.df, res.baseline_chisq, res.baseline_df
    denom = max(x - df, xb - dfb, 0.0)
    cfi = 1.0 - max(x - df, 0.0) / denom if denom > 0 else 1.0
    tli = ((xb / dfb) - (x / df)) / ((xb / dfb) - 1.0) if df > 0 else 1.0
    rmsea = float(np.sqrt(max(0.0, (x / (n - 1)) / df - 1.0 / (n - 1)))) if df > 0 else 0.0
    return {"cfi": cfi, "tli": tli, "rmsea": rmsea}
