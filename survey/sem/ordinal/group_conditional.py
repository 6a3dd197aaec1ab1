"""Observed covariates (lavaan ``conditional.x = TRUE``) in a multi-group ordinal fit, configural (every
parameter group-specific; delta parameterization; every item ordered).

Each group's statistics are the one-group conditional ones of :mod:`survey.sem.ordinal.conditional`
(thresholds, probit slopes on x, residual polychorics; lavaan ``lav_samplestats`` per group with
``conditional.x``), its covariates' (co)variances fixed at the group's sample values (lavaan's ``cov.x`` per
group), and its implied statistics the one-group map ``m_g(theta_g) = [tau, vec(Pi), vech(Sigma_y|x)]``.
The fit over groups is :mod:`survey.sem.ordinal.multigroup`'s: sum_g (N_g - 1) F_g, the stacked sandwich and
scaled-shifted test (lavaan ``lav_model_objective``, ``lav_model_vcov``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal import conditional as cx


def check(numeric, sampling_weights, equal, parameterization: str) -> None:
    """The combinations with covariates and groups this fit does not take yet (one line each)."""
    why = None
    if numeric:
        why = "ordered and continuous variables together"
    elif sampling_weights:
        why = "sampling_weights="
    elif equal:
        why = f"group_equal={sorted(equal)}"
    elif parameterization != "delta":
        why = "parameterization='theta'"
    if why:
        raise SurveyInputError(f"observed covariates with two or more groups and {why} are not available yet "
                               "(available: configural models, every item ordered, delta)", field="model")


def group_sample(rows: pd.DataFrame, items: list[str], covariates: list[str], missing: str):
    """One group's conditional statistics (:func:`survey.sem.ordinal.conditional.conditional_sample`)."""
    return cx.conditional_sample(rows, items, covariates, missing)


def layout(pt: pd.DataFrame, sample, covariates: list[str]):
    """The group's table with its covariates fixed at the group's ``cov.x``, and its conditional map."""
    pt = cx.fix_covariates(pt, covariates, sample.x_cov)
    return pt, cx.ConditionalStructure(pt, [t.size for t in sample.thresholds], covariates, "delta")


def is_conditional(group) -> bool:
    return isinstance(group.layout, cx.ConditionalStructure)


def moments(group, theta: np.ndarray, local, jacobian: bool = False):
    """The group's implied conditional statistics (and their Jacobian in the global parameters)."""
    t_ram, tau, _ = local(group, theta)
    full = np.concatenate([t_ram, tau])
    stats = group.layout.moments(full).stats
    if not jacobian:
        return stats, None
    jac = np.zeros((stats.size, group.index.size))
    jac[:, : full.size] = group.layout.jacobian(full)
    select = np.zeros((group.index.size, int(theta.size)))
    free = group.index >= 0
    select[np.flatnonzero(free), group.index[free]] = 1.0
    return stats, jac @ select


def start_moments(sample) -> tuple[np.ndarray, np.ndarray]:
    """A covariance and mean of (y*, x) for the starting values (:func:`conditional.start_cov`)."""
    cov = cx.start_cov(sample)
    mean = np.concatenate([np.zeros(len(sample.thresholds)), sample.x_mean])
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
