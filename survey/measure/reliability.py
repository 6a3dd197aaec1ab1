"""Internal-consistency and composite reliability, one function per statistic.

Item-level statistics follow ``psych::alpha`` (Revelle; psych 2.2.9 defaults): the item covariance
matrix ``C`` is computed with pairwise-complete observations (``use = "pairwise"``: each covariance
from the rows where both items are present, divisor n_ij - 1), and correlations are ``cov2cor(C)``.
Items must already be reverse keyed (see :mod:`survey.measure.keys`), or ``keys`` given.

Model-based statistics take a fitted CFA's estimates as input (pure functions of loadings), so
they work with the CFA of :mod:`survey.measure.cfa` or with ``survey.sem.fit(...).estimates()``:

* ``omega``: semTools ``compRelSEM`` default (``obs.var = TRUE, tau.eq = FALSE``),
  (sum lambda)^2 psi / 1'S1 with S the observed (sample) covariance matrix of the items
  (McDonald 1999; Bentler 2009).
* ``cr``: model-implied composite reliability of the unit-weighted sum of the raw items,
  (sum lambda)^2 psi / ((sum lambda)^2 psi + sum theta), UNSTANDARDIZED estimates (Raykov 1997;
  semTools ``compRelSEM(obs.var = FALSE)`` for a model without correlated residuals).
* ``ave``: Fornell & Larcker (1981) average variance extracted, the mean squared completely
  standardized loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning
from survey.measure.keys import reverse_key


def _numeric(items: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(items, pd.DataFrame):
        raise SurveyInputError("items must be a DataFrame with one column per item")
    if items.shape[1] < 2:
        raise SurveyInputError(
            "reliability needs at least two items", column=",".join(map(str, items.columns))
        )
    return items.apply(pd.to_numeric, errors="coerce").astype(float)


def pairwise_covariance(items: pd.DataFrame) -> pd.DataFrame:
    """Covariance matrix from pairwise-complete observations (R ``cov(x, use = "pairwise")``)."""
    return _numeric(items).cov()


def _cov2cor(c: pd.DataFrame) -> pd.DataFrame:
    d = 1.0 / np.sqrt(np.diag(c.to_numpy()))
    return c * np.outer(d, d)


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return float((1.0 - np.trace(c) / c.sum()) * k / (k - 1))


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's (1951) alpha: k/(k-1) * (1 - tr(C) / 1'C1), C the pairwise item covariance matrix."""
    return _alpha_from_cov(pairwise_covariance(items).to_numpy())


def standardized_alpha(items: pd.DataFrame) -> float:
    """Standardized alpha from the mean inter-item correlation r: k r / (1 + (k - 1) r).

    Equals psych's ``std.alpha`` = k/(k-1) (1 - k / 1'R1), R = cov2cor(C).
    """
    r = _cov2cor(pairwise_covariance(items)).to_numpy()
    k = r.shape[0]
    return float((1.0 - k / r.sum()) * k / (k - 1))


def average_r(items: pd.DataFrame) -> float:
    """Mean inter-item correlation (off-diagonal elements of cov2cor(C))."""
    r = _cov2cor(pairwise_covariance(items)).to_numpy()
    k = r.shape[0]
    return float((r.sum() - k) / (k * (k - 1)))


def alpha_ci_feldt(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) confidence interval for alpha, as ``psych::alpha.ci``.

    lower = 1 - (1 - alpha) F_{1-p/2}(n - 1, (n - 1)(k - 1)),
    upper = 1 - (1 - alpha) F_{p/2}(n - 1, (n - 1)(k - 1)),  p = 1 - level;
    psych passes the number of rows of the data (incomplete rows included) as n.
    """
    if n < 2 or k < 2:
        raise SurveyInputError("Feldt's interval needs n >= 2 and k >= 2", value=f"n={n}, k={k}")
    p = 1.0 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, df1, df2)
    return float(lower), float(upper)


def alpha_if_deleted(items: pd.DataFrame) -> pd.Series:
    """Alpha of the remaining items when each item is dropped (psych ``alpha.drop$raw_alpha``)."""
    c = pairwise_covariance(items)
    cols = list(c.columns)
    if len(cols) < 3:
        # psych: with two items, "alpha if deleted" is cov / var of the other item
        a = c.to_numpy()
        return pd.Series([a[0, 1] / a[1, 1], a[0, 1] / a[0, 0]], index=cols, name="alpha.if.deleted")
    out = {i: _alpha_from_cov(c.drop(index=i, columns=i).to_numpy()) for i in cols}
    return pd.Series(out, name="alpha.if.deleted")


def corrected_item_total(items: pd.DataFrame) -> pd.Series:
    """Corrected item-total correlation (psych ``r.drop``): item with the sum of the OTHER items,
    C_i,rest / sqrt(C_ii 1'C_rest 1), computed from the pairwise covariance matrix."""
    c = pairwise_covariance(items)
    a = c.to_numpy()
    out = []
    for i in range(a.shape[0]):
        rest = np.delete(np.arange(a.shape[0]), i)
        v_rest = a[np.ix_(rest, rest)].sum()
        c_rest = a[i].sum() - a[i, i]
        out.append(c_rest / np.sqrt(a[i, i] * v_rest))
    return pd.Series(out, index=c.columns, name="r.drop")


def omega(loadings: pd.Series, observed_cov: pd.DataFrame, factor_variance: float = 1.0) -> float:
    """Omega with the observed total variance (semTools ``compRelSEM`` default, ``obs.var = TRUE``):

        omega = (sum_i lambda_i)^2 psi / 1'S1

    ``loadings`` are the factor's UNSTANDARDIZED loadings (index = items), ``psi`` the factor variance
    and S the observed covariance matrix of the same items (lavaan's sample statistic: listwise,
    divisor N). Items must be keyed so that all loadings share a sign.
    """
    items = list(loadings.index)
    s = observed_cov.loc[items, items].to_numpy()
    return float(loadings.sum() ** 2 * factor_variance / s.sum())


def composite_reliability(
    loadings: pd.Series, residual_variances: pd.Series, factor_variance: float = 1.0
) -> float:
    """Model-implied composite reliability (Raykov 1997; Joreskog 1971):

        CR = (sum lambda)^2 psi / ((sum lambda)^2 psi + sum theta)

    With unstandardized estimates this is the reliability of the unit-weighted raw sum (semTools
    ``compRelSEM(obs.var = FALSE)``); with standardized loadings and theta = 1 - lambda^2 it is the
    Fornell-Larcker "composite reliability" of standardized items.
    """
    common = loadings.sum() ** 2 * factor_variance
    theta = residual_variances.loc[list(loadings.index)].sum()
    return float(common / (common + theta))


def average_variance_extracted(std_loadings: pd.Series) -> float:
    """Fornell & Larcker (1981) AVE: mean of the squared completely standardized loadings."""
    values = np.asarray(std_loadings, dtype=float)
    return float(np.mean(values**2))


@dataclass
class AlphaResult:
    """``psych::alpha``-like result for one scale: ``total`` (Series) and ``items`` (DataFrame)."""

    total: pd.Series
    items: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.items

    def to_dict(self) -> dict[str, object]:
        return {
            "total": {k: float(v) for k, v in self.total.items()},
            "items": self.items.to_dict(orient="index"),
            "warnings": [w.message for w in self.warnings],
        }

    def summary(self) -> str:
        t = self.total
        return (
            f"alpha = {t['alpha']:.3f} [{t['alpha.ci.lower']:.3f}, {t['alpha.ci.upper']:.3f}] (Feldt), "
            f"std.alpha = {t['std.alpha']:.3f}, average r = {t['average_r']:.3f}, "
            f"k = {int(t['n_items'])}, n = {int(t['n'])}\n" + self.items.round(3).to_string()
        )

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary().splitlines()[0]}</pre>" + self.items.to_html(float_format="%.3f")


def item_analysis(
    items: pd.DataFrame,
    keys: Mapping[str, int] | None = None,
    bounds: Mapping[str, tuple[float, float]] | tuple[float, float] | None = None,
    level: float = 0.95,
) -> AlphaResult:
    """Alpha with Feldt CI, standardized alpha, alpha if deleted and r.drop for one scale (psych::alpha).

    ``keys`` ({item: 1 | -1}) reverse the marked items first, with ``bounds`` or psych's observed
    min/max. The scale score is the mean of the available keyed items (psych ``total``).
    """
    x = _numeric(items)
    if keys:
        x = reverse_key(x, keys, bounds)
    warnings: list[SurveyWarning] = []
    sd = x.std()
    constant = [str(c) for c in x.columns if not sd[c] > 0]
    if constant:
        raise SurveyInputError("item has no variance", column=constant[0])
    a = cronbach_alpha(x)
    n, k = len(x), x.shape[1]
    lower, upper = alpha_ci_feldt(a, n, k, level)
    r_drop = corrected_item_total(x)
    negative = [str(i) for i in r_drop.index if r_drop[i] < 0]
    if negative:
        warnings.append(
            SurveyWarning(
                "negative_item_total",
                f"items correlate negatively with the rest of their scale (reverse "
                f"keyed?): {', '.join(negative)}",
                "measure",
            )
        )
    score = x.mean(axis=1, skipna=True)
    total = pd.Series(
        {
            "alpha": a,
            "alpha.ci.lower": lower,
            "alpha.ci.upper": upper,
            "std.alpha": standardized_alpha(x),
            "average_r": average_r(x),
            "n_items": float(k),
            "n": float(n),
            "mean": float(score.mean()),
            "sd": float(score.std()),
        }
    )
    table = pd.DataFrame(
        {
            "key": [int((keys or {}).get(c, 1)) for c in x.columns],
            "n": x.notna().sum().astype(int),
            "mean": x.mean(),
            "sd": x.std(),
            "r.drop": r_drop,
            "alpha.if.deleted": alpha_if_deleted(x),
        },
        index=x.columns,
    )
    return AlphaResult(total=total, items=table, warnings=warnings)
