"""Implied moments and residuals of a two-level fit per level (lavaan 0.6.14 ``fitted()``,
``residuals()``, ``lavResiduals()`` on a ``level:`` model; fixtures
tests/fixtures/multilevel/make_multilevel_results.R).

Per level (lavaan's blocks ``within`` and the cluster variable's name): the model-implied covariance
matrix and mean vector of that level's observed variables (the level's RAM model at the estimates: level 1
the within variables, both-level variables with their level-1 means; level 2 the both-level and
between-only variables). The "sample" moments lavaan compares them with are its h1, the saturated
two-level model fitted by EM (``lav_mvnorm_cluster_em_sat`` -> ``lav_mvnorm_cluster_2l2implied``):
Sigma_W and Mu_W over the level-1 variables, Sigma_B (both-level rows and the between-only block S_zz,
S_yz) and Mu_B (mu_B of the both-level variables, mu_z) over the level-2 variables. Residuals then as a
single-level block (:mod:`survey.sem.results.residuals`): ``raw`` S - Sigma, m - mu; ``cor`` (=
``cor.bollen``) cor(S) - cor(Sigma); ``cor.bentler`` (S - Sigma) / sqrt(s_ii s_jj) (lavResiduals' default
type); the mean residuals rescaled by the sample SDs. lavaan 0.6.14 has no ``normalized`` /
``standardized`` residuals for two-level models (``lav_residuals_se``: "not ready yet") and no SRMR
summary in ``lavResiduals`` there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.results.residuals import TYPES, Residuals, cor_bentler, cor_bollen, raw

_NOT_READY = ("residuals of type {kind!r} are not available for a two-level model (lavaan 0.6.14: "
              "lav_residuals_se 'not ready yet'; available: raw, cor, cor.bollen, cor.bentler)")


def level_names(res) -> list[str]:
    """lavaan's block names of a two-level fit: ``within`` and the cluster variable."""
    return ["within", str(res.cluster)]


def implied_moments(res) -> list[tuple[pd.DataFrame, pd.Series]]:
    """``fitted(fit)``: (cov, mean) per level over that level's observed variables."""
    out = []
    for g, mod in enumerate(res.mg.models):
        imp = mod.implied(res.mg.local(res.theta_full, g))
        names = list(mod.ov)
        out.append((pd.DataFrame(imp.sigma, index=names, columns=names), pd.Series(imp.mean, index=names)))
    return out


def h1_moments(res) -> list[tuple[pd.DataFrame, pd.Series]]:
    """lavaan's h1 (EM saturated) moments per level, laid out as :func:`implied_moments`."""
    sat = res.sat
    if getattr(sat, "mu_w", None) is None:
        raise SurveyInputError("residuals of a two-level fit with missing='ml' are not available yet "
                               "(available: complete data / listwise)", field="missing")
    st, m = res.tl.st, sat.moments
    w, b = res.mg.models
    wi = [st.y.index(v) for v in w.ov]
    within = (pd.DataFrame(m.sw[np.ix_(wi, wi)], index=w.ov, columns=w.ov),
              pd.Series(np.asarray(sat.mu_w)[wi], index=w.ov))
    order = st.z + st.y  # Sigma_B over (z, y)
    pz = st.p_z
    full = np.zeros((len(order),) * 2)
    full[:pz, :pz] = m.szz
    full[pz:, :pz] = m.syz
    full[:pz, pz:] = m.syz.T
    full[pz:, pz:] = m.sb
    mean = np.concatenate([m.mu_z, np.asarray(sat.mu_b)])
    bi = [order.index(v) for v in b.ov]
    between = (pd.DataFrame(full[np.ix_(bi, bi)], index=b.ov, columns=b.ov), pd.Series(mean[bi], index=b.ov))
    return [within, between]


def twolevel_residuals(res, type: str = "raw") -> list[Residuals]:  # noqa: A002 - lavaan's name
    """``residuals(fit, type)`` of a two-level fit: one :class:`Residuals` per level (within, between)."""
    kind = str(type).lower()
    if kind not in TYPES:
        raise SurveyInputError(f"residual type {type!r} is not available (available: raw, cor, cor.bollen, "
                               "cor.bentler)", field="type")
    if kind in ("normalized", "standardized"):
        raise SurveyInputError(_NOT_READY.format(kind=kind), field="type")
    fun = {"raw": raw, "cor": cor_bollen, "cor.bollen": cor_bollen, "cor.bentler": cor_bentler}[kind]
    out = []
    for (s, m), (sigma, mu) in zip(h1_moments(res), implied_moments(res), strict=True):
        names = list(s.index)
        cov, mean = fun(s.to_numpy(), sigma.to_numpy(), m.to_numpy(), mu.to_numpy())
        out.append(Residuals(pd.DataFrame(cov, index=names, columns=names), pd.Series(mean, index=names)))
    return out
