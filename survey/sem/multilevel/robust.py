"""MLR for two-level models (lavaan ``estimator = "MLR"`` with ``cluster=`` and ``level:``): the
Huber-White sandwich A^-1 B A^-1 with A the observed information and B the sum over clusters of the
outer products of the cluster scores (lavaan ``lav_mvnorm_cluster_scores_2l``), and the
Yuan-Bentler-Mplus scaled test c = (tr(A1^-1 B1) - tr(A0^-1 B0)) / df, h1 matrices of the saturated
two-level model at the model-implied moments (lavaan's ``h1.information = "structured"``).

A cluster j of size n with deviations W_j = sum_i (y_ij - ybar_j)(y_ij - ybar_j)' and cluster means
d_j = (z_j, ybar_j) - mu contributes, as d(-2 logl_j)/d(moments),
    Sigma_W: (n - 1) Sigma_W^-1 - Sigma_W^-1 W_j Sigma_W^-1 + [V_n^-1 - V_n^-1 d d' V_n^-1]_yy / n,
    V_n blocks: V_n^-1 - V_n^-1 d d' V_n^-1,      mu: -2 V_n^-1 d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.multilevel.estimate import numeric_hessian
from survey.sem.multilevel.loglik import Moments
from survey.sem.multilevel.stats import ClusterStats


@dataclass
class RobustPieces:
    vcov: np.ndarray
    scaling: float  # Yuan-Bentler-Mplus scaling factor (chisq.scaling.factor)
    trace_h1: float
    trace_h0: float
    h1_ndat: int


def _flatten(m: Moments) -> np.ndarray:
    return np.concatenate([m.sw.ravel(), m.sb.ravel(), m.szz.ravel(), m.syz.ravel(), m.mu_z, m.mu_y])


def cluster_moment_scores(m: Moments, st: ClusterStats) -> np.ndarray:
    """J x (entries of the moments): d(-2 logl_j)/d(moments), laid out as :func:`_flatten`."""
    inv_w = np.linalg.inv(m.sw)
    pz, py = st.p_z, st.p_y
    out = np.zeros((st.nclusters, len(_flatten(m))))
    wsum = np.zeros((st.nclusters, py, py))
    np.add.at(wsum, st.cluster_index, st.yc[:, :, None] * st.yc[:, None, :])
    mu = m.mu
    inv_v = {nj: np.linalg.inv(m.joint(nj)) for nj in st.sizes}
    for j in range(st.nclusters):
        nj = st.cluster_size[j]
        iv = inv_v[nj]
        d = st.ybar[j] - mu
        ivd = iv @ d
        g = iv - np.outer(ivd, ivd)
        gw = (nj - 1) * inv_w - inv_w @ wsum[j] @ inv_w + g[pz:, pz:] / nj
        gyz = g[pz:, :pz] + g[:pz, pz:].T
        gmu = -2.0 * ivd
        out[j] = np.concatenate([gw.ravel(), g[pz:, pz:].ravel(), g[:pz, :pz].ravel(), gyz.ravel(),
                                 gmu[:pz], gmu[pz:]])
    return out


def _jacobian(fun, theta: np.ndarray) -> np.ndarray:
    """d flatten(moments(theta)) / dtheta by central differences (the map is smooth, error ~1e-10)."""
    cols = []
    for j in range(theta.size):
        step = 1e-6 * max(1.0, abs(theta[j]))
        e = np.zeros(theta.size)
        e[j] = step
        cols.append((fun(theta + e) - fun(theta - e)) / (2.0 * step))
    return np.column_stack(cols)


def model_sandwich(tl, theta: np.ndarray, info: np.ndarray, a0_inv: np.ndarray | None = None
                   ) -> tuple[np.ndarray, float, np.ndarray]:
    """A0^-1 B0 A0^-1, tr(B0 A0^-1) and B0 of a fitted two-level model (A0 = ``info``, its observed or
    expected information, ``a0_inv`` its inverse if given (lavaan's augmented inverse under constraints);
    B0 the cross-product of its cluster scores at the estimates)."""
    m0, _ = tl.moments(theta)
    scores_m = -0.5 * cluster_moment_scores(m0, tl.st)  # d logl_j / d moments
    scores = scores_m @ _jacobian(lambda t: _flatten(tl.moments(t)[0]), theta)
    b0 = scores.T @ scores
    a0_inv = np.linalg.inv(info) if a0_inv is None else a0_inv
    return a0_inv @ b0 @ a0_inv, float(np.sum(b0 * a0_inv.T)), b0


def h1_trace(tl, sat, x_within: list[str], x_between: list[str], expected: bool = False) -> tuple[float, int]:
    """tr(B1 A1^-1) of the saturated two-level model at lavaan's EM h1 moments (A1 its observed, or
    expected, information; B1 the cross-product of its cluster scores) over the h1 moments that are not
    fixed.x moments, and their number (lavaan's ``h1.ndat``)."""
    from survey.sem.multilevel.h1 import SaturatedModel
    from survey.sem.multilevel.information import expected_information

    st = tl.st
    sm = SaturatedModel(st, tl.y_both)
    theta1 = sm.pack(sat.moments)
    keep = _free_h1(sm, st, tl, x_within, x_between)
    jac1 = _jacobian(lambda t: _flatten(sm.moments(t)), theta1)[:, keep]
    s1 = -0.5 * cluster_moment_scores(sat.moments, st) @ jac1
    b1 = s1.T @ s1
    a1 = expected_information(sm.moments, st, theta1) if expected else 0.5 * numeric_hessian(sm.gradient,
                                                                                              theta1)
    a1 = a1[np.ix_(keep, keep)]
    return float(np.sum(b1 * np.linalg.inv(a1).T)), int(keep.sum())


def robust_pieces(tl, theta: np.ndarray, info: np.ndarray, sat, x_within: list[str], x_between: list[str],
                  df: float, expected: bool = False, a0_inv: np.ndarray | None = None) -> RobustPieces:
    """Sandwich vcov and the Yuan-Bentler-Mplus scaling c = (tr_h1 - tr_h0) / df of a two-level ML fit."""
    vcov, trace_h0, _ = model_sandwich(tl, theta, info, a0_inv)
    trace_h1, ndat = h1_trace(tl, sat, x_within, x_between, expected)
    scaling = (trace_h1 - trace_h0) / df if df > 0 else float("nan")
    return RobustPieces(vcov, scaling, trace_h1, trace_h0, ndat)


def _free_h1(sm, st: ClusterStats, tl, x_within: list[str], x_between: list[str]) -> np.ndarray:
    """h1 parameters that are not moments of fixed.x covariates (lavaan leaves those out)."""
    keep = np.ones(sm.npar, dtype=bool)
    xw = {st.y.index(v) for v in x_within}
    kw = len(sm.rw)
    for k, (r, c) in enumerate(zip(sm.rw, sm.cw, strict=True)):
        if r in xw and c in xw:
            keep[k] = False
    yb = [st.y[i] for i in sm.y_both]
    xb = {yb.index(v) if v in yb else sm.nb + st.z.index(v) for v in x_between}
    for k, (r, c) in enumerate(zip(sm.rb, sm.cb, strict=True)):
        if r in xb and c in xb:
            keep[kw + k] = False
    base = kw + len(sm.rb)
    for v in x_between:
        keep[base + (st.z.index(v) if v in st.z else sm.pz + st.y.index(v))] = False
    for v in x_within:
        keep[base + sm.pz + st.y.index(v)] = False
    return keep
