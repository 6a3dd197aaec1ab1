"""``lavResiduals(fit)$summary`` of an ordinal fit of ordered items (lavaan 0.6.14 ``lav_residuals_summary``,
categorical branch).

Per group three columns, each an RMS of residuals with lavaan's SE, exact-fit z test and unbiased RMS
(:func:`survey.sem.results.residuals.rms_summary`; Maydeu-Olivares 2017, Psychometrika 82):
``cor`` the residual polychoric correlations (below the diagonal), ``thresholds`` the residual thresholds
and ``total`` both. The residuals are lavaan's cor.bentler (srmr) or cor.bollen (crmr) ones, which equal
the raw ones here because every latent response has variance 1; their ACOV is the standardized one,
Q (Gamma_g / N) Q' with Q = I - w_g Delta_g A0^-1 Delta_g' W_g (lavaan ``lav_residuals_acov``,
:func:`survey.sem.ordinal.residuals.standardized_acov`), rows thresholds first, then the correlations.
The RMS divisor (lavaan's ``pstar``) counts the p variances too for srmr (cor: p(p-1)/2 + p, total:
p(p-1)/2 + nth + p) but not for crmr (p(p-1)/2, p(p-1)/2 + nth). lavaan computes no summary with
continuous items or observed covariates among ordered ones (its ``lav_residuals`` switches it off):
refused here in one line. In ``total`` lavaan stacks the residual correlations first, thresholds second,
but keeps the ACOV's order (thresholds first) in e'ACOV e of the unbiased RMS's SE; that pairing is kept
so that usrmr.se, its CI and close-fit z equal lavaan's. lavaan names the crmr upper CI bound
``ucrmr.cilupper``; here it is ``ucrmr.ci.upper`` like the others.
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.results.residuals import RMSSummary, rms_summary

TYPES = {"cor.bentler": "srmr", "srmr": "srmr", "cor.eqs": "srmr", "cor.bollen": "crmr", "crmr": "crmr",
         "cor": "crmr"}


def _parts(fit) -> tuple[list[np.ndarray], list[np.ndarray], list[int], int]:
    """Per group the residual WLS statistics (thresholds, then correlations) and their standardized ACOV,
    the number of thresholds per group and the number of items."""
    from survey.sem.ordinal.residuals import standardized_acov

    if getattr(fit, "blocks", None) is None:  # one group
        from survey.sem.ordinal.choices import ESTIMATORS
        from survey.sem.ordinal.objective import weight_matrix

        _check(fit.sample)
        structure = fit.structure
        weight = weight_matrix(fit.sample.gamma, ESTIMATORS[str(fit.estimator).upper()][0])
        jac = structure.jacobian(fit.theta)
        resid = fit.sample.wls_obs - structure.moments(fit.theta).stats
        acov = standardized_acov([jac], [weight], [fit.sample.gamma], [1.0], float(fit.sample.nobs))
        return [resid], acov, [_nth(fit.sample)], structure.p
    from survey.sem.ordinal.group_moments import moments

    for block in fit.blocks:
        _check(block.sample)
    resids = [b.sample.wls_obs - moments(b, fit.theta)[0] for b in fit.blocks]
    jacs, weights, gammas, fg = fit.parts
    n_total = float(sum(b.nobs for b in fit.blocks))
    acovs = standardized_acov(jacs, weights, gammas, fg, n_total)
    return resids, acovs, [_nth(b.sample) for b in fit.blocks], fit.blocks[0].layout.p


def _nth(sample) -> int:
    return int(sum(np.asarray(t).size for t in sample.thresholds))


def _check(sample) -> None:
    """lavaan 0.6.14 gives no summary with continuous items or observed covariates (module docstring)."""
    if sample.mixed or sample.slopes is not None:
        raise SurveyInputError("lavResiduals()' summary with continuous items or observed covariates among "
                               "ordered ones is not available (lavaan 0.6.14 computes none there)",
                               field="ordered")


def ordinal_residual_summary(fit, type: str = "cor.bentler") -> list[dict[str, RMSSummary]]:  # noqa: A002
    """lavaan's ``lavResiduals(fit, type)$summary`` per group: ``cor``, ``thresholds``, ``total``
    (module docstring)."""
    kind = TYPES.get(str(type).lower())
    if kind is None:
        raise SurveyInputError(f"residual summary type {type!r} is not available (available: "
                               f"{', '.join(TYPES)})", field="type", value=type)
    resids, acovs, nths, p = _parts(fit)
    extra = p if kind == "srmr" else 0
    out = []
    for resid, acov, nth in zip(resids, acovs, nths, strict=True):
        cor, th = resid[nth:], resid[:nth]
        out.append({"cor": rms_summary(cor, acov[nth:, nth:], cor.size + extra),
                    "thresholds": rms_summary(th, acov[:nth, :nth], th.size),
                    "total": rms_summary(np.concatenate([cor, th]), acov, resid.size + extra)})
    return out
