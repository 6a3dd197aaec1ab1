"""Step 2: two-step polychoric correlations (all pairs at once) and polyserial correlations.

Polychoric (Olsson 1979, Psychometrika 44, "two-step" estimator; lavaan ``lav_bvord_cor_twostep_fit``):
with the thresholds of step 1 held fixed, rho_ij maximises the pair's multinomial log-likelihood

    l(rho) = sum_kl n_kl log pi_kl(rho),  pi_kl = Phi2(tau_k, sigma_l) - Phi2(tau_{k-1}, sigma_l)
                                                   - Phi2(tau_k, sigma_{l-1}) + Phi2(tau_{k-1}, sigma_{l-1}),

over the cases observed on both variables (pairwise present; lavaan's ``missing = "pairwise"``);
2 x 2 tables with empty cells follow lavaan's rules (:func:`_two_by_two`).
All pairs are solved together by Fisher scoring, rho <- rho + l'(rho) / I(rho) with
``l' = sum n_kl pi'_kl / pi_kl`` and ``I = n sum pi'^2_kl / pi_kl``, ``pi'`` the rectangles of
``phi2`` (:mod:`survey.sem.ordinal.bivariate`). Empty cells of tables larger than 2 x 2 get nothing
(lavaan's ``zero.add = c(0.5, 0)``).

Polyserial (Olsson, Drasgow & Dorans 1982, Psychometrika 47, two-step ML; lavaan ``lav_bvmix``): with
z = (x - mean) / sd (sd with divisor N) and the ordinal variable's thresholds fixed,

    l(rho) = sum_i log[Phi((tau_c - rho z_i) / s) - Phi((tau_{c-1} - rho z_i) / s)],  s = sqrt(1 - rho^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr, ndtri

from survey.sem.ordinal.bivariate import dbinorm, pbinorm, rectangles
from survey.sem.ordinal.thresholds import OrdinalCodes, extended

MAX_ABS_RHO = 0.9999


def pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i, j), i > j, in lavaan's order: the strict lower triangle column by column
    (``vech(R, diagonal = FALSE)``: (2,1), (3,1), ..., (p,1), (3,2), ...)."""
    jj, ii = np.triu_indices(p, k=1)
    order = np.lexsort((ii, jj))
    return ii[order], jj[order]


def pair_tables(codes: OrdinalCodes, kmax: int | None = None) -> np.ndarray:
    """Contingency tables of every pair, (npairs, kmax, kmax); a case counts (its sampling weight) where
    both are observed."""
    kmax = kmax if kmax is not None else int(codes.ncat.max())
    n, p = codes.codes.shape
    onehot = np.zeros((n, p * kmax))
    obs = codes.codes >= 0
    rows, cols = np.nonzero(obs)
    onehot[rows, cols * kmax + codes.codes[rows, cols]] = 1.0
    cross = (onehot.T @ (codes.w[:, None] * onehot)).reshape(p, kmax, p, kmax)
    ii, jj = pair_index(p)
    return cross[ii, :, jj, :]


@dataclass
class PairModel:
    """Cell probabilities of every pair's table at its correlation, and the derivative in rho."""

    prob: np.ndarray  # (npairs, K, K)
    dprob: np.ndarray  # d prob / d rho
    lower: np.ndarray  # thresholds of the first variable of each pair, (npairs, K+1)
    upper: np.ndarray  # of the second


def pair_model(ext: np.ndarray, rho: np.ndarray) -> PairModel:
    """Probabilities for pairs (i, j) in :func:`pair_index` order at correlations ``rho``."""
    ii, jj = pair_index(ext.shape[0])
    a = ext[ii][:, :, None]
    b = ext[jj][:, None, :]
    r = rho[:, None, None]
    prob = rectangles(pbinorm(a, b, r))
    dprob = rectangles(dbinorm(a, b, r))
    return PairModel(np.maximum(prob, 0.0), dprob, ext[ii], ext[jj])


def _start(tables: np.ndarray) -> np.ndarray:
    """Pearson correlation of the category codes in each table (a start below the polychoric)."""
    k = np.arange(tables.shape[1], dtype=float)
    n = tables.sum(axis=(1, 2))
    pi, pj = tables.sum(axis=2) / n[:, None], tables.sum(axis=1) / n[:, None]
    mi, mj = pi @ k, pj @ k
    vi, vj = pi @ k**2 - mi**2, pj @ k**2 - mj**2
    cov = np.einsum("pkl,k,l->p", tables, k, k) / n - mi * mj
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vi * vj)
    return np.clip(np.nan_to_num(r), -0.95, 0.95)


def _two_by_two(tables: np.ndarray, taus: list[np.ndarray]) -> tuple[np.ndarray, dict[int, float]]:
    """lavaan's treatment of 2 x 2 tables (``lav_bvord_cor_twostep_fit``, ``zero.add = c(0.5, 0)``,
    ``zero.keep.margins = TRUE``): one empty cell gets 0.5, moved from the other diagonal so that the
    margins stay; two empty cells give rho = +-1 (here +-MAX_ABS_RHO); ``ad = bc`` gives 0; thresholds
    both at 0 give Brown & Benedetti's (1977) ``-cos(2 pi p_11)``. Larger tables are left as they are."""
    tables = tables.copy()
    fixed: dict[int, float] = {}
    ii, jj = pair_index(len(taus))
    for q, (i, j) in enumerate(zip(ii, jj, strict=True)):
        if taus[i].size != 1 or taus[j].size != 1:
            continue
        t = tables[q, :2, :2]
        zeros = np.flatnonzero(t.ravel() == 0)
        if zeros.size == 2:
            fixed[q] = MAX_ABS_RHO if t[0, 0] > 0 else -MAX_ABS_RHO
            continue
        if zeros.size == 1:
            sign = 1.0 if zeros[0] in (0, 3) else -1.0
            t += sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
        if t[0, 0] * t[1, 1] == t[0, 1] * t[1, 0]:
            fixed[q] = 0.0
        elif taus[i][0] == 0 and taus[j][0] == 0:
            fixed[q] = -np.cos(2 * np.pi * t[0, 0] / t.sum())
    return tables, fixed


def polychoric(tables: np.ndarray, taus: list[np.ndarray], *, tol: float = 1e-10,
               max_iter: int = 200) -> np.ndarray:
    """Two-step polychoric correlations of every pair (module docstring), in :func:`pair_index` order."""
    tables, fixed = _two_by_two(tables, taus)
    ext = extended(taus, tables.shape[1])
    n = tables.sum(axis=(1, 2))
    rho = _start(tables)
    occupied = tables > 0
    for _ in range(max_iter):
        m = pair_model(ext, rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(occupied, m.dprob / m.prob, 0.0)
            info_terms = np.where(m.prob > 0, m.dprob**2 / m.prob, 0.0)
        score = (tables * ratio).sum(axis=(1, 2))
        info = n * info_terms.sum(axis=(1, 2))
        step = np.where(info > 0, score / info, 0.0)
        new = np.clip(rho + step, -MAX_ABS_RHO, MAX_ABS_RHO)
        # keep each step inside (-1, 1) and halve it while the log-likelihood falls
        loglik_old = _loglik(tables, m.prob)
        for _half in range(30):
            ll_new = _loglik(tables, pair_model(ext, new).prob)
            worse = ll_new < loglik_old - 1e-12
            if not worse.any():
                break
            new = np.where(worse, (new + rho) / 2, new)
        done = np.abs(new - rho).max() < tol
        rho = new
        if done:
            break
    for q, value in fixed.items():
        rho[q] = value
    return rho


def _loglik(tables: np.ndarray, prob: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(tables > 0, tables * np.log(prob), 0.0)
    return terms.sum(axis=(1, 2))


def as_matrix(rho: np.ndarray, p: int) -> np.ndarray:
    """The p x p correlation matrix from the pairs' correlations."""
    out = np.eye(p)
    ii, jj = pair_index(p)
    out[ii, jj] = rho
    out[jj, ii] = rho
    return out


def polyserial(x: np.ndarray, codes: np.ndarray, tau: np.ndarray, w: np.ndarray | None = None) -> float:
    """Two-step polyserial correlation of continuous ``x`` with ordinal ``codes`` (0..K-1, -1 missing)
    given the ordinal variable's thresholds ``tau`` (module docstring); cases observed on both; with
    sampling weights ``w`` the weighted likelihood and the weighted mean and variance of x."""
    x = np.asarray(x, dtype=float)
    w = np.ones(x.size) if w is None else np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (codes >= 0)
    # the continuous variable's mean and variance from its own observed cases (lavaan's step 1)
    seen = np.isfinite(x)
    m = w[seen] @ x[seen] / w[seen].sum()
    sd = np.sqrt(w[seen] @ (x[seen] - m) ** 2 / w[seen].sum())
    z = (x[ok] - m) / sd
    wo = w[ok]
    c = codes[ok]
    ext = np.concatenate([[-np.inf], tau, [np.inf]])
    hi, lo = ext[c + 1], ext[c]

    def negloglik(rho: float) -> float:
        s = np.sqrt(1.0 - rho * rho)
        prob = ndtr((hi - rho * z) / s) - ndtr((lo - rho * z) / s)
        return -float(wo @ np.log(np.maximum(prob, 1e-300)))

    res = minimize_scalar(negloglik, bounds=(-MAX_ABS_RHO, MAX_ABS_RHO), method="bounded",
                          options={"xatol": 1e-10})
    return float(res.x)


def polyserial_adhoc(x: np.ndarray, y: np.ndarray) -> float:
    """Olsson, Drasgow & Dorans' (1982, eq. 8) ad hoc polyserial estimate (R polycor ``ML = FALSE``):
    ``rho = r_xy sd_y / sum_k phi(tau_k)`` with r_xy the Pearson correlation of x with the category
    scores y, sd_y their SD (divisor N) and tau the marginal thresholds; complete pairs only."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    _, counts = np.unique(y, return_counts=True)
    tau = ndtri(np.cumsum(counts)[:-1] / y.size)
    dens = np.exp(-tau**2 / 2) / np.sqrt(2 * np.pi)
    return float(np.corrcoef(x, y)[0, 1] * y.std() / dens.sum())
