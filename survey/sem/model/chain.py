"""Chain rule from moment gradients to parameter gradients without forming dSigma/dtheta.

With G the gradient of a function wrt Sigma (p x p) and g_mu wrt mu, g = F T, C = Sigma_all F',
m~ = T m (:mod:`survey.sem.model.ram`): a path A_ij contributes 2 g_i' G C_j + g_mu' g_i m~_j, a (co)variance
S_ij contributes 2 g_i' G g_j (g_i' G g_i on the diagonal) and an intercept m_i contributes g_mu' g_i.
"""

from __future__ import annotations

import numpy as np

from survey.sem.model.ram import RAMModel


def contract(model: RAMModel, theta: np.ndarray, g_sig: np.ndarray, g_mu: np.ndarray, imp=None) -> np.ndarray:
    """sum_ij G_ij dSigma_ij/dtheta + g_mu' dmu/dtheta."""
    imp = imp if imp is not None else model.implied(theta)
    p = model.p
    gt = imp.t[:p, :]
    c_ov = imp.sigma_all[:, :p]
    out = np.zeros(model.npar)
    gg = g_sig @ gt  # p x n
    free = model.a_par >= 0
    if free.any():
        r, c = model.a_rows[free], model.a_cols[free]
        vals = 2.0 * np.einsum("pm,mp->m", gg[:, r], c_ov[c, :])
        if model.meanstructure and g_mu is not None:
            _, _, m = model.matrices(theta)
            tm = imp.t @ m
            vals = vals + (g_mu @ gt[:, r]) * tm[c]
        out += np.bincount(model.a_par[free], weights=vals, minlength=model.npar)
    free = model.s_par >= 0
    if free.any():
        r, c = model.s_rows[free], model.s_cols[free]
        vals = np.einsum("pm,pm->m", gt[:, r], gg[:, c]) * np.where(r == c, 1.0, 2.0)
        out += np.bincount(model.s_par[free], weights=vals, minlength=model.npar)
    free = model.m_par >= 0
    if free.any() and model.meanstructure and g_mu is not None:
        out += np.bincount(model.m_par[free], weights=g_mu @ gt[:, model.m_rows[free]], minlength=model.npar)
    return out
