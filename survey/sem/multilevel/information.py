"""Expected (Fisher) information of a two-level model (lavaan ``information = "expected"`` with
``level:``; ``lav_mvnorm_cluster_information_expected``). With D_k the derivative of the '2l' moments
along parameter k, the information of the within deviations and of the cluster means (z, ybar):

    I_kl = (N - J)/2 tr(Sigma_W^-1 dSigma_W,k Sigma_W^-1 dSigma_W,l)
           + sum_n J_n [1/2 tr(V_n^-1 dV_n,k V_n^-1 dV_n,l) + dmu_k' V_n^-1 dmu_l]

(the normal information of each independent piece; McDonald & Goldstein 1989).
"""

from __future__ import annotations

import numpy as np

from survey.sem.multilevel.loglik import Moments


def _directions(moments, theta: np.ndarray) -> list[Moments]:
    """dMoments/dtheta_k by central differences (the moments are smooth in theta)."""
    out = []
    for k in range(theta.size):
        step = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(theta.size)
        e[k] = step
        hi, lo = moments(theta + e), moments(theta - e)
        out.append(Moments(*((a - b) / (2 * step) for a, b in zip(_parts(hi), _parts(lo), strict=True))))
    return out


def _parts(m: Moments):
    return m.sw, m.sb, m.szz, m.syz, m.mu_z, m.mu_y


def expected_information(moments, st, theta: np.ndarray) -> np.ndarray:
    """The Fisher information of the parameters (sum over the observations, like the observed one);
    ``moments(theta)`` gives the '2l' moments (a model's or the saturated model's)."""
    m = moments(theta)
    dirs = _directions(moments, theta)
    q = theta.size
    inv_w = np.linalg.inv(m.sw)
    a = np.array([inv_w @ d.sw for d in dirs])  # q x p x p
    info = 0.5 * (st.n - st.nclusters) * np.einsum("kij,lji->kl", a, a)
    for nj, cnt in zip(st.sizes, st.counts, strict=True):
        inv_v = np.linalg.inv(m.joint(nj))
        b = np.array([inv_v @ d.joint(nj) for d in dirs])
        mus = np.array([d.mu for d in dirs])
        info += cnt * (0.5 * np.einsum("kij,lji->kl", b, b) + mus @ inv_v @ mus.T)
    return 0.5 * (info + info.T) if q else info
