"""Ordered and continuous items given observed covariates in a multi-group fit with equal thresholds or
intercepts across groups (lavaan ``conditional.x`` with mixed items and ``group.equal``; delta
parameterization).

As with every item ordered (:mod:`survey.sem.ordinal.group_conditional`), groups 2+ then have free latent
means and free scale factors Delta_i of the ordered items (Delta = 1 for a continuous item and in group 1).
With the RAM moments (mu, Sigma) of (y*, x), Pi = Sigma_yx Sigma_xx^-1, Sigma_y|x = Sigma_yy - Pi Sigma_xy
and nu = mu_y - Pi mu_x (:class:`~survey.sem.ordinal.mixed_cx_model.MixedConditionalStructure`), the
group's statistics in lavaan's mixed conditional ``WLS.obs`` order are

    ordered i: tau*_ik = Delta_i (tau_ik - nu_i);   continuous i: -nu_i;   slopes Delta_i Pi_ik;
    continuous variances [Sigma_y|x]_ii;   pairs Delta_i Delta_j [Sigma_y|x]_ij,

with the Jacobian from the RAM derivatives (the chain rule of the one-group map) and
``d tau*_ik / d Delta_i = tau_ik - nu_i``, ``d Pi*_ik / d Delta_i = Pi_ik``,
``d rho_ij / d Delta_i = Delta_j [Sigma_y|x]_ij`` (lavaan ``lav_model_implied``, ``computeDelta``).
Under ``parameterization = "theta"`` the ordered items' residual variances are parameters (free in groups
2+ with equal thresholds) and Delta_i = 1 / sqrt([Sigma_y|x]_ii) is derived: its derivative
``d Delta_i = -Delta_i^3 d [Sigma_y|x]_ii / 2`` enters every scaled statistic by the chain rule.
"""

from __future__ import annotations

import numpy as np


def mixed_moments(group, theta: np.ndarray, t_ram: np.ndarray, tau: np.ndarray, scale: np.ndarray,
                  jacobian: bool = False):
    """One group's statistics (and their Jacobian in the global parameters): module docstring."""
    lay = group.layout
    imp = group.ram.implied(t_ram)
    pi, cond, nu = lay._parts(imp)
    p, q = lay.p, lay.q
    sc = np.where(lay.numeric, 1.0, scale[lay.y_idx])
    if group.theta_param:  # Delta_i = 1 / sqrt([Sigma_y|x]_ii) of an ordered item
        sc = np.where(lay.numeric, 1.0, 1.0 / np.sqrt(np.abs(np.diag(cond))))
    th_item, num = lay.th_var, lay.num_idx
    ii, jj = lay.ii, lay.jj
    uni = np.zeros(lay.nslots)
    uni[lay.th_slot] = sc[th_item] * (tau - nu[th_item])
    uni[lay.mean_slot] = -nu[num]
    stats = np.concatenate([uni, (sc[:, None] * pi).T.ravel(), np.diag(cond)[num],
                            sc[ii] * sc[jj] * cond[ii, jj]])
    if not jacobian:
        return stats, None
    d_sigma = group.ram.delta(t_ram, imp)
    d_mean = group.ram.delta_mean(t_ram, imp)
    y, x = lay.y_idx, lay.x_idx
    sxx_inv = np.linalg.inv(imp.sigma[np.ix_(x, x)])
    d_yx, d_xx = d_sigma[:, y][:, :, x], d_sigma[:, x][:, :, x]
    d_pi = (d_yx - pi @ d_xx) @ sxx_inv  # (npar_ram, p, q)
    d_cond = d_sigma[:, y][:, :, y] - d_yx @ pi.T - pi @ d_yx.transpose(0, 2, 1) + pi @ d_xx @ pi.T
    d_nu = d_mean[:, y] - d_pi @ imp.mean[x] - d_mean[:, x] @ pi.T
    n_ram, nth = group.ram.npar, tau.size
    col_scale = n_ram + nth + y  # the items' scale-factor columns (continuous items: never free)
    jac = np.zeros((stats.size, group.index.size))
    jac[lay.th_slot, :n_ram] = (-sc[th_item] * d_nu[:, th_item]).T
    jac[lay.th_slot, n_ram + np.arange(nth)] = sc[th_item]
    jac[lay.th_slot, col_scale[th_item]] = tau - nu[th_item]
    jac[lay.mean_slot, :n_ram] = -d_nu[:, num].T
    rows = lay.nslots + np.arange(p * q).reshape(q, p).T  # slope (i, k) at nslots + k p + i
    jac[rows.ravel(), :n_ram] = (sc[:, None, None] * d_pi.transpose(1, 2, 0)).reshape(p * q, n_ram)
    jac[rows.ravel(), np.repeat(col_scale, q)] = pi.ravel()
    jac[lay.var_slot, :n_ram] = d_cond[:, num, num].T
    pairs = lay.nuni + np.arange(ii.size)
    jac[pairs, :n_ram] = (sc[ii] * sc[jj] * d_cond[:, ii, jj]).T
    jac[pairs, col_scale[ii]] += sc[jj] * cond[ii, jj]
    jac[pairs, col_scale[jj]] += sc[ii] * cond[ii, jj]
    if group.theta_param:  # the chain rule through the derived Delta (its columns are no parameters)
        d_sc = np.where(lay.numeric, 0.0, -0.5 * sc**3 * np.einsum("kii->ki", d_cond))  # (npar_ram, p)
        jac[lay.th_slot, :n_ram] += (d_sc[:, th_item] * (tau - nu[th_item])).T
        jac[rows.ravel(), :n_ram] += (d_sc.T[:, None, :] * pi[:, :, None]).reshape(p * q, n_ram)
        jac[pairs, :n_ram] += (cond[ii, jj] * (sc[jj] * d_sc[:, ii] + sc[ii] * d_sc[:, jj])).T
    select = np.zeros((group.index.size, int(theta.size)))
    free = group.index >= 0
    select[np.flatnonzero(free), group.index[free]] = 1.0
    return stats, jac @ select
