"""Common-method variance checks (Podsakoff, MacKenzie, Lee & Podsakoff 2003).

* :func:`harman_single_factor` - Harman's single-factor test: the share of the total variance of the
  items taken by the first unrotated principal component of their (pairwise) correlation matrix,
  lambda_1 / p. A share above .50 is the conventional alarm. Podsakoff et al. (2003, p. 889) show the
  test is insensitive: a single factor rarely emerges even with substantial method variance, so a
  share below .50 is no evidence that method bias is absent.
* :func:`common_method_factor` - unmeasured latent method construct (ULMC; Podsakoff et al. 2003,
  Table 5; Williams, Cote & Buckley 1989): every item also loads on a method factor that is
  orthogonal to the traits. Compared with the trait-only CFA by the chi-square difference test
  (delta chisq = chisq_trait - chisq_method on df_trait - df_method), the change in CFI, and the
  share of item variance due to the method factor (mean squared completely standardized method
  loading) next to the share due to the traits. Both CFAs are fitted by the caller's ``fit``
  function (e.g. ``survey.sem.fit``) from lavaan syntax written by :func:`method_factor_syntax`.
* :func:`marker_variable` - Lindell & Whitney (2001): r_M, the smallest absolute correlation between a
  theoretically unrelated marker variable and the substantive variables, estimates the method
  effect; the adjusted correlation is r_A = (r_U - r_M) / (1 - r_M) with
  t = r_A / sqrt((1 - r_A^2) / (n - 3)) on n - 3 degrees of freedom.

Data must be reverse keyed before these functions are called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning
from survey.measure.cfa import FitFunction, as_estimates, cfa_syntax, check_cfa_data, loading_matrix


@dataclass
class HarmanResult:
    """First-component share of variance and the eigenvalues it comes from."""

    share: float
    eigenvalues: pd.Series
    threshold: float = 0.50

    @property
    def flagged(self) -> bool:
        return self.share > self.threshold

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"eigenvalue": self.eigenvalues, "share": self.eigenvalues / len(self.eigenvalues)}
        )

    def summary(self) -> str:
        verdict = "above" if self.flagged else "below"
        return (
            f"Harman's single-factor test: the first unrotated component explains {self.share:.1%} of the "
            f"item variance ({verdict} {self.threshold:.0%}). The test is insensitive (Podsakoff et al. "
            "2003): a low share does not show that common-method variance is absent."
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>"


def harman_single_factor(data: pd.DataFrame, threshold: float = 0.50) -> HarmanResult:
    """Harman's test: largest eigenvalue of the pairwise item correlation matrix divided by p."""
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    if x.shape[1] < 2:
        raise SurveyInputError("Harman's test needs at least two items")
    r = x.corr().to_numpy()
    if np.isnan(r).any():
        raise SurveyInputError("an item has no variance or too few observations")
    eig = np.sort(np.linalg.eigvalsh(r))[::-1]
    values = pd.Series(eig, index=pd.RangeIndex(1, len(eig) + 1, name="component"), name="eigenvalue")
    return HarmanResult(float(eig[0] / len(eig)), values, threshold)


@dataclass
class MethodFactorResult:
    """Trait-only and trait + method-factor CFAs (the ``fit`` function's results) and their comparison."""

    trait: Any
    method: Any
    comparison: pd.Series
    loadings: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)
    syntax: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.loadings

    def to_dict(self) -> dict[str, object]:
        return {
            "comparison": {k: float(v) for k, v in self.comparison.items()},
            "loadings": self.loadings.to_dict(orient="index"),
            "syntax": dict(self.syntax),
            "warnings": [w.message for w in self.warnings],
        }

    def summary(self) -> str:
        c = self.comparison
        return (
            f"Unmeasured latent method factor: delta chisq = {c['delta.chisq']:.3f} "
            f"on {int(c['delta.df'])} df (p = {c['pvalue']:.4g}), delta CFI = {c['delta.cfi']:.3f}; "
            f"method variance {c['method.share']:.1%} of item variance, "
            f"trait variance {c['trait.share']:.1%}."
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.loadings.to_html(float_format="%.3f")


def method_factor_syntax(factors: Mapping[str, Iterable[str]], name: str = "CMV") -> tuple[str, str]:
    """lavaan syntax of the trait-only CFA and of the CFA with an unmeasured method factor.

    Traits keep marker-variable identification; the method factor ``name`` loads on every item with all
    loadings free (``NA*``), variance 1 (``name ~~ 1*name``) and zero covariance with each trait
    (``name ~~ 0*F``): no item has to serve as its marker, whatever its method loading.
    """
    factors = {str(f): [str(i) for i in v] for f, v in factors.items()}
    if name in factors:
        raise SurveyInputError("the method factor's name is already a trait", value=name)
    items = list(dict.fromkeys(i for v in factors.values() for i in v))
    trait = cfa_syntax(factors)
    method = cfa_syntax({**factors, name: items}, std_lv=[name], orthogonal=[(name, f) for f in factors])
    return trait, method


def common_method_factor(
    factors: Mapping[str, Iterable[str]], data: pd.DataFrame, *, fit: FitFunction, name: str = "CMV"
) -> MethodFactorResult:
    """Fit the trait CFA and the CFA with an orthogonal method factor on all items; compare them.

    ``fit(syntax, data) -> result`` estimates both models (e.g. ``survey.sem.fit``; its results need
    ``fit_measures()`` with lavaan's ``chisq df cfi rmsea`` and ``estimates()`` with ``std.all``).
    ``data`` holds the keyed items. The method factor's sign is arbitrary (it is orthogonal to the
    traits); its loadings are reported with a positive sum.
    """
    factors = {str(f): [str(i) for i in v] for f, v in factors.items()}
    trait_syntax, method_syntax = method_factor_syntax(factors, name)
    items = list(dict.fromkeys(i for v in factors.values() for i in v))
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SurveyInputError("indicator not found in the data", column=absent[0])
    x = data[items].apply(pd.to_numeric, errors="coerce").astype(float)
    check_cfa_data(x)
    trait = fit(trait_syntax, x)
    method = fit(method_syntax, x)
    ft, fm = trait.fit_measures(), method.fit_measures()
    delta_chisq = float(ft["chisq"] - fm["chisq"])
    delta_df = float(ft["df"] - fm["df"])
    std = loading_matrix(as_estimates(method), {**factors, name: items}, "std.all")
    method_std = std[name] * (-1.0 if std[name].sum() < 0 else 1.0)
    trait_var = std[list(factors)].pow(2).sum(axis=1)
    loadings = pd.DataFrame(
        {
            "trait.std": trait_var.pow(0.5),
            "method.std": method_std,
            "method.var": method_std**2,
            "trait.var": trait_var,
        }
    )
    comparison = pd.Series(
        {
            "delta.chisq": delta_chisq,
            "delta.df": delta_df,
            "pvalue": float(stats.chi2.sf(max(delta_chisq, 0.0), delta_df)),
            "cfi.trait": float(ft["cfi"]),
            "cfi.method": float(fm["cfi"]),
            "delta.cfi": float(fm["cfi"] - ft["cfi"]),
            "rmsea.trait": float(ft["rmsea"]),
            "rmsea.method": float(fm["rmsea"]),
            "method.share": float(loadings["method.var"].mean()),
            "trait.share": float(loadings["trait.var"].mean()),
        }
    )
    warnings = list(getattr(trait, "warnings", [])) + list(getattr(method, "warnings", []))
    if not getattr(method, "converged", True):
        warnings.append(
            SurveyWarning(
                "method_factor_not_converged",
                "the method-factor CFA did not converge; its comparison is unreliable",
                "measure",
            )
        )
    return MethodFactorResult(
        trait, method, comparison, loadings, warnings, {"trait": trait_syntax, "method": method_syntax}
    )


@dataclass
class MarkerResult:
    """Lindell-Whitney marker adjustment of the correlations among substantive variables."""

    r_m: float
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> str:
        return (
            f"Marker variable (Lindell & Whitney 2001): r_M = {self.r_m:.3f}\n"
            + self.table.round(3).to_string()
        )

    def _repr_html_(self) -> str:
        return f"<p>r_M = {self.r_m:.3f}</p>" + self.table.to_html(float_format="%.3f")


def marker_variable(data: pd.DataFrame, marker: str) -> MarkerResult:
    """Marker-variable check on the columns of ``data`` (e.g. scale scores) with the column ``marker``.

    Correlations use pairwise-complete rows; n is the number of such rows for each pair.
    """
    if marker not in data.columns:
        raise SurveyInputError("marker column not found in the data", column=marker)
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    subs = [c for c in x.columns if c != marker]
    if len(subs) < 2:
        raise SurveyInputError("the marker check needs at least two substantive variables")
    r = x.corr()
    r_m = float(r.loc[marker, subs].abs().min())
    rows = []
    for a, u in enumerate(subs):
        for v in subs[a + 1 :]:
            n = int(x[[u, v]].dropna().shape[0])
            r_u = float(r.at[u, v])
            r_a = (r_u - r_m) / (1.0 - r_m)
            t = r_a / np.sqrt((1.0 - r_a**2) / (n - 3))
            rows.append(
                {
                    "var1": u,
                    "var2": v,
                    "n": n,
                    "r": r_u,
                    "r.adjusted": r_a,
                    "t": t,
                    "pvalue": float(2.0 * stats.t.sf(abs(t), n - 3)),
                }
            )
    return MarkerResult(r_m, pd.DataFrame(rows))
