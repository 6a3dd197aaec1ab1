"""robust.sem (estimator MLM) with ``information="observed"``, over group blocks (lavaan 0.6.14
``lav_model_nvcov_robust_sem`` and ``lav_test_satorra_bentler`` with the observed information).

lavaan takes E = the observed information of the fit (the Hessian, ``observed.information = "hessian"``) and
as weight W_g the observed h1 information at the model-implied moments given the sample moments
(``lav_mvnorm_information_observed_samplestats``; h1.information = "structured"):

    W~ = S + (ybar - mu)(ybar - mu)',  A = Sigma^-1 (2 W~ - Sigma) Sigma^-1
    W_g = [[Sigma^-1, I21'], [I21, 1/2 D'(Sigma^-1 (x) A) D]],  I21 = D'((Sigma^-1 (ybar - mu)) (x) Sigma^-1)
    vcov = E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / N
    Satorra-Bentler trace = sum_g tr(W_g Gamma_g) - tr(E_W^-1 sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g),
    E_W = sum_g f_g Delta_g' W_g Delta_g (the test's information is built from the same W_g; this E_W
    reproduces lavaan's trace.UGamma to 1e-5 where the Hessian E does not)

(fixed.x rows and columns of W_g set to zero, as lavaan).
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.blocks import BlockStats, x_mask
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import block_gamma, duplication_matrix


def observed_h1_weight(block: BlockStats, sigma: np.ndarray, mu: np.ndarray | None,
                       meanstructure: bool) -> np.ndarray:
    """W_g of the module notes (unit observed h1 information at the implied moments); for a FIML block the
    missing-data observed h1 information at the implied moments per observation."""
    p = sigma.shape[0]
    if block.kind == "fiml":
        from survey.sem.data.missing_info import h1_observed_information

        w = h1_observed_information(block.md, sigma, block.mean if mu is None else mu) / block.n
        if block.x_index:
            m = x_mask(p, block.x_index, True)
            w[m, :] = 0.0
            w[:, m] = 0.0
        return w
    inv = np.linalg.inv(sigma)
    mu = block.mean if mu is None else mu
    r = block.mean - mu
    wt = block.cov + np.outer(r, r)
    a = inv @ (2.0 * wt - sigma) @ inv
    d = duplication_matrix(p)
    i22 = 0.5 * d.T @ np.kron(inv, a) @ d
    i22 = 0.5 * (i22 + i22.T)
    if meanstructure:
        i21 = d.T @ np.kron((inv @ r)[:, None], inv)
        w = np.block([[inv, i21.T], [i21, i22]])
    else:
        w = i22
    if block.x_index:
        m = x_mask(p, block.x_index, meanstructure)
        w[m, :] = 0.0
        w[:, m] = 0.0
    return w


def sem_pieces_observed(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray,
                        deltas: list[np.ndarray], a: np.ndarray):
    """(E, middle, parts) as :func:`survey.sem.inference.vcov.sem_pieces`, with E = ``a`` the unit observed
    information and W_g the observed h1 weight (module notes)."""
    n = sum(b.n for b in blocks)
    full = mg.k @ theta
    middle = np.zeros_like(a)
    parts = []
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas, strict=True)):
        imp = ram.implied(mg.local(full, i))
        w = observed_h1_weight(b, imp.sigma, imp.mean, ram.meanstructure)
        gamma = block_gamma(b, ram.meanstructure)
        wd = w @ d
        middle += b.n / n * wd.T @ gamma @ wd
        parts.append((w, gamma))
    return a, middle, parts


def robust_sem_observed(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray,
                        deltas: list[np.ndarray], a: np.ndarray):
    """robust.sem vcov E^-1 middle E^-1 / N with the observed information (and the Satorra-Bentler
    pieces (E_W, middle, parts)), shaped as :func:`survey.sem.inference.vcov.robust_sem`."""
    from survey.sem.inference.vcov import Information, is_singular, symmetric_inverse

    n = sum(b.n for b in blocks)
    e, middle, parts = sem_pieces_observed(mg, blocks, theta, deltas, a)
    e_test = sum(b.n / n * d.T @ w @ d for b, d, (w, _) in zip(blocks, deltas, parts, strict=True))
    singular, low = is_singular(e)
    q = e.shape[0]
    if singular:
        return Information(e, np.full((q, q), np.nan), True, low), (e_test, middle, parts)
    e_inv = symmetric_inverse(e)
    v = e_inv @ middle @ e_inv / n
    return Information(e, (v + v.T) / 2.0, False, low), (e_test, middle, parts)


def h1_structured_information(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> np.ndarray:
    """lavaan's ``observed.information = "h1"`` (its choice for the tests when more than one is asked, or a
    scaled test other than yuan.bentler.mplus with observed information): E_h1 = sum_g f_g Delta_g' W_g
    Delta_g, W_g the observed h1 information at the implied moments (complete data: the module notes;
    FIML: ``lav_mvnorm_missing_information_observed_samplestats``,
    :func:`survey.sem.data.missing_info.h1_observed_information`)."""
    from survey.sem.inference.information import deltas

    n = sum(b.n for b in blocks)
    full = mg.k @ theta
    e = np.zeros((mg.npar, mg.npar))
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas(mg, theta), strict=True)):
        imp = ram.implied(mg.local(full, i))
        w = observed_h1_weight(b, imp.sigma, imp.mean, ram.meanstructure)
        e += b.n / n * d.T @ w @ d
    return 0.5 * (e + e.T)


def h1_omega(block: BlockStats, meanstructure: bool = True) -> np.ndarray:
    """lavaan's ``lav_model_h1_omega`` of a FIML block, the Gamma of its Yuan-Bentler test: A1^-1 B1 A1^-1
    with A1 / B1 the observed / first-order h1 information at the EM moments (h1.information =
    "unstructured"; Yuan & Bentler 2000); of a weighted block, with B1 from the weighted scores."""
    a1, b1 = block.h1_information(meanstructure)
    m = x_mask(block.cov.shape[0], block.x_index, meanstructure)
    from survey.sem.data.blocks import masked_inverse

    ai = masked_inverse(a1, m)
    return ai @ b1 @ ai
