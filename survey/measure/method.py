"""Common-method variance checks (Podsakoff, MacKenzie, Lee & Podsakoff 2003).

* :func:`harman_single_factor` - Harman's single-factor test: the share of the total variance of the
  items taken by the first unrotated principal component of their (pairwise) correlation matrix,
  lambda_1 / p. A share above .50 is the conventional alarm. Podsakoff et al. (2003, p. 889) show the
  test is insensitive: a single factor rarely emerges even with substantial method variance, so a
  share below .50 is no evidence that method bias is absent.
* :func:`common_method_factor` - unmeasured latent method construct (ULMC; Podsakoff et al. 2003,
  Table 5; Williams, Cote & Buckley 1989): every item also loads on a method factor that is
  orthogonal to the traits. Compared with the trait-only CFA by the chi-square difference test, the
  change in CFI, and the share of item variance due to the method factor (mean squared standardized
  method loading) next to the share due to the traits.
* :func:`marker_variable` - Lindell & Whitney (2001): r_M, the smallest absolute correlation between a
  theoretically unrelated marker variable and the substantive variables, estimates the method
  effect; the adjusted correlation is r_A = (r_U - r_M) / (1 - r_M) with
  t = r_A / sqrt((1 - r_A^2) / (n - 3)) on n - 3 degrees of freedom.

Data must be reverse keyed before these functions are called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from survey.errors import SurveyInputError, SurveyWarning
from survey.measure.cfa import CFAResult, fit_cfa


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
    """Trait-only and trait + method-factor CFAs and their comparison."""

    trait: CFAResult
    method: CFAResult
    comparison: pd.Series
    loadings: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.loadings

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


def common_method_factor(
    factors: Mapping[str, Iterable[str]], data: pd.DataFrame, name: str = "CMV"
) -> MethodFactorResult:
    """Fit the trait CFA and the CFA with an orthogonal method factor on all items; compare them."""
    factors = {str(f): [str(i) for i in v] for f, v in factors.items()}
    if name in factors:
        raise SurveyInputError("the method factor's name is already a trait", value=name)
    items = list(dict.fromkeys(i for v in factors.values() for i in v))
    trait = fit_cfa(factors, data)
    method = fit_cfa({**factors, name: items}, data, orthogonal=[(name, f) for f in factors])
    ft, fm = trait.fit_measures(), method.fit_measures()
    delta_chisq = ft["chisq"] - fm["chisq"]
    delta_df = ft["df"] - fm["df"]
    std = method.std_loadings()
    trait_std = pd.Series(
        {i: std.loc[i, [f for f in factors if i in factors[f]]].pow(2).sum() for i in items}
    )
    loadings = pd.DataFrame(
        {
            "trait.std": trait_std.pow(0.5),
            "method.std": std[name],
            "method.var": std[name] ** 2,
            "trait.var": trait_std,
        }
    )
    comparison = pd.Series(
        {
            "delta.chisq": delta_chisq,
            "delta.df": delta_df,
            "pvalue": float(stats.chi2.sf(max(delta_chisq, 0.0), delta_df)),
            "cfi.trait": ft["cfi"],
            "cfi.method": fm["cfi"],
            "delta.cfi": fm["cfi"] - ft["cfi"],
            "rmsea.trait": ft["rmsea"],
            "rmsea.method": fm["rmsea"],
            "method.share": float(loadings["method.var"].mean()),
            "trait.share": float(loadings["trait.var"].mean()),
        }
    )
    warnings = list(trait.warnings) + list(method.warnings)
    if not method.converged:
        warnings.append(
            SurveyWarning(
                "method_factor_not_converged",
                "the method-factor CFA did not converge; its comparison is unreliable",
                "measure",
            )
        )
    return MethodFactorResult(trait, method, comparison, loadings, warnings)


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
