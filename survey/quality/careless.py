"""Careless-responding indices with the semantics of the R package ``careless`` (version 1.2.2).

One function per index, a DataFrame of item responses in (rows = respondents, columns = items in
questionnaire order), a Series (or DataFrame) out on the same index. All are vectorised over
respondents; loops run over the (few) columns only.

References: Curran (2016), Methods for the detection of carelessly invalid responses in survey data,
JESP 66, 4-19; Meade & Craig (2012), Identifying careless responses in survey data, Psychological
Methods 17(3), 437-455; Johnson (2005), J. Research in Personality 39, 103-129; Dunn et al. (2018),
J. Business and Psychology 33, 105-121; Yentes & Wilhelm (2023), careless: Procedures for computing
indices of careless responding, R package 1.2.2.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from survey import distributions as stats

__all__ = ["evenodd", "irv", "longstring", "mahad", "psychsyn", "pairwise_cor", "pairwise_cov"]


def _matrix(x: pd.DataFrame) -> np.ndarray:
    """Float matrix of ``x`` (a view when ``x`` is one float64 block; never modified in place)."""
    if all(pd.api.types.is_float_dtype(t) for t in x.dtypes):
        return x.to_numpy(dtype="float64")
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in x.dtypes):
        return x.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(x.apply(pd.to_numeric, errors="coerce"), dtype="float64")


def take_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` for a boolean mask or index array, gathering along contiguous memory when ``a`` is
    column-major (pandas' layout); the result keeps ``a``'s layout."""
    if a.flags.f_contiguous and not a.flags.c_contiguous:  # column by column (numpy's a.T[:, rows].T is C)
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        out = np.empty((len(idx), a.shape[1]), dtype=a.dtype, order="F")
        for j in range(a.shape[1]):
            np.take(a[:, j], idx, out=out[:, j])
        return out
    return a[rows]


#: Rows per block where a statistic is summed block by block (15 MB for 30 items): the blocks reuse
#: the allocator's memory instead of faulting in a fresh copy of the whole matrix, and data of up to
#: CHUNK rows are summed exactly as in one piece.
CHUNK = 1 << 16


def _has_nan(a: np.ndarray) -> np.ndarray:
    """Rows with a missing value, column by column (no n x p temporary)."""
    out = np.zeros(a.shape[0], dtype=bool)
    for j in range(a.shape[1]):
        out |= np.isnan(a[:, j])
    return out


#: Rows per block of the row-wise indices (longstring, irv, evenodd, psychsyn): their temporaries are
#: a block long (128 kB) instead of n long, and stay in the cache. Every operation is per row, so the
#: values do not depend on the block size.
ROWS = 1 << 14


def _row_slices(n: int) -> list[slice]:
    """Consecutive slices of at most :data:`ROWS` rows covering ``range(n)`` (one empty slice when n = 0)."""
    return [slice(s, min(s + ROWS, n)) for s in range(0, n, ROWS)] or [slice(0, 0)]


def _blocks(idx: np.ndarray) -> list[np.ndarray]:
    """``idx`` (row indices) in consecutive pieces of at most :data:`CHUNK` rows."""
    return [idx[s : s + CHUNK] for s in range(0, len(idx), CHUNK)] if len(idx) else []


def longstring(x: pd.DataFrame, avg: bool = False) -> pd.Series | pd.DataFrame:
    """Longest run of identical consecutive responses per respondent (careless::longstring).

    As careless (which applies ``rle`` to each row): a missing value never continues a run, so each
    missing answer is a run of length 1. With ``avg=True`` also the average run length
    ``avgstr = p / (number of runs)``, returned as columns ``longstr`` and ``avgstr``.
    """
    a = _matrix(x)
    n, p = a.shape
    longest = np.ones(n) if p else np.zeros(n)
    breaks = np.zeros(n)
    for s in _row_slices(n):  # per row: the same run lengths whatever the block
        b = a[s]
        run = np.ones(len(b))
        for j in range(1, p):
            same = b[:, j] == b[:, j - 1]
            run = np.where(same, run + 1, 1.0)
            breaks[s] += ~same
            np.maximum(longest[s], run, out=longest[s])
    out = pd.Series(longest, index=x.index, name="longstr")
    if not avg:
        return out.rename("longstring")
    return pd.DataFrame({"longstr": longest, "avgstr": p / (breaks + 1)}, index=x.index)


def irv(x: pd.DataFrame, na_rm: bool = True) -> pd.Series:
    """Intra-individual response variability: the row standard deviation with denominator n - 1.

    IRV_i = sqrt(sum_j (x_ij - xbar_i)^2 / (k_i - 1)) over the k_i answered items (``na_rm=True``, as
    careless::irv); NaN when fewer than two answers, or with ``na_rm=False`` when any is missing.
    Dunn, Heggestad, Shanock & Theilgard (2018); Marjanovic et al. (2015).
    """
    a = _matrix(x)
    n, p = a.shape
    k, sd = np.zeros(n), np.zeros(n)
    for s in _row_slices(n):  # each row's sums in the same column order whatever the block
        b = a[s]
        kb, total = k[s], np.zeros(len(b))
        for j in range(p):
            col = b[:, j]
            ok = ~np.isnan(col)
            kb += ok
            total += np.where(ok, col, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / kb
            ss = np.zeros(len(b))
            for j in range(p):
                dev = b[:, j] - mean
                ss += np.where(np.isnan(dev), 0.0, dev * dev)
            sd[s] = np.sqrt(ss / (kb - 1))
    sd[k < 2] = np.nan
    if not na_rm:
        sd[k < p] = np.nan
    return pd.Series(sd, index=x.index, name="irv")


def _col_sumsq(c: np.ndarray) -> np.ndarray:
    """Column sums of squares, ``(c * c).sum(axis=0)`` one column at a time (numpy's pairwise sum over
    each column, as the whole-matrix reduction does, without its n x p temporary)."""
    out = np.empty(c.shape[1])
    for j in range(c.shape[1]):
        col = c[:, j]
        out[j] = (col * col).sum()
    return out


def pairwise_moments(a: np.ndarray, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Sums over pairwise-complete rows: N[j, k] rows with both observed, A[j, k] = sum of x_j and
    Q[j, k] = sum of x_j^2 over rows where x_k is observed, S[j, k] = sum of x_j x_k. Complete rows are
    summed with one matrix product per block of :data:`CHUNK` rows; only rows with missing values take
    the masked path. ``rows``: boolean mask of the rows to use (all when None), read in place."""
    has_nan = _has_nan(a)
    use = ~has_nan if rows is None else ~has_nan & rows
    part = np.flatnonzero(has_nan if rows is None else has_nan & rows)
    p = a.shape[1]
    ones = np.ones(p)
    count, col, sumsq, s = 0, np.zeros(p), np.zeros(p), np.zeros((p, p))
    for start in range(0, len(a), CHUNK):
        c = take_rows(a, np.flatnonzero(use[start : start + CHUNK]) + start)
        count += len(c)
        col += c.sum(axis=0)
        sumsq += _col_sumsq(c)
        s += c.T @ c
    n = np.full((p, p), float(count))
    big_a = np.outer(col, ones)
    q = np.outer(sumsq, ones)
    if len(part):
        b = take_rows(a, part)
        m = ~np.isnan(b)
        b0 = np.where(m, b, 0.0)
        mf = m.astype("float64")
        s += b0.T @ b0
        big_a += b0.T @ mf
        q += (b0 * b0).T @ mf
        n += mf.T @ mf
    return {"N": n, "A": big_a, "Q": q, "S": s}


def pairwise_cov(a: np.ndarray, moments: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Pairwise-complete covariances as R's ``cov(x, use = "pairwise")``.

    For columns j, k over the N_jk rows where both are observed:
    cov_jk = (sum x_j x_k - sum x_j * sum x_k / N_jk) / (N_jk - 1), each sum over those rows.
    """
    mo = moments if moments is not None else pairwise_moments(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (mo["S"] - mo["A"] * mo["A"].T / mo["N"]) / (mo["N"] - 1)


def pairwise_cor(a: np.ndarray, moments: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Pairwise-complete Pearson correlations as R's ``cor(x, use = "pairwise.complete.obs")``:
    each pair's means and standard deviations are taken over the rows where both are observed."""
    mo = moments if moments is not None else pairwise_moments(a)
    cov = pairwise_cov(a, mo)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_jk = (mo["Q"] - mo["A"] * mo["A"] / mo["N"]) / (mo["N"] - 1)
        return cov / np.sqrt(var_jk * var_jk.T)


def mahad_rows(a: np.ndarray, rows: np.ndarray | None = None, cov: np.ndarray | None = None) -> np.ndarray:
    """D2 of :func:`mahad` for the rows of ``a`` in the boolean mask ``rows`` (all when None; the column
    means and, unless given, S are those of these rows), NaN elsewhere and for rows with no answer.
    The rows are read in blocks of :data:`CHUNK` (no copy of the whole matrix)."""
    n, p = a.shape
    answered = np.zeros(n, dtype=bool)
    for j in range(p):
        answered |= ~np.isnan(a[:, j])
    if rows is not None:
        answered &= rows
    d2 = np.full(n, np.nan)
    idx = np.flatnonzero(answered)
    if not len(idx):
        return d2
    cov = pairwise_cov(a, pairwise_moments(a, answered)) if cov is None else cov
    inv = np.linalg.solve(cov, np.eye(cov.shape[0]))
    total, count = np.zeros(p), np.zeros(p)
    blocks = _blocks(idx)
    for b in blocks:  # column means over the rows, as numpy.nanmean (summed per block)
        x = take_rows(a, b)
        for j in range(p):
            col = x[:, j]
            ok = ~np.isnan(col)
            total[j] += np.where(ok, col, 0.0).sum()
            count[j] += np.intp(ok.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    for b in blocks:
        zt = np.ascontiguousarray((take_rows(a, b) - mean).T)  # p x rows, rows contiguous
        np.copyto(zt, 0.0, where=np.isnan(zt))
        d2[b] = np.einsum("ji,ji->i", inv.T @ zt, zt)
    return d2


def mahad(
    x: pd.DataFrame,
    flag: bool = False,
    confidence: float = 0.99,
    na_rm: bool = True,
    cov: np.ndarray | None = None,
) -> pd.Series | pd.DataFrame:
    """Squared Mahalanobis distance (careless::mahad, which calls psych::outlier).

    D2_i = z_i' S^-1 z_i, with S the pairwise-complete covariance matrix, z_i the row centred on the
    column means, and (as psych::outlier) missing entries of z_i contributing zero. Rows with no
    answer are NaN. ``cov`` passes S when already computed on the same rows. ``flag=True`` adds
    ``flagged = D2 > qchisq(confidence, df = number of items)``. Meade & Craig (2012).
    """
    a = _matrix(x)
    if not na_rm and np.isnan(a).any():
        raise ValueError("some values are missing; use na_rm=True to use available cases")
    d2 = mahad_rows(a, None, cov)
    out = pd.Series(d2, index=x.index, name="mahad")
    if not flag:
        return out
    empty = np.isnan(a).all(axis=1)
    cut = stats.chi2.ppf(confidence, a.shape[1])
    flagged = pd.array(np.where(empty, None, d2 > cut), dtype="boolean")
    return pd.DataFrame({"d_sq": d2, "flagged": flagged}, index=x.index)


def _rowcor(
    u: np.ndarray, v: np.ndarray, ui: Sequence[int] | None = None, vi: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Pearson correlation of u and v (same shape) over the entries observed in both;
    returns (r, count). Two passes over the columns (means, then centred cross-products). ``ui``/``vi``:
    the columns of ``u``/``v`` to pair, in order (all when None), read in place."""
    ui = range(u.shape[1]) if ui is None else ui
    vi = range(v.shape[1]) if vi is None else vi
    n = u.shape[0]
    r, k = np.empty(n), np.zeros(n)
    for s in _row_slices(n):  # row-wise sums, the same whatever the block
        r[s] = _rowcor_block(u[s], v[s], ui, vi, k[s])
    return np.clip(r, -1.0, 1.0), k


def _rowcor_block(
    u: np.ndarray, v: np.ndarray, ui: Sequence[int], vi: Sequence[int], k: np.ndarray
) -> np.ndarray:
    """:func:`_rowcor` of one block of rows (``k`` receives the counts, in place), r unclipped."""
    n = u.shape[0]
    su, sv = np.zeros(n), np.zeros(n)
    for ju, jv in zip(ui, vi, strict=True):
        uj, vj = u[:, ju], v[:, jv]
        ok = ~(np.isnan(uj) | np.isnan(vj))
        k += ok
        su += np.where(ok, uj, 0.0)
        sv += np.where(ok, vj, 0.0)
    sxy, sxx, syy = np.zeros(n), np.zeros(n), np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu, mv = su / k, sv / k
        for ju, jv in zip(ui, vi, strict=True):
            du, dv = u[:, ju] - mu, v[:, jv] - mv
            ok = ~(np.isnan(du) | np.isnan(dv))
            du, dv = np.where(ok, du, 0.0), np.where(ok, dv, 0.0)
            sxy += du * dv
            sxx += du * du
            syy += dv * dv
        r = sxy / np.sqrt(sxx * syy)
    r[(k < 2) | (sxx <= 0) | (syy <= 0)] = np.nan
    return r


def _rowmean(a: np.ndarray, cols: Sequence[int], reflect: Sequence[float | None]) -> np.ndarray:
    """Row means of the columns ``cols`` of ``a`` ignoring missing values (NaN when a row has none), as
    R's ``mean(na.rm = TRUE)``; a column with a ``reflect`` value r enters as r - x (reverse keying)."""
    n = a.shape[0]
    out = np.empty(n)
    for s in _row_slices(n):
        b = a[s]
        k, total = np.zeros(len(b)), np.zeros(len(b))
        for j in cols:
            col = b[:, j] if reflect[j] is None else reflect[j] - b[:, j]
            ok = ~np.isnan(col)
            k += ok
            total += np.where(ok, col, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s] = total / k
    return out


def evenodd(
    x: pd.DataFrame,
    factors: Sequence[int],
    diag: bool = False,
    reflect: Mapping[str, float] | None = None,
) -> pd.Series | pd.DataFrame:
    """Even-odd consistency (careless::evenodd, version >= 1.2.0 sign convention).

    ``factors`` gives the number of consecutive columns of each scale. For each respondent and scale,
    the mean of the even-numbered and of the odd-numbered items (missing answers removed); r is the
    within-person correlation of even and odd means across scales (pairwise complete), Spearman-Brown
    corrected, r_sb = 2r / (1 + r), floored at -1, and returned negated (-r_sb) so that higher means
    more careless. NaN when fewer than two scales have both halves or a half has no variance.
    ``diag=True`` adds ``eo_missing``, the number of scales with both halves available. ``reflect``
    {column: min + max}: reverse-keyed columns, taken as (min + max) - x without copying the data.
    Johnson (2005); Curran (2016).
    """
    factors = [int(f) for f in factors]
    if len(factors) < 2:
        raise ValueError("even-odd needs at least two scales")
    if sum(factors) > x.shape[1]:
        raise ValueError("the scales in 'factors' have more items than x has columns")
    a = _matrix(x)
    n = len(a)
    flip = [None if reflect is None else reflect.get(c) for c in x.columns]
    even = np.full((n, len(factors)), np.nan, order="F")
    odd = np.full((n, len(factors)), np.nan, order="F")
    start = 0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for f, size in enumerate(factors):
            if size >= 2:
                even[:, f] = _rowmean(a, range(start + 1, start + size, 2), flip)
            odd[:, f] = _rowmean(a, range(start, start + size, 2), flip)
            start += size
    r, k = _rowcor(even, odd)
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = 2 * r / (1 + r)
    sb = np.where(np.isnan(sb), np.nan, np.maximum(sb, -1.0))
    out = pd.Series(-sb, index=x.index, name="evenodd")
    if not diag:
        return out
    return pd.DataFrame({"eo_cor": -sb, "eo_missing": k}, index=x.index)


def psychsyn_pairs(
    x: pd.DataFrame, critval: float = 0.60, anto: bool = False, cor: np.ndarray | None = None
) -> list[tuple[str, str]]:
    """Item pairs whose sample correlation (pairwise complete) exceeds ``critval`` (below ``-critval`` for
    antonyms), in careless' order: the lower triangle by column. Each pair is (later item, earlier item)."""
    r = pairwise_cor(_matrix(x)) if cor is None else cor
    cols = list(x.columns)
    crit = abs(critval)
    pairs = []
    p = len(cols)
    for j in range(p):
        for i in range(j + 1, p):
            v = r[i, j]
            if (not anto and v > crit) or (anto and v < -crit):
                pairs.append((cols[i], cols[j]))
    return pairs


def psychsyn(
    x: pd.DataFrame,
    critval: float = 0.60,
    anto: bool = False,
    diag: bool = False,
    resample_na: bool = True,
    seed: int = 0,
    pairs: list[tuple[str, str]] | None = None,
) -> pd.Series | pd.DataFrame:
    """Psychometric synonyms (careless::psychsyn): within-person correlation across item pairs.

    Pairs are the item pairs with sample correlation r > ``critval`` (psychometric antonyms with
    ``anto=True``: r < -critval). For each respondent, the Pearson correlation between the first and
    the second items of the pairs answered in both, when more than two such pairs exist (else NaN).
    When it is undefined (no variance) and ``resample_na=True``, careless reorders each pair at
    random, up to ten times; here that randomness is seeded (``seed``). ``diag=True`` also returns
    ``numPairs``. ``pairs`` gives the item pairs found on another sample (e.g. the eligible rows).
    Meade & Craig (2012). Raises ValueError when no pair passes the critical value.
    """
    pairs = psychsyn_pairs(x, critval, anto) if pairs is None else pairs
    if not pairs:
        raise ValueError(f"no psychometric {'antonyms' if anto else 'synonyms'} found at {critval}")
    a = _matrix(x)
    pos = {c: i for i, c in enumerate(x.columns)}
    ui, vi = [pos[p[0]] for p in pairs], [pos[p[1]] for p in pairs]
    r, k = _rowcor(a, a, ui, vi)  # the pairs' columns read in place
    r[k <= 2] = np.nan
    if resample_na:
        rng = np.random.default_rng(seed)
        todo = np.flatnonzero(np.isnan(r) & (k > 2))
        rows = take_rows(a, todo)
        u, v = np.asfortranarray(rows[:, ui]), np.asfortranarray(rows[:, vi])
        for _ in range(10):
            if not len(todo):
                break
            swap = rng.random(u.shape) < 0.5
            u, v = np.where(swap, v, u), np.where(swap, u, v)
            rr, _ = _rowcor(u, v)
            r[todo] = rr
            still = np.isnan(rr)
            todo, u, v = todo[still], u[still], v[still]
    out = pd.Series(r, index=x.index, name="psychsyn")
    if not diag:
        return out
    return pd.DataFrame({"numPairs": k, "cor": r}, index=x.index)
