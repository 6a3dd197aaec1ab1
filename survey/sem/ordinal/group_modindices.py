"""Modification indices of a multi-group ordinal fit without equality constraints (lavaan 0.6.14
``modindices()`` of a configural model: every group's fixed-to-zero loadings and residual covariances).

With no parameter shared between groups the expected information ``sum_g f_g Delta_g' W_g Delta_g`` is
block diagonal, and each candidate's score is ``f_g`` times its group's: lavaan's ``mi = N score^2 / V``
and ``epc = score / V`` (:mod:`survey.sem.ordinal.modindices`) reduce to the one-group indices of each
group with its own N_g. Each group's block (delta parameterization: scale factors 1, latent means 0) is
a one-group ordinal model; its indices come from :func:`~survey.sem.ordinal.modindices.
modification_indices`. Models with equality constraints (``group_equal``, shared labels) or the theta
parameterization, also with observed covariates and continuous items:
:mod:`survey.sem.ordinal.equal_modindices` (lavaan then also scores the fixed markers, intercepts and
scale factors).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError


def group_modification_indices(fit) -> pd.DataFrame:
    """``modindices(fit)`` of a configural :class:`~survey.sem.ordinal.multigroup.GroupFit`, with lavaan's
    ``group`` column (module docstring)."""
    from survey.sem.ordinal.modindices import modification_indices

    constrained = any(not isinstance(k[0], int) or k[1] == "~*~" for k in fit.keys)
    shared = constrained or any(b.theta_param for b in fit.blocks)
    if shared:  # group_equal, shared labels, theta (survey.sem.ordinal.equal_modindices)
        from survey.sem.ordinal.equal_modindices import equal_group_modification_indices

        return equal_group_modification_indices(fit)
    frames = []
    for g, block in enumerate(fit.blocks):
        nth = sum(t.size for t in block.sample.thresholds)
        local = block.index[: block.ram.npar + nth]
        if (local < 0).any():  # pragma: no cover - every RAM parameter and threshold is free
            raise SurveyInputError("a group's parameters are not all free", field="modindices")
        one = SimpleNamespace(structure=block.layout, theta=fit.theta[local], sample=block.sample,
                              estimator=fit.estimator, nobs=block.nobs,
                              vcov_matrix=fit.vcov_matrix[np.ix_(local, local)])
        table = modification_indices(one)
        table.insert(3, "group", g + 1)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
