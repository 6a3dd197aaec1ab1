"""Residuals (lavaan's ``residuals()`` / ``lavResiduals()``), pure functions of moments.

Types (lavaan 0.6 ``lav_residuals.R``):

* ``raw``: S - Sigma and m - mu;
* ``cor`` (= ``cor.bollen``): cor(S) - cor(Sigma), (m - mu)/sd(S) (Bollen 1989, p. 258);
* ``cor.bentler``: (s_ij - sigma_ij) / sqrt(s_ii s_jj), (m - mu)/sd(S) (Bentler 1995, EQS);
* ``normalized``: raw / sqrt(acov_h1), with the normal-theory acov of the sample moments
  var(s_ij) = (s_ii s_jj + s_ij^2) / N, var(m_i) = s_ii / N (Joreskog & Sorbom 1988);
* ``standardized``: raw / sqrt(diag ACOV_res), ACOV_res = Q (A1^-1 / N) Q',
  Q = I - Delta A0^-1 Delta' A1, A1 the unit h1 information at S, A0^-1 = N vcov(theta) and Delta the
  Jacobian of (mu, vech Sigma) (lavaan's ``z.type="standardized"``; Ogasawara 2001). Elements with a zero
  variance (fixed.x covariates, fitted exactly) are 0 when the residual is 0 (lavaan prints 0).

:func:`residual_summary` gives ``lavResiduals()``'s summary: the RMS of the (Bentler-scaled) residuals and
its standard error from the ACOV of the residuals (lavaan's ``lav_residuals_summary_rms``), unbiased
version included (Maydeu-Olivares 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.inference.browne_model import gamma_nt  # noqa: F401  (re-exported: its old home)

TYPES = ("raw", "cor", "cor.bollen", "cor.bentler", "normalized", "standardized")


@dataclass
class Residuals:
    """One group's residuals: ``cov`` (p x p DataFrame) and ``mean`` (Series, or None)."""

    cov: pd.DataFrame
    mean: pd.Series | None = None
    # conditional.x (lavaan's res.cov / res.int above, and these): slopes of y on x, cov.x, mean.x
    slopes: pd.DataFrame | None = None
    cov_x: pd.DataFrame | None = None
    mean_x: pd.Series | None = None


def _vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column of lavaan's vech order (column-major lower triangle)."""
    cols, rows = np.triu_indices(p)
    return rows, cols


def _unvech(v: np.ndarray, p: int) -> np.ndarray:
    out = np.zeros((p, p))
    r, c = _vech_index(p)
    out[r, c] = v
    out[c, r] = v
    return out


def h1_information(s: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Unit normal-theory information of (m, vech S) at S: blockdiag(S^-1, 1/2 D'(S^-1 (x) S^-1) D)."""
    p = s.shape[0]
    inv = np.linalg.inv(s)
    r, c = _vech_index(p)
    a = _dup_info(inv, r, c)
    if not meanstructure:
        return a
    out = np.zeros((p + len(r), p + len(r)))
    out[:p, :p] = inv
    out[p:, p:] = a
    return out


def _dup_info(inv: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """1/2 D'(W (x) W) D with D the duplication matrix (explicit, exact)."""
    p = inv.shape[0]
    k = len(r)
    dup = np.zeros((p * p, k))
    for j, (a, b) in enumerate(zip(r, c, strict=True)):
        dup[a * p + b, j] = 1.0
        dup[b * p + a, j] = 1.0
    return 0.5 * dup.T @ np.kron(inv, inv) @ dup


def raw(s, sigma, mean=None, mu=None) -> tuple[np.ndarray, np.ndarray | None]:
    """S - Sigma and m - mu."""
    return s - sigma, None if mean is None or mu is None else mean - mu


def cor_bollen(s, sigma, mean=None, mu=None) -> tuple[np.ndarray, np.ndarray | None]:
    """cor(S) - cor(Sigma) and (m - mu)/sd(S) (lavaan rescales the mean residuals by the sample SDs)."""
    ds, dm = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
    cov = s / np.outer(ds, ds) - sigma / np.outer(dm, dm)
    return cov, None if mean is None or mu is None else (mean - mu) / ds


def cor_bentler(s, sigma, mean=None, mu=None) -> tuple[np.ndarray, np.ndarray | None]:
    """(S - Sigma) / sqrt(s_ii s_jj) and (m - mu)/sd(S)."""
    ds = np.sqrt(np.diag(s))
    return (s - sigma) / np.outer(ds, ds), None if mean is None or mu is None else (mean - mu) / ds


def normalized(s, sigma, n, mean=None, mu=None, x_index=(),
               acov_obs=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw residuals over their sampling SD under the saturated model: normal theory (fixed.x: the
    acov of :func:`gamma_nt`; the covariates' own moments, fitted exactly, are 0), or ``acov_obs`` when
    given (robust SEs: lavaan's ``lav_model_h1_acov``, I1^-1 J1 I1^-1 / N = Gamma_ADF / N)."""
    p = s.shape[0]
    means = mean is not None and mu is not None
    res_c, res_m = raw(s, sigma, mean, mu)
    r, c = _vech_index(p)
    vec = np.concatenate([res_m, res_c[r, c]]) if means else res_c[r, c]
    var = np.diag(gamma_nt(s, means, x_index) / n if acov_obs is None else acov_obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, vec / np.sqrt(np.abs(var)), 0.0)
    if means:
        return _unvech(z[p:], p), z[:p]
    return _unvech(z, p), None


def expected_h1_weight(sigma: np.ndarray, meanstructure: bool, x_index=()) -> np.ndarray:
    """:func:`h1_information` at Sigma with the fixed.x covariates' own moments carrying no weight."""
    a1 = h1_information(sigma, meanstructure)
    if len(x_index):
        p = sigma.shape[0]
        r, c = _vech_index(p)
        pure_x = np.isin(r, x_index) & np.isin(c, x_index)
        drop = np.concatenate([np.isin(np.arange(p), x_index), pure_x]) if meanstructure else pure_x
        a1[drop, :] = 0.0
        a1[:, drop] = 0.0
    return a1


def residual_acov(s, sigma, n, delta, vcov, meanstructure: bool, x_index=(), acov_obs=None,
                  a1=None) -> np.ndarray:
    """ACOV of the raw residual vector (m, vech(S - Sigma)) (lavaan ``z.type="standardized"``).

    Q (Gamma_NT(S) / n) Q', Q = I - n Delta vcov Delta' A1, A1 the unit h1 information at Sigma
    (lavaan's structured h1 information; fixed.x covariates' own moments carry no weight).
    ``delta``: Jacobian of (mu, vech Sigma) (rows in that order) w.r.t. the free parameters; ``vcov`` the
    information-based one (lavaan's A0^-1 / N, also under robust SEs); ``acov_obs`` the h1 ACOV of the
    sample moments when not normal theory (robust SEs: Gamma_ADF / N, lavaan ``lav_model_h1_acov``);
    ``a1`` the unit h1 information when not the expected one (information = "observed": lavaan's
    structured observed h1 information, fixed.x rows already zero)."""
    if a1 is None:
        a1 = expected_h1_weight(sigma, meanstructure, x_index)
    if acov_obs is None:
        acov_obs = gamma_nt(s, meanstructure, x_index) / n
    q = np.eye(a1.shape[0]) - delta @ (n * vcov) @ delta.T @ a1
    return q @ acov_obs @ q.T


def standardized(
    s, sigma, n, delta, vcov, mean=None, mu=None, x_index=(), acov_obs=None, a1=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw residuals over the SD of their ACOV (see :func:`residual_acov`); a residual whose variance
    is negligible against its moment's sampling variance is structurally zero and reported as 0."""
    p = s.shape[0]
    means = mean is not None and mu is not None
    res_c, res_m = raw(s, sigma, mean, mu)
    r, c = _vech_index(p)
    vec = np.concatenate([res_m, res_c[r, c]]) if means else res_c[r, c]
    var = np.diag(residual_acov(s, sigma, n, delta, vcov, means, x_index, acov_obs, a1))
    scale = np.diag(gamma_nt(s, means)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, vec / np.sqrt(var), np.nan)
    z = np.where(np.abs(var) < 1e-6 * scale, 0.0, z)
    if means:
        return _unvech(z[p:], p), z[:p]
    return _unvech(z, p), None


@dataclass
class RMSSummary:
    """lavResiduals()' summary of one kind (srmr by default): value, SE, exact-fit z test, unbiased RMS."""

    rms: float
    se: float
    z: float
    pvalue: float
    unbiased: float
    unbiased_se: float
    ci_lower: float
    ci_upper: float
    closefit_z: float
    closefit_pvalue: float

    def to_dict(self, prefix: str = "srmr") -> dict[str, float]:
        u = "u" + prefix
        return {prefix: self.rms, f"{prefix}.se": self.se, f"{prefix}.exactfit.z": self.z,
                f"{prefix}.exactfit.pvalue": self.pvalue, u: self.unbiased, f"{u}.se": self.unbiased_se,
                f"{u}.ci.lower": self.ci_lower, f"{u}.ci.upper": self.ci_upper,
                f"{u}.closefit.h0.value": 0.05, f"{u}.closefit.z": self.closefit_z,
                f"{u}.closefit.pvalue": self.closefit_pvalue}


def rms_summary(stats: np.ndarray, acov: np.ndarray, pstar: float, level: float = 0.90,
                h0: float = 0.05) -> RMSSummary:
    """RMS of residuals with SE, exact-fit z, unbiased RMS, its SE / CI / close-fit z
    (lavaan's ``lav_residuals_summary_rms``; Maydeu-Olivares 2017, Psychometrika 82)."""
    rms = float(np.sqrt(stats @ stats / pstar))
    tr1, tr2 = np.float64(np.trace(acov)), np.float64(np.trace(acov @ acov))
    with np.errstate(divide="ignore", invalid="ignore"):
        avar = tr2 / (tr1 * 2 * pstar)
        e_rms = np.sqrt(tr1 / pstar) * (4 * tr1 * tr1 - tr2) / (4 * tr1 * tr1)
    se = float(np.sqrt(avar)) if np.isfinite(avar) and avar > np.finfo(float).eps else float("nan")
    z = max(rms - e_rms, 0.0) / se
    t_cov = np.float64(stats @ stats)  # numpy floats: all-zero residuals give lavaan's -0 / NA, no error
    eve = np.float64(stats @ acov @ stats)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 1 - (tr2 + 2 * eve) / (4 * t_cov * t_cov)
        # 0 when T <= tr(ACOV) whatever k (lavaan's 0 / -0; a 0/0 k of exactly zero residuals no NaN)
        urms = float(1 / k * np.sqrt((t_cov - tr1) / pstar)) if t_cov > tr1 else 0.0
        uavar = 1 / (k * k) * (tr2 + 2 * eve) / (2 * pstar * t_cov)
    use = float(np.sqrt(uavar)) if np.isfinite(uavar) and uavar > np.finfo(float).eps else float("nan")
    fac = sps.norm.ppf([(1 - level) / 2, 1 - (1 - level) / 2])
    uz = (urms - h0) / use
    return RMSSummary(rms, se, float(z), float(sps.norm.sf(z)), urms, use, float(urms + use * fac[0]),
                      float(urms + use * fac[1]), float(uz), float(sps.norm.sf(uz)))


def bentler_summary(s, sigma, n, delta, vcov, mean=None, mu=None, x_index=(),
                    acov_obs=None, a1=None) -> dict[str, RMSSummary]:
    """lavResiduals()' summary (type cor.bentler): ``cov`` (vech incl. diagonal), and with a mean
    structure ``mean`` and ``total``. The ACOV is the raw one scaled by 1/sd(S) (lavaan)."""
    p = s.shape[0]
    means = mean is not None and mu is not None
    res_c, res_m = cor_bentler(s, sigma, mean, mu)
    r, c = _vech_index(p)
    sd = 1 / np.sqrt(np.diag(s))
    g_cov = (sd[r] * sd[c])
    acov = residual_acov(s, sigma, n, delta, vcov, means, x_index, acov_obs, a1)
    scale = np.concatenate([sd, g_cov]) if means else g_cov
    acov = acov * np.outer(scale, scale)
    out = {}
    k = p if means else 0
    out["cov"] = rms_summary(res_c[r, c], acov[k:, k:], len(r))
    if means:
        out["mean"] = rms_summary(res_m, acov[:p, :p], p) if np.any(np.abs(res_m) > 1e-12) else None
        out["total"] = rms_summary(np.concatenate([res_m, res_c[r, c]]), acov, len(r) + p)
    return out


# ---------------------------------------------------------------------------- adapter (current results)
def result_residuals(result, type: str = "raw") -> list[Residuals]:
    """``residuals(fit, type)`` of a current single- or multi-group result: one :class:`Residuals` per group.

    Only this function and :func:`_result_parts` read the result's internals (re-point after the
    engine rewrite)."""
    kind = str(type).lower()
    if kind not in TYPES:
        raise SurveyInputError(f"residual type {type!r} is not available (available: {', '.join(TYPES)})",
                               field="type")
    if getattr(result, "conditional_x", False):  # y given x (survey.sem.conditional_x)
        from survey.sem.conditional_x import conditional_residuals

        if getattr(result, "least_squares", False):  # S of divisor N - 1 there: not checked
            from survey.sem.conditional_x import refuse_conditional

            refuse_conditional(result, "residuals()")

        return [Residuals(**r) for r in conditional_residuals(_result_parts(result, need_delta=False), kind)]
    out = []
    for part in _result_parts(result, need_delta=kind == "standardized"):
        s, sigma, n, mean, mu = part["s"], part["sigma"], part["n"], part["mean"], part["mu"]
        names = part["names"]
        if kind == "raw":
            cov, m = raw(s, sigma, mean, mu)
        elif kind in ("cor", "cor.bollen"):
            cov, m = cor_bollen(s, sigma, mean, mu)
        elif kind == "cor.bentler":
            cov, m = cor_bentler(s, sigma, mean, mu)
        elif kind == "normalized":
            cov, m = normalized(s, sigma, n, mean, mu, part["x_index"], part["acov_obs"])
        else:
            cov, m = standardized(s, sigma, n, part["delta"], part["vcov"], mean, mu, part["x_index"],
                                  part["acov_obs"], part.get("a1"))
        out.append(Residuals(pd.DataFrame(cov, index=names, columns=names),
                             None if m is None else pd.Series(m, index=names)))
    return out


def result_residual_summary(result) -> list[dict[str, RMSSummary]]:
    """``lavResiduals(fit)$summary`` (srmr with SE and the unbiased SRMR) per group."""
    if getattr(result, "conditional_x", False):
        raise SurveyInputError("the residual summary with standard errors is not available with "
                               "conditional.x=TRUE (lavaan 0.6.14: not ready yet)", field="conditional_x")
    return [bentler_summary(p["s"], p["sigma"], p["n"], p["delta"], p["vcov"], p["mean"], p["mu"],
                            p["x_index"], p["acov_obs"], p.get("a1"))
            for p in _result_parts(result, need_delta=True)]


def _result_parts(result, need_delta: bool) -> list[dict]:
    """Per group: S, Sigma, m, mu, n, variable names and (optionally) Delta and the vcov."""
    if hasattr(result, "mg"):
        models = [(ram, result.mg.local(result.theta_full, i), result.mg.index[i])
                  for i, ram in enumerate(result.mg.models)]
        vcov_full = result._vcov
        groups = result.stats.groups
    else:
        models = [(result.ram, result.theta, None)]
        vcov_full = result._vcov_free
        groups = [result.group_stats]
    se = (getattr(result, "se_options", None) or ("standard",))[0]
    robust = se in ("robust.huber.white", "robust.sem")
    observed = (getattr(result, "se_options", None) or ("", "expected"))[1] == "observed"
    own_a0 = need_delta and (robust or observed)  # lavaan's A0 = sum_g f_g Delta_g' A1_g Delta_g
    out = []
    for (ram, theta, index), g in zip(models, groups, strict=True):
        imp = ram.implied(theta)
        means = ram.meanstructure
        fixed_x = len(getattr(g, "x_index", ())) > 0  # fixed.x = FALSE: the covariates are modelled
        part = dict(s=g.cov, sigma=imp.sigma, n=int(g.n), mean=g.mean if means else None,
                    mu=imp.mean if means else None, names=list(ram.ov),
                    x_index=tuple(ram.ov.index(v) for v in ram.names.ov_x) if fixed_x else (),
                    acov_obs=_robust_acov_obs(g, means) if robust else None)
        if need_delta:
            p = ram.p
            r, c = _vech_index(p)
            d_cov = ram.delta(theta, imp)[:, r, c].T
            delta = np.vstack([ram.delta_mean(theta, imp).T, d_cov]) if means else d_cov
            if index is not None:  # group i's local parameters -> free parameters: theta_local = K_i theta
                delta = delta @ result.mg.k[index, :]
            part["delta"] = delta
            # lavaan: gw * Delta A0^-1 Delta' with A0^-1 = N vcov, i.e. n_g Delta vcov Delta'
            part["vcov"] = vcov_full
            if own_a0:
                part["a1"] = _h1_weight(g, imp, means, observed, part["x_index"])
        out.append(part)
    if own_a0:
        vcov_info = _information_vcov(result, out)
        for part in out:
            part["vcov"] = vcov_info
    return out


def _robust_acov_obs(block, meanstructure: bool) -> np.ndarray | None:
    """lavaan's ``lav_model_h1_acov`` under robust SEs (``robust.huber.white`` / ``robust.sem``):
    I1^-1 J1 I1^-1 / N with I1 the h1 information and J1 its first-order (cross-product) form at the
    saturated estimates, i.e. the ADF Gamma of the sample moments (Browne 1984; fixed.x: its conditional
    form) over N. Complete unweighted blocks only: others keep the normal-theory ACOV."""
    if getattr(block, "kind", "") != "complete" or getattr(block, "weights", None) is not None:
        return None
    from survey.sem.model.moments import block_gamma

    return block_gamma(block, meanstructure) / block.n


def _h1_weight(block, imp, meanstructure: bool, observed: bool, x_index: tuple) -> np.ndarray:
    """lavaan's A1 (``lav_model_h1_information``, h1.information "structured"): the unit expected h1
    information at the implied moments, or with information = "observed" the observed one given the
    sample moments (:func:`survey.sem.inference.observed_sem.observed_h1_weight`); fixed.x rows zero."""
    if observed:
        from survey.sem.inference.observed_sem import observed_h1_weight

        return observed_h1_weight(block, imp.sigma, imp.mean if meanstructure else None, meanstructure)
    return expected_h1_weight(imp.sigma, meanstructure, x_index)


def _information_vcov(result, parts: list[dict]) -> np.ndarray:
    """lavaan's A0^-1 / N of the standardized residuals (``lav_model_information`` with
    observed.information "h1", augmented = TRUE): A0 = sum_g (n_g / N) Delta_g' A1_g Delta_g, inverted
    (generalised inverse), the information and not the sandwich of robust SEs; under explicit constraints
    the top-left block of the augmented inverse with the equality and active inequality rows
    (``lav_model_information_augment_invert``, :func:`survey.sem.inference.vcov.augmented_inverse`)."""
    ntotal = sum(p["n"] for p in parts)
    a0 = sum(p["n"] / ntotal * p["delta"].T @ p["a1"] @ p["delta"] for p in parts)
    if "op" in result.partable and result.partable["op"].isin(["==", "<", ">"]).any():
        from survey.sem.inference.vcov import augmented_inverse

        jacobian = getattr(getattr(result, "pieces", None), "constraint_jacobian", None)
        if jacobian is None:
            raise SurveyInputError("standardized residuals (and lavResiduals()' summary) with robust "
                                   "standard errors or the observed information under constraints are not "
                                   "available yet for this fit (available: types raw, cor, cor.bentler, "
                                   "normalized)", field="type")
        return augmented_inverse(a0, jacobian[0]) / ntotal
    return np.linalg.pinv(a0) / ntotal
