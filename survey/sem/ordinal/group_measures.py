"""Fit measures of a multi-group ordinal fit (:mod:`survey.sem.ordinal.multigroup`), as lavaan 0.6.14's
``fitMeasures()``: the chi-squares summed over groups, the baseline (independence) model per group with its
robust test (the fit's first: scaled-shifted, Satorra-Bentler or mean-and-variance adjusted) from the summed
traces, CFI/TLI on them, RMSEA with the factor sqrt(G) and N = sum N_g - G (lavaan ``lav_fit_rmsea``), the
categorical robust CFI/TLI/RMSEA (``lav_fit_catml_dwls`` over groups; not with free scale factors, nor with
continuous variables, nor after mean.var.adjusted, nor with tied thresholds or a non-PD sample correlation
matrix, where lavaan gives none; c.hat3 and the robust RMSEA on the catML df, ``fitmeasures.catml_df``),
the N_g-weighted SRMR and WRMR."""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from survey.sem.ordinal import fitmeasures as fm
from survey.sem.ordinal import test as tests
from survey.sem.ordinal.objective import weighted
from survey.sem.ordinal.polychoric import pair_index


def group_measures(groups, weights, theta, test_list, jacs, fg, keys, moments) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` of a multi-group ordinal fit (module docstring); ``moments`` is
    :func:`survey.sem.ordinal.multigroup.moments`."""
    n_groups = len(groups)
    n = sum(g.nobs for g in groups) - n_groups  # lavaan: ntotal - ngroups
    std = test_list[0]
    scaled = test_list[1] if len(test_list) > 1 else None  # the first robust test (ordinal.choices)
    x2, df = std.stat, std.df
    kind = scaled.name if scaled is not None else "standard"
    base = [fm._baseline(_single(g), _sized(g), w, kind) for g, w in zip(groups, weights, strict=True)]
    x0 = sum(b[0].stat for b in base)
    df0 = sum(b[0].df for b in base)
    root_g = np.sqrt(n_groups)
    out = {"npar": float(theta.size), "fmin": x2 / (2 * (n + n_groups)), "chisq": x2, "df": float(df),
           "pvalue": std.pvalue, "baseline.chisq": x0, "baseline.df": float(df0),
           "cfi": fm._cfi(x2, df, x0, df0), "tli": fm._tli(x2, df, x0, df0),
           "rmsea": fm.rmsea(x2, df, n) * root_g}
    if scaled is not None:
        tr0 = sum(b[1].trace_ugamma for b in base)
        base_scaled = tests.robust_test(kind, x0, df0, tr0, _baseline_tr2(groups, weights))
        xs, dfs, xs0, dfs0 = scaled.stat, scaled.df, base_scaled.stat, base_scaled.df
        # lavaan: the shifted statistic on df, or the unscaled one on tr(U Gamma) degrees of freedom
        x2s, df2 = (xs, df) if kind == "scaled.shifted" else (x2, scaled.trace_ugamma)
        out.update({"chisq.scaled": xs, "df.scaled": float(dfs), "pvalue.scaled": scaled.pvalue,
                    "chisq.scaling.factor": scaled.scaling_factor, "baseline.chisq.scaled": xs0,
                    "baseline.chisq.scaling.factor": base_scaled.scaling_factor,
                    "cfi.scaled": fm._cfi(xs, dfs, xs0, dfs0), "tli.scaled": fm._tli(xs, dfs, xs0, dfs0),
                    "rmsea.scaled": fm.rmsea(x2s, df2, n) * root_g})
    lo, hi = fm.rmsea_ci(x2, df, n)
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = lo * root_g, hi * root_g
    mixed = any(g.sample.mixed for g in groups)  # lavaan has no catML for continuous variables
    free_scales = any(k[1] == "~*~" for k in keys if isinstance(k[0], int))  # nor with free scale factors
    covariates = any(g.sample.slopes is not None for g in groups)  # nor with covariates (conditional.x)
    catml = None
    if (scaled is not None and kind != "mean.var.adjusted" and not (mixed or free_scales or covariates)
            and not _tied_thresholds(groups)
            and fm.positive_definite([g.sample.correlations for g in groups])):
        df3 = fm.catml_df(sum(g.layout.ii.size for g in groups), [(g.ram.partable, g.index) for g in groups])
        xx3, c3, xx3_0, c3_0 = _catml_groups(groups, weights, theta, jacs, fg, df3, moments)
        catml = xx3, c3, xx3_0, c3_0, df3
        out["cfi.robust"] = fm._cfi(xx3, df, xx3_0, df0, c3, c3_0)
        out["tli.robust"] = fm._tli(xx3, df, xx3_0, df0, c3, c3_0)
        out["rmsea.robust"] = fm.rmsea(xx3, df3, n, c3) * root_g
    out["wrmr"] = float(np.sqrt(x2 * n_groups / sum(g.sample.wls_obs.size for g in groups)))
    res = [_residuals(g, theta, moments) for g in groups]
    out["srmr"] = float(sum(f * np.sqrt(r @ r / (r.size + g.ram.p))  # lavaan: N_g-weighted, pairs + variables
                            for f, r, g in zip(fg, res, groups, strict=True)))
    from survey.sem.ordinal import measures_more

    pieces = [measures_more.pieces(g.sample.wls_obs, moments(g, theta)[0], w, g.layout, g.ram.p, g.nobs)
              for g, w in zip(groups, weights, strict=True)]
    return measures_more.complete(out, n=n, n_groups=n_groups, std=std, scaled=scaled,
                                  base_std=tests.standard(x0, df0),
                                  base_scaled=base_scaled if scaled is not None else None, catml=catml,
                                  groups=pieces)


def _residuals(group, theta, moments) -> np.ndarray:
    """The residual correlations (with continuous variables Bentler's ``(s_ij - sigma_ij) / sqrt(s_ii
    s_jj)`` off the diagonal, as :func:`fitmeasures.fit_measures`)."""
    lay = group.layout
    resid = group.sample.wls_obs - moments(group, theta)[0]
    if not group.sample.mixed:
        return resid[lay.nuni :]
    d_s = 1 / np.sqrt(np.diag(group.sample.cov))
    return resid[lay.nuni :] * d_s[lay.ii] * d_s[lay.jj]


def _single(group):
    """The layout :func:`fitmeasures._baseline` needs (univariate and all statistics counts)."""
    return group.layout


def _sized(group):
    """The group's statistics with its N (with sampling weights lavaan's N_g is the weight sum)."""
    import copy

    sample = copy.copy(group.sample)
    sample.nobs = group.nobs
    return sample


def _baseline_tr2(groups, weights) -> float:
    total = 0.0
    for g, w in zip(groups, weights, strict=True):
        nth = g.layout.nuni  # thresholds, means and variances stay free in the baseline
        d0 = np.zeros((g.sample.wls_obs.size, nth))
        d0[:nth, :nth] = np.eye(nth)
        total += tests.ugamma_traces(d0, w, tests.test_gamma(g.sample.gamma, g.nobs))[1]
    return total


def _tied_thresholds(groups) -> bool:
    """A threshold parameter shared by two threshold rows (labels, ``group.equal``): lavaan's catML fit
    (without the ``|`` rows) then fails and its robust CFI/TLI/RMSEA are NA."""
    used = [int(k) for g in groups
            for k in g.index[g.ram.npar: g.ram.npar + sum(t.size for t in g.sample.thresholds)] if k >= 0]
    return len(used) != len(set(used))


def _catml_groups(groups, weights, theta, jacs, fg, df, moments):
    """lavaan's ``lav_fit_catml_dwls`` over groups (see :mod:`fitmeasures`)."""
    xx3 = xx3_0 = 0.0
    e_inv = np.linalg.inv(sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True)))
    d_rows, w_blocks, v_blocks, g_blocks = [], [], [], []
    for g, w, j, f in zip(groups, weights, jacs, fg, strict=True):
        nth = sum(t.size for t in g.sample.thresholds)
        stats, _ = moments(g, theta)
        p = g.ram.p
        ii, jj = pair_index(p)
        implied = np.eye(p)
        implied[ii, jj] = implied[jj, ii] = stats[nth:]
        r = g.sample.correlations
        xx3 += g.nobs * (np.linalg.slogdet(implied)[1] - np.linalg.slogdet(r)[1]
                         + np.trace(r @ np.linalg.inv(implied)) - p)
        xx3_0 += -g.nobs * np.linalg.slogdet(r)[1]
        ai = np.linalg.inv(implied)
        v_blocks.append(f * (ai[ii][:, ii] * ai[jj][:, jj] + ai[ii][:, jj] * ai[jj][:, ii]))
        w_blocks.append(f * (np.diag(w) if w.ndim == 1 else w)[nth:, nth:])
        g_blocks.append(g.sample.gamma[nth:, nth:] / f)
        d_rows.append(j[nth:])
    d_all = np.vstack(d_rows)
    w_all, v_all, g_all = block_diag(*w_blocks), block_diag(*v_blocks), block_diag(*g_blocks)
    u = np.eye(d_all.shape[0]) - d_all @ e_inv @ d_all.T @ w_all
    c3 = float(np.sum((u.T @ v_all @ u) * g_all.T)) / df if df > 0 else 1.0  # saturated: no rescaling
    c3_0 = float(np.trace(g_all)) / d_all.shape[0]
    return float(xx3), c3, float(xx3_0), c3_0
