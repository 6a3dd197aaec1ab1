"""Vectorised two-level FIML over the incomplete clusters (issue 14): the exact per-cluster normal loglik
of :mod:`.missing`, computed for all clusters of one observed dimension at once.

Each observed value of cluster j gets a type t (between-only variable z_k: t = k; level-1 variable y_a:
t = p_z + a) and a row r (-1 for z), so with B = [[Sigma_zz, Sigma_zy], [Sigma_yz, Sigma_B]] and
W = diag(0, Sigma_W) (McDonald & Goldstein 1989; lavaan's ``lav_mvnorm_cluster_missing``)

    V_j[u, v] = B[t_u, t_v] + [r_u = r_v >= 0] W[t_u, t_v],   E_j[u] = mu[t_u],
    -2 logl_j = log|V_j| + d_j' V_j^-1 d_j + dim_j log 2 pi,
    d(-2 logl_j)/dV_j = V_j^-1 - a_j a_j',  d(-2 logl_j)/dE_j = -2 a_j,  a_j = V_j^-1 d_j.

Rows of a cluster are put in a canonical order (by their missing pattern), so clusters with the same size
and the same missing pattern share one V_j: its Cholesky factor, log-determinant and inverse are computed
once per pattern (batched LAPACK via numpy), the residual terms per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG2PI = float(np.log(2.0 * np.pi))


@dataclass
class PatternBatch:
    """Incomplete clusters with ``d`` observed values: unique patterns (types ``t``, rows ``r``:
    U x d), the pattern of each cluster (``which``: G) and its values (``val``: G x d)."""

    t: np.ndarray
    r: np.ndarray
    which: np.ndarray
    val: np.ndarray
    count: np.ndarray  # clusters per unique pattern


def _canonical(z_idx, z_val, row, y_idx, y_val, pz: int):
    """(types, rows, values) of one cluster with its rows ordered by missing pattern."""
    rows = np.unique(row)
    key = np.zeros(rows.size, dtype=np.int64)
    np.add.at(key, np.searchsorted(rows, row), np.left_shift(1, y_idx.astype(np.int64)))
    order = np.lexsort((rows, key))  # rows by pattern
    new_row = np.empty(rows.size, dtype=np.int64)
    new_row[order] = np.arange(rows.size)
    nr = new_row[np.searchsorted(rows, row)]
    o = np.lexsort((y_idx, nr))
    t = np.concatenate([z_idx, pz + y_idx[o]]).astype(np.int64)
    r = np.concatenate([np.full(z_idx.size, -1), nr[o]]).astype(np.int64)
    return t, r, np.concatenate([z_val, y_val[o]])


def build_batches(parts, pz: int) -> list[PatternBatch]:
    """Group the incomplete clusters (:class:`survey.sem.multilevel.missing._Cluster`) by dimension and
    missing pattern."""
    canon = [_canonical(c.z_idx, c.z_val, c.row, c.y_idx, c.y_val, pz) for c in parts]
    by_dim: dict[int, list[int]] = {}
    for i, (t, _, _) in enumerate(canon):
        by_dim.setdefault(t.size, []).append(i)
    out = []
    for d, members in sorted(by_dim.items()):
        if d == 0:
            continue
        key = np.array([np.concatenate([canon[i][0], canon[i][1]]) for i in members])
        uniq, which, count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        val = np.array([canon[i][2] for i in members], dtype=float)
        out.append(PatternBatch(uniq[:, :d], uniq[:, d:], np.asarray(which).ravel(), val, count))
    return out


def _bw(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pz, py = m.szz.shape[0], m.sw.shape[0]
    b = np.empty((pz + py,) * 2)
    b[:pz, :pz] = m.szz
    b[pz:, :pz] = m.syz
    b[:pz, pz:] = m.syz.T
    b[pz:, pz:] = m.sb
    w = np.zeros_like(b)
    w[pz:, pz:] = m.sw
    return b, w, np.concatenate([m.mu_z, m.mu_y])


def _pieces(b, w, mu, bt: PatternBatch, need_inv: bool):
    """Per pattern V (U x d x d) -> (logdet, inverse or None, per-cluster residuals); None if not PD."""
    ti, tj = bt.t[:, :, None], bt.t[:, None, :]
    same = (bt.r[:, :, None] == bt.r[:, None, :]) & (bt.r[:, :, None] >= 0)
    v = b[ti, tj] + w[ti, tj] * same
    try:
        lv = np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * np.log(np.diagonal(lv, axis1=1, axis2=2)).sum(axis=1)
    resid = bt.val - mu[bt.t[bt.which]]
    inv = np.linalg.inv(v) if need_inv else None
    return logdet, inv, resid, lv, same


def minus2_logl_batches(m, batches: list[PatternBatch]) -> float:
    """Sum over the incomplete clusters of -2 logl_j (+inf where some V_j is not positive definite)."""
    b, w, mu = _bw(m)
    out = 0.0
    for bt in batches:
        got = _pieces(b, w, mu, bt, need_inv=False)
        if got is None:
            return np.inf
        logdet, _, resid, lv, _ = got
        z = np.linalg.solve(lv[bt.which], resid[:, :, None])[:, :, 0]  # L^-1 d (triangular: exact)
        out += float(bt.count @ logdet) + float(np.sum(z * z)) + bt.val.size * LOG2PI
    return out


def gradient_batches(m, batches: list[PatternBatch]):
    """d(sum_j -2 logl_j)/d(B, W, mu) as full (element-wise) arrays: (gB, gW, gmu)."""
    b, w, mu = _bw(m)
    p = b.shape[0]
    gb, gw, gmu = np.zeros(p * p), np.zeros(p * p), np.zeros(p)
    for bt in batches:
        got = _pieces(b, w, mu, bt, need_inv=True)
        if got is None:  # not positive definite (an optimiser's trial point): no gradient there
            nan = np.full((p, p), np.nan)
            return nan, nan.copy(), np.full(p, np.nan)
        _, inv, resid, _, same = got
        a = np.einsum("gij,gj->gi", inv[bt.which], resid)
        flat = bt.t[:, :, None] * p + bt.t[:, None, :]
        wu = bt.count[:, None, None] * inv
        outer = a[:, :, None] * a[:, None, :]
        fg = flat[bt.which]
        gb += np.bincount(flat.ravel(), wu.ravel(), p * p) - np.bincount(fg.ravel(), outer.ravel(), p * p)
        gw += (np.bincount(flat.ravel(), (wu * same).ravel(), p * p)
               - np.bincount(fg.ravel(), (outer * same[bt.which]).ravel(), p * p))
        gmu += np.bincount(bt.t[bt.which].ravel(), -2.0 * a.ravel(), p)
    return gb.reshape(p, p), gw.reshape(p, p), gmu
