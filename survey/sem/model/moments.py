"""Moments in lavaan's coordinates: ``s = (mu', vech(Sigma)')'``, their Jacobian ``Delta = ds/dtheta'``,
the normal-theory saturated (h1) information
``W(Sigma) = blockdiag(Sigma^-1, 1/2 D'(Sigma^-1 (x) Sigma^-1) D)``,
casewise h1 scores and the ADF covariance Gamma of the sample moments (Browne 1984; lavaan
``lav_model_h1_information``, ``lav_samplestats_Gamma``).
"""

from __future__ import annotations

import numpy as np

from survey.sem.model.ram import RAMModel


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each vech element (lower triangle, column by column, as lavaan's ``vech``)."""
    rows, cols = [], []
    for c in range(p):
        for r in range(c, p):
            rows.append(r)
            cols.append(c)
    return np.array(rows), np.array(cols)


def duplication_matrix(p: int) -> np.ndarray:
    """D with vec(S) = D vech(S) (Magnus & Neudecker 1999)."""
    rows, cols = vech_index(p)
    d = np.zeros((p * p, rows.size))
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        d[r * p + c, k] = 1.0
        d[c * p + r, k] = 1.0
    return d


def moments_jacobian(model: RAMModel, theta: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Delta = d(mu', vech(Sigma)')'/dtheta' (p* x q); the mean rows only with a mean structure."""
    imp = model.implied(theta)
    rows, cols = vech_index(model.p)
    dsig = model.delta(theta, imp)[:, rows, cols].T
    if not meanstructure:
        return dsig
    return np.vstack([model.delta_mean(theta, imp).T, dsig])


def h1_information(sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """W(Sigma): expected information of the saturated normal model per observation."""
    inv = np.linalg.inv(sigma)
    w = _h1_vech_block(inv)
    if not meanstructure:
        return w
    p = sigma.shape[0]
    out = np.zeros((p + w.shape[0], p + w.shape[0]))
    out[:p, :p] = inv
    out[p:, p:] = w
    return out


def _h1_vech_block(inv: np.ndarray) -> np.ndarray:
    """1/2 D'(A (x) A) D computed as an explicit product (p* x p*)."""
    p = inv.shape[0]
    d = duplication_matrix(p)
    return 0.5 * d.T @ np.kron(inv, inv) @ d


def h1_scores(x: np.ndarray, sigma: np.ndarray, mean: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Casewise scores dl_i/ds of the saturated normal model at (mean, Sigma): N x p* (vech coordinates)."""
    inv = np.linalg.inv(sigma)
    z = (x - mean) @ inv  # rows: Sigma^-1 d_i
    rows, cols = vech_index(sigma.shape[0])
    mult = np.where(rows == cols, 1.0, 2.0)
    cov_part = 0.5 * (z[:, rows] * z[:, cols] - inv[rows, cols]) * mult
    return np.hstack([z, cov_part]) if meanstructure else cov_part


def gamma_adf(x: np.ndarray, meanstructure: bool) -> np.ndarray:
    """ADF asymptotic covariance of the sample moments (Browne 1984), divisor N (lavaan's NACOV)."""
    d = x - x.mean(axis=0)
    rows, cols = vech_index(x.shape[1])
    z = d[:, rows] * d[:, cols]
    z = np.hstack([d, z]) if meanstructure else z
    zc = z - z.mean(axis=0)
    return zc.T @ zc / x.shape[0]


def _adf_rows(x: np.ndarray, x_index: list[int], meanstructure: bool) -> np.ndarray:
    """The centred per-row moment deviations whose cross-product / N is :func:`gamma_adf_fixed_x`."""
    d = x - x.mean(axis=0)
    rows, cols = vech_index(x.shape[1])
    if not x_index:
        z = d[:, rows] * d[:, cols]
        z = np.hstack([d, z]) if meanstructure else z
        return z - z.mean(axis=0)
    y_idx = [j for j in range(x.shape[1]) if j not in set(x_index)]
    design = np.column_stack([np.ones(x.shape[0]), x[:, x_index]])
    coef, *_ = np.linalg.lstsq(design, x[:, y_idx], rcond=None)
    yhat = x.copy()
    yhat[:, y_idx] = design @ coef
    hc = yhat - yhat.mean(axis=0)
    z = d[:, rows] * d[:, cols] - hc[:, rows] * hc[:, cols]
    if meanstructure:
        z = np.hstack([x - yhat, z])
    return z - z.mean(axis=0)


def gamma_adf_fixed_x(x: np.ndarray, x_index: list[int], meanstructure: bool,
                      cluster: np.ndarray | None = None) -> np.ndarray:
    """Gamma under fixed.x (lavaan ``lav_samplestats_Gamma``, sample-based): the moments of the data minus
    those of its projection on the covariates (the non-covariates replaced by their OLS fitted values on
    an intercept and the covariates), so the covariates' own sampling variability is removed.
    ``cluster`` (codes per row, lavaan's ``cluster.idx``): the centred rows are summed within clusters
    before the cross-product, divisor N, times C/(C-1) with C the block's clusters (lavaan's Gamma of
    ``robust.cluster.sem`` / MLM with ``cluster=``)."""
    zc = _adf_rows(x, x_index, meanstructure)
    if cluster is not None:
        summed = np.zeros((int(cluster.max()) + 1, zc.shape[1]))
        np.add.at(summed, cluster, zc)
        summed = summed[np.bincount(cluster) > 0]
        c = summed.shape[0]
        return summed.T @ summed / x.shape[0] * c / (c - 1)
    return zc.T @ zc / x.shape[0]


def block_gamma(block, meanstructure: bool) -> np.ndarray:
    """:func:`gamma_adf_fixed_x` of a block's raw rows, cluster-summed when the block has clusters."""
    return gamma_adf_fixed_x(block.raw, block.x_index, meanstructure, getattr(block, "cluster", None))
