"""``residuals()`` of an ordinal fit of ordered items (lavaan 0.6.14 ``residuals(fit, type)``).

For ordered items lavaan's residuals are those of its WLS statistics (``lav_residuals``): the polychoric
correlations minus the model-implied correlations of the latent responses (``cov``, diagonal 0), the
sample thresholds minus the implied ones (``th``; not zero once thresholds are constrained, e.g. equal
across groups), and ``mean`` zeros (the latent responses' means are fixed at 0). The correlation types
("cor", "cor.bollen", "cor.bentler") equal "raw" because every variance is 1. The "normalized" and
"standardized" types divide each residual by its SE (lavaan ``lav_residuals_acov``): normalized from
``ACOV_obs = Gamma_g / N`` (N the total sample size, as lavaan), standardized from ``Q ACOV_obs Q'`` with
``Q = I - w_g Delta_g A0^-1 Delta_g' W_g``, A0 = sum_g w_g Delta_g' W_g Delta_g the fit's information
(w_g = N_g / N; W the estimator's weight, its diagonal for DWLS / ULS); a residual below 1e-5 keeps its
value (lavaan divides it by 1). Mixed ordered / continuous models, observed covariates and the theta
parameterization are refused for now.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.polychoric import pair_index

KINDS = ("raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized")
SCALED = ("standardized", "normalized")


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
        if kind in SCALED:
            from survey.sem.ordinal.choices import ESTIMATORS
            from survey.sem.ordinal.objective import weight_matrix

            weight = weight_matrix(fit.sample.gamma, ESTIMATORS[str(fit.estimator).upper()][0])
            jac = structure.jacobian(fit.theta)
            resid = _scaled(kind, [resid], [jac], [weight], [fit.sample.gamma], [1.0], fit.sample.nobs)[0]
        return [_one(resid, structure, list(structure.ram.ov), fit.sample.thresholds)]
    from survey.sem.ordinal.group_moments import moments

    out = []
    resids = []
    for block in fit.blocks:
        if block.sample.mixed or block.theta_param or block.sample.slopes is not None:
            raise SurveyInputError("residuals with ordered items are available for models of ordered items "
                                   "only (no continuous variables or covariates, parameterization='delta')",
                                   field="residuals")
        resids.append(block.sample.wls_obs - moments(block, fit.theta)[0])
    if kind in SCALED:
        jacs, weights, gammas, fg = fit.parts
        n_total = float(sum(b.nobs for b in fit.blocks))
        resids = _scaled(kind, resids, jacs, weights, gammas, fg, n_total)
    for block, resid in zip(fit.blocks, resids, strict=True):
        out.append(_one(resid, block.layout, list(block.ram.ov), block.sample.thresholds))
    return out


def _scaled(kind: str, resids: list[np.ndarray], jacs, weights, gammas, fg,
            n_total: float) -> list[np.ndarray]:
    """Every group's residuals over their SEs (module docstring)."""
    from survey.sem.ordinal.objective import weighted

    a0_inv = np.linalg.pinv(sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True)))
    out = []
    for resid, j, w, gamma, f in zip(resids, jacs, weights, gammas, fg, strict=True):
        acov = gamma / n_total
        if kind == "standardized":
            w_full = np.diag(w) if w.ndim == 1 else w
            q = np.eye(gamma.shape[0]) - f * (j @ a0_inv @ j.T) @ w_full
            acov = q @ acov @ q.T
        se = np.sqrt(np.clip(np.diag(acov), 0.0, None))
        small = np.abs(resid) < 1e-5
        out.append(np.where(small, resid, resid / np.where(small, 1.0, se)))
    return out
