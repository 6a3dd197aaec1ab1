"""Covariance matrix of the estimates (lavaan ``lav_model_vcov``), per the ``se`` option:

    standard             vcov = I^-1 / N  (I the expected or observed unit information)
    robust.huber.white   vcov = A^-1 B0 A^-1 / N   (A observed, B0 first-order; Huber 1967, White 1982; MLR)
    robust.sem           vcov = E^-1 (sum_g w_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / N   (MLM;
                         E expected, W_g the h1 information at Sigma_g(theta), Gamma_g the ADF covariance of
                         the block's moments; Satorra 1989; under conditional.x all three in the
                         statistics of y given x: survey.sem.inference.conditional_sem)

Rank (identification) test: the information is scaled to unit diagonal, D^-1/2 I D^-1/2, before its
smallest eigenvalue is compared with the largest (1e-10), so the verdict does not depend on the units of the
variables (a test score in the hundreds next to years of education).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.data.blocks import BlockStats, x_mask
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import block_gamma, h1_information


@dataclass
class Information:
    """Unit information used for the standard errors, the vcov, and the rank verdict."""

    information: np.ndarray
    vcov: np.ndarray
    singular: bool
    min_eigenvalue: float = float("nan")


def is_singular(info: np.ndarray, tol: float = 1e-10) -> tuple[bool, float]:
    """Unit-free rank test: eigenvalues of the information scaled to unit diagonal."""
    if info.size == 0:
        return False, float("nan")
    d = np.sqrt(np.abs(np.diag(info)))
    if np.any(~np.isfinite(info)) or np.any(d <= 0):
        return True, 0.0
    scaled = info / np.outer(d, d)
    eig = np.linalg.eigvalsh(scaled)
    return bool(eig[0] <= tol * max(eig[-1], 1e-300)), float(eig[0])


def symmetric_inverse(a: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(a)
    return (inv + inv.T) / 2.0


def standard(info: np.ndarray, n: int) -> Information:
    singular, low = is_singular(info)
    q = info.shape[0]
    if singular:
        return Information(info, np.full((q, q), np.nan), True, low)
    return Information(info, symmetric_inverse(info) / n, False, low)


def huber_white(a: np.ndarray, b0: np.ndarray, n: int) -> Information:
    singular, low = is_singular(a)
    q = a.shape[0]
    if singular:
        return Information(a, np.full((q, q), np.nan), True, low)
    a_inv = symmetric_inverse(a)
    v = a_inv @ b0 @ a_inv / n
    return Information(a, (v + v.T) / 2.0, False, low)


def augmented_inverse(information: np.ndarray, jacobian: np.ndarray) -> np.ndarray:
    """Top-left q x q block of [ [I, J'], [J, 0] ]^-1 (lavaan ``lav_model_information_augment_invert``:
    the information restricted to the constraints' null space; the plain inverse without constraints)."""
    q, m = information.shape[0], jacobian.shape[0]
    if m == 0:
        inv = np.linalg.inv(information)
        return (inv + inv.T) / 2.0
    norm = np.linalg.norm(jacobian, axis=1)
    jac = jacobian[norm > 0] / norm[norm > 0, None]  # row-normalised, as lavaan (scale-free pinv)
    m = jac.shape[0]
    z = np.block([[information + jac.T @ jac, jac.T], [jac, np.zeros((m, m))]])
    inv = np.linalg.pinv(z)[:q, :q]
    return (inv + inv.T) / 2.0


def h1_weight(block: BlockStats, sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """W_g at the model-implied Sigma, fixed.x elements set to zero (lavaan's h1 information)."""
    w = h1_information(sigma, meanstructure)
    if block.x_index:
        m = x_mask(sigma.shape[0], block.x_index, meanstructure)
        w[m, :] = 0.0
        w[:, m] = 0.0
    return w


def sem_pieces(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, deltas: list[np.ndarray]):
    """E = sum_g w_g Delta_g' W_g Delta_g, the middle sum_g w_g Delta_g' W_g Gamma_g W_g Delta_g, and the
    per-block (W_g, Gamma_g) of robust.sem and the Satorra-Bentler test."""
    n = sum(b.n for b in blocks)
    full = mg.k @ theta
    e = np.zeros((mg.npar, mg.npar))
    middle = np.zeros_like(e)
    parts = []
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas, strict=True)):
        w_g = b.n / n
        imp = ram.implied(mg.local(full, i))
        if getattr(b, "conditional_x", False):  # y given x (survey.sem.inference.conditional_sem)
            from survey.sem.inference.conditional_sem import block_parts

            c = block_parts(b, imp.sigma, imp.mean if imp.mean is not None else b.mean, d)
            d, w, gamma = c["delta"], c["weight"], c["gamma"]
        else:
            w = h1_weight(b, imp.sigma, ram.meanstructure)
            gamma = block_gamma(b, ram.meanstructure)
        wd = w @ d
        e += w_g * d.T @ wd
        middle += w_g * wd.T @ gamma @ wd
        parts.append((w, gamma))
    return e, middle, parts


def robust_sem(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, deltas: list[np.ndarray]):
    """robust.sem vcov (and the pieces of the Satorra-Bentler test)."""
    n = sum(b.n for b in blocks)
    e, middle, parts = sem_pieces(mg, blocks, theta, deltas)
    singular, low = is_singular(e)
    q = e.shape[0]
    if singular:
        return Information(e, np.full((q, q), np.nan), True, low), (e, middle, parts)
    e_inv = symmetric_inverse(e)
    v = e_inv @ middle @ e_inv / n
    return Information(e, (v + v.T) / 2.0, False, low), (e, middle, parts)
