"""``residuals()`` of an ordinal fit of ordered items (lavaan 0.6.14 ``residuals(fit, type)``).

For ordered items lavaan's residuals are those of its WLS statistics (``lav_residuals``): the polychoric
correlations minus the model-implied correlations of the latent responses (``cov``, diagonal 0), the
sample thresholds minus the implied ones (``th``; not zero once thresholds are constrained, e.g. equal
across groups), and ``mean`` 0 minus the latent responses' implied means (zero unless latent means are
free: groups 2+ with equal thresholds). Both parameterizations
give the same residuals (theta: the implied correlations and thresholds of Delta y*). With continuous
items (mixed data) ``cov`` holds their variance residuals on the diagonal and their covariances with the
others, ``mean`` their mean residuals (the statistics hold -mu: the sign flips back). With observed
covariates (lavaan ``conditional.x``) the residuals are those of the conditional statistics: ``cov`` the
residual correlations (lavaan ``res.cov``), ``th`` the thresholds (``res.th``), ``slopes`` the probit
slopes on x (``res.slopes``, items x covariates), ``mean`` the intercepts given x = 0 (``res.int``), also
with continuous items among them; lavaan's ``cov.x`` / ``mean.x`` residuals are 0.
The correlation types ("cor", "cor.bollen", "cor.bentler") equal "raw" because every variance of a
latent response is 1 (and lavaan rescales by the same variances on both sides).

The "normalized", "standardized" and "standardized.mplus" types divide each residual by its SE (lavaan
``lav_residuals_acov``, items all ordered, no covariates; lavaan stops with "not ready yet!" otherwise):
normalized from ``ACOV_obs = Gamma_g / N`` (N the total sample size, as lavaan), standardized from
``Q ACOV_obs Q'`` with ``Q = I - w_g Delta_g A0^-1 Delta_g' W_g``, A0 = sum_g w_g Delta_g' W_g Delta_g the
fit's information (w_g = N_g / N; W the estimator's weight, its diagonal for DWLS / ULS), standardized.mplus
from ``ACOV_obs - Delta_g V Delta_g'`` (V the fit's vcov; Asparouhov & Muthen 2007, Mplus Web Note 10).
A residual below 1e-5 keeps its value (lavaan divides it by 1); a negative variance gives NaN (lavaan NA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.polychoric import pair_index

KINDS = ("raw", "cor", "cor.bollen", "cor.bentler", "cor.eqs", "rmr", "srmr", "crmr", "standardized",
         "normalized", "standardized.mplus")
SCALED = ("standardized", "normalized", "standardized.mplus")


@dataclass
class OrdinalResiduals:
    """One group's residuals: correlations (``cov``), means (``mean``, zeros for ordered items), thresholds
    (``th``) and, with observed covariates, the slopes (``slopes``, items x covariates)."""

    cov: pd.DataFrame
    mean: pd.Series
    th: pd.Series
    slopes: pd.DataFrame | None = None


def _intercepts(layout, t_ram: np.ndarray) -> np.ndarray:
    """The implied means of the items' latent responses (lavaan's implied ``mean``: nu + Lambda (I - B)^-1
    alpha, unscaled), given x = 0 with covariates (``res.int``: mu_y - Pi mu_x)."""
    imp = layout.ram.implied(t_ram)
    q = int(getattr(layout, "q", 0) or 0)
    if imp.mean is None:  # no mean structure: every mean 0
        return np.zeros(layout.p)
    if not q:
        return imp.mean[: layout.p]
    y, x = layout.y_idx, layout.x_idx
    pi = imp.sigma[np.ix_(y, x)] @ np.linalg.inv(imp.sigma[np.ix_(x, x)])
    return imp.mean[y] - pi @ imp.mean[x]


ALIAS = {"cor": "cor.bollen", "crmr": "cor.bollen", "cor.eqs": "cor.bentler", "srmr": "cor.bentler",
         "rmr": "raw"}  # lavaan lav_residuals (mimic = "lavaan")


@dataclass
class _Stats:
    """One side (sample or implied) of a group's statistics in lavaan's residual layout."""

    cov: np.ndarray  # ordered items: correlations, diagonal 1; continuous items: their variances
    mean: np.ndarray  # continuous items' means (ordered: 0; implied: set by the caller)
    th: np.ndarray
    slopes: np.ndarray | None


def _unpack(vec: np.ndarray, layout) -> _Stats:
    """A WLS statistics vector in lavaan's residual layout (module docstring)."""
    q = int(getattr(layout, "q", 0) or 0)
    p = layout.p
    numeric = _numeric(layout)
    ii, jj = pair_index(p)
    cov = np.eye(p)
    cov[ii, jj] = cov[jj, ii] = vec[layout.nuni:]
    mean = np.zeros(p)
    if getattr(layout, "cx_mixed", False):  # [th / -nu per item, vec(Pi), continuous variances, pairs]
        cov[layout.num_idx, layout.num_idx] = vec[layout.var_slot]
        mean[layout.num_idx] = -vec[layout.mean_slot]
        slopes = vec[layout.nslots: layout.nslots + p * q].reshape(q, p).T
        return _Stats(cov, mean, vec[layout.th_slot], slopes)
    if numeric.any():  # mixed: [thresholds / -mu per variable, continuous variances, covariances]
        cov[layout.num_idx, layout.num_idx] = vec[layout.nslots: layout.nslots + layout.num_idx.size]
        mean[layout.num_idx] = -vec[layout.mean_slot]
    if q:  # conditional: [thresholds, vec(Pi) (covariate-major), residual correlations]
        nth = layout.nth
        return _Stats(cov, mean, vec[:nth], vec[nth: nth + p * q].reshape(q, p).T)
    return _Stats(cov, mean, vec[layout.th_slot], None)


def _numeric(layout) -> np.ndarray:
    """The continuous items among the layout's items (none in the all-ordered conditional layout)."""
    if getattr(layout, "cx_mixed", False):
        return np.asarray(layout.numeric, bool)
    return np.zeros(layout.p, bool) if getattr(layout, "q", 0) else np.asarray(layout.numeric, bool)


def _rescale(side: _Stats, var_cov: np.ndarray, var_mean: np.ndarray) -> _Stats:
    """lavaan ``lav_residuals_rescale``: cov / sqrt(v_i v_j), mean / sqrt(v2_i) (values below 1e-5 kept)."""
    scale_cov = np.outer(1 / np.sqrt(var_cov), 1 / np.sqrt(var_cov))
    cov = np.where(np.abs(side.cov) < 1e-5, side.cov, side.cov * scale_cov)
    mean = np.where(np.abs(side.mean) < 1e-5, side.mean, side.mean / np.sqrt(var_mean))
    return _Stats(cov, mean, side.th, side.slopes)


def _one(obs: np.ndarray, est: np.ndarray, layout, names: list[str], thresholds: list[np.ndarray],
         t_ram: np.ndarray, kind: str, scaled: np.ndarray | None = None) -> OrdinalResiduals:
    """One group's residuals: sample minus implied statistics (``scaled``: the residuals over their SEs);
    the ordered items' mean residuals are 0 minus their implied means (not zero in groups 2+ with free
    latent means), their SE types 0 where the residual is 0 and NaN else (lavaan has no SE for them)."""
    p = layout.p
    items = names[:p]
    numeric = _numeric(layout)
    sample, implied = _unpack(obs, layout), _unpack(est, layout)
    implied.mean = np.where(numeric, implied.mean, _intercepts(layout, t_ram))
    if kind in ("cor.bollen", "cor.bentler"):
        v_obs, v_est = np.diag(sample.cov).copy(), np.diag(implied.cov).copy()
        sample = _rescale(sample, v_obs, v_obs)
        implied = _rescale(implied, v_est if kind == "cor.bollen" else v_obs, v_obs)
    cov, mean, th = sample.cov - implied.cov, sample.mean - implied.mean, sample.th - implied.th
    slopes = None if sample.slopes is None else sample.slopes - implied.slopes
    if scaled is not None:
        z = _unpack(scaled, layout)
        cov, th = z.cov - np.diag(np.diag(z.cov)), z.th
        mean = np.where(np.abs(mean) < 1e-5, mean, np.nan)
    ordinal = [v for v, num in zip(items, numeric, strict=True) if not num]
    th_names = [f"{v}|t{k + 1}" for v, t in zip(ordinal, thresholds, strict=True) for k in range(t.size)]
    q_names = names[p: p + (0 if slopes is None else slopes.shape[1])]
    return OrdinalResiduals(pd.DataFrame(cov, index=items, columns=items), pd.Series(mean, index=items),
                            pd.Series(th, index=th_names),
                            None if slopes is None else pd.DataFrame(slopes, index=items, columns=q_names))


def _check_layout(layout, kind: str, sample) -> None:
    """Refuse the SE types with continuous items or covariates in one line (lavaan 0.6.14 stops there:
    "not ready yet!")."""
    if kind in SCALED and (sample.mixed or sample.slopes is not None):
        raise SurveyInputError(f"residuals type {kind!r} with continuous items or observed covariates among "
                               "ordered ones is not available (lavaan 0.6.14 stops: 'not ready yet!'); "
                               "use type 'raw'", field="residuals", value=kind)


def ordinal_residuals(fit, kind: str = "raw") -> list[OrdinalResiduals]:
    """lavaan's ``residuals(fit, kind)`` per group (module docstring)."""
    kind = str(kind).lower()
    if kind not in KINDS:
        raise SurveyInputError(f"residuals type {kind!r} is not one of lavaan's ({', '.join(KINDS)})",
                               field="residuals", value=kind)
    kind = ALIAS.get(kind, kind)
    if getattr(fit, "blocks", None) is None:  # one group (survey.sem.ordinal.fit.OrdinalFit)
        structure = fit.structure
        _check_layout(structure, kind, fit.sample)
        est = structure.moments(fit.theta).stats
        scaled = None
        if kind in SCALED:
            from survey.sem.ordinal.choices import ESTIMATORS
            from survey.sem.ordinal.objective import weight_matrix

            weight = weight_matrix(fit.sample.gamma, ESTIMATORS[str(fit.estimator).upper()][0])
            jac = structure.jacobian(fit.theta)
            scaled = _scaled(kind, [fit.sample.wls_obs - est], [jac], [weight], [fit.sample.gamma], [1.0],
                             fit.sample.nobs, fit.vcov_matrix)[0]
        return [_one(fit.sample.wls_obs, est, structure, list(structure.ram.ov), fit.sample.thresholds,
                     structure.split(fit.theta)[0], kind, scaled)]
    from survey.sem.ordinal.group_moments import _local, moments

    ests = []
    for block in fit.blocks:
        _check_layout(block.layout, kind, block.sample)
        ests.append(moments(block, fit.theta)[0])
    scaled = [None] * len(ests)
    if kind in SCALED:
        jacs, weights, gammas, fg = fit.parts
        n_total = float(sum(b.nobs for b in fit.blocks))
        resids = [b.sample.wls_obs - e for b, e in zip(fit.blocks, ests, strict=True)]
        scaled = _scaled(kind, resids, jacs, weights, gammas, fg, n_total, fit.vcov_matrix)
    return [_one(block.sample.wls_obs, est, block.layout, list(block.ram.ov), block.sample.thresholds,
                 _local(block, fit.theta)[0], kind, z)
            for block, est, z in zip(fit.blocks, ests, scaled, strict=True)]


def standardized_acov(jacs, weights, gammas, fg, n_total: float) -> list[np.ndarray]:
    """Every group's ACOV of its residual statistics for lavaan's z.type "standardized"
    (``lav_residuals_acov``): Q (Gamma_g / N) Q' with Q = I - w_g Delta_g A0^-1 Delta_g' W_g (module
    docstring)."""
    from survey.sem.ordinal.objective import weighted

    a0_inv = np.linalg.pinv(sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True)))
    out = []
    for j, w, gamma, f in zip(jacs, weights, gammas, fg, strict=True):
        w_full = np.diag(w) if w.ndim == 1 else w
        q = np.eye(gamma.shape[0]) - f * (j @ a0_inv @ j.T) @ w_full
        out.append(q @ (gamma / n_total) @ q.T)
    return out


def _scaled(kind: str, resids: list[np.ndarray], jacs, weights, gammas, fg, n_total: float,
            vcov: np.ndarray) -> list[np.ndarray]:
    """Every group's residuals over their SEs (module docstring)."""
    if kind == "standardized":
        acovs = standardized_acov(jacs, weights, gammas, fg, n_total)
    elif kind == "standardized.mplus":
        acovs = [gamma / n_total - j @ vcov @ j.T for j, gamma in zip(jacs, gammas, strict=True)]
    else:
        acovs = [gamma / n_total for gamma in gammas]
    out = []
    for resid, acov in zip(resids, acovs, strict=True):
        var = np.diag(acov)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(var < 0, np.nan, var)) if kind == "standardized.mplus" \
                else np.sqrt(np.clip(var, 0.0, None))
        small = np.abs(resid) < 1e-5
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(np.where(small, resid, resid / np.where(small, 1.0, se)))
    return out
