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
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["evenodd", "irv", "longstring", "mahad", "psychsyn", "pairwise_cor", "pairwise_cov"]


def _matrix(x: pd.DataFrame) -> np.ndarray:
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in x.dtypes):
        return x.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(x.apply(pd.to_numeric, errors="coerce"), dtype="float64")


def longstring(x: pd.DataFrame, avg: bool = False) -> pd.Series | pd.DataFrame:
    """Longest run of identical consecutive responses per respondent (careless::longstring).

    As careless (which applies ``rle`` to each row): a missing value never continues a run, so each
    missing answer is a run of length 1. With ``avg=True`` also the average run length
    ``avgstr = p / (number of runs)``, returned as columns ``longstr`` and ``avgstr``.
    """
    a = _matrix(x)
    n, p = a.shape
    run = np.ones(n)
    longest = np.ones(n) if p else np.zeros(n)
    breaks = np.zeros(n)
    for j in range(1, p):
        same = a[:, j] == a[:, j - 1]
        run = np.where(same, run + 1, 1.0)
        breaks += ~same
        np.maximum(longest, run, out=longest)
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
    m = ~np.isnan(a)
    if not na_rm:
        m_all = m.all(axis=1)
    k = m.sum(axis=1)
    a0 = np.where(m, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = a0.sum(axis=1) / k
        ss = (np.where(m, a - mean[:, None], 0.0) ** 2).sum(axis=1)
        sd = np.sqrt(ss / (k - 1))
    sd[k < 2] = np.nan
    if not na_rm:
        sd[~m_all] = np.nan
    return pd.Series(sd, index=x.index, name="irv")


def pairwise_cov(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete covariances as R's ``cov(x, use = "pairwise")``.

    For columns j, k over the N_jk rows where both are observed:
    cov_jk = (sum x_j x_k - sum x_j * sum x_k / N_jk) / (N_jk - 1), each sum over those rows.
    Returns (cov, N, A) with A[j, k] = sum of x_j over rows where x_k is observed.
    """
    m = ~np.isnan(a)
    a0 = np.where(m, a, 0.0)
    mf = m.astype("float64")
    s = a0.T @ a0
    big_a = a0.T @ mf
    n = mf.T @ mf
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (s - big_a * big_a.T / n) / (n - 1)
    return cov, n, big_a


def pairwise_cor(a: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson correlations as R's ``cor(x, use = "pairwise.complete.obs")``:
    each pair's means and standard deviations are taken over the rows where both are observed."""
    m = ~np.isnan(a)
    a0 = np.where(m, a, 0.0)
    mf = m.astype("float64")
    cov, n, big_a = pairwise_cov(a)
    q = (a0 * a0).T @ mf
    with np.errstate(invalid="ignore", divide="ignore"):
        var_jk = (q - big_a * big_a / n) / (n - 1)
        return cov / np.sqrt(var_jk * var_jk.T)


def mahad(
    x: pd.DataFrame, flag: bool = False, confidence: float = 0.99, na_rm: bool = True
) -> pd.Series | pd.DataFrame:
    """Squared Mahalanobis distance (careless::mahad, which calls psych::outlier).

    D2_i = z_i' S^-1 z_i, with S the pairwise-complete covariance matrix, z_i the row centred on the
    column means, and (as psych::outlier) missing entries of z_i contributing zero. Rows with no
    answer are NaN. ``flag=True`` adds ``flagged = D2 > qchisq(confidence, df = number of items)``.
    Meade & Craig (2012).
    """
    a = _matrix(x)
    if not na_rm and np.isnan(a).any():
        raise ValueError("some values are missing; use na_rm=True to use available cases")
    empty = np.isnan(a).all(axis=1)
    d2 = np.full(len(a), np.nan)
    keep = a[~empty]
    if len(keep):
        cov, _, _ = pairwise_cov(keep)
        inv = np.linalg.solve(cov, np.eye(cov.shape[0]))
        z = keep - np.nanmean(keep, axis=0)
        z = np.where(np.isnan(z), 0.0, z)
        d2[~empty] = np.einsum("ij,ij->i", z @ inv, z)
    out = pd.Series(d2, index=x.index, name="mahad")
    if not flag:
        return out
    cut = stats.chi2.ppf(confidence, a.shape[1])
    flagged = pd.array(np.where(empty, None, d2 > cut), dtype="boolean")
    return pd.DataFrame({"d_sq": d2, "flagged": flagged}, index=x.index)


def _rowcor(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Pearson correlation of u and v over entries observed in both; (r, count)."""
    m = ~(np.isnan(u) | np.isnan(v))
    k = m.sum(axis=1).astype("float64")
    u0, v0 = np.where(m, u, 0.0), np.where(m, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu, mv = u0.sum(axis=1) / k, v0.sum(axis=1) / k
        du, dv = np.where(m, u - mu[:, None], 0.0), np.where(m, v - mv[:, None], 0.0)
        sxy, sxx, syy = (du * dv).sum(axis=1), (du * du).sum(axis=1), (dv * dv).sum(axis=1)
        r = sxy / np.sqrt(sxx * syy)
    r[(k < 2) | (sxx <= 0) | (syy <= 0)] = np.nan
    return np.clip(r, -1.0, 1.0), k


def evenodd(x: pd.DataFrame, factors: Sequence[int], diag: bool = False) -> pd.Series | pd.DataFrame:
    """Even-odd consistency (careless::evenodd, version >= 1.2.0 sign convention).

    ``factors`` gives the number of consecutive columns of each scale. For each respondent and scale,
    the mean of the even-numbered and of the odd-numbered items (missing answers removed); r is the
    within-person correlation of even and odd means across scales (pairwise complete), Spearman-Brown
    corrected, r_sb = 2r / (1 + r), floored at -1, and returned negated (-r_sb) so that higher means
    more careless. NaN when fewer than two scales have both halves or a half has no variance.
    ``diag=True`` adds ``eo_missing``, the number of scales with both halves available.
    Johnson (2005); Curran (2016).
    """
    factors = [int(f) for f in factors]
    if len(factors) < 2:
        raise ValueError("even-odd needs at least two scales")
    if sum(factors) > x.shape[1]:
        raise ValueError("the scales in 'factors' have more items than x has columns")
    a = _matrix(x)
    n = len(a)
    even = np.full((n, len(factors)), np.nan)
    odd = np.full((n, len(factors)), np.nan)
    start = 0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for f, size in enumerate(factors):
            block = a[:, start : start + size]
            if block.shape[1] >= 2:
                even[:, f] = np.nanmean(block[:, 1::2], axis=1)
            odd[:, f] = np.nanmean(block[:, 0::2], axis=1)
            start += size
    r, k = _rowcor(even, odd)
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = 2 * r / (1 + r)
    sb = np.where(np.isnan(sb), np.nan, np.maximum(sb, -1.0))
    out = pd.Series(-sb, index=x.index, name="evenodd")
    if not diag:
        return out
    return pd.DataFrame({"eo_cor": -sb, "eo_missing": k}, index=x.index)


def psychsyn_pairs(x: pd.DataFrame, critval: float = 0.60, anto: bool = False) -> list[tuple[str, str]]:
    """Item pairs whose sample correlation (pairwise complete) exceeds ``critval`` (below ``-critval`` for
    antonyms), in careless' order: the lower triangle by column. Each pair is (later item, earlier item)."""
    r = pairwise_cor(_matrix(x))
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
    first = a[:, [pos[p[0]] for p in pairs]]
    second = a[:, [pos[p[1]] for p in pairs]]
    r, k = _rowcor(first, second)
    r[k <= 2] = np.nan
    if resample_na:
        rng = np.random.default_rng(seed)
        todo = np.flatnonzero(np.isnan(r) & (k > 2))
        u, v = first[todo].copy(), second[todo].copy()
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
