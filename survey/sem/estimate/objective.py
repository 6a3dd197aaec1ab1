"""One objective over the group blocks (lavaan ``lav_model_objective``, estimator ML):

    F(theta) = sum_g (N_g / N) F_g(theta_g),   theta_full = K theta,  theta_g = rows of theta_full of block g

with, for every kind of block statistics, F_g = -2 (logl_g(theta_g) - logl_g,h1) / N_g. For complete data
this is the ML discrepancy log|Sigma| + tr(S Sigma^-1) - log|S| - p [+ (ybar - mu)' Sigma^-1 (ybar - mu)]
(Joreskog 1967; Bollen 1989, eq. 4.67); for FIML blocks the casewise likelihood (Arbuckle 1996). lavaan's
``fmin`` = F / 2 and the chi-square is T = N F. Gradient K' sum_g w_g L_g' g_g; the scoring matrix is the
complete-data expected Hessian at the block's h1 moments, K' sum_g w_g L_g' H_g L_g K.
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.blocks import BlockStats
from survey.sem.estimate.ml import gradient, gradient_and_information, objective
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.chain import contract
from survey.sem.model.ram import RAMModel


def block_f(ram: RAMModel, block: BlockStats, theta: np.ndarray) -> float:
    """F_g at the block's own parameters (inf where Sigma is not positive definite)."""
    if block.kind == "complete":
        return objective(ram, block, theta)[0]
    try:
        imp = ram.implied(theta)
    except Exception:
        return np.inf
    value = block.loglik(imp.sigma, imp.mean)
    if not np.isfinite(value):
        return np.inf
    h1 = block.h1_logl if np.isfinite(block.h1_logl) else 0.0  # a singular EM h1 only loses the chi-square
    return float(-2.0 * (value - h1) / block.n)


def block_gradient(ram: RAMModel, block: BlockStats, theta: np.ndarray) -> np.ndarray:
    """dF_g / dtheta_g (analytic)."""
    if block.kind == "complete":
        return gradient(ram, block, theta)
    imp = ram.implied(theta)
    _, g_sig, g_mu = block.loglik(imp.sigma, imp.mean, gradient=True)
    if g_sig is None:  # Sigma not positive definite at theta
        return np.full(ram.npar, np.nan)
    return -2.0 / block.n * contract(ram, theta, g_sig, g_mu, imp)


def block_gradient_hessian(
    ram: RAMModel, block: BlockStats, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """dF_g / dtheta_g and the expected Hessian (2 x unit expected information at Sigma(theta_g))."""
    g, h = gradient_and_information(ram, block, theta)
    if block.kind != "complete":
        g = block_gradient(ram, block, theta)
    return g, h


def weights(blocks: list[BlockStats]) -> np.ndarray:
    n = np.array([b.n for b in blocks], dtype=float)
    return n / n.sum()


def total_f(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> float:
    """F(theta) = sum_g w_g F_g (inf when some Sigma_g is not positive definite)."""
    full = mg.k @ theta
    total = 0.0
    for i, (w, ram, b) in enumerate(zip(weights(blocks), mg.models, blocks, strict=True)):
        f = block_f(ram, b, mg.local(full, i))
        if not np.isfinite(f):
            return np.inf
        total += w * f
    return float(total)


def total_gradient(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """K' sum_g w_g L_g' dF_g/dtheta_g."""
    full = mg.k @ theta
    grad = np.zeros(mg.npar_full)
    for i, (w, ram, b) in enumerate(zip(weights(blocks), mg.models, blocks, strict=True)):
        grad[mg.index[i]] += w * block_gradient(ram, b, mg.local(full, i))
    return mg.k.T @ grad


def total_gradient_hessian(
    mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, full_space: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and expected Hessian of F (in theta, or in theta_full with ``full_space``)."""
    q = mg.npar_full
    grad, hess = np.zeros(q), np.zeros((q, q))
    full = mg.k @ theta if not full_space else theta
    for i, (w, ram, b) in enumerate(zip(weights(blocks), mg.models, blocks, strict=True)):
        g, h = block_gradient_hessian(ram, b, mg.local(full, i))
        idx = mg.index[i]
        grad[idx] += w * g
        hess[np.ix_(idx, idx)] += w * h
    if full_space:
        return grad, hess
    return mg.k.T @ grad, mg.k.T @ hess @ mg.k
