"""The saturated two-level model (lavaan's h1 for clustered data, ``lav_mvnorm_cluster_em_sat``: every
within and between covariance and every mean free, between-level rows of within-only variables zero)
and the loglik of the fixed.x covariates that lavaan takes off both likelihoods (``loglik.x``).

lavaan fits h1 by EM; here the same likelihood (:mod:`.loglik`) is maximised over
(vech Sigma_W, vech Sigma_B over the level-2 variables, means) by quasi-Newton and Newton steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.model.moments import vech_index
from survey.sem.multilevel.estimate import numeric_hessian
from survey.sem.multilevel.loglik import LOG2PI, Moments, minus2_logl, moment_gradient
from survey.sem.multilevel.stats import ClusterStats


@dataclass
class Saturated:
    moments: Moments
    minus2: float
    npar: int
    converged: bool


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


def fit_saturated(st: ClusterStats, y_both: np.ndarray, start: Moments) -> Saturated:
    """Maximum-likelihood saturated two-level moments from ``start`` (the model's implied moments)."""
    from scipy.optimize import minimize

    sm = SaturatedModel(st, y_both)
    theta = sm.pack(start)
    n = st.n
    res = minimize(lambda t: sm.minus2_logl(t) / n, theta, jac=lambda t: sm.gradient(t) / n, method="BFGS",
                   options={"gtol": 1e-8, "maxiter": 10000})
    theta, value = res.x, sm.minus2_logl(res.x)
    for _ in range(10):
        grad = sm.gradient(theta)
        if np.max(np.abs(grad)) / n < 1e-10:
            break
        step = np.linalg.lstsq(numeric_hessian(sm.gradient, theta), grad, rcond=None)[0]
        new = theta - step
        new_value = sm.minus2_logl(new)
        if not new_value <= value + 1e-9:
            break
        theta, value = new, new_value
    conv = bool(np.max(np.abs(sm.gradient(theta))) / n < 1e-6)
    return Saturated(sm.moments(theta), float(value), sm.npar, conv)


def loglik_x(st: ClusterStats, x_within: list[str], x_between: list[str]) -> float:
    """lavaan's ``loglik.x``: the saturated normal loglik of the within-only fixed.x covariates (N rows,
    total covariance, divisor N) plus that of the between-only ones (J clusters, divisor J)."""
    out = 0.0
    for names, pool, cov, n in ((x_within, st.y, st.total_cov, st.n), (x_between, st.z, st.between_cov,
                                                                        st.nclusters)):
        if names:
            idx = [pool.index(v) for v in names]
            logdet = np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]
            out += -0.5 * n * (len(idx) * LOG2PI + logdet + len(idx))
    return float(out)
