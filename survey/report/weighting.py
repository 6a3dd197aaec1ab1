"""Sampling weights in the paper: ``weights:`` in ``paper.yaml`` and the weighted numbers the tables read.

``weights:`` is either a column of the data holding the weights, or margins to rake the analytic sample
to (:func:`survey.quality.weights.rake`, equal to R ``survey::rake``)::

    weights: w                                   # shorthand for {column: w}
    weights: {column: w}
    weights: {margins: analysis/margins.yaml}    # a MARGINS.yaml file, or the mapping inline:
    weights:
      margins: {AGEBAND: {1: .2, 2: .3, 3: .3, 4: .2}, GENDER: {1: .5, 2: .48, 3: .02}}
      trim_upper: 5                              # optional trimming of the raked weights (mean-1 scale)

:func:`apply` (called at the end of :func:`survey.report.analysis.run_analysis`) computes the weights on
the analytic sample, the weighted descriptives of Tables 1 and 3 (:mod:`survey.measure.weighted`) and the
structural model twice, unweighted and with ``survey.sem.fit(..., sampling_weights=COLUMN)`` (lavaan's
``sampling.weights``), for the weighted-vs-unweighted hypothesis table. Until the SEM engine accepts
``sampling_weights`` that table is omitted with the reason :data:`NO_WEIGHTED_SEM`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from survey.errors import SurveyInputError, SurveyWarning
from survey.quality.margins import parse_margins
from survey.quality.weights import kish_design_effect, kish_effective_n

#: Name of the weight column added to the scored data when the paper rakes.
RAKED_COLUMN = "raking_weight"
NO_WEIGHTED_SEM = ("survey.sem.fit has no sampling_weights option in this build (weighted estimation, "
                   "lavaan's sampling.weights, comes with the SEM engine)")
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


class WeightsSpec(BaseModel):
    """``weights:`` of ``paper.yaml``: exactly one of ``column`` and ``margins`` (a MARGINS.yaml path or
    the mapping inline); ``trim_lower``/``trim_upper``/``strict_trim`` trim raked weights as
    ``survey::trimWeights`` on the mean-1 scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    margins: str | dict[str, dict[Any, float]] | None = None
    trim_lower: float | None = Field(None, gt=0)
    trim_upper: float | None = Field(None, gt=0)
    strict_trim: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> WeightsSpec:
        if (self.column is None) == (self.margins is None):
            raise ValueError("give exactly one of column (a weight column) and margins (to rake to)")
        if self.column is not None and (self.trim_lower, self.trim_upper) != (None, None):
            raise ValueError("trim_lower/trim_upper apply to raked weights (margins), not to a column")
        if isinstance(self.margins, dict):
            try:
                parse_margins(self.margins, field="margins")
            except SurveyInputError as exc:
                raise ValueError(f"{exc.field}: {exc.message}") from None
        return self


@dataclass
class Weighting:
    """The weights of the analytic sample and every weighted number the paper reports."""

    spec: WeightsSpec
    column: str
    weights: pd.Series
    raking: Any = None
    score_description: pd.DataFrame | None = None
    score_correlations: pd.DataFrame | None = None
    behaviour: pd.DataFrame | None = None
    sem_unweighted: Any = None
    sem_weighted: Any = None
    omitted_reason: str | None = None
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def design_effect(self) -> float:
        """Kish's design effect of the weights (survey.quality.weights.kish_design_effect)."""
        return kish_design_effect(self.weights)

    @property
    def effective_n(self) -> float:
        """Kish's effective sample size (survey.quality.weights.kish_effective_n)."""
        return kish_effective_n(self.weights)

    def describe(self) -> str:
        """One sentence for table notes: where the weights come from, Kish's deff and effective N."""
        if self.raking is not None:
            columns = ", ".join(dict.fromkeys(self.raking.margins["column"]))
            source = (f"raking weights to the population margins of {columns} (iterative proportional "
                      f"fitting as R survey::rake, {self.raking.iterations} sweeps"
                      + (", trimmed" if self.raking.trim else "") + ")")
        else:
            source = f"the sampling weights in column {self.column}"
        return (f"Weighted: {source}; Kish design effect {self.design_effect:.2f}, effective N = "
                f"{self.effective_n:.0f}.")


def supports_sampling_weights(fit: Any) -> bool:
    """Whether ``fit`` (``survey.sem.fit``) takes ``sampling_weights=`` (lavaan's sampling.weights)."""
    return "sampling_weights" in inspect.signature(fit).parameters


def _margins(spec: WeightsSpec) -> Any:
    if isinstance(spec.margins, dict):
        return spec.margins
    path = Path(str(spec.margins))
    if not path.is_file() and not path.is_absolute() and (REPO_ROOT / path).is_file():
        path = REPO_ROOT / path
    if not path.is_file():
        raise SurveyInputError("margins file not found", field="weights.margins", value=str(spec.margins))
    return path


def _column_weights(data: pd.DataFrame, column: str) -> pd.Series:
    if column not in data.columns:
        raise SurveyInputError("weight column not in the analytic data", field="weights.column", value=column)
    values = pd.to_numeric(data[column], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) <= 0))
    if bad.size:
        raw = data[column].iloc[bad[0]]
        raise SurveyInputError("weight must be a positive number", row=int(bad[0]) + 1, column=column,
                               field="weights.column", value=None if pd.isna(raw) else raw)
    return values * (len(values) / values.sum())


def compute_weights(spec: WeightsSpec, data: pd.DataFrame) -> tuple[str, pd.Series, Any]:
    """The weight column's name, the weights (mean 1, ``data``'s index) and the raking result (or None)."""
    if spec.column is not None:
        return spec.column, _column_weights(data, spec.column), None
    from survey.quality.weights import rake

    try:
        raking = rake(data, _margins(spec), trim_lower=spec.trim_lower, trim_upper=spec.trim_upper,
                      strict_trim=spec.strict_trim)
    except SurveyInputError as exc:
        if exc.field is not None or exc.file is not None:
            raise
        raise SurveyInputError(f"analytic data: {exc.message}", row=exc.row, column=exc.column,
                               field="weights.margins", value=exc.value) from None
    return RAKED_COLUMN, raking.weights, raking


def apply(results: Any) -> None:
    """Weights, weighted descriptives and the weighted and unweighted SEM of ``results`` (a
    :class:`survey.report.analysis.StudyResults`), stored in ``results.weighting``; nothing without
    ``weights:`` in the configuration. Warnings of raking and of both fits join ``results.warnings``."""
    from survey.measure.weighted import weighted_correlations, weighted_describe
    from survey.report import analysis

    spec = results.config.weights
    if spec is None:
        return
    data = results.analytic.data
    column, weights, raking = compute_weights(spec, data)
    out = Weighting(spec, column, weights, raking)
    if raking is not None:
        out.warnings += raking.warnings
    if results.scores is not None:
        out.score_description = weighted_describe(results.scores, weights)
        out.score_correlations = weighted_correlations(results.scores, weights)
    behaviour = getattr(results, "behaviour_description", None)
    if behaviour is None:
        behaviour = getattr(results, "behaviour", None)
    if isinstance(behaviour, pd.DataFrame) and len(behaviour):
        out.behaviour = weighted_describe(data[list(behaviour.index)], weights)
    out.omitted_reason = NO_WEIGHTED_SEM
    if supports_sampling_weights(analysis.fit):
        scored = results.scored.assign(**{column: weights.reindex(results.scored.index).to_numpy()})
        options = analysis.fit_options(results.config, bootstrap=False)
        try:
            out.sem_weighted = analysis._fit(results.model, scored, {**options, "sampling_weights": column})
        except SurveyInputError as exc:
            if exc.field != "sampling_weights":
                raise
            out.omitted_reason = f"survey.sem.fit: {exc.message}"  # the engine names but lacks the option
        else:
            out.omitted_reason = None
            out.sem_unweighted = analysis._fit(results.model, scored, options)
            out.warnings += [SurveyWarning(w.code, f"weighted SEM: {w.message}", w.stage)
                             for w in out.sem_weighted.warnings]
    results.weighting = out
    results.warnings = [*results.warnings, *out.warnings]
