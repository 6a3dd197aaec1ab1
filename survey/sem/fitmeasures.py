"""Fit measures with lavaan's names and definitions (``fitMeasures()``, lavaan 0.6).

Baseline: the independence model (all observed variables uncorrelated; under fixed.x the covariate
block is kept at its sample values), chi2_b = N F_ML(Sigma_b), df_b = p* - (p - n_x) [- (p - n_x)].

    cfi  = 1 - max(T - df, 0) / max(T_b - df_b, T - df, 0)                   (Bentler 1990)
    tli  = nnfi = (T_b/df_b - T/df) / (T_b/df_b - 1)                         (Tucker & Lewis 1973)
    rfi  = (T_b/df_b - T/df) / (T_b/df_b)                                    (Bollen 1986)
    nfi  = (T_b - T) / T_b ;  pnfi = df/df_b * nfi                           (Bentler & Bonett 1980)
    ifi  = (T_b - T) / (T_b - df)                                            (Bollen 1989)
    rni  = 1 - (T - df) / (T_b - df_b)                                       (McDonald & Marsh 1990)
    logl = -N/2 [p log(2 pi) + log|Sigma| + tr(S Sigma^-1) (+ mean part)];  unrestricted: Sigma = S
           (under fixed.x minus the covariates' own log-likelihood, i.e. conditional on them, as lavaan)
    aic  = -2 logl + 2 npar ;  bic = -2 logl + npar log N ;  bic2 = -2 logl + npar log((N + 2)/24)
    rmsea = sqrt(max(T/(N df) - 1/N, 0)) with a 90% CI from the noncentral chi2 (Steiger 1990) and
            rmsea.pvalue = P(chi2_df(ncp = N df 0.05^2) > T)   (Browne & Cudeck 1993)
    srmr = sqrt(mean over vech of ((s_ij - sigma_ij) / sqrt(s_ii s_jj))^2)     (Bentler 1995; lavaan "srmr")
    gfi  = 1 - e' V e / s' V s with e = vech(S - Sigma), s = vech(S), V = 1/2 D'(Sigma^-1 (x) Sigma^-1)D
           (x-block rows of V zero under fixed.x);  agfi = 1 - p*/df (1 - gfi)    (Joreskog & Sorbom 1986)
"""

from __future__ import annotations

import numpy as np

from survey import distributions as sps
from survey.sem.data import GroupStats
from survey.sem.roots import bracket_root

MEASURES = (
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "baseline.chisq",
    "baseline.df",
    "baseline.pvalue",
    "cfi",
    "tli",
    "nnfi",
    "rfi",
    "nfi",
    "pnfi",
    "ifi",
    "rni",
    "logl",
    "unrestricted.logl",
    "aic",
    "bic",
    "ntotal",
    "bic2",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "rmsea.pvalue",
    "srmr",
    "gfi",
    "agfi",
)


def tests_and_incremental(
    t: float, df: float, pvalue: float, tb: float, dfb: float, pb: float
) -> dict[str, float]:
    """The user and baseline tests and the incremental indices built on them (one or several groups)."""
    return {
        "chisq": t,
        "df": float(df),
        "pvalue": pvalue,
        "baseline.chisq": tb,
        "baseline.df": float(dfb),
        "baseline.pvalue": pb,
        "cfi": cfi(t, df, tb, dfb),
        "tli": tli(t, df, tb, dfb),
        "nnfi": tli(t, df, tb, dfb),
        "rfi": rfi(t, df, tb, dfb),
        "nfi": nfi(t, tb),
        "ifi": ifi(t, df, tb),
        "rni": rni(t, df, tb, dfb),
    }


def baseline_fml(stats: GroupStats, x_index: list[int]) -> float:
    """F_ML of the independence model (x-block at sample values under fixed.x)."""
    s = stats.cov
    sigma = np.diag(np.diag(s))
    if x_index:
        ix = np.ix_(x_index, x_index)
        sigma[ix] = s[ix]
    p = s.shape[0]
    _, ld_sigma = np.linalg.slogdet(sigma)
    _, ld_s = np.linalg.slogdet(s)
    return float(ld_sigma + np.trace(s @ np.linalg.inv(sigma)) - ld_s - p)


def cfi(t: float, df: float, tb: float, dfb: float) -> float:
    """Comparative fit index (Bentler 1990)."""
    num = max(t - df, 0.0)
    den = max(tb - dfb, t - df, 0.0)
    return 1.0 if den == 0 else 1.0 - num / den


def tli(t: float, df: float, tb: float, dfb: float) -> float:
    """Tucker-Lewis index / non-normed fit index."""
    if df == 0 or dfb == 0:
        return float("nan")
    return (tb / dfb - t / df) / (tb / dfb - 1.0)


def rfi(t: float, df: float, tb: float, dfb: float) -> float:
    """Relative fit index (Bollen 1986), with lavaan 0.6.14's edge rules (lav_fit_rfi): NaN when df > df_b,
    1 when df = 0 (a saturated model) or the index would be negative."""
    if df > dfb:
        return float("nan")
    if df <= 0 or dfb <= 0:
        return 1.0
    t1, t2 = tb / dfb - t / df, tb / dfb
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return float("nan")
    if t1 < 0 or t2 < 0:
        return 1.0
    return float("nan") if t2 == 0 else t1 / t2


def nfi(t: float, tb: float) -> float:
    """Normed fit index (Bentler & Bonett 1980)."""
    return float("nan") if tb == 0 else (tb - t) / tb


def ifi(t: float, df: float, tb: float) -> float:
    """Incremental fit index (Bollen 1989)."""
    return float("nan") if tb - df == 0 else (tb - t) / (tb - df)


def rni(t: float, df: float, tb: float, dfb: float) -> float:
    """Relative noncentrality index (McDonald & Marsh 1990)."""
    return float("nan") if tb - dfb == 0 else 1.0 - (t - df) / (tb - dfb)


def loglik(sigma: np.ndarray, stats: GroupStats, mean: np.ndarray | None = None) -> float:
    """Normal log-likelihood of the sample at (Sigma, mu); mu = sample mean when no mean structure."""
    n, p = stats.n, sigma.shape[0]
    _, ld = np.linalg.slogdet(sigma)
    inv = np.linalg.inv(sigma)
    value = p * np.log(2 * np.pi) + ld + np.trace(stats.cov @ inv)
    if mean is not None:
        d = stats.mean - mean
        value += d @ inv @ d
    return float(-0.5 * n * value)


def rmsea(t: float, df: float, n: int) -> float:
    """Root mean square error of approximation (Steiger & Lind 1980), lavaan's N (not N - 1)."""
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(t / (n * df) - 1.0 / n, 0.0)))


def rmsea_ci(t: float, df: float, n: int, level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the noncentral chi-square in the noncentrality."""
    if not (np.isfinite(t) and df >= 1):
        return 0.0, 0.0
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam: float) -> float:
        return sps.ncx2_cdf_scalar(t, df, lam)

    if cdf(0.0) - upper_p < 0:
        lower = 0.0
    else:
        lam = bracket_root(lambda x: cdf(x) - upper_p, 0.0, t, xtol=1e-12)
        lower = float(np.sqrt(lam / (n * df)))
    n_rmsea = max(n, 4 * t)
    if cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        upper = 0.0
    else:
        lam = bracket_root(lambda x: cdf(x) - lower_p, 0.0, n_rmsea, xtol=1e-12)
        upper = float(np.sqrt(lam / (n * df)))
    return lower, upper


def rmsea_pvalue(t: float, df: float, n: int, close: float = 0.05) -> float:
    """P-value of the test of close fit, H0: RMSEA <= .05 (Browne & Cudeck 1993)."""
    if df <= 0:
        return float("nan")
    return float(sps.ncx2.sf(t, df, n * df * close**2))


def srmr(
    s: np.ndarray, sigma: np.ndarray, mean_s: np.ndarray | None = None, mean_sigma: np.ndarray | None = None
) -> float:
    """Standardized root mean square residual, Bentler's definition (lavaan's ``srmr``)."""
    sd = np.sqrt(np.diag(s))
    r = (s - sigma) / np.outer(sd, sd)
    low = r[np.tril_indices_from(r)]
    values = list(low**2)
    if mean_s is not None and mean_sigma is not None:
        values += list(((mean_s - mean_sigma) / sd) ** 2)
    return float(np.sqrt(np.mean(values)))


def gfi(
    s: np.ndarray,
    sigma: np.ndarray,
    x_index: list[int] | None = None,
    mean_s: np.ndarray | None = None,
    mean_sigma: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> float:
    """Goodness-of-fit index with lavaan's ML weight (expected information at Sigma [and mu]; at
    ``weight`` = S with lavaan's h1.information = "unstructured", e.g. missing = "two.stage").

    GFI = 1 - e' V e / s' V s with s = (ybar', vech(S)')', e = s - (mu', vech(Sigma)')' and
    V = blockdiag(Sigma^-1, 1/2 D'(Sigma^-1 (x) Sigma^-1) D); under fixed.x the covariates' means and
    covariance block carry no weight (lavaan's x.idx elimination).
    """
    inv = np.linalg.inv(sigma if weight is None else weight)
    e = s - sigma
    s_m = s.copy()
    if x_index:
        ix = np.ix_(x_index, x_index)
        e[ix] = 0.0
        s_m[ix] = 0.0
    m = inv @ e
    ms = inv @ s_m
    t1 = 0.5 * np.trace(m @ m)
    t2 = 0.5 * np.trace(ms @ ms)
    if mean_s is not None and mean_sigma is not None:
        d = mean_s - mean_sigma
        ybar = mean_s.copy()
        if x_index:
            d[x_index] = 0.0
            ybar[x_index] = 0.0
        t1 += d @ inv @ d
        t2 += ybar @ inv @ ybar
    return float(1.0 - t1 / t2)


def agfi(gfi_value: float, nel: int, df: float) -> float:
    """Adjusted GFI: 1 - (p*/df)(1 - gfi)."""
    return float("nan") if df <= 0 else float(1.0 - nel / df * (1.0 - gfi_value))


def fit_measures(
    *,
    stats: GroupStats,
    sigma: np.ndarray,
    mean: np.ndarray | None,
    fml: float,
    npar: int,
    df: int,
    x_index: list[int],
    meanstructure: bool,
) -> dict[str, float]:
    """All measures of :data:`MEASURES` for one ML fit (complete data, one group)."""
    n, p = stats.n, sigma.shape[0]
    nx = len(x_index)
    t = float(n * fml)
    pvalue = float(sps.chi2.sf(t, df)) if df > 0 else float("nan")
    tb = float(n * baseline_fml(stats, x_index))
    dfb = p * (p + 1) // 2 - nx * (nx + 1) // 2 - (p - nx)
    pb = float(sps.chi2.sf(tb, dfb)) if dfb > 0 else float("nan")
    logl = loglik(sigma, stats, mean if meanstructure else None)
    logl_h1 = loglik(stats.cov, stats, None)
    if x_index:
        # fixed.x: lavaan reports the likelihood conditional on the covariates
        s_xx = stats.cov[np.ix_(x_index, x_index)]
        logl_x = -0.5 * n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(s_xx)[1] + nx)
        logl, logl_h1 = logl - logl_x, logl_h1 - logl_x
    lo, hi = rmsea_ci(t, df, n)
    g = gfi(
        stats.cov,
        sigma,
        x_index,
        stats.mean if meanstructure else None,
        mean if meanstructure else None,
    )
    nel = p * (p + 1) // 2 + (p if meanstructure else 0)
    out = {
        "npar": float(npar),
        "fmin": fml / 2.0,
        **tests_and_incremental(t, df, pvalue, tb, dfb, pb),
        "pnfi": float("nan") if dfb == 0 else df / dfb * nfi(t, tb),
        "logl": logl,
        "unrestricted.logl": logl_h1,
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * np.log(n),
        "ntotal": float(n),
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": rmsea(t, df, n),
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.pvalue": rmsea_pvalue(t, df, n),
        "srmr": srmr(
            stats.cov, sigma, stats.mean if meanstructure else None, mean if meanstructure else None
        ),
        "gfi": g,
        "agfi": agfi(g, nel, df),
    }
    return {k: float(out[k]) for k in MEASURES}
