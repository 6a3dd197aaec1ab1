"""Sample statistics of ordered and continuous items given observed covariates x (lavaan's
``conditional.x = TRUE``): lavaan's ``lav_samplestats_step1`` / ``step2`` / ``muthen1984`` with ``eXo``.

Muthen (1984, Psychometrika 49); the three stages of :mod:`survey.sem.ordinal.mixed`, each conditional on x:

1. univariate: an ordered item's probit regression on x (thresholds tau, slopes beta;
   :func:`survey.sem.ordinal.probit.probit_fit`); a continuous item's linear regression on x (lavaan
   ``lav_uvreg_fit`` with ``X``: intercept, slopes by least squares, residual variance divisor N) with the
   casewise scores ``e / v`` (intercept), ``x e / v`` (slopes), ``-1 / (2 v) + e^2 / (2 v^2)`` (variance),
   ``e = y - b0 - x' b``;
2. bivariate, the step-1 estimates fixed: polychoric correlations of the ordered items' residuals
   (:func:`survey.sem.ordinal.probit.residual_correlations`), polyserial ones of a continuous residual
   ``z = e / sd`` with an ordered item at its shifted cut points ``tau_c - x' beta`` (lavaan ``lav_bvmix``
   with ``X``), and Pearson ones of two continuous residuals (``lav_bvreg``);
3. Gamma: ``G = N B^-1 SC'SC B^-T`` over the stacked casewise scores (A11 the per-item blocks over its
   thresholds / intercept, slopes and variance; A22 the diagonal over the correlations; A21 the cross-products
   of the rho scores with the pair log-likelihood's derivatives in each item's univariate parameters), then
   the delta rule ``cov_ij = rho_ij sd_i sd_j`` (sd the residual SD, 1 for ordered items), and the rows of the
   intercepts change sign (lavaan's ``WLS.obs`` holds ``-intercept``).

Statistics in lavaan's ``WLS.obs`` order: per item its thresholds or ``-intercept``, ``vec(slopes)``
(covariate by covariate, every item), the continuous items' residual variances, ``vech(COV, diagonal =
FALSE)``. Listwise complete cases, or with ``missing = "pairwise"`` the cases observed on the
covariates, each statistic from the cases observed on its item(s) (the scores of a missing case 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ndtr

from survey.sem.ordinal.bivariate import dpbinorm_da
from survey.sem.ordinal.mixed import _pair_pearson, pearson
from survey.sem.ordinal.polychoric import MAX_ABS_RHO, pair_index
from survey.sem.ordinal.probit import _dnorm, _drho, probit_fit, probit_scores, residual_correlations

_BIG = 1e3  # an infinite cut point in the polyserial scores (its densities are 0)


@dataclass
class MixedConditional:
    thresholds: list[np.ndarray]  # ordered items
    intercepts: np.ndarray  # continuous items
    variances: np.ndarray  # their residual variances
    slopes: np.ndarray  # (p, q)
    cor: np.ndarray  # (p, p) residual correlations
    gamma: np.ndarray


def _polyserial_scores(z, sd, hi, lo, rho):
    """Casewise d log l / d (rho, mean of y, var of y, upper cut, lower cut) of a continuous residual
    ``z`` (SD ``sd``) and an ordered item observed between the cut points ``lo < y* <= hi``
    (lavaan ``lav_bvmix_cor_scores``)."""
    z1, z2 = np.clip(hi, -_BIG, _BIG), np.clip(lo, -_BIG, _BIG)
    r = np.sqrt(1.0 - rho * rho)
    t1, t2 = (z1 - rho * z) / r, (z2 - rho * z) / r
    f1, f2 = _dnorm(t1), _dnorm(t2)
    inv = 1.0 / np.maximum(ndtr(t1) - ndtr(t2), np.finfo(float).eps)
    d_mu = (z + inv * (rho / r) * (f1 - f2)) / sd
    d_var = ((z * z - 1.0) + inv * rho * z / r * (f1 - f2)) / (2 * sd * sd)
    d_rho = inv / r**3 * (f1 * (z1 * rho - z) - f2 * (z2 * rho - z))
    return d_rho, d_mu, d_var, f1 / r * inv, -f2 / r * inv


def _polyserial_rho(z, hi, lo, w) -> float:
    """Two-step ML polyserial correlation: the maximum of ``sum log(Phi(t_hi) - Phi(t_lo))`` over rho
    (bounded search), polished to the root of the summed rho scores."""
    z1, z2 = np.clip(hi, -_BIG, _BIG), np.clip(lo, -_BIG, _BIG)

    def negll(r):
        s = np.sqrt(1.0 - r * r)
        return -float(w @ np.log(np.maximum(ndtr((z1 - r * z) / s) - ndtr((z2 - r * z) / s), 1e-300)))

    def score(r):
        return float(w @ _polyserial_scores(z, 1.0, hi, lo, r)[0])

    b = MAX_ABS_RHO
    r0 = float(minimize_scalar(negll, bounds=(-b, b), method="bounded", options={"xatol": 1e-8}).x)
    lo_r, hi_r = max(r0 - 1e-3, -b), min(r0 + 1e-3, b)
    if score(lo_r) * score(hi_r) < 0:
        return float(brentq(score, lo_r, hi_r, xtol=1e-12))
    return r0


def mixed_conditional(codes: np.ndarray, ncat: np.ndarray, y: np.ndarray, numeric: np.ndarray,
                      x: np.ndarray, w: np.ndarray | None = None) -> MixedConditional:
    """Stages 1-3 (module docstring): ``codes`` (N, ordered items), ``y`` (N, continuous items), ``numeric``
    the mask of the continuous ones among the p items in model order, ``x`` (N, q); complete cases. With
    sampling weights ``w`` (summing to N; lavaan ``muthen1984`` with ``wt``): weighted least squares and
    residual variances (divisor sum w), weighted likelihoods, ``SC'SC`` as ``sum_i w_i^2 sc_i sc_i'`` and the
    blocks of B as ``sum_i w_i ...`` (:mod:`survey.sem.ordinal.acov`)."""
    n, q = x.shape
    p = numeric.size
    pos = np.where(numeric, np.cumsum(numeric) - 1, np.cumsum(~numeric) - 1)
    x1 = np.hstack([np.ones((n, 1)), x])
    wt = np.ones(n) if w is None else np.asarray(w, float)
    fits = {v: probit_fit(codes[:, pos[v]], x, int(ncat[pos[v]]), w) for v in range(p) if not numeric[v]}
    ok_y = np.isfinite(y)  # pairwise: each item's regression from its observed cases
    coef = np.zeros((1 + q, y.shape[1]))
    for j in range(y.shape[1]):
        root = np.sqrt(wt[ok_y[:, j]])[:, None]
        coef[:, j] = np.linalg.lstsq(root * x1[ok_y[:, j]], root[:, 0] * y[ok_y[:, j], j], rcond=None)[0]
    resid = y - x1 @ coef  # NaN where missing
    wy = np.where(ok_y, wt[:, None], 0.0)
    var = (wy * np.nan_to_num(resid) ** 2).sum(axis=0) / wy.sum(axis=0)
    sd = np.sqrt(var)
    seen = np.zeros((n, p), bool)
    for v in range(p):
        seen[:, v] = ok_y[:, pos[v]] if numeric[v] else codes[:, pos[v]] >= 0
    # layout of the univariate block
    sizes = np.array([1 if numeric[v] else fits[v].tau.size for v in range(p)])
    start = np.concatenate([[0], np.cumsum(sizes)])
    nslots = int(start[-1])
    slope_col = [nslots + v + p * np.arange(q) for v in range(p)]
    var_col = {v: nslots + p * q + int(pos[v]) for v in range(p) if numeric[v]}
    nuni = nslots + p * q + int(numeric.sum())
    cols = [np.concatenate([np.arange(start[v], start[v + 1]), slope_col[v],
                            [var_col[v]] if numeric[v] else []]).astype(int) for v in range(p)]
    sc_uni = np.zeros((n, nuni))
    for v in range(p):
        if numeric[v]:
            e, vv = np.nan_to_num(resid[:, pos[v]]), var[pos[v]]
            sc_uni[:, start[v]] = e / vv
            sc_uni[:, slope_col[v]] = x * (e / vv)[:, None]
            sc_uni[:, var_col[v]] = np.where(seen[:, v], -1 / (2 * vv) + e * e / (2 * vv * vv), 0.0)
        else:
            s_tau, s_beta = probit_scores(fits[v], x, codes[:, pos[v]])
            sc_uni[:, start[v] : start[v + 1]] = s_tau
            sc_uni[:, slope_col[v]] = s_beta
    ii, jj = pair_index(p)
    cor = np.eye(p)
    ord_idx = np.flatnonzero(~numeric)
    ord_rho, ord_pi = (residual_correlations([fits[v] for v in ord_idx], w) if ord_idx.size > 1
                       else (np.zeros(0), np.zeros((n, 0))))
    oi, oj = pair_index(ord_idx.size)
    ord_pair = {(int(ord_idx[a]), int(ord_idx[b])): k for k, (a, b) in enumerate(zip(oi, oj, strict=True))}
    for i, j in zip(ii, jj, strict=True):
        if (i, j) in ord_pair:
            cor[i, j] = ord_rho[ord_pair[(i, j)]]
        elif numeric[i] and numeric[j]:
            a, b = pos[i], pos[j]
            cor[i, j] = pearson(resid[:, a], 0.0, var[a], resid[:, b], 0.0, var[b], w)
        else:
            num, orv = (i, j) if numeric[i] else (j, i)
            both = seen[:, i] & seen[:, j]
            cor[i, j] = _polyserial_rho(resid[both, pos[num]] / sd[pos[num]], fits[orv].upper[both],
                                        fits[orv].lower[both], wt[both])
        cor[j, i] = cor[i, j]
    npairs = ii.size
    sc_cor = np.zeros((n, npairs))
    a21 = np.zeros((npairs, nuni))
    h21 = np.zeros((npairs, nuni))
    h22 = np.ones(npairs)
    sds = np.ones(p)
    sds[numeric] = sd

    def add_cut_terms(k, v, d_rho, d_hi, d_lo):
        """A21 in an ordered item's thresholds and slopes from the case's upper / lower cut derivatives."""
        c = np.maximum(codes[:, pos[v]], 0)  # a missing case has a rho score of 0
        nt = fits[v].tau.size
        g_hi, g_lo = np.nan_to_num(wt * d_rho * d_hi), np.nan_to_num(wt * d_rho * d_lo)
        up = np.bincount(c, weights=np.where(c < nt, g_hi, 0.0), minlength=nt + 1)[:nt]
        down = np.bincount(c, weights=np.where(c > 0, g_lo, 0.0), minlength=nt + 1)[1:]
        a21[k, start[v] : start[v + 1]] += up + down
        a21[k, slope_col[v]] += -(np.nan_to_num(g_hi) + np.nan_to_num(g_lo)) @ x

    def add_mean_terms(k, v, d_rho, d_mu, d_var):
        d_mu, d_var = np.nan_to_num(d_mu), np.nan_to_num(d_var)
        a21[k, start[v]] += (wt * d_rho) @ d_mu
        a21[k, slope_col[v]] += (wt * d_rho * d_mu) @ x
        a21[k, var_col[v]] += (wt * d_rho) @ d_var

    res0 = np.nan_to_num(resid)
    for k, (i, j) in enumerate(zip(ii, jj, strict=True)):
        rho = cor[i, j]
        both = seen[:, i] & seen[:, j]
        if (i, j) in ord_pair:
            m = ord_pair[(i, j)]
            fi, fj = fits[i], fits[j]
            pi = ord_pi[:, m]
            d_rho = np.where(both, _drho(fi.upper, fi.lower, fj.upper, fj.lower, rho) / pi, 0.0)
            for f, g in ((fi, fj), (fj, fi)):
                hi = (dpbinorm_da(f.upper, g.upper, rho) - dpbinorm_da(f.upper, g.lower, rho)) / pi
                lo = -(dpbinorm_da(f.lower, g.upper, rho) - dpbinorm_da(f.lower, g.lower, rho)) / pi
                add_cut_terms(k, i if f is fi else j, d_rho, hi, lo)
        elif numeric[i] and numeric[j]:
            a, b = pos[i], pos[j]
            d_rho, m1, v1, m2, v2 = _pair_pearson(res0[:, a], 0.0, var[a], res0[:, b], 0.0, var[b], rho)
            d_rho = np.where(both, d_rho, 0.0)
            add_mean_terms(k, i, d_rho, m1, v1)
            add_mean_terms(k, j, d_rho, m2, v2)
        else:
            num, orv = (i, j) if numeric[i] else (j, i)
            s = sd[pos[num]]
            d_rho, d_mu, d_var, d_hi, d_lo = _polyserial_scores(res0[:, pos[num]] / s, s, fits[orv].upper,
                                                                fits[orv].lower, rho)
            d_rho = np.where(both, d_rho, 0.0)
            add_mean_terms(k, num, d_rho, d_mu, d_var)
            add_cut_terms(k, orv, d_rho, d_hi, d_lo)
        sc_cor[:, k] = d_rho
        for v, w in ((i, j), (j, i)):
            if numeric[v]:
                h21[k, var_col[v]] = sds[w] * rho / (2 * sds[v])
        h22[k] = sds[i] * sds[j]
    scores = np.hstack([sc_uni, sc_cor])
    inner = scores.T @ (wt[:, None] ** 2 * scores)
    hessian = scores.T @ (wt[:, None] * scores)
    a11 = np.zeros((nuni, nuni))
    for c in cols:
        a11[np.ix_(c, c)] = hessian[np.ix_(c, c)]
    a22 = np.diag(hessian)[nuni:]
    a11_inv = np.linalg.inv(a11)
    b_inv = np.zeros_like(inner)
    b_inv[:nuni, :nuni] = a11_inv
    b_inv[nuni:, nuni:] = np.diag(1.0 / a22)
    b_inv[nuni:, :nuni] = -(a21 / a22[:, None]) @ a11_inv
    g = n * (b_inv @ inner @ b_inv.T)
    h = np.eye(nuni + npairs)
    h[nuni:, :nuni] = h21
    h[nuni:, nuni:] = np.diag(h22)
    g = h @ g @ h.T
    mean_slots = start[:-1][numeric]
    g[mean_slots, :] *= -1
    g[:, mean_slots] *= -1
    slopes = np.zeros((p, q))
    for v in range(p):
        slopes[v] = coef[1:, pos[v]] if numeric[v] else fits[v].beta
    return MixedConditional([fits[v].tau for v in ord_idx], coef[0], var, slopes, cor, g)


def mixed_conditional_sample(data, items: list[str], numeric: tuple[str, ...], covariates: list[str],
                             missing: str, weights: tuple[str | None, str] = (None, "total")):
    """The fit's :class:`~survey.sem.ordinal.sample.SampleStatistics` of mixed items given the covariates
    (module docstring; listwise complete cases on the items and covariates, lavaan's default)."""
    from survey.errors import SurveyInputError
    from survey.sem.ordinal.conditional import covariate_moments
    from survey.sem.ordinal.mixed import complete_cases
    from survey.sem.ordinal.sample import SampleStatistics

    if missing not in ("listwise", "pairwise"):
        raise SurveyInputError(f"missing={missing!r} is not available for ordered items (available: "
                               "listwise, pairwise)", field="missing")
    names = list(items) + list(covariates)
    absent = [c for c in names if c not in data.columns]
    if absent:
        raise SurveyInputError("variable not found in the data", column=absent[0], field="model")
    data = data[data[list(covariates)].notna().all(axis=1)]  # cases missing a covariate are deleted
    w_all = None
    if weights[0]:
        from survey.sem.data.weighted import design_from

        w_all = design_from(data, weights[0], None, weights[1]).weights
    md = complete_cases(data, names, set(items) - set(numeric), pairwise=missing == "pairwise", weights=w_all,
                        normalize=weights[1] != "none")
    num_names = [v for v in names if v not in set(items) - set(numeric)]
    vals = md.values
    x = vals[:, [num_names.index(v) for v in covariates]]
    if x.shape[1] > 1 and np.linalg.matrix_rank(x - x.mean(axis=0)) < x.shape[1]:
        raise SurveyInputError("the covariates are collinear in the cases used", column=covariates[-1],
                               field="model")
    mask = np.isin(items, list(numeric))
    y = vals[:, [num_names.index(v) for v in items if v in set(numeric)]]
    st = mixed_conditional(md.codes.codes, md.codes.ncat, y, mask, x, md.weights)
    out = SampleStatistics(list(items), st.thresholds, st.cor, st.gamma, md.n, mask, st.intercepts,
                           st.variances)
    out.slopes = st.slopes
    out.x_mean, out.x_cov = covariate_moments(x, md.weights)
    if weights[0] and weights[1] == "none":  # lavaan's N is the weight sum (SampleStatistics.weight_sum)
        out.weight_sum = float(md.weights.sum())
    return out
