"""Discriminant validity: HTMT, HTMT2 and the Fornell-Larcker criterion.

HTMT follows ``semTools::htmt`` (0.5-6): item correlations from listwise-complete rows of the
model's items (``lavCor(missing = "listwise")``), absolute values (``absolute = TRUE``), then

    HTMT_ij  = mean |r| between the items of i and j  /  sqrt(mean |r| within i * mean |r| within j)

(Henseler, Ringle & Sarstedt 2015, arithmetic means). HTMT2 replaces every mean by a geometric mean
(Roemer, Schuberth & Henseler 2021; ``htmt(htmt2 = TRUE)``, semTools 0.5-6's default). The
Fornell & Larcker (1981) matrix has sqrt(AVE) on its diagonal and the latent correlations below and
above it; discriminant validity holds for a pair when both square roots exceed |r|.
Conventional HTMT ceilings: .85 (Kline) and .90 (Gold et al.).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError


def item_correlations(data: pd.DataFrame, missing: str = "listwise") -> pd.DataFrame:
    """Pearson correlations of the items, listwise (semTools' default) or pairwise."""
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    if missing == "listwise":
        x = x.dropna()
        if len(x) < 3:
            raise SurveyInputError("fewer than 3 complete rows for the item correlations")
    elif missing != "pairwise":
        raise SurveyInputError("missing must be 'listwise' or 'pairwise'", field="missing", value=missing)
    return x.corr()


def _mean(values: np.ndarray, geometric: bool) -> float:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan")
    return float(np.exp(np.mean(np.log(values)))) if geometric else float(np.mean(values))


def htmt(
    factors: Mapping[str, Iterable[str]],
    data: pd.DataFrame | None = None,
    *,
    cor: pd.DataFrame | None = None,
    htmt2: bool = False,
    absolute: bool = True,
    missing: str = "listwise",
) -> pd.DataFrame:
    """Heterotrait-monotrait ratio matrix (factors x factors, 1 on the diagonal).

    Give ``data`` (keyed item responses; correlations computed with ``missing``) or a correlation
    matrix ``cor``. ``htmt2=True`` uses geometric means (HTMT2; requires absolute correlations).
    """
    factors = {str(f): [str(i) for i in items] for f, items in factors.items()}
    items = [i for its in factors.values() for i in its]
    if cor is None:
        if data is None:
            raise SurveyInputError("htmt needs data or a correlation matrix")
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise SurveyInputError("indicator not found in the data", column=absent[0])
        cor = item_correlations(data[list(dict.fromkeys(items))], missing=missing)
    r = cor.loc[items, items].to_numpy(dtype=float).copy()
    if absolute or htmt2:
        r = np.abs(r)
    np.fill_diagonal(r, np.nan)
    r = pd.DataFrame(r, index=items, columns=items)
    names = list(factors)
    within = {f: _mean(r.loc[factors[f], factors[f]].to_numpy().ravel(), htmt2) for f in names}
    out = pd.DataFrame(np.nan, index=names, columns=names)
    for f in names:
        for g in names:
            between = _mean(r.loc[factors[f], factors[g]].to_numpy().ravel(), htmt2)
            out.at[f, g] = between / np.sqrt(within[f] * within[g])
    return out


def fornell_larcker(ave: pd.Series, cor_lv: pd.DataFrame) -> pd.DataFrame:
    """Fornell-Larcker matrix: sqrt(AVE) on the diagonal, latent correlations off it."""
    names = list(ave.index)
    out = cor_lv.loc[names, names].astype(float).copy()
    for f in names:
        out.at[f, f] = float(np.sqrt(ave[f]))
    return out


def discriminant_flags(
    htmt_matrix: pd.DataFrame,
    fl_matrix: pd.DataFrame | None = None,
    thresholds: tuple[float, float] = (0.85, 0.90),
) -> pd.DataFrame:
    """One row per factor pair: HTMT, whether it exceeds each threshold, and, given the Fornell-Larcker
    matrix, the latent correlation and whether |r| exceeds either factor's sqrt(AVE)."""
    names = list(htmt_matrix.index)
    rows = []
    for a, f in enumerate(names):
        for g in names[a + 1 :]:
            value = float(htmt_matrix.at[f, g])
            row: dict[str, object] = {"factor1": f, "factor2": g, "htmt": value}
            for t in thresholds:
                row[f"htmt>{t:.2f}"] = bool(value > t)
            if fl_matrix is not None:
                r = float(fl_matrix.at[f, g])
                row["r"] = r
                row["fornell_larcker_violated"] = bool(abs(r) >= min(fl_matrix.at[f, f], fl_matrix.at[g, g]))
            rows.append(row)
    return pd.DataFrame(rows)
