"""Equality tests of structural paths: which driver of follow intention is strongest?

Pure functions on a vector of estimates and its covariance matrix (pandas in, pandas out), so they
work on any fitted model (``SEMResult.estimates()`` / ``SEMResult.vcov()``, lavaan output read from
disk, bootstrap summaries):

* :func:`wald_test` -- Wald test of linear constraints ``R theta = r`` written as lavaan constraint
  strings (``"b_SHI == b_SKL"``), as lavaan's ``lavTestWald()``.
* :func:`pairwise_path_differences` -- every pairwise difference of paths with its delta-method
  standard error, z test and Holm (1979) adjusted p value; for standardized paths pass their
  covariance matrix or the Jacobian of the standardization (:func:`standardized_vcov`).
* :func:`omnibus_equal_paths` -- Wald test that all paths are equal (k - 1 constraints).
* :func:`equal_paths_model` / :func:`lr_equal_paths` -- the likelihood-ratio version: the same model
  refitted with the paths sharing one label, chi-square difference (Satorra-Bentler 2001 scaled
  difference when the fits carry a scaling factor, :func:`scaled_chisq_difference`).
* :func:`compare_paths` / :func:`compare_fitted_paths` -- all of it for one outcome
  (:class:`PathComparison`); :func:`path_comparison` -- its ``"path_comparison"`` JSON block of
  ``survey fit --compare-paths --json``.

Scale note: an unstandardized path of a latent driver is in units of that driver's metric, which the
marker indicator (first loading fixed to 1) sets. Equality of unstandardized paths is therefore a
meaningful hypothesis only when the drivers share a metric, e.g. with latent variances fixed to 1
(``SHI =~ NA*SHI1 + ...`` and ``SHI ~~ 1*SHI``, lavaan's ``std.lv = TRUE``); otherwise compare the
standardized paths (``std_est``/``std_vcov``), which :func:`compare_paths` then uses for the
supported orderings.

References
----------
Wald, A. (1943). Tests of statistical hypotheses concerning several parameters when the number of
observations is large. *Transactions of the American Mathematical Society, 54*, 426-482.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of
Statistics, 6*, 65-70.
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for moment
structure analysis. *Psychometrika, 66*, 507-514.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of Statistical
Software, 48*(2), 1-36 (``lavTestWald``, ``lavTestLRT``).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning

__all__ = [
    "LRTResult",
    "PathComparison",
    "compare_fitted_paths",
    "compare_paths",
    "WaldResult",
    "constraint_matrix",
    "equal_paths_model",
    "free_parameters",
    "holm",
    "lr_equal_paths",
    "omnibus_equal_paths",
    "pairwise_path_differences",
    "path_comparison",
    "path_names",
    "scaled_chisq_difference",
    "standardized_vcov",
    "wald_test",
]

from survey.sem.compare_lrt import (
    LRTResult,
    equal_paths_model,
    lr_equal_paths,
    scaled_chisq_difference,
)
from survey.sem.compare_wald import (
    WaldResult,
    _aligned_vcov,
    _as_series,
    _finite,
    constraint_matrix,
    free_parameters,
    omnibus_equal_paths,
    path_names,
    standardized_vcov,
    wald_test,
)


# ----------------------------------------------------------------------------------------------------
# pairwise differences
# ----------------------------------------------------------------------------------------------------
def holm(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Holm (1979) step-down adjusted p values (R's ``p.adjust(p, "holm")``).

    With the m p values sorted ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``;
    returned in the original order. NaN p values are ignored (kept as NaN, m counts the others).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def pairwise_path_differences(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    jacobian: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All pairwise differences of paths, z tests and Holm-adjusted p values.

    For paths a, b: ``diff = theta_a - theta_b``, ``se = sqrt(V_aa + V_bb - 2 V_ab)`` (delta method,
    the same as a lavaan defined parameter ``d := a - b``), ``z = diff / se``,
    ``pvalue = 2 (1 - Phi(|z|))``; ``pvalue.holm`` adjusts over the ``k (k - 1) / 2`` comparisons
    (Holm 1979). ``z^2`` equals the one-constraint Wald statistic of ``a == b``.

    Unstandardized paths: ``est``/``vcov`` of the free parameters. Standardized paths: ``est`` holds the
    standardized estimates and ``vcov`` their covariance (``lavInspect(fit, "vcov.std.all")``), or pass
    ``vcov`` of the free parameters and the Jacobian of the standardization as ``jacobian`` (rows:
    standardized parameter names, columns: free parameters); see :func:`standardized_vcov`.

    Returns columns ``a b diff se z pvalue pvalue.holm``, one row per pair in label order.
    """
    theta = _as_series(est)
    labels = list(theta.index if labels is None else labels)
    if len(labels) < 2:
        raise SurveyInputError("need at least two paths to compare", value=len(labels), field="labels")
    missing = [lab for lab in labels if lab not in theta.index]
    if missing:
        raise SurveyInputError("path label not found in the estimates", value=missing[0], field="labels")
    cov = standardized_vcov(vcov, jacobian) if jacobian is not None else vcov
    v = _aligned_vcov(cov, labels)
    x = _finite(theta.loc[labels])
    rows = []
    for i, j in itertools.combinations(range(len(labels)), 2):
        d = x[i] - x[j]
        var = v[i, i] + v[j, j] - 2.0 * v[i, j]
        se = float(np.sqrt(var)) if var > 0 else float("nan")
        z = d / se if se > 0 else float("nan")
        p = float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
        rows.append({"a": labels[i], "b": labels[j], "diff": d, "se": se, "z": z, "pvalue": p})
    out = pd.DataFrame(rows, columns=["a", "b", "diff", "se", "z", "pvalue"])
    out["pvalue.holm"] = holm(out["pvalue"].to_numpy())
    return out


# ----------------------------------------------------------------------------------------------------
# the JSON block of `survey fit --compare-paths`
# ----------------------------------------------------------------------------------------------------
@dataclass
class PathComparison:
    """Which driver matters most: equality tests, importance weights and rank intervals, by driver.

    ``omnibus`` (Wald test that all unstandardized paths are equal), ``pairwise`` (unstandardized
    differences, Holm-adjusted), ``pairwise_std`` (standardized, when their covariance was given),
    ``dominance`` (:class:`~survey.sem.importance.DominanceResult`), ``relative_weights`` (Series),
    ``ranks`` (:func:`~survey.sem.ranks.rank_intervals` table) and ``supported`` (orderings supported
    by the Holm-adjusted tests: standardized when available, else unstandardized). Optional parts are
    None when their input was not given.
    """

    outcome: str | None
    labels: pd.Series
    omnibus: WaldResult
    pairwise: pd.DataFrame
    supported: pd.DataFrame
    pairwise_std: pd.DataFrame | None = None
    dominance: Any = None
    relative_weights: pd.Series | None = None
    ranks: pd.DataFrame | None = None
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``"path_comparison"`` block of ``survey fit --compare-paths --json`` (DESIGN.md)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]

        out: dict[str, Any] = {
            "omnibus_wald": {
                "stat": float(self.omnibus.stat),
                "df": int(self.omnibus.df),
                "pvalue": float(self.omnibus.pvalue),
            },
            "pairwise": records(self.pairwise),
        }
        if self.pairwise_std is not None:
            out["pairwise_std"] = records(self.pairwise_std)
        if self.dominance is not None:
            out["dominance"] = {k: float(v) for k, v in self.dominance.general.items()}
        if self.relative_weights is not None:
            out["relative_weights"] = {k: float(v) for k, v in self.relative_weights.items()}
        if self.ranks is not None:
            out["rank_interval"] = {
                k: [int(lo), int(hi)]
                for k, lo, hi in zip(
                    self.ranks.index, self.ranks["rank.lower"], self.ranks["rank.upper"], strict=True
                )
            }
            out["p_strongest"] = {k: float(v) for k, v in self.ranks["p.strongest"].items()}
        out["supported_orderings"] = list(self.supported["statement"])
        if self.warnings:
            out["warnings"] = [w.message for w in self.warnings]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per driver: path label, importance weights, rank interval and P(strongest)."""
        out = pd.DataFrame({"parameter": self.labels})
        out.index.name = "driver"
        if self.dominance is not None:
            out["dominance"] = self.dominance.general
            out["dominance.share"] = self.dominance.general_standardized
        if self.relative_weights is not None:
            out["relative_weight"] = self.relative_weights
        if self.ranks is not None:
            out = out.join(self.ranks[["rank.lower", "rank.upper", "p.strongest"]])
        return out

    def summary(self) -> str:
        lines = [
            f"Path comparison{'' if self.outcome is None else ' for ' + self.outcome}",
            f"  all paths equal (Wald): W = {self.omnibus.stat:.3f}, df = {self.omnibus.df}, "
            f"p = {self.omnibus.pvalue:.4g}",
            "  supported orderings (Holm): " + (", ".join(self.supported["statement"]) or "none"),
        ]
        lines.append(self.to_frame().to_string(float_format=lambda x: f"{x:.4f}"))
        lines += [f"  warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().splitlines()[1].strip())
        return f"<p><b>Path comparison</b><br>{head}</p>" + self.to_frame().to_html(float_format="%.4f")

    def __str__(self) -> str:
        return self.summary()


def compare_paths(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: pd.Series | dict[str, str],
    *,
    std_est: pd.Series | None = None,
    std_vcov: pd.DataFrame | None = None,
    corr: pd.DataFrame | None = None,
    outcome: str | None = None,
    replicates: pd.DataFrame | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
) -> PathComparison:
    """Compare the strength of the paths of several drivers to one outcome.

    ``labels`` maps driver -> parameter name in ``est``/``vcov`` (e.g. :func:`path_names`). Always:
    omnibus Wald test of equal unstandardized paths and Holm-adjusted pairwise tests. With
    ``std_est``/``std_vcov`` (standardized paths named like ``est`` and their delta-method covariance):
    standardized pairwise tests, which then drive ``supported``. With ``corr`` (model-implied latent
    correlations, lavaan ``cor.lv``) and ``outcome``: general dominance and relative weights. With
    ``replicates`` (bootstrap replicates of the standardized paths, columns = drivers): rank intervals
    at ``level`` and P(strongest). Tables use driver names in ``a``/``b``.
    """
    from survey.sem.importance import dominance_analysis, relative_weights
    from survey.sem.ranks import rank_intervals, supported_orderings

    labels = pd.Series(labels, dtype=object)
    labels.index.name = "driver"
    names = list(labels)
    back = {v: k for k, v in labels.items()}
    omni = omnibus_equal_paths(est, vcov, names)
    pw = pairwise_path_differences(est, vcov, names)
    pw = pw.assign(a=pw["a"].map(back), b=pw["b"].map(back))
    pw_std = None
    if std_est is not None or std_vcov is not None:
        if std_est is None or std_vcov is None:
            raise SurveyInputError(
                "standardized comparison needs both std_est and std_vcov", field="std_vcov"
            )
        pw_std = pairwise_path_differences(std_est, std_vcov, names)
        pw_std = pw_std.assign(a=pw_std["a"].map(back), b=pw_std["b"].map(back))
    dom = rw = ranks = None
    drivers = list(labels.index)
    if corr is not None:
        if outcome is None:
            raise SurveyInputError("outcome is needed with corr", field="outcome")
        dom = dominance_analysis(corr, outcome, drivers)
        rw = relative_weights(corr, outcome, drivers)
    if replicates is not None:
        missing = [d for d in drivers if d not in replicates.columns]
        if missing:
            raise SurveyInputError("replicates lack a driver column", value=missing[0], field="replicates")
        point = None if std_est is None else pd.Series([std_est[n] for n in names], index=drivers)
        ranks = rank_intervals(replicates[drivers], level=level, estimates=point)
    warnings = list(omni.warnings) + ([] if dom is None else list(dom.warnings))
    return PathComparison(
        outcome=outcome,
        labels=labels,
        omnibus=omni,
        pairwise=pw,
        supported=supported_orderings(pw if pw_std is None else pw_std, alpha),
        pairwise_std=pw_std,
        dominance=dom,
        relative_weights=rw,
        ranks=ranks,
        warnings=warnings,
    )


def path_comparison(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: pd.Series | dict[str, str],
    **kwargs: Any,
) -> dict[str, Any]:
    """The ``"path_comparison"`` JSON block: ``compare_paths(est, vcov, labels, **kwargs).to_dict()``.

    Keys as in DESIGN.md (``omnibus_wald``, ``pairwise``, ``dominance``, ``relative_weights``,
    ``rank_interval``) plus ``supported_orderings``, and ``pairwise_std``/``p_strongest``/``warnings``
    when available.
    """
    return compare_paths(est, vcov, labels, **kwargs).to_dict()


def compare_fitted_paths(
    result: Any, outcome: str, predictors: Iterable[str] | None = None, **kwargs: Any
) -> PathComparison:
    """:func:`compare_paths` on a fitted model with the SEMResult contract (``estimates()``, ``vcov()``).

    Parameter names follow lavaan (label, else ``lhs op rhs``); ``kwargs`` pass ``std_est``,
    ``std_vcov``, ``corr``, ``replicates`` ... through.
    """
    estimates = result.estimates()
    vcov = result.vcov()
    labels = path_names(estimates, outcome, predictors)
    theta = free_parameters(estimates, vcov)
    return compare_paths(theta, vcov, labels, outcome=outcome, **kwargs)
