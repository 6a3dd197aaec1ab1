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
from survey.ingest.em import (  # noqa: F401 - row_keys, em_mvnorm, _col_moments: this module's names too
    _answered,
    _col_moments,
    _em_fit,
    _float_matrix,
    _patterns,
    em_mvnorm,
    pattern_codes,
    row_keys,
)

if TYPE_CHECKING:
    from survey.ingest.pipeline import Ingested


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
