"""Two-level FIML of incomplete clusters without between-only variables, in O(n_j p^3) per cluster
(issue 14): the Woodbury form of the loglik of :mod:`.missing_batch`, with V_j = D_j + U_j Sigma_B U_j',
D_j = diag_i Sigma_W[o_i, o_i] and U_j the row selections (Rosseel 2021, sec. 3; Henderson & Searle 1981):

    P_i = S_i' Sigma_W[o_i,o_i]^-1 S_i,  M_j = sum_i P_i,  q_j = sum_i P_i r_i,
    K_j = Sigma_B (I + M_j Sigma_B)^-1,
    log|V_j| = sum_i log|Sigma_W[o_i,o_i]| + log|I + M_j Sigma_B|,
    r_j' V_j^-1 r_j = sum_i r_i' P_i r_i - q_j' K_j q_j,
    a_i = P_i (r_i - h_j), h_j = K_j q_j   (the per-row parts of V_j^-1 r_j),

and the gradient of -2 logl: Sigma_B: sum_j M_j - M_j K_j M_j - s_j s_j' (s_j = sum_i a_i);
Sigma_W: sum_i P_i - P_i K_j P_i - a_i a_i';  mu_y: -2 sum_i a_i. Every matrix is p x p (padded by zeros
at the missing entries), so all rows and clusters go through a few numpy einsums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG2PI = float(np.log(2.0 * np.pi))


@dataclass
class RowLayout:
    """Rows of the incomplete clusters: cluster ``j``, pattern ``pat`` (into ``masks``), padded values."""

    j: np.ndarray
    pat: np.ndarray
    masks: np.ndarray  # (patterns, p) bool: observed
    val: np.ndarray  # (rows, p), 0 where missing
    nclusters: int
    nvalues: int


def build_rows(parts, py: int) -> RowLayout:
    """From :class:`survey.sem.multilevel.missing._Cluster` parts (no between-only variables)."""
    js, vals, obs = [], [], []
    for j, c in enumerate(parts):
        rows = np.unique(c.row)
        pos = np.searchsorted(rows, c.row)
        v = np.zeros((rows.size, py))
        o = np.zeros((rows.size, py), dtype=bool)
        v[pos, c.y_idx] = c.y_val
        o[pos, c.y_idx] = True
        js.append(np.full(rows.size, j))
        vals.append(v)
        obs.append(o)
    obs_all = np.concatenate(obs)
    masks, pat = np.unique(obs_all, axis=0, return_inverse=True)
    return RowLayout(np.concatenate(js), np.asarray(pat).ravel(), masks, np.concatenate(vals), len(parts),
                     int(obs_all.sum()))


def _pieces(m, lay: RowLayout):
    """Per pattern P and log|Sigma_W[o,o]|, per cluster M, q, K, h and log|I + M Sigma_B|; None if some
    V_j is not positive definite."""
    py = m.sw.shape[0]
    npat = lay.masks.shape[0]
    p_pat = np.zeros((npat, py, py))
    ld_pat = np.zeros(npat)
    for k, mk in enumerate(lay.masks):
        sub = m.sw[np.ix_(mk, mk)]
        try:
            lw = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            return None
        ld_pat[k] = 2.0 * np.log(np.diag(lw)).sum()
        p_pat[k][np.ix_(mk, mk)] = np.linalg.inv(sub)
    r = np.where(lay.masks[lay.pat], lay.val - m.mu_y, 0.0)
    p_row = p_pat[lay.pat]
    pr = np.einsum("nab,nb->na", p_row, r)
    jn = lay.nclusters
    mm = np.zeros((jn, py, py))
    np.add.at(mm, lay.j, p_row)
    q = np.zeros((jn, py))
    np.add.at(q, lay.j, pr)
    # V_j PD <=> I + R Sigma_B R' PD with M_j = R'R (eigen square root of the PSD M_j)
    ev, vec = np.linalg.eigh(mm)
    root = np.sqrt(np.clip(ev, 0.0, None))[:, :, None] * np.swapaxes(vec, 1, 2)
    inner = np.eye(py) + root @ m.sb @ np.swapaxes(root, 1, 2)
    try:
        li = np.linalg.cholesky(inner)
    except np.linalg.LinAlgError:
        return None
    ld_c = 2.0 * np.log(np.diagonal(li, axis1=1, axis2=2)).sum(axis=1)
    kk = m.sb @ np.linalg.inv(np.eye(py) + mm @ m.sb)
    kk = 0.5 * (kk + np.swapaxes(kk, 1, 2))
    h = np.einsum("jab,jb->ja", kk, q)
    return p_row, ld_pat, r, pr, mm, q, kk, h, ld_c


def minus2_logl_rows(m, lay: RowLayout) -> float:
    got = _pieces(m, lay)
    if got is None:
        return np.inf
    _, ld_pat, r, pr, _, q, _, h, ld_c = got
    logdet = ld_pat[lay.pat].sum() + ld_c.sum()
    quad = float(np.sum(r * pr)) - float(np.sum(q * h))
    return float(logdet + quad + lay.nvalues * LOG2PI)


def gradient_rows(m, lay: RowLayout):
    """d(sum_j -2 logl_j)/d(Sigma_W, Sigma_B, mu_y), element-wise."""
    got = _pieces(m, lay)
    if got is None:  # not positive definite (an optimiser's trial point): no gradient there
        py = m.sw.shape[0]
        return np.full((py, py), np.nan), np.full((py, py), np.nan), np.full(py, np.nan)
    p_row, _, r, _, mm, _, kk, h, _ = got
    a = np.einsum("nab,nb->na", p_row, r - h[lay.j])
    s = np.zeros_like(h)
    np.add.at(s, lay.j, a)
    gb = (mm - mm @ kk @ mm).sum(axis=0) - s.T @ s
    pkp = p_row @ kk[lay.j] @ p_row
    gw = (p_row - pkp).sum(axis=0) - a.T @ a
    return gw, gb, -2.0 * a.sum(axis=0)
