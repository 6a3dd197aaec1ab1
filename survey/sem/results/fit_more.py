"""The ``fitMeasures()`` entries beyond the core set, as pure functions of moments and test statistics.

Definitions are lavaan 0.6's (``lav_fit_measures.R``, ``lav_fit_srmr.R``, ``lav_residuals.R``):

* residual RMS family, per group then weighted by n_g / N (``lav_fit_srmr_lavobject``):
  ``rmr`` = sqrt(mean vech(S - Sigma)^2) (Joreskog & Sorbom 1981), ``srmr_bentler`` with residuals
  (s_ij - sigma_ij) / sqrt(s_ii s_jj) (Bentler 1995), ``crmr`` with correlation residuals
  r_ij - rho_ij off the diagonal (Bollen 1989, p. 258), ``srmr_mplus`` with correlation residuals off the
  diagonal plus (s_ii - sigma_ii) / s_ii (Muthen's Mplus definition); with a mean structure the plain
  names add the mean residuals ((m - mu) raw, (m - mu)/sqrt(s_ii) for Bentler and Bollen (lavaan's
  rescaling of the mean residuals by the sample SDs), m/sqrt(s_ii) - mu/sqrt(sigma_ii) for Mplus) and
  ``_nomean`` leaves them out;
* ``gfi`` = 1 - e'We / s'Ws per group (W the ML weight at Sigma, with missing data the expected
  information of the missing-data patterns at Sigma (:func:`gfi_missing_group`); weighted by n_g / N),
  ``agfi`` = 1 - nel/df (1 - gfi), ``pgfi`` = df/nel gfi (James, Mulaik & Brett 1982), nel = moments of
  all groups;
* ``mfi`` = exp(-(T - df) / 2N) (McDonald 1989), ``ecvi`` = T/N + 2 npar/N (Browne & Cudeck 1993),
  ``cn_a`` = chi2_{1-a, df} / (T/N) + 1 (Hoelter 1983);
* ``rmsea.notclose.pvalue`` = P(chi2_df(ncp) < T), ncp = N df eps0^2 / (G c), eps0 = 0.08
  (MacCallum, Browne & Sugawara 1996), with the scaled / robust statistics as lavaan;
* incremental indices (``tli/nnfi rfi nfi pnfi ifi rni``) of any (model, baseline) pair of statistics, with
  lavaan's conventions at the edges (``lav_fit_nnfi`` ...: e.g. TLI = NFI = RFI = 1 for a saturated model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from survey import distributions as sps
from survey.sem.fitmeasures import gfi as gfi_group

CLOSE_H0 = 0.05
NOTCLOSE_H0 = 0.08
RESIDUAL_MEASURES = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean",
                     "srmr_mplus", "srmr_mplus_nomean")


@dataclass
class GroupMoments:
    """Sample and model-implied moments of one group (covariances with divisor N, as lavaan)."""

    s: np.ndarray
    sigma: np.ndarray
    n: int
    mean: np.ndarray | None = None
    mu: np.ndarray | None = None
    x_index: tuple[int, ...] = ()  # fixed.x covariates (no weight in the GFI)
    patterns: tuple[tuple[np.ndarray, float], ...] = ()  # FIML: (observed indices, weighted frequency)
    gfi_obs: tuple[np.ndarray, np.ndarray] | None = None  # FIML: lavaan's WLS.obs (cov, mean) for the GFI
    weight_at_s: bool = False  # two-stage: the GFI weight at S (lavaan's h1.information "unstructured")
    joint: tuple | None = None  # conditional.x: (S, Sigma, mean, mu, x_index) of (y, x) (sem.conditional_x)


def _vech(m: np.ndarray, diagonal: bool = True) -> np.ndarray:
    rows, cols = np.tril_indices(m.shape[0], 0 if diagonal else -1)
    return m[cols, rows]


def _cor(m: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diag(m))
    return m * np.outer(d, d)


def residual_rms_group(g: GroupMoments) -> dict[str, float]:
    """rmr / srmr_bentler / crmr / srmr_mplus (and ``_nomean``) of one group."""
    p = g.s.shape[0]
    sd_s, sd_sigma = np.sqrt(np.diag(g.s)), np.sqrt(np.diag(g.sigma))
    raw = g.s - g.sigma
    bentler = raw / np.outer(sd_s, sd_s)
    bollen = _cor(g.s) - _cor(g.sigma)
    means = g.mean is not None and g.mu is not None
    # conditional.x: lavaan's crmr divides by the residuals' count minus all observed variables (x too)
    nx = len(g.joint[4]) if g.joint is not None else 0
    out: dict[str, float] = {}
    for name, cov_part, mean_part, pstar_cov in (
        ("rmr", _vech(raw), (g.mean - g.mu) if means else None, p * (p + 1) / 2),
        ("srmr_bentler", _vech(bentler), (g.mean - g.mu) / sd_s if means else None, p * (p + 1) / 2),
        ("crmr", _vech(bollen, False), (g.mean - g.mu) / sd_s if means else None, p * (p - 1) / 2 - nx),
    ):
        nomean = float(np.sqrt(np.sum(cov_part**2) / pstar_cov))
        out[f"{name}_nomean"] = nomean
        if mean_part is not None:
            out[name] = float(np.sqrt((np.sum(cov_part**2) + np.sum(mean_part**2)) / (pstar_cov + p)))
        else:
            out[name] = nomean
    var_part = ((np.diag(g.s) - np.diag(g.sigma)) / np.diag(g.s)) ** 2
    ss = np.sum(_vech(bollen, False) ** 2) + np.sum(var_part)
    out["srmr_mplus_nomean"] = float(np.sqrt(ss / (p * (p + 1) / 2)))
    if means:
        ss_mean = np.sum((g.mean / sd_s - g.mu / sd_sigma) ** 2)
        out["srmr_mplus"] = float(np.sqrt((ss + ss_mean) / (p * (p + 1) / 2 + p)))
    else:
        out["srmr_mplus"] = out["srmr_mplus_nomean"]
    return out


def residual_rms(groups: list[GroupMoments]) -> dict[str, float]:
    """The residual RMS family over groups, weighted by n_g / N (lavaan)."""
    ntotal = sum(g.n for g in groups)
    per = [residual_rms_group(g) for g in groups]
    return {k: float(sum(g.n / ntotal * r[k] for g, r in zip(groups, per, strict=True)))
            for k in RESIDUAL_MEASURES}


def n_elements(groups: list[GroupMoments]) -> int:
    """Number of sample statistics of all groups (lavaan's ``nel`` of the GFI family)."""
    total = 0
    for g in groups:
        if g.joint is not None:  # conditional.x: lavaan's WLS.obs of y given x (res.int, res.slopes, res.cov)
            total += _conditional_gfi(g)[1]
            continue
        p = g.s.shape[0]
        total += p * (p + 1) // 2 + (p if g.mean is not None and g.mu is not None else 0)
    return total


def gfi_missing_group(g: GroupMoments) -> float:
    """GFI of one group with missing data: lavaan 0.6.14's weight is the expected h1 information under the
    missing-data patterns at the implied moments (``lav_model_h1_information_expected`` ->
    ``lav_mvnorm_missing_information_expected``): W = sum_p f_p bdiag(A_p, 1/2 D'(A_p (x) A_p) D) / N,
    A_p = Sigma_oo^-1 of pattern p zero-padded, f_p its (weighted) frequency; s = lavaan's ``WLS.obs``
    (``g.gfi_obs``, else the EM moments). With e = s - sigma the quadratic forms are
    sum_p f_p (d' A_p d + 1/2 tr(A_p E A_p E)) (N cancels)."""
    p = g.sigma.shape[0]
    keep = np.ones(p, dtype=bool)
    keep[list(g.x_index)] = False
    cov, mean = g.gfi_obs if g.gfi_obs is not None else (g.s, g.mean)
    e, s_m = cov - g.sigma, cov.copy()
    if g.x_index:
        ix = np.ix_(list(g.x_index), list(g.x_index))
        e[ix] = 0.0
        s_m[ix] = 0.0
    means = mean is not None and g.mu is not None
    d = np.where(keep, mean - g.mu, 0.0) if means else np.zeros(p)
    ybar = np.where(keep, mean, 0.0) if means else np.zeros(p)
    t1 = t2 = 0.0
    for obs, freq in g.patterns:
        a = np.zeros((p, p))
        a[np.ix_(obs, obs)] = np.linalg.inv(g.sigma[np.ix_(obs, obs)])
        ae, as_ = a @ e, a @ s_m
        t1 += freq * (d @ a @ d + 0.5 * np.trace(ae @ ae))
        t2 += freq * (ybar @ a @ ybar + 0.5 * np.trace(as_ @ as_))
    return float(1.0 - t1 / t2)


def _conditional_gfi(g: GroupMoments) -> tuple[float, int]:
    from survey.sem.conditional_x import conditional_gfi

    return conditional_gfi(*g.joint)


def gfi_family(groups: list[GroupMoments], df: float) -> dict[str, float]:
    """gfi (n-weighted over groups), agfi and pgfi."""
    ntotal = sum(g.n for g in groups)
    g_values = [_conditional_gfi(g)[0] if g.joint is not None else gfi_missing_group(g) if g.patterns
                else gfi_group(g.s, g.sigma, list(g.x_index), g.mean, g.mu,
                               weight=g.s if g.weight_at_s else None)
                for g in groups]
    gfi = float(sum(g.n / ntotal * v for g, v in zip(groups, g_values, strict=True)))
    nel = n_elements(groups)
    return {
        "gfi": gfi,
        "agfi": float(1.0 - nel / df * (1.0 - gfi)) if df > 0 else 1.0,  # lavaan: 1 when df = 0
        "pgfi": float("nan") if nel == 0 else float(df / nel * gfi),
    }


def information_indices(chisq: float, df: float, ntotal: int, npar: int) -> dict[str, float]:
    """mfi, ecvi, cn_05, cn_01 (from the standard test statistic, as lavaan)."""

    def cn(alpha: float) -> float:
        # lavaan 0.6.14 lav_fit_cn: NA when df = 0 and X2 < eps, else qchisq(1 - alpha, df) / (X2 / N) + 1,
        # so CN = 1 for df = 0 (qchisq(., 0) = 0) and Inf for X2 = 0 with df > 0 (R's x / 0)
        x2 = float(chisq)
        if math.isnan(x2) or (df == 0 and x2 < np.finfo(float).eps):
            return float("nan")
        crit = float(sps.chi2.ppf(1 - alpha, df)) if df > 0 else 0.0
        if x2 == 0.0:
            return float("inf")
        return crit / (x2 / ntotal) + 1

    return {
        "mfi": float(np.exp(-0.5 * (chisq - df) / ntotal)),
        "ecvi": float(chisq / ntotal + 2 * npar / ntotal),
        "cn_05": cn(0.05),
        "cn_01": cn(0.01),
    }


def rmsea_notclose_pvalue(chisq: float, df: float, ntotal: int, ngroups: int = 1, c_hat: float = 1.0,
                          h0: float = NOTCLOSE_H0) -> float:
    """P(chi2_df(ncp) <= T) with ncp = N df h0^2 / (G c): small = the fit is not poor."""
    if not (np.isfinite(chisq) and np.isfinite(df)) or df <= 0:
        return float("nan")
    ncp = ntotal * df * h0**2 / (ngroups * c_hat)
    return float(sps.ncx2.cdf(chisq, df, ncp))


def _nan(*values: float) -> bool:
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def tli(t: float, df: float, tb: float, dfb: float) -> float:
    """Tucker-Lewis / NNFI with lavaan's conventions (1 when df = 0; ``lav_fit_nnfi``)."""
    if _nan(t, df, tb, dfb):
        return float("nan")
    t1, t2 = (t - df) * dfb, (tb - dfb) * df
    if df > 0 and abs(t2) > 0:
        return float(1 - t1 / t2)
    return float("nan") if not (math.isfinite(t1) and math.isfinite(t2)) else 1.0


def rfi(t: float, df: float, tb: float, dfb: float) -> float:
    """Bollen's relative fit index (``lav_fit_rfi``: 1 when df = 0 or the ratio is negative)."""
    if _nan(t, df, tb, dfb) or df > dfb:
        return float("nan")
    if df > 0 and dfb > 0:
        t1, t2 = tb / dfb - t / df, tb / dfb
        return 1.0 if (t1 < 0 or t2 < 0) else float(t1 / t2)
    return 1.0


def nfi(t: float, df: float, tb: float, dfb: float) -> float:
    """Bentler-Bonett normed fit index (``lav_fit_nfi``: 1 when df = 0)."""
    if _nan(t, df, tb, dfb) or df > dfb or math.isclose(tb, 0.0, abs_tol=1e-8):
        return float("nan")
    return float((tb - t) / tb) if df > 0 else 1.0


def pnfi(t: float, df: float, tb: float, dfb: float) -> float:
    """Parsimony NFI, df/df_b (T_b - T)/T_b (``lav_fit_pnfi``)."""
    if _nan(t, df, tb, dfb) or not (dfb > 0 and tb > 0):
        return float("nan")
    return float(df / dfb * (tb - t) / tb)


def ifi(t: float, df: float, tb: float) -> float:
    """Bollen's incremental fit index (``lav_fit_ifi``: 1 when T_b < df)."""
    t1, t2 = tb - t, tb - df
    if _nan(t, df, tb) or not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    if t2 < 0:
        return 1.0
    return float("nan") if math.isclose(t2, 0.0, abs_tol=1e-8) else float(t1 / t2)


def rni(t: float, df: float, tb: float, dfb: float) -> float:
    """McDonald-Marsh relative noncentrality index (``lav_fit_rni``)."""
    t1, t2 = t - df, tb - dfb
    if _nan(t, df, tb, dfb) or math.isclose(t2, 0.0, abs_tol=1e-8):
        return float("nan")
    return float(1 - t1 / t2)


def incremental(chisq: float, df: float, bchisq: float, bdf: float, suffix: str = "") -> dict[str, float]:
    """nnfi, rfi, nfi, pnfi, ifi, rni of a (model, baseline) pair of statistics."""
    return {
        f"tli{suffix}": tli(chisq, df, bchisq, bdf),
        f"nnfi{suffix}": tli(chisq, df, bchisq, bdf),
        f"rfi{suffix}": rfi(chisq, df, bchisq, bdf),
        f"nfi{suffix}": nfi(chisq, df, bchisq, bdf),
        f"pnfi{suffix}": pnfi(chisq, df, bchisq, bdf),
        f"ifi{suffix}": ifi(chisq, df, bchisq),
        f"rni{suffix}": rni(chisq, df, bchisq, bdf),
    }


def more_fit_measures(
    groups: list[GroupMoments],
    *,
    chisq: float,
    df: float,
    baseline_chisq: float,
    baseline_df: float,
    npar: int,
    scaled: dict[str, float] | None = None,
) -> dict[str, float]:
    """Every measure of this module. ``scaled`` (optional) carries lavaan's ``chisq.scaled``,
    ``df.scaled``, ``baseline.chisq.scaled``, ``chisq.scaling.factor`` and, for the robust RMSEA,
    ``c_hat`` (the scaling factor) of an MLR/MLM fit."""
    ntotal = sum(g.n for g in groups)
    out = {
        **incremental(chisq, df, baseline_chisq, baseline_df),
        **residual_rms(groups),
        **gfi_family(groups, df),
        **information_indices(chisq, df, ntotal, npar),
        "rmsea.ci.level": 0.90,
        "rmsea.close.h0": CLOSE_H0,
        "rmsea.notclose.h0": NOTCLOSE_H0,
        "rmsea.notclose.pvalue": rmsea_notclose_pvalue(chisq, df, ntotal, len(groups)),
    }
    if scaled:
        ts, bts = scaled["chisq.scaled"], scaled["baseline.chisq.scaled"]
        dfs, bdfs = scaled.get("df.scaled", df), scaled.get("baseline.df.scaled", baseline_df)
        method = scaled.get("method", "")
        out.update(incremental(ts, dfs, bts, bdfs, ".scaled"))  # lavaan: scaled statistics on their df
        # lavaan: scaled RMSEA from T with df = tr(UGamma) (from T_ss on df with scaled.shifted); robust
        # from T_scaled with c = scaling factor (none for mean.var.adjusted)
        trace = chisq / ts * dfs if ts else float("nan")
        out["rmsea.notclose.pvalue.scaled"] = (rmsea_notclose_pvalue(ts, df, ntotal, len(groups))
                                               if method == "scaled.shifted"
                                               else rmsea_notclose_pvalue(chisq, trace, ntotal, len(groups)))
        if method != "mean.var.adjusted":
            out["rmsea.notclose.pvalue.robust"] = rmsea_notclose_pvalue(
                ts, df, ntotal, len(groups), c_hat=scaled["chisq.scaling.factor"])
    return out
