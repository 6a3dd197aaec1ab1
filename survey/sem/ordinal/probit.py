"""Steps 1-3 with observed covariates x (lavaan's ``conditional.x = TRUE``, its default for ordered items).

Muthen (1984, Psychometrika 49) and lavaan's ``lav_samplestats_step1`` / ``step2`` / ``muthen1984`` with
``eXo``: the sample statistics are conditional on x.

- Step 1, one probit regression per item (lavaan ``lav_uvord_fit`` with ``X``): y* = x' beta + e,
  e ~ N(0, 1), ``P(y <= k | x) = Phi(tau_k - x' beta)``; thresholds tau and slopes beta by maximum
  likelihood. Casewise scores, with ``z_c = tau_c - x' beta`` and ``p = Phi(z_c) - Phi(z_{c-1})`` for a case
  in category c: ``d/d tau_c = phi(z_c) / p``, ``d/d tau_{c-1} = -phi(z_{c-1}) / p``,
  ``d/d beta = -x (phi(z_c) - phi(z_{c-1})) / p``.
- Step 2, the residual (polychoric) correlation of each pair with the step-1 estimates fixed (lavaan
  ``lav_bvord_cor_twostep_fit`` with ``X``): rho maximises ``sum_cases log pi(rho)``, pi the case's
  rectangle of ``Phi2`` at its own shifted thresholds ``z``.
- Step 3, Gamma = N B^-1 INNER B^-T as without covariates (:mod:`survey.sem.ordinal.acov`), the
  per-variable blocks of A11 now over (thresholds, slopes) and A21 the cross-products of the rho scores with
  the bivariate log-likelihood's derivatives in each variable's thresholds and slopes.

The statistics are ordered as lavaan's ``WLS.obs``: thresholds variable by variable, the slopes
``vec(SLOPES)`` (covariate by covariate, every item), then the residual correlations in
:func:`~survey.sem.ordinal.polychoric.pair_index` order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr, ndtri

from survey.errors import EstimationError
from survey.sem.ordinal.bivariate import dbinorm, dpbinorm_da, pbinorm
from survey.sem.ordinal.polychoric import MAX_ABS_RHO, pair_index

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def _dnorm(z: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(z), np.exp(-np.minimum(z * z, 1e300) / 2) / _SQRT_2PI, 0.0)


@dataclass
class Probit:
    """One item's probit regression: thresholds, slopes and the cases' shifted cut points."""

    tau: np.ndarray  # (K - 1,)
    beta: np.ndarray  # (q,)
    upper: np.ndarray  # z_c per case (+inf in the top category)
    lower: np.ndarray  # z_{c-1} per case (-inf in the bottom category)


def _cuts(codes: np.ndarray, x: np.ndarray, tau: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, ...]:
    ext = np.concatenate([[-np.inf], tau, [np.inf]])
    eta = x @ beta
    return ext[codes + 1] - eta, ext[codes] - eta


def _unpack(par: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds from (tau_1, log increments), then the slopes."""
    tau = np.cumsum(np.concatenate([par[:1], np.exp(par[1 : k - 1])]))
    return tau, par[k - 1 :]


def probit_fit(codes: np.ndarray, x: np.ndarray, ncat: int, w: np.ndarray | None = None) -> Probit:
    """Maximum-likelihood thresholds and slopes of one item (codes 0..K-1, -1 missing) on covariates ``x``
    (N, q) from its observed cases; with sampling weights ``w`` the weighted log-likelihood
    ``sum_i w_i log p_i``. A missing case gets the cut points (+inf, -inf): probability 1, scores 0."""
    w_all = np.ones(codes.size) if w is None else w
    obs = codes >= 0
    fit = _probit_observed(codes[obs], x[obs], ncat, w_all[obs])
    hi = np.full(codes.size, np.inf)
    lo = np.full(codes.size, -np.inf)
    hi[obs], lo[obs] = fit.upper, fit.lower
    return Probit(fit.tau, fit.beta, hi, lo)


def _probit_observed(codes: np.ndarray, x: np.ndarray, ncat: int, w: np.ndarray) -> Probit:
    counts = np.bincount(codes, weights=w, minlength=ncat)
    tau0 = ndtri(np.cumsum(counts)[:-1] / counts.sum())
    start = np.concatenate([tau0[:1], np.log(np.diff(tau0)), np.zeros(x.shape[1])])

    def negloglik(par: np.ndarray) -> tuple[float, np.ndarray]:
        tau, beta = _unpack(par, ncat)
        hi, lo = _cuts(codes, x, tau, beta)
        p = np.maximum(ndtr(hi) - ndtr(lo), 1e-300)
        d_hi, d_lo = w * _dnorm(hi) / p, w * _dnorm(lo) / p
        g_tau = (np.bincount(codes, weights=d_hi, minlength=ncat)[: ncat - 1]
                 - np.bincount(codes, weights=d_lo, minlength=ncat)[1:])
        g_beta = -(d_hi - d_lo) @ x
        # chain rule to (tau_1, log increments): d tau_m / d u_l = exp(u_l) for m >= l
        g_par = np.concatenate([[g_tau.sum()], np.cumsum(g_tau[::-1])[::-1][1:] * np.diff(tau), g_beta])
        return -float(w @ np.log(p)), -g_par

    res = minimize(negloglik, start, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
    # BFGS stops on precision loss near the optimum; a gradient this large means it did not get there
    if not np.all(np.isfinite(res.x)) or np.abs(res.jac).max() > 1e-4 * max(codes.size, 1):
        raise EstimationError("the probit regression of an item on the covariates did not converge")
    tau, beta = _unpack(res.x, ncat)
    hi, lo = _cuts(codes, x, tau, beta)
    return Probit(tau, beta, hi, lo)


def probit_scores(fit: Probit, x: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Casewise scores of one item's probit log-likelihood in its thresholds (N, K-1) and slopes (N, q);
    0 for a missing case."""
    k = fit.tau.size
    p = ndtr(fit.upper) - ndtr(fit.lower)
    d_hi, d_lo = _dnorm(fit.upper) / p, _dnorm(fit.lower) / p
    rows = np.arange(codes.size)
    sc_tau = np.zeros((codes.size, k))
    up = (codes >= 0) & (codes < k)
    sc_tau[rows[up], codes[up]] = d_hi[up]
    lo = codes > 0
    sc_tau[rows[lo], codes[lo] - 1] = -d_lo[lo]
    return sc_tau, -(d_hi - d_lo)[:, None] * x


def _rectangle(a_hi, a_lo, b_hi, b_lo, rho) -> np.ndarray:
    return (pbinorm(a_hi, b_hi, rho) - pbinorm(a_lo, b_hi, rho) - pbinorm(a_hi, b_lo, rho)
            + pbinorm(a_lo, b_lo, rho))


def _drho(a_hi, a_lo, b_hi, b_lo, rho) -> np.ndarray:
    return (dbinorm(a_hi, b_hi, rho) - dbinorm(a_lo, b_hi, rho) - dbinorm(a_hi, b_lo, rho)
            + dbinorm(a_lo, b_lo, rho))


def _d2rho(a_hi, a_lo, b_hi, b_lo, rho) -> np.ndarray:
    """d^2 pi / d rho^2: the rectangle of d phi2 / d rho = phi2 (rho + ab - rho Q / (1 - rho^2)) /
    (1 - rho^2), Q = a^2 - 2 rho a b + b^2 (0 at an infinite cut)."""
    def one(a, b):
        fin = np.isfinite(a) & np.isfinite(b)
        aa, bb = np.where(fin, a, 0.0), np.where(fin, b, 0.0)
        om = 1.0 - rho * rho
        q = aa * aa - 2 * rho * aa * bb + bb * bb
        return np.where(fin, dbinorm(aa, bb, rho) * (rho + aa * bb - rho * q / om) / om, 0.0)
    return one(a_hi, b_hi) - one(a_lo, b_hi) - one(a_hi, b_lo) + one(a_lo, b_lo)


def residual_correlations(fits: list[Probit], w: np.ndarray | None = None, tol: float = 1e-9,
                          max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Step 2 for every pair at once: Newton steps on each pair's log-likelihood (the outer-product
    information where the curvature is not negative), halved while a pair's log-likelihood falls; in
    :func:`pair_index` order, with the cases' rectangle probabilities at the solution (N, npairs)."""
    ii, jj = pair_index(len(fits))
    cuts = (np.stack([fits[i].upper for i in ii], axis=1), np.stack([fits[i].lower for i in ii], axis=1),
            np.stack([fits[j].upper for j in jj], axis=1), np.stack([fits[j].lower for j in jj], axis=1))
    rho = np.zeros(ii.size)
    w = np.ones(cuts[0].shape[0]) if w is None else w
    wc = w[:, None]

    def prob(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pi = np.maximum(_rectangle(*cuts, r), 1e-300)
        return pi, w @ np.log(pi)

    pi, ll = prob(rho)
    for _ in range(max_iter):
        sc = _drho(*cuts, rho) / pi
        hess = (wc * (_d2rho(*cuts, rho) / pi - sc * sc)).sum(axis=0)
        curv = np.where(hess < 0, -hess, (wc * sc * sc).sum(axis=0))
        step = (wc * sc).sum(axis=0) / np.maximum(curv, 1e-300)
        new = np.clip(rho + step, -MAX_ABS_RHO, MAX_ABS_RHO)
        for _half in range(40):
            pi_new, ll_new = prob(new)
            worse = ll_new < ll - 1e-9 * np.abs(ll)
            if not worse.any():
                break
            new = np.where(worse, (new + rho) / 2, new)
        done = np.abs(new - rho).max() < tol
        rho, ll, pi = new, ll_new, pi_new
        if done:
            return rho, pi
    raise EstimationError("the residual polychoric correlations did not converge")


@dataclass
class ConditionalStatistics:
    """Thresholds, slopes (p, q), residual correlations and Gamma of the items given x."""

    thresholds: list[np.ndarray]
    slopes: np.ndarray
    rho: np.ndarray
    gamma: np.ndarray


def conditional_statistics(codes: np.ndarray, ncat: np.ndarray, x: np.ndarray,
                           w: np.ndarray | None = None) -> ConditionalStatistics:
    """Steps 1-3 for ``codes`` (N, p; 0..K-1, -1 missing: pairwise present cases, lavaan's
    ``missing = "pairwise"``) and covariates ``x`` (N, q) (module docstring);
    with sampling weights ``w`` (summing to N) the weighted likelihoods and lavaan's weighted Gamma
    (INNER = sum w^2 sc sc', B from sum w ...; :mod:`survey.sem.ordinal.acov`)."""
    n, p = codes.shape
    q = x.shape[1]
    fits = [probit_fit(codes[:, j], x, int(ncat[j]), w) for j in range(p)]
    rho, pi = residual_correlations(fits, w)
    wt = np.ones(n) if w is None else w
    ii, jj = pair_index(p)
    nth = [f.tau.size for f in fits]
    th_start = np.concatenate([[0], np.cumsum(nth)])
    nth_all = int(th_start[-1])
    sc_th = np.zeros((n, nth_all))
    sc_sl = np.zeros((n, p * q))
    for j, f in enumerate(fits):
        s_tau, s_beta = probit_scores(f, x, codes[:, j])
        sc_th[:, th_start[j] : th_start[j + 1]] = s_tau
        sc_sl[:, j + p * np.arange(q)] = s_beta  # lavaan: seq(j, by = nvar)
    a_hi = np.stack([fits[i].upper for i in ii], axis=1)
    a_lo = np.stack([fits[i].lower for i in ii], axis=1)
    b_hi = np.stack([fits[j].upper for j in jj], axis=1)
    b_lo = np.stack([fits[j].lower for j in jj], axis=1)
    sc_rho = _drho(a_hi, a_lo, b_hi, b_lo, rho) / pi
    # d pi / d a at the upper and lower cut of the first variable (and of the second, by symmetry)
    da_hi = dpbinorm_da(a_hi, b_hi, rho) - dpbinorm_da(a_hi, b_lo, rho)
    da_lo = dpbinorm_da(a_lo, b_hi, rho) - dpbinorm_da(a_lo, b_lo, rho)
    db_hi = dpbinorm_da(b_hi, a_hi, rho) - dpbinorm_da(b_hi, a_lo, rho)
    db_lo = dpbinorm_da(b_lo, a_hi, rho) - dpbinorm_da(b_lo, a_lo, rho)
    uni = np.hstack([sc_th, sc_sl])
    scores = np.hstack([uni, sc_rho])
    inner = scores.T @ (wt[:, None] ** 2 * scores)
    hessian = scores.T @ (wt[:, None] * scores)
    nuni = uni.shape[1]
    a11 = np.zeros((nuni, nuni))
    blocks = [np.concatenate([np.arange(th_start[j], th_start[j + 1]), nth_all + j + p * np.arange(q)])
              for j in range(p)]
    for cols in blocks:
        a11[np.ix_(cols, cols)] = hessian[np.ix_(cols, cols)]
    a21 = np.zeros((ii.size, nuni))
    for which, d_hi, d_lo in ((ii, da_hi, da_lo), (jj, db_hi, db_lo)):
        for qq in range(ii.size):
            v = which[qq]
            c = np.maximum(codes[:, v], 0)  # a missing case has w_hi = w_lo = 0 (its rho score is 0)
            k = nth[v]
            w_hi = wt * sc_rho[:, qq] * d_hi[:, qq] / pi[:, qq]
            w_lo = wt * sc_rho[:, qq] * d_lo[:, qq] / pi[:, qq]
            g_tau = (np.bincount(c, weights=np.where(c < k, w_hi, 0.0), minlength=k + 1)[:k]
                     - np.bincount(c, weights=np.where(c > 0, w_lo, 0.0), minlength=k + 1)[1:])
            a21[qq, th_start[v] : th_start[v + 1]] = g_tau
            a21[qq, nth_all + v + p * np.arange(q)] = -(np.nan_to_num(w_hi) - np.nan_to_num(w_lo)) @ x
    a22 = np.diag(hessian)[nuni:]
    b_inv = np.zeros_like(inner)
    a11_inv = np.linalg.inv(a11)
    b_inv[:nuni, :nuni] = a11_inv
    b_inv[nuni:, nuni:] = np.diag(1.0 / a22)
    b_inv[nuni:, :nuni] = -(a21 / a22[:, None]) @ a11_inv
    gamma = n * (b_inv @ inner @ b_inv.T)
    return ConditionalStatistics([f.tau for f in fits], np.array([f.beta for f in fits]), rho, gamma)
