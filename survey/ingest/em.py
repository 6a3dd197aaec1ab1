"""Maximum-likelihood mean and covariance of multivariate-normal data with missing values, by EM, and
the grouping of rows by missingness pattern that it (and Little's test, :mod:`survey.ingest.missing`)
rests on. EM: Little & Rubin (2002), Statistical Analysis with Missing Data, 2nd ed., section 11.2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survey.errors import EstimationError


def row_keys(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal rows of a boolean matrix: (group id of each row, first row of each group).

    Column j sets bit j % 64 of the row's 64-bit word j // 64 (built column by column, contiguous for
    pandas' column-major masks), an injective key, so that grouping a million rows is hashing integers;
    groups are numbered in order of their first row (``pandas.factorize(sort=False)``)."""
    mask = np.asarray(mask, dtype=bool)
    n, p = mask.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    words = max(1, -(-p // 64))
    keys = np.zeros((words, n), dtype=np.uint64)
    for j in range(p):
        keys[j // 64] |= mask[:, j].astype(np.uint64) << np.uint64(j % 64)
    codes = keys[0] if words == 1 else pd.MultiIndex.from_arrays(list(keys))
    group, uniques = pd.factorize(codes, sort=False)
    first = np.full(len(uniques), n, dtype=np.intp)
    np.minimum.at(first, group, np.arange(n))
    return group.astype(np.intp), first


def pattern_codes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique rows of a boolean matrix, index of each row's pattern, pattern sizes)."""
    mask = np.asarray(mask, dtype=bool)
    group, first = row_keys(mask)
    return mask[first], group, np.bincount(group, minlength=len(first))


def _take(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]``, gathering along contiguous memory for column-major arrays (pandas' layout)."""
    if a.flags.f_contiguous and not a.flags.c_contiguous:
        return a.T[:, rows].T
    return a[rows]


def _patterns(a: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Unique observed-masks, the row indices of each, and each row's pattern number."""
    pats, inverse, _ = pattern_codes(~np.isnan(a))
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(pats)))[:-1]
    return pats, np.split(order, bounds), inverse


def _float_matrix(data: pd.DataFrame | np.ndarray) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.astype("float64", copy=False)
    if all(pd.api.types.is_float_dtype(t) for t in data.dtypes):
        return data.to_numpy(dtype="float64")
    return np.asarray(data.apply(pd.to_numeric, errors="coerce"), dtype="float64")


#: Rows per block when the complete rows' sums are accumulated (no copy of every complete row at once;
#: up to BLOCK rows are summed exactly as in one piece).
BLOCK = 1 << 16


def _col_moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.nanmean(a, axis=0)`` and ``numpy.nanvar(a, axis=0)`` one column at a time, with numpy's
    operations (the sum of the non-missing values over their count; the squared deviations, zero
    where missing, summed over the count), without their n x p copies. Equal to numpy's bit for bit on
    column-major data (pandas' layout), where numpy also sums each column as one contiguous run; other
    layouts are left to numpy."""
    if not a.flags.f_contiguous:
        return np.nanmean(a, axis=0), np.nanvar(a, axis=0)
    p = a.shape[1]
    mean, var = np.empty(p), np.empty(p)
    for j in range(p):
        col = a[:, j]
        ok = ~np.isnan(col)
        cnt = np.intp(ok.sum())
        x = np.where(ok, col, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[j] = x.sum() / cnt
            x -= mean[j]
            x[~ok] = 0.0
            var[j] = (x * x).sum() / cnt
    return mean, var


def _answered(a: np.ndarray) -> np.ndarray:
    empty = np.isnan(a).all(axis=1)
    return _take(a, ~empty) if empty.any() else a


def _solve_batches(partial: list[tuple[Any, ...]]) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
    """The partial patterns grouped by their numbers of observed and missing variables: (positions in
    ``partial``, observed indices stacked k x p_o, missing indices stacked k x p_m), so that each
    E-step solves one stack of systems per group instead of one call per pattern."""
    by_shape: dict[tuple[int, int], list[int]] = {}
    for i, (o, m, _rows) in enumerate(partial):
        if len(o):
            by_shape.setdefault((len(o), len(m)), []).append(i)
    return [
        (pos, np.stack([partial[i][0] for i in pos]), np.stack([partial[i][1] for i in pos]))
        for pos in by_shape.values()
    ]


def _regressions(
    sigma: np.ndarray, batches: list[tuple[list[int], np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """Per group of partial patterns, the stack of B = Sigma_MO Sigma_OO^-1 (k x p_m x p_o): each group's
    systems Sigma_OO B' = Sigma_MO' are solved as one stack (``numpy.linalg.solve`` runs LAPACK gesv
    on each matrix of a stack, as on a single one)."""
    out = []
    for _, o, m in batches:
        s_oo = sigma[o[:, :, None], o[:, None, :]]
        s_mo = sigma[m[:, :, None], o[:, None, :]]  # Sigma need not be exactly symmetric: as E-step
        out.append(np.linalg.solve(s_oo, s_mo.transpose(0, 2, 1)).transpose(0, 2, 1))
    return out


def _pattern_moments(
    a: np.ndarray, partial: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    batches: list[tuple[list[int], np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group of partial patterns, the stacks of their sufficient statistics over their rows: row
    counts n_j (k), sums of the observed columns S1_j (k x p_o) and their cross-products S2_j
    (k x p_o x p_o), computed once (Little & Rubin, 2002, section 11.2.1: the E-step needs only these)."""
    out = []
    for pos, o, _ in batches:
        cnt, s1, s2 = [], [], []
        for i, oi in zip(pos, o, strict=True):
            x = _take(a, partial[i][2])[:, oi]
            cnt.append(len(x))
            s1.append(x.sum(axis=0))
            s2.append(x.T @ x)
        out.append((np.array(cnt, dtype="float64"), np.stack(s1), np.stack(s2)))
    return out


def em_mvnorm(
    data: pd.DataFrame | np.ndarray,
    max_iter: int = 10000,
    tol: float = 1e-10,
    _groups: tuple[np.ndarray, list[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """ML estimates of mean and covariance under MVN with missing values, by EM.

    E-step per pattern j (n_j rows, observed O, missing M, B = Sigma_MO Sigma_OO^-1, c = mu_M - B mu_O):
    E[x_M | x_O] = c + B x_O, so the expected sums follow from the pattern's sums S1 = sum x_O and
    cross-products S2 = sum x_O x_O' alone: sum E[x_M] = n_j c + B S1, sum x_O E[x_M]' = S1 c' + S2 B',
    sum E[x_M x_M'] = n_j c c' + B S1 c' + c S1' B' + B S2 B' + n_j (Sigma_MM - B Sigma_OM)
    (Little & Rubin, 2002, section 11.2.1); each iteration costs O(patterns), not O(rows). M-step:
    mu = T1/n, Sigma = T2/n - mu mu'. Stops when no estimate changes by more than ``tol``.
    Returns (mu, Sigma, iters).
    """
    a = _answered(_float_matrix(data))
    if a.shape[0] < 2:
        raise EstimationError("EM needs at least two rows with an answer")
    pats, groups, _ = _patterns(a) if _groups is None else _groups
    return _em_fit(a, pats, groups, max_iter, tol)[:3]


def _em_fit(
    a: np.ndarray, pats: np.ndarray, groups: list[np.ndarray], max_iter: int = 10000, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, int, list[np.ndarray]]:
    """:func:`em_mvnorm` on rows ``a`` (each with an answer) grouped by pattern; also returns each
    pattern's sums of its observed columns (what Little's test needs besides mu and Sigma)."""
    n, p = a.shape
    mu, var = _col_moments(a)
    sigma = np.diag(var)
    # complete rows, and the observed parts of the others, contribute the same sums at every iteration
    const1, const2 = np.zeros(p), np.zeros((p, p))
    partial, where = [], []
    sums: list[np.ndarray] = [np.zeros(0)] * len(pats)
    for g, (pat, rows) in enumerate(zip(pats, groups, strict=True)):
        if pat.all():
            total = np.zeros(p)
            for start in range(0, len(rows), BLOCK):
                x = _take(a, rows[start : start + BLOCK])
                total += x.sum(axis=0)
                const2 += x.T @ x
            const1 += total
            sums[g] = total
        else:
            partial.append((np.flatnonzero(pat), np.flatnonzero(~pat), rows))
            where.append(g)
    batches = _solve_batches(partial)
    moments = _pattern_moments(a, partial, batches)
    for (pos, o, _), (_, s1, s2) in zip(batches, moments, strict=True):
        for i, row in zip(pos, s1, strict=True):
            sums[where[i]] = row
        np.add.at(const1, o, s1)
        np.add.at(const2, (o[:, :, None], o[:, None, :]), s2)
    for it in range(1, max_iter + 1):
        t1 = const1.copy()
        t2 = const2.copy()
        coef = _regressions(sigma, batches)
        for (_, o, m), (cnt, s1, s2), b in zip(batches, moments, coef, strict=True):
            c = mu[m] - (b @ mu[o][:, :, None])[:, :, 0]  # k x p_m
            bs1 = (b @ s1[:, :, None])[:, :, 0]
            c_s1 = c[:, :, None] * s1[:, None, :]  # c S1', k x p_m x p_o
            mo = c_s1 + b @ s2  # sum E[x_M] x_O'
            s_mo = sigma[m[:, :, None], o[:, None, :]]
            mm = (
                cnt[:, None, None] * (c[:, :, None] * c[:, None, :])
                + bs1[:, :, None] * c[:, None, :] + c[:, :, None] * bs1[:, None, :]
                + b @ s2 @ b.transpose(0, 2, 1)
                + cnt[:, None, None] * (sigma[m[:, :, None], m[:, None, :]] - b @ s_mo.transpose(0, 2, 1))
            )
            np.add.at(t1, m, cnt[:, None] * c + bs1)
            np.add.at(t2, (m[:, :, None], o[:, None, :]), mo)
            np.add.at(t2, (o[:, :, None], m[:, None, :]), mo.transpose(0, 2, 1))
            np.add.at(t2, (m[:, :, None], m[:, None, :]), mm)
        new_mu = t1 / n
        new_sigma = t2 / n - np.outer(new_mu, new_mu)
        delta = max(np.abs(new_mu - mu).max(), np.abs(new_sigma - sigma).max())
        mu, sigma = new_mu, new_sigma
        if delta < tol:
            return mu, sigma, it, sums
    raise EstimationError(f"EM did not converge in {max_iter} iterations")
