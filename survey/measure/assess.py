"""The reliability and discriminant-validity report of a measurement model (``survey reliability``).

``reliability_report(model, data, keys=..., fit=survey.sem.fit)`` reverse keys the items, computes per
construct ``psych::alpha`` statistics (pairwise), has the caller's ``fit`` function estimate the
measurement model (``fit(syntax, keyed_items)``; lavaan's marker-variable identification) -- or reads a
lavaan-style ``estimates`` table (or fitted result) the caller already has, e.g.
``survey.sem.fit(model, keyed).estimates()`` -- and derives omega, CR, AVE, HTMT, HTMT2 and the
Fornell-Larcker matrix from those estimates (see :mod:`survey.measure.cfa`). The measure stage itself
holds no estimator: it comes before the SEM stage.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning, available_columns
from survey.measure.cfa import (
    FitFunction,
    as_estimates,
    cfa_syntax,
    check_cfa_data,
    fit_measures_of,
    latent_correlations,
    loadings_from_estimates,
    sample_covariance,
)
from survey.measure.keys import reverse_key
from survey.measure.model import measurement_model
from survey.measure.reliability import (
    average_variance_extracted,
    composite_reliability,
    item_analysis,
    omega,
)
from survey.measure.validity import discriminant_flags, fornell_larcker, htmt


@dataclass
class ReliabilityReport:
    """Per-construct reliability, item statistics and discriminant validity."""

    factors: pd.DataFrame
    items: pd.DataFrame
    htmt: pd.DataFrame
    htmt2: pd.DataFrame
    fornell_larcker: pd.DataFrame
    flags: pd.DataFrame
    fit_measures: dict[str, float]
    nobs: int
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The per-construct table (n_items, alpha, CI, std.alpha, omega, cr, ave)."""
        return self.factors

    def to_dict(self) -> dict[str, Any]:
        """The ``survey reliability --json`` object (DESIGN.md contract, plus extras)."""

        def matrix(df: pd.DataFrame) -> dict[str, dict[str, float]]:
            return {str(f): {str(g): _num(df.at[f, g]) for g in df.columns} for f in df.index}

        factors = {}
        for f, row in self.factors.iterrows():
            factors[str(f)] = {
                "n_items": int(row["n_items"]),
                **{k: _num(row[k]) for k in self.factors.columns if k != "n_items"},
            }
        return {
            "factors": factors,
            "htmt": matrix(self.htmt),
            "htmt2": matrix(self.htmt2),
            "fornell_larcker": matrix(self.fornell_larcker),
            "items": [
                {
                    "factor": str(r["factor"]),
                    "item": str(i),
                    **{k: _num(v) for k, v in r.items() if k != "factor"},
                }
                for i, r in self.items.iterrows()
            ],
            "cfa": {"nobs": self.nobs, **{k: _num(v) for k, v in self.fit_measures.items()}},
            "warnings": [w.message for w in self.warnings],
        }

    def summary(self) -> str:
        lines = [
            f"Reliability (alpha: psych, pairwise; omega/cr/ave: CFA, N = {self.nobs}; ave: Fornell-Larcker, "
            "the mean squared standardized loading)",
            self.factors.round(3).to_string(),
            "",
            "HTMT (Henseler et al. 2015)",
            self.htmt.round(3).to_string(),
            "",
            "Fornell-Larcker (sqrt AVE on the diagonal)",
            self.fornell_larcker.round(3).to_string(),
        ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            "<h4>Reliability</h4>",
            self.factors.to_html(float_format="%.3f"),
            "<h4>HTMT</h4>",
            self.htmt.to_html(float_format="%.3f"),
            "<h4>Fornell-Larcker</h4>",
            self.fornell_larcker.to_html(float_format="%.3f"),
        ]
        if self.warnings:
            parts.append(
                "<ul>" + "".join(f"<li>{html.escape(w.message)}</li>" for w in self.warnings) + "</ul>"
            )
        return "".join(parts)


def _num(value: Any) -> float | None:
    value = float(value)
    return None if not np.isfinite(value) else value


CFA_MEASURES = (
    "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline.chisq", "baseline.df", "npar"
)
"""The CFA fit measures a :class:`ReliabilityReport` keeps (lavaan names)."""


def reliability_report(
    model: str | Mapping[str, list[str]],
    data: pd.DataFrame,
    *,
    keys: Mapping[str, int] | None = None,
    bounds: Mapping[str, tuple[float, float]] | tuple[float, float] | None = None,
    fit: FitFunction | None = None,
    estimates: pd.DataFrame | Any | None = None,
    level: float = 0.95,
) -> ReliabilityReport:
    """Reliability and discriminant validity of every factor of a measurement model.

    ``model`` is lavaan syntax (only ``=~`` lines are used) or ``{factor: items}``; ``data`` holds the
    responses as answered; ``keys``/``bounds`` reverse key them (see :func:`survey.measure.keys.reverse_key`).
    The CFA comes from the caller, in exactly one of two ways:

    * ``fit``: a function ``fit(syntax, data) -> result`` (e.g. ``survey.sem.fit``); it is called with
      the measurement model (:func:`survey.measure.cfa.cfa_syntax`, marker identification) and the
      keyed items; the report keeps the result's fit measures, N and warnings;
    * ``estimates``: a lavaan-style table (``lhs op rhs est std.all``, one group) of a model fitted to
      the same keyed data, or a fitted result with ``.estimates()`` (and ``.fit_measures()``).

    omega = (sum lambda)^2 psi / 1'S1 (S listwise, divisor N), CR = (sum lambda)^2 psi /
    ((sum lambda)^2 psi + sum theta), AVE = mean std.all^2 (see :mod:`survey.measure.reliability`).
    """
    if (fit is None) == (estimates is None):
        raise SurveyInputError(
            "reliability_report needs the CFA from exactly one of fit= (e.g. survey.sem.fit) or estimates=",
            field="fit" if fit is None else "estimates",
        )
    factors = measurement_model(model) if isinstance(model, str) else {f: list(v) for f, v in model.items()}
    warnings: list[SurveyWarning] = []
    single = [f for f, its in factors.items() if len(its) < 2]
    if single:  # as semTools' dropSingle: no internal consistency for one indicator
        warnings.append(
            SurveyWarning(
                "single_indicator", "factors with one indicator are left out: " + ", ".join(single), "measure"
            )
        )
        factors = {f: its for f, its in factors.items() if len(its) >= 2}
    if not factors:
        raise SurveyInputError("the model has no factor with two or more indicators")
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SurveyInputError(f"indicator not found in the data; {available_columns(data.columns)}",
                               column=absent[0])
    x = data[items].apply(pd.to_numeric, errors="coerce").astype(float)
    if keys:
        x = reverse_key(x, keys, bounds)
    observed, nobs = sample_covariance(x)
    result = None
    if fit is not None:
        check_cfa_data(x)
        result = fit(cfa_syntax(factors), x)
    elif not isinstance(estimates, pd.DataFrame):
        result = estimates
    estimates = as_estimates(result if result is not None else estimates)
    fit_measures: dict[str, float] = {}
    if result is not None:
        fit_measures = fit_measures_of(result, CFA_MEASURES)
        nobs = int(getattr(result, "nobs", nobs))
        warnings.extend(getattr(result, "warnings", []))
    per_factor = loadings_from_estimates(estimates, factors)

    rows, item_rows = {}, []
    for f, its in factors.items():
        alpha = item_analysis(x[its], level=level)
        warnings.extend(alpha.warnings)
        lo = per_factor[f]
        rows[f] = {
            "n_items": len(its),
            "alpha": alpha.total["alpha"],
            "alpha.ci.lower": alpha.total["alpha.ci.lower"],
            "alpha.ci.upper": alpha.total["alpha.ci.upper"],
            "std.alpha": alpha.total["std.alpha"],
            "omega": omega(lo["est"], observed, lo.attrs["psi"]),
            "cr": composite_reliability(lo["est"], lo["theta"], lo.attrs["psi"]),
            "ave": average_variance_extracted(lo["std.all"]),
        }
        for i in its:
            item_rows.append(
                {
                    "item": i,
                    "factor": f,
                    "key": int((keys or {}).get(i, 1)),
                    **alpha.items.loc[i, ["n", "mean", "sd", "r.drop", "alpha.if.deleted"]].to_dict(),
                    "loading": lo.at[i, "est"],
                    "std.loading": lo.at[i, "std.all"],
                }
            )
        weak = [i for i in its if abs(lo.at[i, "std.all"]) < 0.5]
        if weak:
            warnings.append(
                SurveyWarning(
                    "weak_loading", f"{f}: standardized loadings below .50 for {', '.join(weak)}", "measure"
                )
            )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "factor"
    h1 = htmt(factors, x)
    h2 = htmt(factors, x, htmt2=True)
    fl = fornell_larcker(table["ave"], latent_correlations(estimates, list(factors)))
    flags = discriminant_flags(h1, fl)
    for _, r in flags.iterrows():
        if r["htmt>0.85"]:
            warnings.append(
                SurveyWarning(
                    "htmt",
                    f"HTMT of {r['factor1']} and {r['factor2']} is "
                    f"{r['htmt']:.3f} (> .85): discriminant validity in doubt",
                    "measure",
                )
            )
        if r["fornell_larcker_violated"]:
            warnings.append(
                SurveyWarning(
                    "fornell_larcker",
                    f"|r({r['factor1']}, {r['factor2']})| = "
                    f"{abs(r['r']):.3f} reaches a construct's sqrt(AVE)",
                    "measure",
                )
            )
    for f in factors:
        if table.at[f, "ave"] < 0.5:
            warnings.append(SurveyWarning("low_ave", f"{f}: AVE = {table.at[f, 'ave']:.3f} < .50", "measure"))
    return ReliabilityReport(
        factors=table,
        items=pd.DataFrame(item_rows).set_index("item"),
        htmt=h1,
        htmt2=h2,
        fornell_larcker=fl,
        flags=flags,
        fit_measures=fit_measures,
        nobs=nobs,
        warnings=warnings,
    )
