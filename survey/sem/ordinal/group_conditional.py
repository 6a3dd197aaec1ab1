"""Observed covariates (lavaan ``conditional.x = TRUE``) in a multi-group ordinal fit, configural or with
``group.equal``, delta or theta parameterization (every item ordered; ordered and continuous items:
:mod:`survey.sem.ordinal.group_mixed_cx`).

Each group's statistics are the one-group conditional ones of :mod:`survey.sem.ordinal.conditional`
(thresholds, probit slopes on x, residual polychorics; lavaan ``lav_samplestats`` per group with
``conditional.x``), its covariates' (co)variances fixed at the group's sample values (lavaan's ``cov.x`` per
group), and its implied statistics the one-group map ``m_g(theta_g) = [tau, vec(Pi), vech(Sigma_y|x)]``
with the multi-group delta identification (scale factors and latent means free in groups 2+ with equal
thresholds: :func:`moments`).
The fit over groups is :mod:`survey.sem.ordinal.multigroup`'s: sum_g (N_g - 1) F_g, the stacked sandwich and
scaled-shifted test (lavaan ``lav_model_objective``, ``lav_model_vcov``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.ordinal import conditional as cx


def group_sample(rows: pd.DataFrame, items: list[str], covariates: list[str], missing: str,
                 weight_column: str | None = None, mixed_items: tuple[list[str], tuple] | None = None):
    """One group's conditional statistics (:func:`survey.sem.ordinal.conditional.conditional_sample`);
    with sampling weights, rescaled within the group (:mod:`survey.sem.ordinal.group_weights`);
    ``mixed_items``: (every item in model order, the continuous ones), :mod:`survey.sem.ordinal.mixed_cx`."""
    if mixed_items is not None and mixed_items[1]:
        from survey.sem.ordinal.mixed_cx import mixed_conditional_sample

        return mixed_conditional_sample(rows, mixed_items[0], mixed_items[1], covariates, missing,
                                        (weight_column, "total"))
    return cx.conditional_sample(rows, items, covariates, missing, (weight_column, "total"))


def layout(pt: pd.DataFrame, sample, covariates: list[str], parameterization: str = "delta"):
    """The group's table with its covariates fixed at the group's ``cov.x``, and its conditional map (of
    mixed items: :class:`~survey.sem.ordinal.mixed_cx_model.MixedConditionalStructure`)."""
    pt = cx.fix_covariates(pt, covariates, sample.x_cov)
    if sample.mixed:
        from survey.sem.ordinal.mixed_cx_model import MixedConditionalStructure

        numeric = [v for v, num in zip(sample.names, sample.numeric, strict=True) if num]
        return pt, MixedConditionalStructure(pt, [t.size for t in sample.thresholds], covariates, numeric,
                                             parameterization)
    return pt, cx.ConditionalStructure(pt, [t.size for t in sample.thresholds], covariates, "delta")


def is_conditional(group) -> bool:
    return isinstance(group.layout, cx.ConditionalStructure) or getattr(group.layout, "cx_mixed", False)


def moments(group, theta: np.ndarray, local, jacobian: bool = False):
    """The group's implied conditional statistics (and their Jacobian in the global parameters): with the
    scale factors Delta (1 in group 1; free in groups 2+ with equal thresholds) and mu the RAM means of the
    latent responses at x = 0 (the covariates' means are 0 in the RAM part, so mu is the regression
    intercept): ``tau* = Delta (tau - mu)``, ``Pi* = Delta Pi``,
    ``rho_ij = Delta_i Delta_j [Sigma_y|x]_ij``."""
    t_ram, tau, scale = local(group, theta)
    lay = group.layout
    if getattr(lay, "cx_mixed", False):  # mixed items: scale factors of the ordered items
        from survey.sem.ordinal.group_mixed_cx import mixed_moments

        return mixed_moments(group, theta, t_ram, tau, scale, jacobian)
    th_var, ii, jj, p = lay.th_var, lay.ii, lay.jj, lay.p
    sc = scale[lay.y_idx]
    imp = group.ram.implied(t_ram)
    mu = imp.mean
    pi, cond = lay._parts(imp.sigma)
    if group.theta_param:  # theta: Delta_i = 1 / sqrt([Sigma_y|x]_ii), the residual variances RAM parameters
        sc = 1.0 / np.sqrt(np.diag(cond))
    stats = np.concatenate([sc[th_var] * (tau - mu[th_var]), (sc[:, None] * pi).T.ravel(),
                            sc[ii] * sc[jj] * cond[ii, jj]])
    if not jacobian:
        return stats, None
    d_sigma = group.ram.delta(t_ram, imp)
    d_mu = group.ram.delta_mean(t_ram, imp)
    y, x = lay.y_idx, lay.x_idx
    sxx_inv = np.linalg.inv(imp.sigma[np.ix_(x, x)])
    d_yx, d_xx = d_sigma[:, y][:, :, x], d_sigma[:, x][:, :, x]
    d_pi = (d_yx - pi @ d_xx) @ sxx_inv  # (npar_ram, p, q), as conditional.ConditionalStructure
    d_cond = d_sigma[:, y][:, :, y] - d_yx @ pi.T - pi @ d_yx.transpose(0, 2, 1) + pi @ d_xx @ pi.T
    n_ram, nth, q = group.ram.npar, tau.size, x.size
    col_scale = n_ram + nth + y  # the items' scale-factor columns
    jac = np.zeros((stats.size, group.index.size))
    jac[:nth, :n_ram] = (-sc[th_var] * d_mu[:, th_var]).T
    jac[:nth, n_ram + np.arange(nth)] = np.diag(sc[th_var])
    jac[np.arange(nth), col_scale[th_var]] = tau - mu[th_var]
    rows = nth + np.arange(p * q).reshape(q, p).T  # slope (i, k) at nth + k p + i
    jac[rows.ravel(), :n_ram] = (sc[:, None, None] * d_pi.transpose(1, 2, 0)).reshape(p * q, n_ram)
    jac[rows.ravel(), np.repeat(col_scale, q)] = pi.ravel()
    pairs = nth + p * q + np.arange(ii.size)
    jac[pairs, :n_ram] = (sc[ii] * sc[jj] * d_cond[:, ii, jj]).T
    jac[pairs, col_scale[ii]] += sc[jj] * cond[ii, jj]
    jac[pairs, col_scale[jj]] += sc[ii] * cond[ii, jj]
    if group.theta_param:  # d Delta_i = -Delta_i^3 d [Sigma_y|x]_ii / 2 (scale columns: not parameters)
        d_sc = -0.5 * sc**3 * np.einsum("kii->ki", d_cond)  # (npar_ram, p)
        jac[:nth, :n_ram] += (d_sc[:, th_var] * (tau - mu[th_var])).T
        jac[rows.ravel(), :n_ram] += (d_sc.T[:, None, :] * pi[:, :, None]).reshape(p * q, n_ram)
        jac[pairs, :n_ram] += (cond[ii, jj] * (sc[jj] * d_sc[:, ii] + sc[ii] * d_sc[:, jj])).T
    select = np.zeros((group.index.size, int(theta.size)))
    free = group.index >= 0
    select[np.flatnonzero(free), group.index[free]] = 1.0
    return stats, jac @ select


def start_moments(sample) -> tuple[np.ndarray, np.ndarray]:
    """A covariance and mean of (y*, x) for the starting values (:func:`conditional.start_cov`)."""
    cov = cx.start_cov(sample)
    mean = np.zeros(len(sample.names))
    if sample.mixed:
        mean[sample.numeric] = sample.means
    mean = np.concatenate([mean, sample.x_mean])
    return cov, mean


def item_sigma(group, t_ram: np.ndarray) -> np.ndarray:
    """The RAM covariance with the items' block replaced by Sigma_y|x (the delta map's residual variances
    are ``1 - [Sigma_y|x]_ii``)."""
    sigma = group.ram.implied(t_ram).sigma.copy()
    y = group.layout.y_idx
    sigma[np.ix_(y, y)] = group.layout.conditional_sigma(t_ram)
    return sigma


def covariate_rows(table: pd.DataFrame, groups) -> pd.DataFrame:
    """The covariates' ``~1`` rows of every group at its sample means (lavaan's fixed ``mean.x``)."""
    parts = []
    for k, grp in enumerate(groups, start=1):
        part = table[table["group"] == k]
        if is_conditional(grp):
            cov = [grp.ram.ov[i] for i in grp.layout.x_idx]
            part = cx.covariate_rows(part, cov, grp.sample)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
