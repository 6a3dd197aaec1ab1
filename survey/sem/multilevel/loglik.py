"""The two-level normal log-likelihood by cluster-size blocks and its gradient (lavaan
``lav_mvnorm_cluster_loglik_samplestats_2l``; McDonald & Goldstein 1989; Rosseel 2021).

Level-1 variables y (within-only and both), between-only z. Within covariance Sigma_W (y), between
covariance Sigma_B (level-2 variables: both + z), means mu_y = mu_W + mu_B[both], mu_z = mu_B[z]. A cluster
of size n contributes its deviations from the cluster mean (covariance Sigma_W) and the vector of its
cluster means (z, ybar) with covariance V_n = [[S_zz, S_zy], [S_yz, S_B,yy + Sigma_W / n]], so that

    -2 logl = (N - J) [log|Sigma_W| + tr(Sigma_W^-1 S_PW)]
              + sum_n J_n [log|V_n| + tr(V_n^-1 (C_n + (m_n - mu)(m_n - mu)')) + p_y log n]
              + (N p_y + J p_z) log(2 pi),

with J_n clusters of size n, m_n, C_n the mean and covariance of their cluster means; log|V_n| + p_y log n
= log|S_zz| + log|n S_B,z + Sigma_W| is lavaan's determinant term. The gradient wrt the moments is the
normal one per block, mapped to the level matrices and through the RAM chain rule to the parameters.
"""

from __future__ import annotations

import numpy as np

from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.chain import contract
from survey.sem.multilevel.stats import ClusterStats

LOG2PI = float(np.log(2.0 * np.pi))


class Moments:
    """The '2l' moments: Sigma_W (y), S_B,yy, S_zz, S_yz, mu (z, y)."""

    def __init__(self, sw, sb, szz, syz, mu_z, mu_y) -> None:
        self.sw, self.sb, self.szz, self.syz, self.mu_z, self.mu_y = sw, sb, szz, syz, mu_z, mu_y

    def joint(self, n: float) -> np.ndarray:
        """V_n, ordered (z, y)."""
        pz = self.szz.shape[0]
        v = np.empty((pz + self.sw.shape[0],) * 2)
        v[:pz, :pz] = self.szz
        v[pz:, :pz] = self.syz
        v[:pz, pz:] = self.syz.T
        v[pz:, pz:] = self.sb + self.sw / n
        return v

    @property
    def mu(self) -> np.ndarray:
        return np.concatenate([self.mu_z, self.mu_y])


def minus2_logl(m: Moments, st: ClusterStats) -> float:
    """-2 logl (with the 2 pi constant); +inf where a covariance matrix is not positive definite."""
    if hasattr(st, "parts"):  # incomplete data (:class:`survey.sem.multilevel.missing.MissingStats`)
        return st.minus2_logl(m)
    try:
        lw = np.linalg.cholesky(m.sw)
    except np.linalg.LinAlgError:
        return np.inf
    logdet_w = 2.0 * np.log(np.diag(lw)).sum()
    inv_w = np.linalg.inv(m.sw)
    out = (st.n - st.nclusters) * (logdet_w + np.sum(inv_w * st.s_pw))
    mu = m.mu
    for nj, cnt, md, cd in zip(st.sizes, st.counts, st.mean_d, st.cov_d, strict=True):
        v = m.joint(nj)
        try:
            lv = np.linalg.cholesky(v)
        except np.linalg.LinAlgError:
            return np.inf
        d = md - mu
        a = cd + np.outer(d, d)
        inv_v = np.linalg.inv(v)
        out += cnt * (2.0 * np.log(np.diag(lv)).sum() + np.sum(inv_v * a) + st.p_y * np.log(nj))
    return float(out + (st.n * st.p_y + st.nclusters * st.p_z) * LOG2PI)


def moment_gradient(m: Moments, st: ClusterStats) -> Moments:
    """d(-2 logl)/d(moments), each entry of a symmetric matrix taken as its own argument."""
    if hasattr(st, "parts"):
        return st.moment_gradient(m)
    inv_w = np.linalg.inv(m.sw)
    gw = (st.n - st.nclusters) * (inv_w - inv_w @ st.s_pw @ inv_w)
    pz = st.p_z
    gb = np.zeros_like(m.sb)
    gzz = np.zeros_like(m.szz)
    gyz = np.zeros_like(m.syz)
    gmu = np.zeros(pz + st.p_y)
    mu = m.mu
    for nj, cnt, md, cd in zip(st.sizes, st.counts, st.mean_d, st.cov_d, strict=True):
        inv_v = np.linalg.inv(m.joint(nj))
        d = md - mu
        a = cd + np.outer(d, d)
        g = cnt * (inv_v - inv_v @ a @ inv_v)
        gzz += g[:pz, :pz]
        gyz += g[pz:, :pz] + g[:pz, pz:].T
        gb += g[pz:, pz:]
        gw += g[pz:, pz:] / nj
        gmu -= 2.0 * cnt * (inv_v @ d)
    return Moments(gw, gb, gzz, gyz, gmu[:pz], gmu[pz:])


class TwoLevel:
    """A two-level model over its parameter table: RAM models per level and the y/z index maps."""

    def __init__(self, mg: MultiGroupModel, st: ClusterStats) -> None:
        self.mg, self.st = mg, st
        w, b = mg.models
        self.within, self.between = w, b
        self.y_both = np.array([st.y.index(v) for v in b.ov if v in st.y], dtype=int)
        self.b_both = np.array([i for i, v in enumerate(b.ov) if v in st.y], dtype=int)
        self.b_z = np.array([b.ov.index(v) for v in st.z], dtype=int)
        self.w_y = np.array([w.ov.index(v) for v in st.y], dtype=int)

    def moments(self, theta: np.ndarray) -> tuple[Moments, list]:
        full = self.mg.k @ theta
        imps = [mod.implied(self.mg.local(full, g)) for g, mod in enumerate(self.mg.models)]
        iw, ib = imps
        sw = iw.sigma[np.ix_(self.w_y, self.w_y)]
        py = len(self.w_y)
        sb = np.zeros((py, py))
        sb[np.ix_(self.y_both, self.y_both)] = ib.sigma[np.ix_(self.b_both, self.b_both)]
        szz = ib.sigma[np.ix_(self.b_z, self.b_z)]
        syz = np.zeros((py, len(self.b_z)))
        syz[self.y_both, :] = ib.sigma[np.ix_(self.b_both, self.b_z)]
        mu_y = iw.mean[self.w_y].copy()
        mu_y[self.y_both] += ib.mean[self.b_both]
        return Moments(sw, sb, szz, syz, ib.mean[self.b_z], mu_y), imps

    def minus2_logl(self, theta: np.ndarray) -> float:
        try:
            m, _ = self.moments(theta)
        except Exception:  # noqa: BLE001 - a singular (I - B) on the optimiser's path
            return np.inf
        return minus2_logl(m, self.st)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """d(-2 logl)/dtheta (reduced parameters, theta_full = K theta)."""
        m, imps = self.moments(theta)
        g = moment_gradient(m, self.st)
        w, b = self.within, self.between
        gw_full = np.zeros((w.p, w.p))
        gw_full[np.ix_(self.w_y, self.w_y)] = g.sw
        gmw = np.zeros(w.p)
        gmw[self.w_y] = g.mu_y
        gb_full = np.zeros((b.p, b.p))
        gb_full[np.ix_(self.b_both, self.b_both)] = g.sb[np.ix_(self.y_both, self.y_both)]
        gb_full[np.ix_(self.b_z, self.b_z)] = g.szz
        half = 0.5 * g.syz[self.y_both, :]
        gb_full[np.ix_(self.b_both, self.b_z)] = half
        gb_full[np.ix_(self.b_z, self.b_both)] = half.T
        gmb = np.zeros(b.p)
        gmb[self.b_both] = g.mu_y[self.y_both]
        gmb[self.b_z] = g.mu_z
        full = self.mg.k @ theta
        out = np.zeros(self.mg.npar_full)
        for gi, (mod, gs, gm) in enumerate(((w, gw_full, gmw), (b, gb_full, gmb))):
            local = self.mg.local(full, gi)
            out[self.mg.index[gi]] += contract(mod, local, gs, gm, imps[gi])
        return self.mg.k.T @ out
