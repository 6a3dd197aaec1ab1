"""The saturated two-level model (lavaan's h1 for clustered data, ``lav_mvnorm_cluster_em_sat``: every
within and between covariance and every mean free, between-level rows of within-only variables zero)
and the loglik of the fixed.x covariates that lavaan takes off both likelihoods (``loglik.x``).

h1 is lavaan's EM (same start, E/M steps and stopping rule, so unrestricted.logl, the chi-square and the
SRMR are lavaan's); :class:`SaturatedModel` parameterises it as (vech Sigma_W, vech Sigma_B over the
level-2 variables, means) for its information matrices (:mod:`.robust`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.model.moments import vech_index
from survey.sem.multilevel.loglik import LOG2PI, Moments, minus2_logl, moment_gradient
from survey.sem.multilevel.stats import ClusterStats


@dataclass
class Saturated:
    moments: Moments
    minus2: float
    npar: int
    converged: bool
    mu_w: np.ndarray | None = None  # lavaan's EM split of mu_y (Mu.W, Mu.B): the fixed.x values of a
    mu_b: np.ndarray | None = None  # covariate at both levels (:func:`.estimate.set_h1_exogenous`)


class SaturatedModel:
    """theta = (vech Sigma_W, vech Sigma_B over (both, z), mu_z, mu_y)."""

    def __init__(self, st: ClusterStats, y_both: np.ndarray) -> None:
        self.st, self.y_both = st, np.asarray(y_both, dtype=int)
        self.py, self.pz, self.nb = st.p_y, st.p_z, len(y_both)
        self.rw, self.cw = vech_index(self.py)
        self.rb, self.cb = vech_index(self.nb + self.pz)
        self.npar = len(self.rw) + len(self.rb) + self.pz + self.py

    def moments(self, theta: np.ndarray) -> Moments:
        kw, kb = len(self.rw), len(self.rb)
        sw = np.zeros((self.py, self.py))
        sw[self.rw, self.cw] = theta[:kw]
        sw[self.cw, self.rw] = theta[:kw]
        b2 = np.zeros((self.nb + self.pz,) * 2)
        b2[self.rb, self.cb] = theta[kw:kw + kb]
        b2[self.cb, self.rb] = theta[kw:kw + kb]
        sb = np.zeros((self.py, self.py))
        sb[np.ix_(self.y_both, self.y_both)] = b2[: self.nb, : self.nb]
        syz = np.zeros((self.py, self.pz))
        syz[self.y_both, :] = b2[: self.nb, self.nb:]
        mu = theta[kw + kb:]
        return Moments(sw, sb, b2[self.nb:, self.nb:], syz, mu[: self.pz], mu[self.pz:])

    def pack(self, m: Moments) -> np.ndarray:
        b2 = np.zeros((self.nb + self.pz,) * 2)
        b2[: self.nb, : self.nb] = m.sb[np.ix_(self.y_both, self.y_both)]
        b2[: self.nb, self.nb:] = m.syz[self.y_both, :]
        b2[self.nb:, : self.nb] = m.syz[self.y_both, :].T
        b2[self.nb:, self.nb:] = m.szz
        return np.concatenate([m.sw[self.rw, self.cw], b2[self.rb, self.cb], m.mu_z, m.mu_y])

    def minus2_logl(self, theta: np.ndarray) -> float:
        return minus2_logl(self.moments(theta), self.st)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        g = moment_gradient(self.moments(theta), self.st)
        gw = g.sw + g.sw.T - np.diag(np.diag(g.sw))
        b2 = np.zeros((self.nb + self.pz,) * 2)
        b2[: self.nb, : self.nb] = g.sb[np.ix_(self.y_both, self.y_both)]
        b2[: self.nb, self.nb:] = 0.5 * g.syz[self.y_both, :]
        b2[self.nb:, : self.nb] = 0.5 * g.syz[self.y_both, :].T
        b2[self.nb:, self.nb:] = g.szz
        gb = b2 + b2.T - np.diag(np.diag(b2))
        return np.concatenate([gw[self.rw, self.cw], gb[self.rb, self.cb], g.mu_z, g.mu_y])


def fit_saturated(st: ClusterStats, y_both: np.ndarray, tol: float = 1e-4, max_iter: int = 5000) -> Saturated:
    """lavaan 0.6.14's h1 of clustered data (``lav_mvnorm_cluster_em_sat``, called with tol = 1e-4 and
    max.iter = 5000): EM from Sigma_W = I, Sigma_B = I (level-2 variables), zero means (mu_z and S_zz at
    their sample values), stopped when the loglik gains less than ``tol``. The E-step takes the expected
    cluster effects u_j = mu_B + [S_yz, S_B] V_n^-1 (b_j - mu) and their conditional covariance
    S_B - [S_yz, S_B] V_n^-1 [S_yz, S_B]' (Rosseel 2021, lavaan ``lav_mvnorm_cluster_em_estepb``)."""
    py, pz = st.p_y, st.p_z
    both = np.asarray(y_both, dtype=int)
    sw = np.eye(py)
    sb = np.zeros((py, py))
    sb[both, both] = 1.0
    syz = np.zeros((py, pz))
    zvals = st.ybar[:, :pz]
    mu_z = zvals.mean(axis=0)
    szz = np.cov(zvals.T, ddof=0).reshape(pz, pz)
    mu_w, mu_b = np.zeros(py), np.zeros(py)
    y1y1 = st.y1y1
    fx_old = -0.5 * minus2_logl(Moments(sw, sb, szz, syz, mu_z, mu_w + mu_b), st)
    groups = [np.flatnonzero(st.cluster_size == nj) for nj in st.sizes]
    m = Moments(sw, sb, szz, syz, mu_z, mu_w + mu_b)
    converged = False
    for _ in range(max_iter):
        mu = np.concatenate([mu_z, mu_w + mu_b])
        sigma_1 = np.hstack([syz, sb])
        cw2, cb = np.zeros((py, py)), np.zeros((py, py))
        mw, mb, zy = np.zeros(py), np.zeros(py), np.zeros((pz, py))
        for nj, rows in zip(st.sizes, groups, strict=True):
            b = st.ybar[rows]  # (z, ybar)
            ybar = b[:, pz:]
            omega = Moments(sw, sb, szz, syz, mu_z, mu).joint(nj)
            s1oi = sigma_1 @ np.linalg.inv(omega)
            ev = (b - mu) @ s1oi.T + mu_b
            covv = len(rows) * (sb - s1oi @ sigma_1.T)
            evv = 0.5 * (covv + covv.T) + ev.T @ ev
            mw += nj * (ybar - ev).sum(axis=0)
            mb += ev.sum(axis=0)
            cw2 += nj * (evv - ybar.T @ ev - ev.T @ ybar)
            cb += evv
            zy += b[:, :pz].T @ ev
        m_ws, m_bs = mw / st.n, mb / st.nclusters
        sw = (y1y1 + cw2) / st.n - np.outer(m_ws, m_ws)
        sb = cb / st.nclusters - np.outer(m_bs, m_bs)
        syz = (zy / st.nclusters - np.outer(mu_z, m_bs)).T
        mu_w, mu_b = m_ws, m_bs
        m = Moments(sw, sb, szz, syz, mu_z, mu_w + mu_b)
        fx = -0.5 * minus2_logl(m, st)
        if fx - fx_old < tol:
            converged = True
            break
        fx_old = fx
    return Saturated(m, minus2_logl(m, st), SaturatedModel(st, both).npar, converged, mu_w, mu_b)


def loglik_x(st: ClusterStats, x_within: list[str], x_between: list[str]) -> float:
    """lavaan's ``loglik.x``: the saturated normal loglik of the within-only fixed.x covariates (N rows,
    total covariance, divisor N) plus that of the between-only ones (J clusters, divisor J); a covariate at
    both levels is in neither (lavaan's ``Lp$ov.x.idx``)."""
    out = 0.0
    for names, pool, cov, n in ((x_within, st.y, st.total_cov, st.n), (x_between, st.z, st.between_cov,
                                                                        st.nclusters)):
        if names:
            idx = [pool.index(v) for v in names]
            logdet = np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]
            out += -0.5 * n * (len(idx) * LOG2PI + logdet + len(idx))
    return float(out)
