"""Missing data: report (per item, per respondent, patterns) and Little's MCAR test.

Labelled missing codes ("Prefer not to say") are NaN in the analysis columns but counted apart from
skipped questions, per label.

Little's (1988) test of missing completely at random: with the maximum-likelihood (EM) estimates
mu and Sigma of a multivariate normal model, and for each missingness pattern j with n_j rows, observed
variables O_j (p_j of them) and observed-variable mean ybar_j,

    d2 = sum_j n_j (ybar_j - mu_{O_j})' Sigma_{O_j}^{-1} (ybar_j - mu_{O_j}),   df = sum_j p_j - p,

asymptotically chi-square under MCAR. Little, R. J. A. (1988). A test of missing completely at random
for multivariate data with missing values. JASA 83(404), 1198-1202. EM: Little & Rubin (2002),
Statistical Analysis with Missing Data, 2nd ed., section 11.2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import EstimationError

if TYPE_CHECKING:
    from survey.ingest.pipeline import Ingested


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


def little_mcar(data: pd.DataFrame) -> dict[str, Any]:
    """Little's MCAR test on the numeric columns of ``data``. Returns chisq, df, pvalue, n_patterns, n.

    Rows with every value missing are left out (they carry no information on the means).
    """
    a = _answered(_float_matrix(data))
    n, p = a.shape
    if n == 0 or not np.isnan(a).any():
        return {
            "chisq": 0.0,
            "df": 0,
            "pvalue": 1.0,
            "n_patterns": 1 if n else 0,
            "n": int(n),
            "test": "Little (1988) MCAR",
        }
    pats, groups, inverse = _patterns(a)
    if n < 2:
        raise EstimationError("EM needs at least two rows with an answer")
    mu, sigma, iters, sums = _em_fit(a, pats, groups)
    counts = np.bincount(inverse, minlength=len(pats)).astype("float64")
    d2 = 0.0
    df = -p
    for g, pat in enumerate(pats):
        if not pat.any():
            continue
        diff = sums[g] / counts[g] - mu[pat]
        d2 += counts[g] * float(diff @ np.linalg.solve(sigma[np.ix_(pat, pat)], diff))
        df += int(pat.sum())
    pvalue = float(stats.chi2.sf(d2, df)) if df > 0 else float("nan")
    return {
        "chisq": float(d2),
        "df": int(df),
        "pvalue": pvalue,
        "n_patterns": int(len(pats)),
        "n": int(n),
        "em_iterations": int(iters),
        "test": "Little (1988) MCAR",
    }


@dataclass
class MissingReport:
    """``by_item``: answered, skipped and each labelled missing code per item; ``by_respondent``: number of
    missing items per row; ``patterns``: missingness patterns with counts (most frequent first)."""

    by_item: pd.DataFrame
    by_respondent: pd.Series
    patterns: pd.DataFrame
    mcar: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dist = self.by_respondent.value_counts().sort_index()
        out = {
            "by_item": {
                str(k): {c: (int(v) if float(v).is_integer() else float(v)) for c, v in row.items()}
                for k, row in self.by_item.iterrows()
            },
            "respondents_by_n_missing": {str(int(k)): int(v) for k, v in dist.items()},
            "n_patterns": int(len(self.patterns)),
            "top_patterns": [
                {"missing": r["missing"], "n": int(r["n"])} for _, r in self.patterns.head(10).iterrows()
            ],
        }
        if self.mcar is not None:
            out["mcar"] = self.mcar
        out.update(self.extra)
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.by_item.copy()

    def summary(self) -> str:
        return self.by_item.to_string()

    def _repr_html_(self) -> str:
        return self.by_item.to_html()


def _in_index(rows: pd.Index, index: pd.Index) -> np.ndarray:
    """``rows.isin(index)``, by two comparisons when ``index`` is a unit-step range of integers (no hash
    table of every row per column)."""
    if isinstance(index, pd.RangeIndex) and index.step == 1 and pd.api.types.is_integer_dtype(rows.dtype):
        values = rows.to_numpy()
        return (values >= index.start) & (values < index.stop)
    return rows.isin(index)


def missing_report(
    items: pd.DataFrame,
    missing_codes: dict[str, pd.Series] | None = None,
    labels: dict[str, dict[float, str]] | None = None,
    *,
    mcar_columns: list[str] | None = None,
) -> MissingReport:
    """Missing-data report of ``items`` (NaN = missing). ``missing_codes`` {column: Series of codes on the
    rows where a labelled missing code was given} separates e.g. "Prefer not to say" from skipped."""
    missing_codes = missing_codes or {}
    labels = labels or {}
    isna = items.isna()
    n = len(items)
    rows = []
    label_names: list[str] = []
    for col in items.columns:
        miss = int(isna[col].sum())
        rec = {"n": n, "answered": n - miss}
        codes = missing_codes.get(col)
        coded = 0
        if codes is not None and len(codes):
            codes = codes[_in_index(codes.index, items.index)]
            for code, count in codes.value_counts().items():
                name = labels.get(col, {}).get(float(code), f"code {code:g}")
                rec[name] = rec.get(name, 0) + int(count)
                coded += int(count)
                if name not in label_names:
                    label_names.append(name)
        rec["skipped"] = miss - coded
        rec["pct_missing"] = round(100.0 * miss / n, 4) if n else 0.0
        rows.append((col, rec))
    cols = ["n", "answered", "skipped", *label_names, "pct_missing"]
    by_item = pd.DataFrame([r for _, r in rows], index=[c for c, _ in rows], columns=cols).fillna(0)
    for c in cols[:-1]:
        by_item[c] = by_item[c].astype("int64")
    by_respondent = isna.sum(axis=1).rename("n_missing")
    mask = isna.to_numpy()
    names = np.asarray(items.columns, dtype=object)
    if n:
        pats, _, counts = pattern_codes(mask)
        desc = [",".join(names[p]) if p.any() else "(none)" for p in pats]
        patterns = pd.DataFrame({"missing": desc, "n_missing": pats.sum(axis=1), "n": counts})
        patterns = patterns.sort_values(["n", "n_missing"], ascending=[False, True]).reset_index(drop=True)
    else:
        patterns = pd.DataFrame(columns=["missing", "n_missing", "n"])
    mcar = None
    if mcar_columns:
        try:
            mcar = little_mcar(items[mcar_columns])
        except (EstimationError, np.linalg.LinAlgError) as exc:
            mcar = {"test": "Little (1988) MCAR", "error": str(exc)}
    return MissingReport(by_item, by_respondent, patterns, mcar)


def sample_missing_report(
    ingested: Ingested,
    keep: np.ndarray | None = None,
    mcar_items: Mapping[str, Sequence[str]] | None = None,
    *,
    items: pd.DataFrame | None = None,
) -> MissingReport:
    """Missing-data report of the rows ``keep`` (boolean mask; all rows when None) of ``ingested``.

    Labelled missing codes are counted per label (from ``ingested.missing_codes``). ``mcar_items``
    {instrument version: item ids}: Little's MCAR test (:func:`little_mcar`) is run per version on
    those items (their pooled columns), over that version's kept rows; a version with no more rows
    than items is skipped, and a test that fails is reported with its error. ``items``: the kept rows'
    pooled item columns when the caller already holds them (the analytic sample; saves a copy). The
    quality stage calls this on the analytic sample with each version's Likert items.
    """
    keep = np.ones(ingested.n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    positions = np.cumsum(keep) - 1
    cols = ingested.item_columns
    if items is None:
        items = ingested.data.loc[keep, cols].reset_index(drop=True)
    else:
        items = items[cols]
    codes = {}
    for col, series in ingested.missing_codes.items():
        rows = series.index.to_numpy()
        ok = keep[rows]
        codes[col] = pd.Series(series.to_numpy()[ok], index=positions[rows[ok]])
    report = missing_report(items, codes, ingested.missing_labels)
    if mcar_items is not None:
        version_of = ingested.data.loc[keep, "instrument_version"].to_numpy()
        tests: dict[str, Any] = {}
        for version, ids in mcar_items.items():
            mapping = ingested.columns[str(version)]
            use = [mapping[c] for c in ids if mapping.get(c) in items.columns]
            rows = version_of == str(version)
            if not use or rows.sum() <= len(use):
                continue
            try:
                tests[str(version)] = little_mcar(items[use] if rows.all() else items.loc[rows, use])
            except Exception as exc:  # noqa: BLE001 - a failed test is reported, not fatal
                tests[str(version)] = {"test": "Little (1988) MCAR", "error": str(exc)}
        report.mcar = tests
    return report
