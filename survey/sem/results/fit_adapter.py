"""Adapter: the engine's :class:`survey.sem.results.result.SEMResult` -> the pure functions of
:mod:`survey.sem.results.fit_more`.

:func:`all_fit_measures` returns lavaan's complete ``fitMeasures()`` (lavaan's names, lavaan's order) of a
fit with any estimator and number of groups (``SEMResult.fit_measures()``); only :func:`group_moments`
reads the result's internals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survey.sem.results.fit_more import GroupMoments, more_fit_measures, rmsea_notclose_pvalue

ORDER = (
    "npar fmin chisq df pvalue chisq.scaled df.scaled pvalue.scaled chisq.scaling.factor baseline.chisq "
    "baseline.df baseline.pvalue baseline.chisq.scaled baseline.df.scaled baseline.pvalue.scaled "
    "baseline.chisq.scaling.factor cfi tli cfi.scaled tli.scaled cfi.robust tli.robust nnfi rfi nfi pnfi "
    "ifi rni nnfi.scaled rfi.scaled nfi.scaled pnfi.scaled ifi.scaled rni.scaled nnfi.robust rni.robust "
    "logl unrestricted.logl aic bic ntotal bic2 scaling.factor.h1 scaling.factor.h0 rmsea rmsea.ci.lower "
    "rmsea.ci.upper rmsea.ci.level rmsea.pvalue rmsea.close.h0 rmsea.notclose.pvalue rmsea.notclose.h0 "
    "rmsea.scaled rmsea.ci.lower.scaled rmsea.ci.upper.scaled rmsea.pvalue.scaled "
    "rmsea.notclose.pvalue.scaled rmsea.robust rmsea.ci.lower.robust rmsea.ci.upper.robust "
    "rmsea.pvalue.robust rmsea.notclose.pvalue.robust rmr rmr_nomean srmr srmr_bentler "
    "srmr_bentler_nomean crmr crmr_nomean srmr_mplus srmr_mplus_nomean cn_05 cn_01 gfi agfi pgfi mfi ecvi"
).split()


def group_moments(result: Any) -> list[GroupMoments]:
    """Sample and implied moments per group block of a :class:`survey.sem.results.result.SEMResult`
    (under fixed.x the covariates' indices; none with fixed_x=False, where they are modelled)."""
    fixed = bool((result.mg.partable["exo"] == 1).any())
    weighted = bool((getattr(result, "design_options", None) or {}).get("sampling_weights"))
    out = []
    for i, (ram, g) in enumerate(zip(result.mg.models, result.stats.groups, strict=True)):
        imp = ram.implied(result.mg.local(result.theta_full, i))
        x = tuple(ram.ov.index(v) for v in ram.names.ov_x) if fixed else ()
        mean = ram.meanstructure
        joint = None
        md = getattr(g, "md", None)  # FIML: the patterns weigh the GFI (lavaan's missing-data h1 information)
        patterns = () if md is None else tuple(
            (obs, float(freq)) for b in md.batches for obs, freq in zip(b.obs, b.n, strict=True))
        s, sigma, m_s, m_sigma = g.cov, imp.sigma, g.mean if mean else None, imp.mean if mean else None
        if getattr(g, "conditional_x", False):  # conditional.x: the moments of y given x (lavaan's res.*)
            from survey.sem.conditional_x import residual_moments

            joint = (s, sigma, m_s, m_sigma, tuple(g.x_index))
            s, sigma, m_s, m_sigma = residual_moments(s, sigma, m_s, m_sigma, g.x_index)
            x = ()
        out.append(GroupMoments(s, sigma, g.n, m_s, m_sigma, x, patterns,
                                None if weighted else gfi_observed(md),
                                weight_at_s=getattr(g, "em_data", None) is not None,  # two-stage
                                joint=joint))
    return out


def gfi_observed(md: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """lavaan 0.6.14's ``WLS.obs`` of an FIML group without sampling weights (``lav_samplestats``): the
    pairwise sample covariance rescaled by (N - 1)/N and the available-case means (with weights it keeps
    the EM moments, the block's own); None for complete data."""
    if md is None:
        return None
    frame = pd.DataFrame(md.x)
    n = md.x.shape[0]
    return frame.cov().to_numpy() * (n - 1) / n, frame.mean().to_numpy()


def all_fit_measures(result: Any) -> dict[str, float]:
    """lavaan's full ``fitMeasures()`` of a fitted result (the core measures from the result itself)."""
    core = dict(result._fit) if hasattr(result, "_fit") else dict(result.fit_measures())
    scaled = None
    if "chisq.scaled" in core:
        scaled = {k: core[k] for k in ("chisq.scaled", "baseline.chisq.scaled", "chisq.scaling.factor")
                  if k in core}
        if "chisq.scaling.factor" not in scaled:
            scaled["chisq.scaling.factor"] = core["chisq"] / core["chisq.scaled"]
        for key in ("df.scaled", "baseline.df.scaled"):  # mean.var.adjusted: Satterthwaite df
            scaled[key] = core.get(key, core[key.replace(".scaled", "")])
        test = getattr(result, "scaled_test", None)
        scaled["method"] = getattr(test, "method", "")
    extra = more_fit_measures(group_moments(result), chisq=core["chisq"], df=core["df"],
                              baseline_chisq=core["baseline.chisq"], baseline_df=core["baseline.df"],
                              npar=int(core["npar"]), scaled=scaled)
    fiml = getattr(result, "missing", "listwise") != "listwise"
    if fiml:  # FIML: robust measures need the corrected
        extra = {k: v for k, v in extra.items() if not k.endswith(".robust") or k in core}  # tests (core)
    merged = {**extra, **core}
    # the incremental indices and AGFI with lavaan's edge conventions (saturated models: TLI = AGFI = 1)
    lavaan_edges = ("tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "agfi")
    merged.update({k: v for k, v in extra.items() if k.split(".")[0] in lavaan_edges and k in core})
    if fiml:  # lavaan's GFI family with missing data (fit_more.gfi_missing_group), and the robust
        merged.update({k: extra[k] for k in ("gfi", "agfi", "pgfi")})  # RMSEA "not close" p-value
        merged.update(_fiml_notclose(result, core))
    merged.setdefault("srmr", merged["srmr_bentler"])
    out = {k: float(merged[k]) for k in ORDER if k in merged}
    out.update({k: float(v) for k, v in merged.items() if k not in out and np.isscalar(v)})
    return out


def _fiml_notclose(result: Any, core: dict) -> dict[str, float]:
    """``rmsea.notclose.pvalue.robust`` with missing data: lavaan 0.6.14 (``lav_fit_rmsea_lavobject``)
    evaluates it on the FIML-corrected test (Savalei 2018; ``lav_fit_fiml_corrected``: XX3 / c3 on df with
    c = c3), as ``rmsea.pvalue.robust``; NA where the correction fails."""
    if "rmsea.robust" not in core:
        return {}
    from survey.sem.results.measures import fiml_robust_tests

    robust = fiml_robust_tests(result)[0]
    if robust is None or not np.isfinite(robust.stat) or not robust.scaling_factor:
        return {"rmsea.notclose.pvalue.robust": float("nan")}
    c3 = robust.scaling_factor
    return {"rmsea.notclose.pvalue.robust": rmsea_notclose_pvalue(
        robust.stat / c3, robust.df, int(core["ntotal"]) if "ntotal" in core else result.nobs,
        len(result.stats.groups), c_hat=c3)}
