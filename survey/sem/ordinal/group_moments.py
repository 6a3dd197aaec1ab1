"""One group of a multi-group ordinal fit and its implied statistics in lavaan's ``WLS.obs`` order, with
the Jacobian in the global parameters (the delta and theta parameterizations of
:mod:`survey.sem.ordinal.multigroup`, whose module docstring gives the formulas)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.ordinal._engine import RAMModel
from survey.sem.ordinal.objective import OrdinalStructure
from survey.sem.ordinal.sample import SampleStatistics


@dataclass
class Group:
    """One group's RAM model and the map from its local parameters to the global vector."""

    ram: RAMModel
    sample: SampleStatistics
    index: np.ndarray  # local [ram params, thresholds, Delta] -> global index, -1 where fixed
    nobs: int
    layout: OrdinalStructure  # where the thresholds, -means, variances and covariances sit in WLS.obs
    theta_param: bool = False  # lavaan parameterization = "theta": Delta_i = 1 / sqrt(Sigma*_ii), derived
    fixed: dict | None = None  # threshold formulas: local threshold position -> fixed value (index -1)
    threshold_labels: dict | None = None  # threshold formulas: local threshold position -> user label
    starts: dict | None = None  # threshold formulas: global index -> start value


def _local(group: Group, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vals = np.where(group.index >= 0, theta[np.maximum(group.index, 0)], 1.0)
    n_ram, nth = group.ram.npar, sum(t.size for t in group.sample.thresholds)
    for pos, value in (group.fixed or {}).items():  # fixed thresholds of threshold formulas
        vals[n_ram + pos] = value
    return vals[:n_ram], vals[n_ram : n_ram + nth], vals[n_ram + nth :]


def moments(group: Group, theta: np.ndarray, jacobian: bool = False):
    """Implied statistics of one group in lavaan's ``WLS.obs`` order (thresholds tau* or ``-mu`` per
    variable, the continuous variances, the correlations / covariances; and the Jacobian in the global
    parameters). Continuous variables have Delta = 1."""
    if group.sample.slopes is not None:  # observed covariates (conditional.x)
        from survey.sem.ordinal import group_conditional

        return group_conditional.moments(group, theta, _local, jacobian)
    t_ram, tau, scale = _local(group, theta)
    lay = group.layout
    ii, jj = lay.ii, lay.jj
    th_var, num = lay.th_var, lay.num_idx
    imp = group.ram.implied(t_ram)
    mu = imp.mean
    ordered = np.ones(group.ram.p, bool)
    ordered[num] = False
    if group.theta_param:  # Delta_i = 1 / sqrt(Sigma*_ii) of an ordered item
        scale = np.where(ordered, 1.0 / np.sqrt(np.diag(imp.sigma)), 1.0)
    stats = np.zeros(lay.nstat)
    stats[lay.th_slot] = scale[th_var] * (tau - mu[th_var])
    stats[lay.mean_slot] = -mu[num]
    stats[lay.nslots : lay.nuni] = np.diag(imp.sigma)[num]
    stats[lay.nuni :] = scale[ii] * scale[jj] * imp.sigma[ii, jj]
    if not jacobian:
        return stats, imp
    nth = tau.size
    d_sigma = group.ram.delta(t_ram, imp)
    d_mu = group.ram.delta_mean(t_ram, imp)
    local = np.zeros((stats.size, group.index.size))
    n_ram = group.ram.npar
    local[lay.th_slot, :n_ram] = (-scale[th_var] * d_mu[:, th_var]).T
    local[lay.th_slot, n_ram + np.arange(nth)] = scale[th_var]
    local[lay.th_slot, n_ram + nth + th_var] = tau - mu[th_var]
    local[lay.mean_slot, :n_ram] = -d_mu[:, num].T
    local[lay.nslots : lay.nuni, :n_ram] = d_sigma[:, num, num].T
    rows = lay.nuni + np.arange(ii.size)
    local[rows, :n_ram] = (scale[ii] * scale[jj] * d_sigma[:, ii, jj]).T
    local[rows, n_ram + nth + ii] += scale[jj] * imp.sigma[ii, jj]
    local[rows, n_ram + nth + jj] += scale[ii] * imp.sigma[ii, jj]
    if group.theta_param:  # d Delta_i = -Delta_i^3 d Sigma*_ii / 2 (its scale columns are not parameters)
        d_scale = np.where(ordered, -0.5 * scale**3, 0.0) * np.einsum("kii->ki", d_sigma)
        local[lay.th_slot, :n_ram] += (d_scale[:, th_var] * (tau - mu[th_var])).T
        d_pair = scale[jj] * d_scale[:, ii] + scale[ii] * d_scale[:, jj]
        local[rows, :n_ram] += (imp.sigma[ii, jj] * d_pair).T
    select = np.zeros((group.index.size, int(theta.size)))
    free = group.index >= 0
    select[np.flatnonzero(free), group.index[free]] = 1.0
    return stats, local @ select
