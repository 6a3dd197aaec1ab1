"""Information matrices of a fit over group blocks, per observation (lavaan ``lav_model_information``).

With w_g = N_g/N, L_g the rows of K for block g and Delta_g = d(mu_g', vech(Sigma_g)')'/dtheta' (in the
estimated parameters theta; :func:`survey.sem.model.moments.moments_jacobian` times L_g K):

    expected     I = 1/2 K' sum_g w_g L_g' H_g L_g K,  H_g the expected Hessian of F_g at Sigma_g(theta)
                 (= sum_g w_g Delta_g' W_g Delta_g, W_g the normal h1 information; Bollen 1989, eq. 4.80;
                 for FIML blocks W_g summed over the missing-data patterns, lavaan's expected information)
    observed     A = 1/2 d2 F / dtheta dtheta' = 1/N sum_g -d2 logl_g / dtheta_g dtheta_g'; for a FIML block
                 analytically, Delta_g' W_obs,g Delta_g - sum_s (dlogl_g/ds) d2 s/dtheta dtheta' (W_obs,g the
                 observed information of the saturated model at the implied moments, lavaan
                 ``lav_mvnorm_missing_information_observed_samplestats``; the curvature term by central
                 differences of the cheap contraction Delta(theta)' g, no likelihood evaluations); for other
                 blocks central differences of the analytic gradient (lavaan's default, ``lav_model_hessian``)
    first.order  B0 = 1/N sum_g sum_i s_i s_i',  s_i = Delta_g' g_i, g_i the casewise h1 scores at the
                 model-implied moments (lavaan ``information="first.order"``)
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.blocks import BlockStats
from survey.sem.data.missing_info import h1_expected_information, h1_observed_information
from survey.sem.estimate.ml import gradient_and_information
from survey.sem.estimate.objective import block_gradient, total_gradient_hessian, weights
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.chain import contract
from survey.sem.model.moments import moments_jacobian
from survey.sem.model.ram import RAMModel


def block_expected(ram: RAMModel, block: BlockStats, theta: np.ndarray) -> np.ndarray:
    """Unit expected information of one block at Sigma(theta_g): Delta' W Delta with the normal h1
    information W (complete data), or for a FIML block the pattern-wise expected information of the
    saturated model at the implied moments (lavaan's ``h1.information = "structured"``;
    :func:`survey.sem.data.missing.h1_expected_information`)."""
    if block.kind != "fiml":
        return 0.5 * gradient_and_information(ram, block, theta)[1]
    imp = ram.implied(theta)
    delta = moments_jacobian(ram, theta, True)
    h = delta.T @ h1_expected_information(block.md, imp.sigma) @ delta / block.n
    return 0.5 * (h + h.T)


def _summed(block_information, mg: MultiGroupModel, blocks: list[BlockStats],
            theta_full: np.ndarray) -> np.ndarray:
    """sum_g w_g L_g' I_g L_g in theta_full, I_g = ``block_information(ram, block, theta_g)``."""
    h = np.zeros((mg.npar_full, mg.npar_full))
    for i, (w, ram, b) in enumerate(zip(weights(blocks), mg.models, blocks, strict=True)):
        idx = mg.index[i]
        h[np.ix_(idx, idx)] += w * block_information(ram, b, mg.local(theta_full, i))
    return h


def _expected_full(mg: MultiGroupModel, blocks: list[BlockStats], theta_full: np.ndarray) -> np.ndarray:
    """sum_g w_g L_g' I_g L_g in theta_full (I_g of :func:`block_expected`)."""
    return _summed(block_expected, mg, blocks, theta_full)


def expected(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """Unit expected information in theta (for FIML blocks lavaan's missing-data expected information)."""
    return mg.k.T @ _expected_full(mg, blocks, mg.k @ theta) @ mg.k


def _central(fun, theta: np.ndarray) -> np.ndarray:
    """Jacobian of ``fun`` at theta by central differences (step 1e-6 max(1, |theta_k|))."""
    q = theta.size
    h = np.empty((q, q))
    for k in range(q):
        step = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = step
        h[:, k] = (fun(theta + e) - fun(theta - e)) / (2 * step)
    return h


def block_observed(ram: RAMModel, block: BlockStats, theta: np.ndarray) -> np.ndarray:
    """1/2 d2 F_g / dtheta_g dtheta_g' of one block (= -d2 logl_g / N_g), symmetric."""
    if block.kind != "fiml":
        h = 0.5 * _central(lambda t: block_gradient(ram, block, t), theta)
        return 0.5 * (h + h.T)
    imp = ram.implied(theta)
    wobs = h1_observed_information(block.md, imp.sigma, imp.mean)
    delta = moments_jacobian(ram, theta, True)
    _, g_sig, g_mu = block.loglik(imp.sigma, imp.mean, gradient=True)
    second = _central(lambda t: contract(ram, t, g_sig, g_mu), theta)
    h = (delta.T @ wobs @ delta - 0.5 * (second + second.T)) / block.n
    return 0.5 * (h + h.T)


def _observed_full(mg: MultiGroupModel, blocks: list[BlockStats], theta_full: np.ndarray) -> np.ndarray:
    """sum_g w_g L_g' (1/2 d2 F_g) L_g in theta_full."""
    return _summed(block_observed, mg, blocks, theta_full)


def observed(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """Unit observed information 1/2 Hessian of F, block by block (:func:`block_observed`)."""
    return mg.k.T @ _observed_full(mg, blocks, mg.k @ theta) @ mg.k


def deltas(mg: MultiGroupModel, theta: np.ndarray) -> list[np.ndarray]:
    """Delta_g (p*_g x q) of every block, in the estimated parameters."""
    full = mg.k @ theta
    out = []
    for i, ram in enumerate(mg.models):
        local = mg.local(full, i)
        out.append(moments_jacobian(ram, local, ram.meanstructure) @ mg.k[mg.index[i], :])
    return out


def case_scores(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> list[np.ndarray]:
    """Casewise scores dl_i/dtheta (N_g x q) of every block."""
    full = mg.k @ theta
    out = []
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas(mg, theta), strict=True)):
        imp = ram.implied(mg.local(full, i))
        out.append(b.case_scores(imp.sigma, imp.mean, ram.meanstructure) @ d)
    return out


def first_order(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """Unit first-order information B0 = 1/N sum_i s_i s_i'."""
    n = sum(b.n for b in blocks)
    b0 = np.zeros((mg.npar, mg.npar))
    for s in case_scores(mg, blocks, theta):
        b0 += s.T @ s
    return b0 / n


def information(kind: str, mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """The unit information of ``kind`` ("expected", "observed" or "first.order")."""
    if kind == "expected":
        return expected(mg, blocks, theta)
    if kind == "observed":
        return observed(mg, blocks, theta)
    if kind == "first.order":
        return first_order(mg, blocks, theta)
    raise ValueError(kind)


def full_space_information(
    mg: MultiGroupModel, blocks: list[BlockStats], theta_full: np.ndarray, observed_info: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Unit score (1/2 dF/dtheta_full) and information in the unconstrained parameters theta_full (one per
    free row), for the score tests of equality constraints (lavaan ``lavTestScore``): expected information
    with complete data, observed (central differences of the analytic gradient) with missing data."""
    grad = total_gradient_hessian(mg, blocks, theta_full, full_space=True)[0]
    if not observed_info:
        return 0.5 * grad, _expected_full(mg, blocks, theta_full)
    return 0.5 * grad, _observed_full(mg, blocks, theta_full)
