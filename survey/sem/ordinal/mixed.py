"""Sample statistics of ordered and continuous variables together: lavaan's three stages for mixed data.

Muthen (1984, Psychometrika 49) and Muthen & Satorra (1995), as lavaan's ``muthen1984`` (listwise
complete cases, or with ``missing = "pairwise"`` each statistic from the cases observed on its variable or
pair, the scores of a missing case 0; no exogenous covariates):

1. univariate: an ordered variable's thresholds (:mod:`survey.sem.ordinal.thresholds`), a continuous
   variable's mean and variance (divisor N; lavaan ``lav_uvreg_fit`` without covariates), with casewise
   scores ``(y - mu) / v`` and ``-1 / (2 v) + (y - mu)^2 / (2 v^2)``;
2. bivariate, the others held fixed: polychoric (ordinal-ordinal, :func:`polychoric.polychoric`),
   polyserial (continuous-ordinal, Olsson, Drasgow & Dorans 1982, two-step ML; lavaan ``lav_bvmix``) and
   Pearson (continuous-continuous, lavaan ``lav_bvreg``) correlations, each with the casewise scores of its
   pair log-likelihood in rho and in the univariate parameters of both variables. The polyserial
   likelihood keeps every case (lavaan's current ``lav_bvmix.R``); lavaan 0.6.14 dropped cases whose
   likelihood fell below sqrt(machine epsilon), which biases rho for a skewed continuous variable (far-tail
   values) and which lavaan has since fixed, so on such data lavaan 0.6.14's numbers differ from these;
3. Gamma: with SC the stacked casewise scores of every estimating equation and B the block-triangular
   derivative matrix (A11 the per-variable blocks of SC'SC, A22 its diagonal over the correlations,
   A21 = sum_cases sc_rho * d log l_pair / d univariate), ``G = N B^-1 SC'SC B^-T``; the delta rule H
   (``cov_ij = rho_ij sd_i sd_j``, ``sd = 1`` for ordered variables) maps it to the covariance metric,
   ``Gamma = H G H'``, and the rows of the means change sign because lavaan's ``WLS.obs`` holds ``-mu``.

The statistics, in lavaan's ``WLS.obs`` order: per variable its thresholds (ordered) or ``-mean``
(continuous), then the variances of the continuous variables, then ``vech(COV, diagonal = FALSE)``.
With sampling weights w (summing to N; lavaan ``muthen1984`` with ``wt``): weighted means, variances
(divisor sum w), thresholds, tables and pair likelihoods; ``SC'SC`` becomes ``sum_i w_i^2 sc_i sc_i'`` and
the blocks of B the weighted sums ``sum_i w_i ...`` (as :mod:`survey.sem.ordinal.acov`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from survey.errors import SurveyInputError
from survey.sem.ordinal.bivariate import dbinorm, dpbinorm_da, pbinorm, rectangles
from survey.sem.ordinal.polychoric import pair_index, pair_tables, polychoric, polyserial
from survey.sem.ordinal.thresholds import (
    OrdinalCodes,
    encode,
    extended,
    threshold_scores,
    univariate_thresholds,
)

_BIG = 1e3  # stands for an infinite threshold in the polyserial scores (its densities are 0)


@dataclass
class MixedData:
    """Complete cases of the model's variables: ordered ones as codes, continuous ones as values."""

    names: list[str]
    numeric: np.ndarray  # bool (p,)
    codes: OrdinalCodes  # the ordered variables (in model order)
    values: np.ndarray  # (N, number of continuous variables)
    weights: np.ndarray | None = None  # sampling weights summing to N (lavaan "total"), None: unweighted

    @property
    def n(self) -> int:
        return int(self.values.shape[0]) if self.values.size else self.codes.n


def complete_cases(data: pd.DataFrame, names: list[str], ordered: set[str],
                   pairwise: bool = False, weights: np.ndarray | None = None,
                   normalize: bool = True) -> MixedData:
    """Listwise complete rows of ``names`` (``pairwise``: every row observed on at least one of them, its
    missing values kept as ``-1`` codes and NaN values, lavaan ``missing = "pairwise"``); continuous
    columns must be numeric; ``weights`` (one per row of ``data``) of the rows kept, rescaled to sum to
    their number (lavaan's ``sampling.weights.normalization = "total"``; kept as they are without
    ``normalize``, lavaan's "none")."""
    absent = [c for c in names if c not in data.columns]
    if absent:
        raise SurveyInputError(f"variable(s) not found in the data: {', '.join(absent)}", column=absent[0])
    numeric = np.array([v not in ordered for v in names])
    frame = data[names]
    for name in np.asarray(names)[numeric]:
        col = pd.to_numeric(frame[name], errors="coerce")
        bad = col.isna() & frame[name].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SurveyInputError("a continuous variable must hold numbers", row=row + 1, column=name,
                                   value=str(frame[name].iloc[row]))
    values = frame.loc[:, list(np.asarray(names)[numeric])].apply(pd.to_numeric, errors="coerce")
    ord_names = [v for v in names if v in ordered]
    codes = encode(frame, ord_names)
    seen = np.hstack([codes.codes >= 0, values.notna().to_numpy()])
    keep = seen.any(axis=1) if pairwise else seen.all(axis=1)
    if keep.sum() < 2:
        raise SurveyInputError("fewer than two complete cases on the model's variables", field="data")
    w = None if weights is None else weights[keep] * (keep.sum() / weights[keep].sum() if normalize else 1.0)
    sub = OrdinalCodes(codes.names, codes.codes[keep], codes.levels, w)
    sub = sub.complete() if not pairwise else sub
    vals = values.to_numpy(dtype=float)[keep]
    for j, name in enumerate(np.asarray(names)[numeric]):
        if np.nanmax(vals[:, j]) == np.nanmin(vals[:, j]):
            raise SurveyInputError("a continuous variable has no variance", column=str(name))
    return MixedData(list(names), numeric, sub, vals, w)


@dataclass
class MixedStatistics:
    """What :class:`survey.sem.ordinal.fit.SampleStatistics` needs, for mixed data."""

    thresholds: list[np.ndarray]  # ordered variables only
    means: np.ndarray  # continuous variables only
    variances: np.ndarray
    cor: np.ndarray  # p x p correlations (polychoric / polyserial / Pearson)
    gamma: np.ndarray


def _pair_polychoric(ext_i, ext_j, ci, cj, rho):
    """Scores of an ordinal pair: d/d rho, d/d tau_i (K_i - 1 columns), d/d tau_j."""
    a, b = ext_i[:, None], ext_j[None, :]
    prob = np.maximum(rectangles(pbinorm(a, b, rho)), 1e-300)
    dprob = rectangles(dbinorm(a, b, rho))
    da_i = dpbinorm_da(a, b, rho)  # (K+1, L+1): d Phi2 / d a at (tau_i m, tau_j l)
    e_i = da_i[:, 1:] - da_i[:, :-1]  # (K+1, L)
    da_j = dpbinorm_da(b.T, a.T, rho)  # (L+1, K+1)
    e_j = da_j[:, 1:] - da_j[:, :-1]  # (L+1, K)
    p_case = prob[ci, cj]
    d_rho = dprob[ci, cj] / p_case
    ki, kj = ext_i.size - 2, ext_j.size - 2  # numbers of thresholds
    th_i = np.zeros((ci.size, ki))
    th_j = np.zeros((ci.size, kj))
    rows = np.arange(ci.size)
    up = ci < ki
    th_i[rows[up], ci[up]] += e_i[ci[up] + 1, cj[up]] / p_case[up]
    lo = ci > 0
    th_i[rows[lo], ci[lo] - 1] -= e_i[ci[lo], cj[lo]] / p_case[lo]
    up = cj < kj
    th_j[rows[up], cj[up]] += e_j[cj[up] + 1, ci[up]] / p_case[up]
    lo = cj > 0
    th_j[rows[lo], cj[lo] - 1] -= e_j[cj[lo], ci[lo]] / p_case[lo]
    return d_rho, th_i, th_j


def _pair_polyserial(y, mu, var, codes, tau, rho):
    """lavaan ``lav_bvmix_cor_sc``: scores of a continuous (y) - ordinal pair in rho, mu, var, tau."""
    sd = np.sqrt(var)
    z = (y - mu) / sd
    ext = np.concatenate([[-_BIG], tau, [_BIG]])
    z1, z2 = ext[codes + 1], ext[codes]
    r = np.sqrt(1.0 - rho * rho)
    t1, t2 = (z1 - rho * z) / r, (z2 - rho * z) / r
    f1, f2 = np.exp(-t1 * t1 / 2) / np.sqrt(2 * np.pi), np.exp(-t2 * t2 / 2) / np.sqrt(2 * np.pi)
    prob = np.maximum(ndtr(t1) - ndtr(t2), np.finfo(float).eps)
    inv = 1.0 / prob
    diff = f1 - f2
    d_mu = (z + inv * (rho / r) * diff) / sd
    d_var = ((z * z - 1.0) + inv * rho * z / r * diff) / (2 * var)
    k = tau.size
    th = np.zeros((y.size, k))
    rows = np.arange(y.size)
    up = codes < k
    th[rows[up], codes[up]] += f1[up] / r * inv[up]
    lo = codes > 0
    th[rows[lo], codes[lo] - 1] -= f2[lo] / r * inv[lo]
    d_rho = inv / r**3 * (f1 * (z1 * rho - z) - f2 * (z2 * rho - z))
    return d_rho, d_mu, d_var, th


def _pair_pearson(y1, mu1, v1, y2, mu2, v2, rho):
    """lavaan ``lav_bvreg_cor_sc``: scores of a continuous pair in rho, mu1, v1, mu2, v2."""
    c1, c2 = y1 - mu1, y2 - mu2
    s12 = np.sqrt(v1 * v2)
    r = 1.0 - rho * rho
    d_mu1 = (2 * c1 / v1 - 2 * rho * c2 / s12) / (2 * r)
    d_mu2 = -(2 * rho * c1 / s12 - 2 * c2 / v2) / (2 * r)
    d_v1 = -(0.5 / v1 - (c1 * c1 / (v1 * v1) - rho * c1 * c2 / (v1 * s12)) / (2 * r))
    d_v2 = -(0.5 / v2 + (rho * c1 * c2 / (v2 * s12) - c2 * c2 / (v2 * v2)) / (2 * r))
    q = c1 * c1 / v1 - 2 * rho * c1 * c2 / s12 + c2 * c2 / v2
    d_rho = rho / r + (c1 * c2 / (s12 * r) - q * rho / (r * r))
    return d_rho, d_mu1, d_v1, d_mu2, d_v2


def _observed(md: MixedData, i: int, j: int) -> np.ndarray:
    """The cases observed on both variables i and j."""
    pos_ord, pos_num = np.cumsum(~md.numeric) - 1, np.cumsum(md.numeric) - 1

    def seen(v: int) -> np.ndarray:
        return np.isfinite(md.values[:, pos_num[v]]) if md.numeric[v] else md.codes.codes[:, pos_ord[v]] >= 0

    return seen(i) & seen(j)


def pearson(y1: np.ndarray, mu1: float, v1: float, y2: np.ndarray, mu2: float, v2: float,
            w: np.ndarray | None = None) -> float:
    """Two-step ML correlation of two continuous variables given their univariate means and variances
    (lavaan ``lav_bvreg_cor_twostep_fit``), on the cases observed on both: the sample correlation when
    every case is complete and unweighted; otherwise the root of the (weighted) summed ``d log l / d rho``."""
    ok = np.isfinite(y1) & np.isfinite(y2)
    if ok.all() and w is None:
        return float(np.corrcoef(y1, y2)[0, 1])
    from scipy.optimize import brentq

    a, b = y1[ok], y2[ok]
    wt = np.ones(a.size) if w is None else w[ok]
    return float(brentq(lambda r: wt @ _pair_pearson(a, mu1, v1, b, mu2, v2, r)[0], -0.995, 0.995,
                        xtol=1e-12))


def mixed_statistics(md: MixedData) -> MixedStatistics:
    """Stages 1-3 (module docstring)."""
    names, numeric = md.names, md.numeric
    p, n = len(names), md.n
    taus = univariate_thresholds(md.codes)
    y = md.values
    seen_y = np.isfinite(y)  # pairwise: each statistic from the cases observed on its variable(s)
    wt = md.codes.w  # sampling weights (ones unweighted): weighted ML means and variances (divisor sum w)
    wy = np.where(seen_y, wt[:, None], 0.0)
    mu = (wy * np.nan_to_num(y)).sum(axis=0) / wy.sum(axis=0)
    var = (wy * np.nan_to_num(y - mu) ** 2).sum(axis=0) / wy.sum(axis=0)
    # positions of each variable in the ordered / continuous subsets
    pos_ord, pos_num = np.cumsum(~numeric) - 1, np.cumsum(numeric) - 1
    # layout of the univariate block: per variable its thresholds or mean; then continuous variances
    th_cols, start = [], 0
    for v in range(p):
        size = 1 if numeric[v] else taus[pos_ord[v]].size
        th_cols.append(np.arange(start, start + size))
        start += size
    nslots = start
    var_col = {v: nslots + int(pos_num[v]) for v in range(p) if numeric[v]}
    a11_size = nslots + int(numeric.sum())
    # univariate scores
    sc_uni = np.zeros((n, a11_size))
    ord_scores = threshold_scores(md.codes, taus)
    off = np.concatenate([[0], np.cumsum([t.size for t in taus])])
    for v in range(p):
        if numeric[v]:
            c = np.nan_to_num(y[:, pos_num[v]] - mu[pos_num[v]])
            vv = var[pos_num[v]]
            sc_uni[:, th_cols[v][0]] = c / vv
            sc_var = -1 / (2 * vv) + c * c / (2 * vv * vv)
            sc_uni[:, var_col[v]] = np.where(seen_y[:, pos_num[v]], sc_var, 0.0)
        else:
            q = pos_ord[v]
            sc_uni[:, th_cols[v]] = ord_scores[:, off[q] : off[q + 1]]
    # correlations
    cor = np.eye(p)
    ord_idx = np.flatnonzero(~numeric)
    if ord_idx.size > 1:
        rho_ord = polychoric(pair_tables(md.codes), taus)
        oi, oj = pair_index(ord_idx.size)
        cor[ord_idx[oi], ord_idx[oj]] = cor[ord_idx[oj], ord_idx[oi]] = rho_ord
    ii, jj = pair_index(p)
    for i, j in zip(ii, jj, strict=True):
        if numeric[i] and numeric[j]:
            a, b = pos_num[i], pos_num[j]
            cor[i, j] = pearson(y[:, a], mu[a], var[a], y[:, b], mu[b], var[b], md.weights)
        elif numeric[i] != numeric[j]:
            num, orv = (i, j) if numeric[i] else (j, i)
            cor[i, j] = polyserial(y[:, pos_num[num]], md.codes.codes[:, pos_ord[orv]], taus[pos_ord[orv]],
                                   md.weights)
        cor[j, i] = cor[i, j]
    # pair scores, A21 and the delta rule
    npairs = ii.size
    sc_cor = np.zeros((n, npairs))
    a21 = np.zeros((npairs, a11_size))
    h21 = np.zeros((npairs, a11_size))
    h22 = np.ones(npairs)
    sd = np.ones(p)
    sd[numeric] = np.sqrt(var)
    ext = [extended([t])[0] for t in taus]
    for q, (i, j) in enumerate(zip(ii, jj, strict=True)):
        rho = cor[i, j]
        if numeric[i] and numeric[j]:
            a, b = pos_num[i], pos_num[j]
            d_rho, m1, v1, m2, v2 = _pair_pearson(y[:, a], mu[a], var[a], y[:, b], mu[b], var[b], rho)
            parts = [(th_cols[i], m1[:, None]), (th_cols[j], m2[:, None]), ([var_col[i]], v1[:, None]),
                     ([var_col[j]], v2[:, None])]
        elif numeric[i] != numeric[j]:
            num, orv = (i, j) if numeric[i] else (j, i)
            a, b = pos_num[num], pos_ord[orv]
            d_rho, m1, v1, th = _pair_polyserial(y[:, a], mu[a], var[a], md.codes.codes[:, b], taus[b], rho)
            parts = [(th_cols[num], m1[:, None]), ([var_col[num]], v1[:, None]), (th_cols[orv], th)]
        else:
            a, b = pos_ord[i], pos_ord[j]
            codes = md.codes.codes
            d_rho, th_i, th_j = _pair_polychoric(ext[a], ext[b], codes[:, a], codes[:, b], rho)
            parts = [(th_cols[i], th_i), (th_cols[j], th_j)]
        obs = _observed(md, i, j)
        d_rho = np.where(obs, d_rho, 0.0)  # 0 for a case missing on the pair (lavaan's pairwise scores)
        sc_cor[:, q] = d_rho
        for cols, block in parts:
            a21[q, cols] = (wt * d_rho) @ np.where(obs[:, None], block, 0.0)
        for v, w in ((i, j), (j, i)):
            if numeric[v]:
                h21[q, var_col[v]] = sd[w] * rho / (2 * sd[v])
        h22[q] = sd[i] * sd[j]
    scores = np.hstack([sc_uni, sc_cor])
    inner = scores.T @ (wt[:, None] ** 2 * scores)  # weighted (lavaan muthen1984 with wt, as acov.gamma)
    hessian = scores.T @ (wt[:, None] * scores)  # B's blocks
    a11 = np.zeros((a11_size, a11_size))
    for v in range(p):
        cols = np.concatenate([th_cols[v], [var_col[v]] if numeric[v] else []]).astype(int)
        a11[np.ix_(cols, cols)] = hessian[np.ix_(cols, cols)]
    a22 = np.diag(hessian)[a11_size:]
    a11_inv = np.linalg.inv(a11)
    b_inv = np.zeros((a11_size + npairs, a11_size + npairs))
    b_inv[:a11_size, :a11_size] = a11_inv
    b_inv[a11_size:, a11_size:] = np.diag(1.0 / a22)
    b_inv[a11_size:, :a11_size] = -(a21 / a22[:, None]) @ a11_inv
    g = n * (b_inv @ inner @ b_inv.T)
    h = np.eye(a11_size + npairs)
    h[a11_size:, :a11_size] = h21
    h[a11_size:, a11_size:] = np.diag(h22)
    g = h @ g @ h.T
    mean_slots = np.array([th_cols[v][0] for v in range(p) if numeric[v]], dtype=int)
    g[mean_slots, :] *= -1
    g[:, mean_slots] *= -1
    return MixedStatistics(taus, mu, var, cor, g)
