"""Fit measures of a fit over group blocks, lavaan's ``fitMeasures()`` names and definitions (lavaan 0.6).

With G blocks, N = sum_g N_g, T the chi-square, T_b the baseline (independence; under fixed.x the covariate
block kept at its sample values) chi-square:

    cfi = 1 - max(T - df, 0) / max(T_b - df_b, T - df, 0)  (Bentler 1990);  tli = nnfi, rfi, nfi, ifi, rni
    logl = sum_g logl_g (fixed.x: minus the covariates' own log-likelihood, i.e. conditional on them)
    aic = -2 logl + 2 q;  bic = -2 logl + q log N;  bic2 = -2 logl + q log((N + 2)/24)
    rmsea = sqrt(max(T/(N df) - 1/N, 0)) sqrt(G), 90% CI from the noncentral chi2 (Steiger 1990, 1998)
    srmr = N_g-weighted mean of the blocks' SRMR (Bentler 1995);  gfi, agfi, pnfi for one block
    .scaled: the same formulas on T/c and T_b/c_b;
             rmsea.scaled = sqrt(max(T/(N tr(U Gamma)) - 1/N, 0)) sqrt(G)
    .robust: Brosseau-Liard, Savalei & Li (2012) RMSEA, Brosseau-Liard & Savalei (2014) CFI/TLI/RNI; with
             missing data their FIML-corrected versions (Savalei 2018; Zhang & Savalei 2023; lavaan
             ``lav_fit_fiml_corrected``: V3 for MLR, V6 for ML)
    tli/nnfi of a saturated model (df = 0) are 1, as lavaan.
"""

from __future__ import annotations

import numpy as np

from survey.sem.fitmeasures import MEASURES, agfi, gfi, nfi, rmsea_ci, srmr, tests_and_incremental
from survey.sem.inference.tests import ScaledTest, pvalue
from survey.sem.measures.robust import (
    cfi_robust,
    rmsea_ci_scaled,
    rmsea_close_pvalue,
    rmsea_value,
    rni_robust,
    tli_robust,
)

MG_MEASURES = tuple(m for m in MEASURES if m not in ("pnfi", "gfi", "agfi"))  # lavaan: not for G > 1


def _tli_saturated(out: dict[str, float], df: float, keys=("tli", "nnfi")) -> None:
    if df == 0:
        for k in keys:
            if k in out:
                out[k] = 1.0


def standard_measures(
    *,
    t: float,
    df: float,
    tb: float,
    dfb: float,
    logl: float,
    logl_h1: float,
    npar: int,
    n: int,
    blocks,
    sigmas,
    means,
    meanstructure: bool,
) -> dict[str, float]:
    """The measures of :data:`MEASURES` (one block) or :data:`MG_MEASURES` (several)."""
    g_n = len(blocks)
    root_g = np.sqrt(g_n)
    lo, hi = rmsea_ci(t, df, n)
    ncp_p = float("nan")
    if df > 0:
        from survey import distributions as sps

        ncp_p = float(sps.ncx2.sf(t, df, n * df * 0.05**2 / g_n))
    w = np.array([b.n for b in blocks], dtype=float) / n
    sr = [
        srmr(*_srmr_moments(b, s, b.mean if meanstructure else None, m if meanstructure else None))
        for b, s, m in zip(blocks, sigmas, means, strict=True)
    ]
    out = {
        "npar": float(npar),
        "fmin": t / (2.0 * n),
        **tests_and_incremental(t, df, pvalue(t, df), tb, dfb, pvalue(tb, dfb)),
        "pnfi": float("nan") if dfb == 0 else df / dfb * nfi(t, tb),
        "logl": logl,
        "unrestricted.logl": logl_h1,
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * np.log(n),
        "ntotal": float(n),
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": rmsea_value(t, df, n) * root_g,
        "rmsea.ci.lower": lo * root_g,
        "rmsea.ci.upper": hi * root_g,
        "rmsea.pvalue": ncp_p,
        "srmr": float(np.dot(w, sr)),
    }
    if g_n == 1:
        b = blocks[0]
        p = b.cov.shape[0]
        gv = gfi(
            b.cov,
            sigmas[0],
            b.x_index,
            b.mean if meanstructure else None,
            means[0] if meanstructure else None,
            weight=b.cov if getattr(b, "em_data", None) is not None else None,  # two-stage: W at S
        )
        nel = p * (p + 1) // 2 + (p if meanstructure else 0)
        if getattr(b, "conditional_x", False):  # y given x: lavaan's mvreg weight and WLS.obs
            from survey.sem.conditional_x import conditional_gfi

            gv, nel = conditional_gfi(b.cov, sigmas[0], b.mean, means[0], b.x_index)
        out["gfi"] = gv
        out["agfi"] = agfi(gv, nel, df)
    _tli_saturated(out, df)
    keys = MEASURES if g_n == 1 else MG_MEASURES
    return {k: float(out[k]) for k in keys}


def scaled_measures(
    test: ScaledTest,
    base: ScaledTest,
    n: int,
    g_n: int,
    *,
    robust: ScaledTest | None = None,
    robust_base: ScaledTest | None = None,
) -> dict[str, float]:
    """The ``.scaled`` and ``.robust`` measures; ``robust``/``robust_base`` are the FIML-corrected tests with
    missing data (default: ``test``/``base``)."""
    robust = robust if robust is not None else test
    robust_base = robust_base if robust_base is not None else base
    t, df, c = test.stat, test.df, test.scaling_factor
    ts, tbs, dfb = test.stat_scaled, base.stat_scaled, base.df
    root_g = np.sqrt(g_n)
    adjusted = test.shift != 0.0 or test.df_scaled is not None  # scaled.shifted / mean.var.adjusted
    if adjusted:
        df, dfb = test.dfs, base.dfs
    inc = tests_and_incremental(ts, df, test.pvalue_scaled, tbs, dfb, base.pvalue_scaled)
    out = {
        "chisq.scaled": ts,
        "df.scaled": df,
        "pvalue.scaled": test.pvalue_scaled,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": tbs,
        "baseline.df.scaled": dfb,
        "baseline.pvalue.scaled": base.pvalue_scaled,
        "baseline.chisq.scaling.factor": base.scaling_factor,
        **{f"{k}.scaled": inc[k] for k in ("cfi", "tli", "nnfi", "rfi", "nfi", "ifi", "rni")},
        "pnfi.scaled": df / dfb * inc["nfi"] if dfb else float("nan"),
    }
    rt, rdf, rc = robust.stat, robust.df, robust.scaling_factor
    rtb, rcb = robust_base.stat, robust_base.scaling_factor
    out.update(
        {
            "cfi.robust": cfi_robust(rt, df, rtb, dfb, rc, rcb),
            "tli.robust": tli_robust(rt, df, rtb, dfb, rc, rcb),
            "nnfi.robust": tli_robust(rt, df, rtb, dfb, rc, rcb),
            "rni.robust": rni_robust(rt, df, rtb, dfb, rc, rcb),
        }
    )
    if test.method == "yuan.bentler.mplus" or (test.method == "yuan.bentler"
                                               and np.isfinite(test.scaling_factor_h1)):
        out["scaling.factor.h1"] = test.scaling_factor_h1
        out["scaling.factor.h0"] = test.scaling_factor_h0
    lo, hi = rmsea_ci_scaled(t, test.trace, n)
    rlo, rhi = rmsea_ci_scaled(robust.stat_scaled, rdf, n, rc)
    out.update(
        {
            "rmsea.scaled": rmsea_value(t, test.trace, n) * root_g,
            "rmsea.ci.lower.scaled": lo * root_g,
            "rmsea.ci.upper.scaled": hi * root_g,
            "rmsea.pvalue.scaled": rmsea_close_pvalue(t, test.trace, n, float(g_n)),
            "rmsea.robust": rmsea_value(rt, rdf, n, rc) * root_g,
            "rmsea.ci.lower.robust": rlo * root_g,
            "rmsea.ci.upper.robust": rhi * root_g,
            "rmsea.pvalue.robust": rmsea_close_pvalue(robust.stat_scaled, rdf, n, rc * g_n),
        }
    )
    if test.method == "scaled.shifted":  # lavaan: scaled RMSEA of T_ss on df; robust CI from T_ss with c
        lo, hi = rmsea_ci_scaled(ts, df, n)
        rlo, rhi = rmsea_ci_scaled(ts, df, n, c)
        out.update({"rmsea.scaled": rmsea_value(ts, df, n) * root_g, "rmsea.ci.lower.scaled": lo * root_g,
                    "rmsea.ci.upper.scaled": hi * root_g,
                    "rmsea.pvalue.scaled": rmsea_close_pvalue(ts, df, n, float(g_n)),
                    "rmsea.ci.lower.robust": rlo * root_g, "rmsea.ci.upper.robust": rhi * root_g,
                    "rmsea.pvalue.robust": rmsea_close_pvalue(ts, df, n, c * g_n)})
    if test.df_scaled is not None:  # mean.var.adjusted: no robust measures (lavaan)
        out = {k: v for k, v in out.items() if not k.endswith(".robust")}
    _tli_saturated(out, df, ("tli.scaled", "nnfi.scaled", "tli.robust", "nnfi.robust"))
    if g_n > 1:
        out.pop("pnfi.scaled", None)
    return {k: float(v) for k, v in out.items()}


def _srmr_moments(b, sigma, mean, mu) -> tuple:
    """(S, Sigma, mean, mu) of a block's SRMR; under conditional.x those of y given x (lavaan's res.cov,
    res.int: survey.sem.conditional_x.residual_moments)."""
    if getattr(b, "conditional_x", False):
        from survey.sem.conditional_x import residual_moments

        return residual_moments(b.cov, sigma, mean, mu, b.x_index)
    return b.cov, sigma, mean, mu
