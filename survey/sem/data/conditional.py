"""Sample statistics of y given x for conditional.x = TRUE (lavaan's ``res.int``, ``res.slopes``,
``res.cov``, their Gamma and the mvreg weight), per block; the formulas are in
:mod:`survey.sem.inference.conditional_sem`'s notes. Ordered per y_j as (a_j, B_j1 .. B_jq), then vech(R),
as lavaan's WLS.obs.
"""

from __future__ import annotations

import numpy as np

from survey.sem.conditional_x import ols
from survey.sem.model.moments import h1_information, vech_index


def _split(p: int, x_index) -> tuple[list[int], list[int]]:
    xi = list(x_index)
    return [i for i in range(p) if i not in xi], xi


def conditional_stats(cov: np.ndarray, mean: np.ndarray, x_index) -> np.ndarray:
    """s_c = (vec [a; B'] per y, vech R) of the regression of y on x from the moments (cov, mean)."""
    b, a, r = ols(cov, mean, list(x_index))
    rows, cols = vech_index(r.shape[0])
    return np.concatenate([np.column_stack([a, b]).ravel(), r[rows, cols]])


def conditional_delta(sigma: np.ndarray, xbar: np.ndarray, x_index, delta: np.ndarray) -> np.ndarray:
    """Delta_c from the joint Delta = d(mu', vech(Sigma)')'/dtheta' (module notes; x moments fixed)."""
    p = sigma.shape[0]
    yi, xi = _split(p, x_index)
    rows, cols = vech_index(p)
    q = delta.shape[1]
    ds = np.zeros((q, p, p))
    ds[:, rows, cols] = delta[p:].T
    ds[:, cols, rows] = delta[p:].T
    a_inv = np.linalg.inv(sigma[np.ix_(xi, xi)])
    s_yx = sigma[np.ix_(yi, xi)]
    d_yx = ds[:, yi][:, :, xi]  # q x p_y x q_x
    d_b = d_yx @ a_inv
    d_a = delta[:p][yi].T - d_b @ xbar  # q x p_y
    cross = d_yx @ a_inv @ s_yx.T
    d_r = ds[:, yi][:, :, yi] - cross - np.transpose(cross, (0, 2, 1))
    ry, cy = vech_index(len(yi))
    coef = np.concatenate([d_a[:, :, None], d_b], axis=2).reshape(q, -1)
    return np.hstack([coef, d_r[:, ry, cy]]).T


def _m_matrix(xbar: np.ndarray, s_xx: np.ndarray) -> np.ndarray:
    return np.block([[np.ones((1, 1)), xbar[None, :]], [xbar[:, None], s_xx + np.outer(xbar, xbar)]])


def conditional_weight(res_cov: np.ndarray, xbar: np.ndarray, s_xx: np.ndarray) -> np.ndarray:
    """W_c at the residual covariance ``res_cov`` (lavaan's expected mvreg information, module notes)."""
    inv = np.linalg.inv(res_cov)
    coef = np.kron(inv, _m_matrix(xbar, s_xx))
    cov = h1_information(res_cov, False)
    k = coef.shape[0]
    out = np.zeros((k + cov.shape[0],) * 2)
    out[:k, :k] = coef
    out[k:, k:] = cov
    return out


def conditional_gamma(raw: np.ndarray, x_index) -> np.ndarray:
    """Gamma_c, the ADF covariance of s_c from the rows (lavaan's lav_samplestats_Gamma, conditional.x)."""
    n, p = raw.shape
    yi, xi = _split(p, x_index)
    x = np.column_stack([np.ones(n), raw[:, xi]])
    coef, *_ = np.linalg.lstsq(x, raw[:, yi], rcond=None)
    e = raw[:, yi] - x @ coef
    xi_rows = x @ np.linalg.inv(x.T @ x) * n
    first = (e[:, :, None] * xi_rows[:, None, :]).reshape(n, -1)  # per y_j: (1, x_1 .. x_q)
    rows, cols = vech_index(len(yi))
    z = np.hstack([first, e[:, rows] * e[:, cols]])
    zc = z - z.mean(axis=0)
    return zc.T @ zc / n
