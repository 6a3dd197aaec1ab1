"""``residuals()`` of an ordinal fit of ordered items (lavaan 0.6.14 ``residuals(fit, type)``).

For ordered items lavaan's residuals are those of its WLS statistics (``lav_residuals``): the polychoric
correlations minus the model-implied correlations of the latent responses (``cov``, diagonal 0), the
sample thresholds minus the implied ones (``th``; not zero once thresholds are constrained, e.g. equal
across groups), and ``mean`` zeros (the latent responses' means are fixed at 0). The correlation types
("cor", "cor.bollen", "cor.bentler") equal "raw" because every variance is 1. The standardized and
normalized types (lavaan divides by the residuals' SEs from Gamma), mixed ordered / continuous models,
observed covariates and the theta parameterization are refused for now.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.polychoric import pair_index

KINDS = ("raw", "cor", "cor.bollen", "cor.bentler")


@dataclass
class OrdinalResiduals:
    """One group's residuals: correlations (``cov``), means (zeros) and thresholds (``th``)."""

    cov: pd.DataFrame
    mean: pd.Series
    th: pd.Series


def _one(resid: np.ndarray, layout, names: list[str], thresholds: list[np.ndarray]) -> OrdinalResiduals:
    p = len(names)
    ii, jj = pair_index(p)
    cov = np.zeros((p, p))
    cov[ii, jj] = cov[jj, ii] = resid[layout.nuni:]
    th_names = [f"{v}|t{k + 1}" for v, t in zip(names, thresholds, strict=True) for k in range(t.size)]
    return OrdinalResiduals(pd.DataFrame(cov, index=names, columns=names), pd.Series(0.0, index=names),
                            pd.Series(resid[layout.th_slot], index=th_names))


def ordinal_residuals(fit, kind: str = "raw") -> list[OrdinalResiduals]:
    """lavaan's ``residuals(fit, kind)`` per group (module docstring)."""
    kind = str(kind).lower()
    if kind not in KINDS:
        raise SurveyInputError(f"residuals type {kind!r} is not available with ordered items yet "
                               f"(available: {', '.join(KINDS)})", field="residuals", value=kind)
    if getattr(fit, "blocks", None) is None:  # one group (survey.sem.ordinal.fit.OrdinalFit)
        structure = fit.structure
        if structure.mixed or getattr(structure, "q", 0) or structure.parameterization != "delta":
            raise SurveyInputError("residuals with ordered items are available for models of ordered items "
                                   "only (no continuous variables or covariates, parameterization='delta')",
                                   field="residuals")
        resid = fit.sample.wls_obs - structure.moments(fit.theta).stats
        return [_one(resid, structure, list(structure.ram.ov), fit.sample.thresholds)]
    from survey.sem.ordinal.group_moments import moments

    out = []
    for block in fit.blocks:
        if block.sample.mixed or block.theta_param or block.sample.slopes is not None:
            raise SurveyInputError("residuals with ordered items are available for models of ordered items "
                                   "only (no continuous variables or covariates, parameterization='delta')",
                                   field="residuals")
        resid = block.sample.wls_obs - moments(block, fit.theta)[0]
        out.append(_one(resid, block.layout, list(block.ram.ov), block.sample.thresholds))
    return out
