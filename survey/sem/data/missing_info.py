"""Casewise scores and the information matrices of the saturated (h1) normal model under missing data
(lavaan ``lav_mvnorm_missing``: scores, expected and observed information), per missing-data pattern
from the pattern inverses of :mod:`survey.sem.data.missing`."""

from __future__ import annotations

import numpy as np

from survey.sem.data.missing import FullInverse, MissingData, _residual_cross, pattern_inverse
from survey.sem.model.moments import vech_index


def case_scores_moments(md: MissingData, sigma: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Casewise scores wrt mu (N x p) and Sigma (N x p x p, symmetric-perturbation form) at (mu, Sigma)."""
    p = md.p
    s_mu = np.zeros((md.n, p))
    s_sig = np.zeros((md.n, p, p))
    full = FullInverse.of(sigma)
    for b in md.batches:
        inv, _ = pattern_inverse(sigma, b, full)
        for j, rows in enumerate(b.cases):
            o = b.obs[j]
            d = md.x[np.ix_(rows, o)] - mu[o]
            z = d @ inv[j]
            s_mu[np.ix_(rows, o)] = z
            s_sig[np.ix_(rows, o, o)] = 0.5 * (z[:, :, None] * z[:, None, :] - inv[j][None])
    return s_mu, s_sig


def h1_case_scores(md: MissingData, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Casewise scores of the saturated model in (mu, vech Sigma) coordinates (N x (p + p*))."""
    s_mu, s_sig = case_scores_moments(md, sigma, mu)
    rows, cols = vech_index(md.p)
    mult = np.where(rows == cols, 1.0, 2.0)
    return np.hstack([s_mu, s_sig[:, rows, cols] * mult])


def h1_expected_information(md: MissingData, sigma: np.ndarray) -> np.ndarray:
    """Expected information (total) of the saturated model in (mu, vech Sigma) coordinates under MCAR
    (lavaan ``lav_mvnorm_missing_information_expected``): per pattern, with A = Sigma_oo^-1 embedded in
    p x p, mu-mu: n A; Sigma-Sigma: n/2 D'(A (x) A) D; mu-Sigma: 0."""
    p = md.p
    full = FullInverse.of(sigma)
    a_all, n_all = [], []
    for b in md.batches:
        inv, _ = pattern_inverse(sigma, b, full)
        k = b.n.size
        a_full = np.zeros((k, p, p))
        a_full[np.arange(k)[:, None, None], b.obs[:, :, None], b.obs[:, None, :]] = inv
        a_all.append(a_full)
        n_all.append(b.n)
    a = np.concatenate(a_all)
    n = np.concatenate(n_all)
    av = a.reshape(a.shape[0], p * p)
    m = ((0.5 * n[:, None] * av).T @ av).reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)
    ss = _times_duplication(_times_duplication(m, p).T, p).T
    out = np.zeros((p + ss.shape[0], p + ss.shape[0]))
    out[:p, :p] = np.einsum("k,kij->ij", n, a)
    out[p:, p:] = ss
    return out


def h1_observed_information(md: MissingData, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Observed information (-Hessian of logl, total) of the saturated model in (mu, vech Sigma) coordinates.

    Per pattern (inverse A = Sigma_oo^-1, P = A R A, z = A (t - n mu_o), all embedded in p x p):
    mu-mu: n A;  mu-Sigma: (z' (x) A) D;  Sigma-Sigma: D' [1/2 (P (x) A + A (x) P) - n/2 A (x) A] D.
    """
    p = md.p
    a_all, p_all, z_all, n_all = [], [], [], []
    full = FullInverse.of(sigma)
    for b in md.batches:
        inv, _ = pattern_inverse(sigma, b, full)
        mu_o = mu[b.obs]
        r = _residual_cross(b, mu_o)
        pm = inv @ r @ inv
        z = np.einsum("kij,kj->ki", inv, b.sums - b.n[:, None] * mu_o)
        k = b.n.size
        a_full = np.zeros((k, p, p))
        p_full = np.zeros((k, p, p))
        z_full = np.zeros((k, p))
        idx = np.arange(k)[:, None, None]
        a_full[idx, b.obs[:, :, None], b.obs[:, None, :]] = inv
        p_full[idx, b.obs[:, :, None], b.obs[:, None, :]] = pm
        z_full[np.arange(k)[:, None], b.obs] = z
        a_all.append(a_full)
        p_all.append(p_full)
        z_all.append(z_full)
        n_all.append(b.n)
    a = np.concatenate(a_all)
    pp = np.concatenate(p_all)
    z = np.concatenate(z_all)
    n = np.concatenate(n_all)
    kk = a.shape[0]
    av = a.reshape(kk, p * p)
    pv = pp.reshape(kk, p * p)

    # 1/2 (P (x) A + A (x) P) - n/2 A (x) A = 1/2 (M + M~), M = sum_k (P_k - n_k/2 A_k) (x) A_k and M~ the
    # same sum with the Kronecker factors swapped (M~[(i,l),(j,m)] = M[(l,i),(m,j)]): one product
    m = ((pv - 0.5 * n[:, None] * av).T @ av).reshape(p, p, p, p)  # [i, j, l, m] = sum_k X_ij A_lm
    m = m.transpose(0, 2, 1, 3)  # [(i, l), (j, m)]
    big = 0.5 * (m + m.transpose(1, 0, 3, 2)).reshape(p * p, p * p)
    ss = _times_duplication(_times_duplication(big, p).T, p).T
    mu_mu = np.einsum("k,kij->ij", n, a)
    # mu_j, Sigma_(l,m): sum_k A_jl z_m (+ sym via D)  -> (p, p^2) matrix [j, (l,m)]
    ms = _times_duplication(np.einsum("kjl,km->jlm", a, z).reshape(p, p * p), p)
    out = np.zeros((p + ss.shape[0], p + ss.shape[0]))
    out[:p, :p] = mu_mu
    out[:p, p:] = ms
    out[p:, :p] = ms.T
    out[p:, p:] = ss
    return out


def _times_duplication(x: np.ndarray, p: int) -> np.ndarray:
    """x D (D the duplication matrix, vec(S) = D vech(S)) by adding the two columns of each vech element."""
    rows, cols = vech_index(p)
    first, second = rows * p + cols, cols * p + rows
    return np.where(rows == cols, x[:, first], x[:, first] + x[:, second])
