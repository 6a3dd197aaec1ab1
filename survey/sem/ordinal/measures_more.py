"""The rest of lavaan 0.6.14's ``fitMeasures()`` for a categorical (DWLS / ULS / WLS) fit, one or several
groups, from the quantities :mod:`survey.sem.ordinal.fitmeasures` and :mod:`survey.sem.ordinal.group_measures`
already have (lavaan ``lav_fit_measures`` and the functions it calls; N = sum N_g - G, G the groups):

- incremental indices on the standard, the scaled and (CFI/TLI/NNFI/RNI) the robust statistics
  (``lav_fit_cfi_lavobject``): NNFI = TLI, RFI = (X0/df0 - X/df) / (X0/df0) (1 if negative; NA when
  df > df0), NFI = (X0 - X) / X0 (NA when df > df0), PNFI = df / df0 NFI, IFI = (X0 - X) / (X0 - df),
  RNI = 1 - (X - c df) / (X0 - c0 df0) (Bentler 1990; Bollen 1989);
- RMSEA close / not-close p-values (``lav_fit_rmsea_closefit`` / ``notclosefit``): with
  ``ncp = N df h0^2 / (c G)``, ``1 - F(X; df, ncp)`` at h0 = .05 and ``F(X; df, ncp)`` at h0 = .08, on the
  standard, scaled (scaled-shifted X* on df, else X on tr(U Gamma)) and robust (X3 / c3 on df, c = c3)
  statistics; the 90% interval with the factor sqrt(G) (Browne & Cudeck 1993, ``lav_fit_rmsea_ci``);
- RMR, SRMR and CRMR (``lav_fit_srmr_lavobject`` with ``lav_residuals_summary``): the root mean square of the
  residual covariances (``raw``), of Bentler's ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` (``srmr_bentler``)
  and of Bollen's ``r_ij - rho_ij`` (``crmr``), off the diagonal over ``p* = pairs + p`` (CRMR: the
  pairs), the ``_nomean`` ones without and the others with the ordered items' threshold residuals (CRMR
  over pairs + thresholds, RMR/SRMR over pairs + thresholds + p; a continuous variable's mean residual
  does not enter); groups weighted by N_g / sum N_g; an ordered item's variance is 1, a continuous one's
  its sample / implied variance;
- GFI = 1 - e'We / s'Ws (e = s - sigma(theta), W the estimator's weight; N_g-weighted over groups),
  AGFI = 1 - nel / df (1 - GFI), PGFI = df / nel GFI with nel the number of statistics (Joreskog & Sorbom
  1986; ``lav_fit_gfi``); Hoelter's CN = chi2_{1-a}(df) / (X / N) + 1 at a = .05, .01; McDonald's
  MFI = exp(-(X - df) / (2 N)).
Nothing here overwrites a measure the caller computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.distributions import chi2, ncx2
from survey.sem.ordinal import indices as fm
from survey.sem.ordinal.polychoric import pair_index

CLOSE_H0, NOTCLOSE_H0, CI_LEVEL = 0.05, 0.08, 0.90


@dataclass
class GroupPieces:
    """One group's observed and implied WLS statistics with where they sit."""

    obs: np.ndarray
    est: np.ndarray
    weight: np.ndarray  # the estimator's W (a vector when diagonal)
    th_idx: np.ndarray  # positions of the thresholds in the statistics
    var_idx: np.ndarray  # positions of the continuous variances
    numeric: np.ndarray  # (p,) bool, continuous variables among the modelled ones
    pair_start: int  # first (co)variance / correlation
    nvar: int  # observed variables of the block (lavaan pta$nvar, covariates included)
    nobs: float


def pieces(obs, est, weight, layout, nvar: int, nobs: float) -> GroupPieces:
    """:class:`GroupPieces` from a layout (:class:`~survey.sem.ordinal.objective.OrdinalStructure` or the
    conditional one, whose univariate part holds thresholds then slopes)."""
    if getattr(layout, "q", 0) and not getattr(layout, "cx_mixed", False):
        th = np.arange(layout.nth)
        var_idx = np.zeros(0, int)
        numeric = np.zeros(layout.p, bool)
    else:
        th = np.asarray(layout.th_slot, int)  # lavaan's "th" residuals: the ordered items' thresholds
        var_idx = getattr(layout, "var_slot", np.arange(layout.nslots, layout.nuni))
        numeric = layout.numeric
    return GroupPieces(np.asarray(obs), np.asarray(est), weight, th, var_idx, numeric, int(layout.nuni), nvar,
                       float(nobs))


def _residual_rms(g: GroupPieces) -> dict[str, float]:
    """This group's rmr / srmr_bentler / crmr, each with and without the thresholds."""
    p = g.numeric.size
    vo, ve = np.ones(p), np.ones(p)
    vo[g.numeric], ve[g.numeric] = g.obs[g.var_idx], g.est[g.var_idx]
    r_obs, r_est = g.obs[g.pair_start :], g.est[g.pair_start :]
    ii, jj = pair_index(p)
    raw = r_obs - r_est
    kinds = {"rmr": raw, "srmr_bentler": raw / np.sqrt(vo[ii] * vo[jj]),
             "crmr": r_obs / np.sqrt(vo[ii] * vo[jj]) - r_est / np.sqrt(ve[ii] * ve[jj])}
    th = g.obs[g.th_idx] - g.est[g.th_idx]
    out = {}
    for name, res in kinds.items():
        extra = 0 if name == "crmr" else g.nvar
        out[f"{name}_nomean"] = float(np.sqrt(res @ res / (res.size + extra)))
        out[name] = float(np.sqrt((res @ res + th @ th) / (res.size + th.size + extra)))
    return out


def _gfi(g: GroupPieces) -> float:
    e = g.obs - g.est
    if g.weight.ndim == 1:
        return 1.0 - float((e * e) @ g.weight) / float((g.obs * g.obs) @ g.weight)
    return 1.0 - float(e @ g.weight @ e) / float(g.obs @ g.weight @ g.obs)


def _incremental(out: dict, suffix: str, x2: float, df: float, x0: float, df0: float) -> None:
    put = out.setdefault
    put(f"nnfi{suffix}", fm._tli(x2, df, x0, df0))
    if df > df0:
        rfi = nfi = float("nan")
    else:
        t1, t2 = x0 / df0 - x2 / df if df > 0 else 0.0, x0 / df0
        rfi = (1.0 if (t1 < 0 or t2 < 0) else t1 / t2) if df > 0 and df0 > 0 else 1.0
        nfi = (x0 - x2) / x0 if df > 0 else 1.0
    put(f"rfi{suffix}", rfi)
    put(f"nfi{suffix}", nfi)
    put(f"pnfi{suffix}", df / df0 * (x0 - x2) / x0 if df0 > 0 and x0 > 0 else float("nan"))
    t2 = x0 - df
    put(f"ifi{suffix}", 1.0 if t2 < 0 else ((x0 - x2) / t2 if not np.isclose(t2, 0) else float("nan")))
    put(f"rni{suffix}", 1 - (x2 - df) / (x0 - df0))


def _pvalues(out: dict, suffix: str, x2: float, df: float, n: float, n_groups: int, c: float = 1.0) -> None:
    if not (df > 0 and np.isfinite(x2) and np.isfinite(df)):
        return
    out.setdefault(f"rmsea.pvalue{suffix}", float(ncx2.sf(x2, df, n * df * CLOSE_H0**2 / (c * n_groups))))
    out.setdefault(f"rmsea.notclose.pvalue{suffix}",
                   float(ncx2.cdf(x2, df, n * df * NOTCLOSE_H0**2 / (c * n_groups))))


def _interval(out: dict, suffix: str, x2: float, df: float, n: float, n_groups: int, c: float = 1.0) -> None:
    if f"rmsea.ci.lower{suffix}" in out or not np.isfinite(df):
        return
    lo, hi = fm.rmsea_ci(x2, df, n, c)
    out[f"rmsea.ci.lower{suffix}"], out[f"rmsea.ci.upper{suffix}"] = (lo * np.sqrt(n_groups),
                                                                    hi * np.sqrt(n_groups))


def complete(out: dict, *, n: float, n_groups: int, std, scaled, base_std, base_scaled, catml,
             groups: list[GroupPieces]) -> dict:
    """Add lavaan's remaining ``fitMeasures()`` keys to ``out`` (module docstring). ``std`` / ``scaled``:
    the fit's standard and first robust test (:class:`~survey.sem.ordinal.test.Test`, ``scaled`` None
    without one); ``base_std`` / ``base_scaled`` the baseline's; ``catml`` = (XX3, c3, XX3_0, c3_0, df3) where
    lavaan has the categorical robust measures, else None."""
    before = set(out)
    x2, df = std.stat, std.df
    x0, df0 = base_std.stat, base_std.df
    out.setdefault("baseline.pvalue", base_std.pvalue)
    _incremental(out, "", x2, df, x0, df0)
    out["rmsea.ci.level"] = CI_LEVEL
    out["rmsea.close.h0"], out["rmsea.notclose.h0"] = CLOSE_H0, NOTCLOSE_H0
    _pvalues(out, "", x2, df, n, n_groups)
    _interval(out, "", x2, df, n, n_groups)
    if scaled is not None:
        out.setdefault("baseline.df.scaled", float(base_scaled.df))
        out.setdefault("baseline.pvalue.scaled", base_scaled.pvalue)
        _incremental(out, ".scaled", scaled.stat, scaled.df, base_scaled.stat, base_scaled.df)
        x2s, df2 = (scaled.stat, df) if scaled.name == "scaled.shifted" else (x2, scaled.trace_ugamma)
        _pvalues(out, ".scaled", x2s, df2, n, n_groups)
        _interval(out, ".scaled", x2s, df2, n, n_groups)
    if catml is not None:
        xx3, c3, xx3_0, c3_0, df3 = catml  # the RMSEA on catML's df (fitmeasures.catml_df)
        out.setdefault("nnfi.robust", fm._tli(xx3, df, xx3_0, df0, c3, c3_0))
        out.setdefault("tli.robust", out["nnfi.robust"])
        if df > 0 and c3 != 1 and c3_0 != 1:
            out.setdefault("rni.robust", 1 - (xx3 - c3 * df) / (xx3_0 - c3_0 * df0))
        _pvalues(out, ".robust", xx3 / c3, df3, n, n_groups, c3)
        _interval(out, ".robust", xx3 / c3, df3, n, n_groups, c3)
    total = sum(g.nobs for g in groups)
    per_group = [_residual_rms(g) for g in groups]
    for key in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean"):
        out[key] = float(sum(g.nobs / total * r[key] for g, r in zip(groups, per_group, strict=True)))
    gfi = float(sum(g.nobs / total * _gfi(g) for g in groups))
    nel = sum(g.obs.size for g in groups)
    out["gfi"] = gfi
    out["agfi"] = 1 - nel / df * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = df / nel * gfi
    if not (df == 0 and x2 < np.finfo(float).eps):
        out["cn_05"] = float(chi2.ppf(0.95, df)) / (x2 / n) + 1
        out["cn_01"] = float(chi2.ppf(0.99, df)) / (x2 / n) + 1
    out["mfi"] = float(np.exp(-0.5 * (x2 - df) / n))
    # what lavaan leaves NA (e.g. NFI and RFI when df > the baseline's df) is left out
    return {k: v for k, v in out.items() if k in before or not (isinstance(v, float) and np.isnan(v))}
