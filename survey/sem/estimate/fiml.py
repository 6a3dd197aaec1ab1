"""FIML for one model and one block: the casewise log-likelihood of a mean-structure model, its observed
information (Delta' W_obs Delta minus the curvature term), and a scoring optimiser (the complete-data
expected information at Sigma(theta) as the metric; Arbuckle 1996). Used by the FIML bootstrap replicates."""

from __future__ import annotations

import numpy as np

from survey.sem.data.missing import MissingData, loglik
from survey.sem.data.missing_info import h1_observed_information
from survey.sem.data.moments import GroupStats
from survey.sem.estimate.ml import Estimation, gradient_and_information
from survey.sem.model.chain import contract
from survey.sem.model.moments import vech_index
from survey.sem.model.ram import RAMModel


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


def _moments_jacobian_ms(model: RAMModel, theta: np.ndarray) -> np.ndarray:
    imp = model.implied(theta)
    rows, cols = vech_index(model.p)
    return np.vstack([model.delta_mean(theta, imp).T, model.delta(theta, imp)[:, rows, cols].T])
