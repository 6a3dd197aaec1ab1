"""CFA information for the measure stage: syntax in, lavaan-style estimates out -- no estimator here.

The psychometric stage comes before the SEM stage and may not import it, yet omega, CR, AVE, the
Fornell-Larcker criterion and the common-method-factor check need a fitted CFA. The caller supplies
it, in one of two forms:

* a ``fit`` callable, ``fit(syntax: str, data: DataFrame) -> result``, such as ``survey.sem.fit`` (or
  ``functools.partial(survey.sem.fit, estimator="MLR")``); the measure functions write the lavaan
  syntax of the model they need (:func:`cfa_syntax`) and read the result's ``estimates()`` and
  ``fit_measures()``;
* an estimates table with lavaan's columns (``lhs op rhs est std.all``, as
  ``parameterEstimates(fit, standardized = TRUE)``), or a fitted result that has ``.estimates()``.

This module holds only what is not estimation: the ML sample covariance matrix, a check that the
data can carry a CFA, the syntax of a measurement model under either identification, and readers of
loadings, residual variances, factor variances and latent correlations out of an estimates table.
Readers use the factor variances (psi) with unstandardized loadings, so marker-variable
identification (lavaan's default, ``survey.sem.fit``'s default) and ``std.lv`` identification give
the same omega, CR and AVE (the model is the same; only its scale differs; Bollen 1989, ch. 7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import EstimationError, SurveyInputError

FitFunction = Callable[[str, pd.DataFrame], Any]
"""``fit(syntax, data) -> result``; the result has ``estimates()`` (lavaan columns), ``fit_measures()``."""

ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "est", "std.all")


def sample_covariance(data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Listwise-complete covariance matrix with divisor N (lavaan's ML sample statistic) and N."""
    complete = data.apply(pd.to_numeric, errors="coerce").dropna()
    n = len(complete)
    if not n:  # no complete case: no moments (and no numpy warning about an empty mean)
        return pd.DataFrame(np.nan, index=data.columns, columns=data.columns), 0
    x = complete.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    cov = x.T @ x / n
    return pd.DataFrame(cov, index=data.columns, columns=data.columns), n


def check_cfa_data(data: pd.DataFrame) -> int:
    """Raise :class:`EstimationError` unless the items can carry a CFA; return the listwise N.

    Needs more complete cases than items, a variance in every item and a positive definite sample
    covariance matrix S (ML's log|S| must exist; Bollen 1989, p. 107).
    """
    s_df, n = sample_covariance(data)
    p = data.shape[1]
    if n <= p:
        raise EstimationError(f"CFA needs more complete cases than items (N = {n}, p = {p})")
    s = s_df.to_numpy()
    if np.any(np.diag(s) <= 0):
        bad = str(data.columns[int(np.argmin(np.diag(s)))])
        raise EstimationError(f"item {bad} has no variance among the complete cases")
    eig = np.linalg.eigvalsh(s)
    if eig[0] <= 1e-12 * eig[-1]:
        raise EstimationError("the sample covariance matrix of the items is not positive definite")
    return n


def cfa_syntax(
    factors: Mapping[str, Iterable[str]],
    *,
    std_lv: bool | Iterable[str] = False,
    orthogonal: Iterable[tuple[str, str]] = (),
) -> str:
    """lavaan syntax of a measurement model ``{factor: items}``.

    Identification: by default the first loading of each factor is fixed to 1 (marker variable,
    lavaan's default). ``std_lv=True`` (or an iterable of factor names) frees every loading of those
    factors (``F =~ NA*x1 + x2``) and fixes their variance to 1 (``F ~~ 1*F``), as lavaan's
    ``std.lv = TRUE``. ``orthogonal`` pairs get a covariance fixed to 0 (``F ~~ 0*G``); all other
    factor covariances are free (lavaan ``cfa()``/``sem()`` default).

    >>> print(cfa_syntax({"F": ["a", "b"], "M": ["a", "b"]}, std_lv=["M"], orthogonal=[("M", "F")]))
    F =~ a + b
    M =~ NA*a + b
    M ~~ 1*M
    M ~~ 0*F
    """
    factors = {str(f): [str(i) for i in items] for f, items in factors.items()}
    scaled = set(factors) if std_lv is True else set() if std_lv is False else {str(f) for f in std_lv}
    unknown = [f for f in scaled if f not in factors]
    unknown += [str(f) for pair in orthogonal for f in pair if str(f) not in factors]
    if unknown:
        raise SurveyInputError("unknown factor in the CFA specification", value=unknown[0])
    lines = []
    for f, items in factors.items():
        if not items:
            raise SurveyInputError("a factor needs at least one indicator", value=f)
        first = f"NA*{items[0]}" if f in scaled else items[0]
        lines.append(f"{f} =~ " + " + ".join([first, *items[1:]]))
    lines += [f"{f} ~~ 1*{f}" for f in factors if f in scaled]
    lines += [f"{a} ~~ 0*{b}" for a, b in orthogonal]
    return "\n".join(lines)


def as_estimates(source: Any) -> pd.DataFrame:
    """The lavaan-style estimates table of ``source``: a DataFrame, or a fitted result's ``.estimates()``."""
    table = source.estimates() if hasattr(source, "estimates") else source
    if not isinstance(table, pd.DataFrame):
        raise SurveyInputError(
            "estimates must be a lavaan-style DataFrame or a fitted result with .estimates()",
            field="estimates",
        )
    absent = [c for c in ESTIMATE_COLUMNS if c not in table.columns]
    if absent:
        raise SurveyInputError("the estimates table has no column " + repr(absent[0]), field="estimates")
    if "group" in table.columns and table["group"].nunique() > 1:
        raise SurveyInputError("the measure stage needs single-group estimates", field="group")
    return table


def loading_matrix(
    estimates: pd.DataFrame, factors: Mapping[str, Iterable[str]], column: str = "est"
) -> pd.DataFrame:
    """Items x factors matrix of the ``=~`` rows' ``column`` (``est``, ``std.lv`` or ``std.all``); 0 where
    an item does not load on a factor. Raises when a listed loading is absent from the table."""
    factors = {str(f): [str(i) for i in items] for f, items in factors.items()}
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    out = pd.DataFrame(0.0, index=items, columns=list(factors))
    rows = estimates[estimates["op"] == "=~"]
    for f, its in factors.items():
        values = rows[rows["lhs"] == f].set_index("rhs")[column]
        absent = [i for i in its if i not in values.index]
        if absent:
            raise SurveyInputError(f"no loading of {absent[0]} on {f} in the estimates", column=absent[0])
        out.loc[its, f] = values.loc[its].astype(float).to_numpy()
    return out


def residual_variances(estimates: pd.DataFrame, items: Iterable[str], column: str = "est") -> pd.Series:
    """Residual variances theta_ii of ``items`` (the ``x ~~ x`` rows; NaN when absent)."""
    items = [str(i) for i in items]
    rows = estimates[(estimates["op"] == "~~") & (estimates["lhs"] == estimates["rhs"])]
    rows = rows[rows["lhs"].isin(items)].drop_duplicates("lhs")
    return rows.set_index("lhs")[column].reindex(items).astype(float).rename("theta")


def factor_variances(estimates: pd.DataFrame, names: Iterable[str]) -> pd.Series:
    """Factor variances psi (the ``F ~~ F`` rows' ``est``); 1 when the table has no such row (a table of
    ``std.lv``/``std.all`` values)."""
    names = [str(f) for f in names]
    rows = estimates[(estimates["op"] == "~~") & (estimates["lhs"] == estimates["rhs"])]
    rows = rows[rows["lhs"].isin(names)].drop_duplicates("lhs")
    return rows.set_index("lhs")["est"].reindex(names).astype(float).fillna(1.0).rename("psi")


def loadings_from_estimates(
    estimates: pd.DataFrame, factors: Mapping[str, list[str]]
) -> dict[str, pd.DataFrame]:
    """Per factor: a DataFrame (index items) with the ``est`` and ``std.all`` loadings and the residual
    variance ``theta``, and the factor variance psi in ``.attrs["psi"]``, from a lavaan-style table."""
    estimates = as_estimates(estimates)
    raw = loading_matrix(estimates, factors, "est")
    std = loading_matrix(estimates, factors, "std.all")
    psi = factor_variances(estimates, list(factors))
    out: dict[str, pd.DataFrame] = {}
    for f, items in factors.items():
        table = pd.DataFrame({"est": raw.loc[items, f], "std.all": std.loc[items, f]})
        table["theta"] = residual_variances(estimates, items)
        table.attrs["psi"] = float(psi[f])
        out[f] = table
    return out


def latent_correlations(estimates: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Factor correlation matrix from the ``std.all`` column of the factor ``~~`` rows (the same under
    any identification)."""
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    rows = estimates[(estimates["op"] == "~~") & estimates["lhs"].isin(names) & estimates["rhs"].isin(names)]
    for _, r in rows.iterrows():
        if r["lhs"] != r["rhs"]:
            out.at[r["lhs"], r["rhs"]] = out.at[r["rhs"], r["lhs"]] = float(r["std.all"])
    return out


def fit_measures_of(result: Any, names: Iterable[str]) -> dict[str, float]:
    """The lavaan-named ``names`` of ``result.fit_measures()`` that the result has (as floats)."""
    measures = result.fit_measures() if hasattr(result, "fit_measures") else {}
    return {k: float(measures[k]) for k in names if k in measures and measures[k] is not None}
