"""The study's analysis, stage by stage: the numbers every table of the paper is read from.

:func:`run_analysis` calls the public API of each stage in pipeline order (instrument -> ingest and
quality -> measure -> sem) and keeps each stage's result object. The report never recomputes a number
that a stage owns; it only selects, labels and formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.measure import describe, instrument_keys, reliability_report, scale_correlations, scale_scores
from survey.report import inputs, progress
from survey.report.config import PaperConfig
from survey.sem import fit
from survey.sem.invariance import invariance as measurement_invariance


@dataclass(frozen=True)
class Hypothesis:
    """A directional hypothesis on the structural path ``outcome ~ predictor``."""

    id: str
    outcome: str
    predictor: str
    sign: str = "positive"

    @property
    def path(self) -> str:
        return f"{self.predictor} \u2192 {self.outcome}"


@dataclass
class StudyResults:
    """The result objects of every stage, as the paper reads them."""

    config: PaperConfig
    instrument: Any
    analytic: inputs.AnalyticData
    scored: pd.DataFrame
    items: list[str]
    model: str
    measurement_syntax: str
    hypotheses: list[Hypothesis]
    cfa: Any
    sem: Any
    reliability: Any
    scores: pd.DataFrame | None = None
    score_description: pd.DataFrame | None = None
    score_correlations: pd.DataFrame | None = None
    behaviour_description: pd.DataFrame | None = None
    source_instruments: list[Any] = field(default_factory=list)
    invariance: dict[str, Any] = field(default_factory=dict)
    comparison: Any = None
    comparison_error: str | None = None
    warnings: list[SurveyWarning] = field(default_factory=list)
    weighting: Any = None  # survey.report.weighting.Weighting when paper.yaml has weights:
    ordinal: Any = None  # survey.report.ordinal_tables.OrdinalSensitivity when paper.yaml has ordered: true

    @property
    def indicators(self) -> list[str]:
        """The latent-variable indicators of the model (the items of the measurement model)."""
        constructs = {i.id for i in self.instrument.items if i.construct}
        return [i for i in self.items if i in constructs]

    @property
    def outcome(self) -> str | None:
        """The focal latent outcome, named by most hypotheses (:func:`focal_outcome`)."""
        return focal_outcome(self.hypotheses, self.instrument)

    @property
    def behaviour(self) -> list[str]:
        """The observed variables of the structural model (behaviour measures the hypotheses name)."""
        return [v for v in inputs.observed_variables(self.instrument) if v in self.items]

    def _repr_html_(self) -> str:
        return (f"<p>{self.instrument.spec}: {len(self.analytic.data)} analytic respondents, SEM N = "
                f"{self.sem.nobs} (listwise), {len(self.warnings)} warning(s)</p>")


def hypotheses_of(config: PaperConfig, instrument: Any) -> list[Hypothesis]:
    """The configured hypotheses, or the instrument's when the configuration lists none."""
    if config.hypotheses:
        return [Hypothesis(h.id, h.outcome, h.predictor, h.sign) for h in config.hypotheses]
    return [Hypothesis(h.id, h.outcome, h.predictor, getattr(h, "sign", "positive") or "positive")
            for h in instrument.hypotheses]


def measurement_syntax(model: str) -> str:
    """The ``=~`` lines of a lavaan model (its CFA)."""
    return "".join(line + "\n" for line in model.splitlines() if "=~" in line)


def fit_options(config: PaperConfig, *, bootstrap: bool) -> dict[str, Any]:
    """Keyword options of ``survey.sem.fit`` from the configuration."""
    options: dict[str, Any] = {"estimator": config.estimator, "missing": config.missing}
    if bootstrap and config.bootstrap.replicates > 0:
        options.update(se="bootstrap", bootstrap=config.bootstrap.replicates, seed=config.bootstrap.seed)
    return options


def reliability(results: StudyResults) -> Any:
    """``survey.measure.reliability_report`` on the responses as answered, keyed by the instrument, with
    the CFA's estimates (so that loadings, omega, CR and AVE come from one fit)."""
    keys, bounds = instrument_keys(results.instrument)
    items = results.indicators
    return reliability_report(results.measurement_syntax, results.analytic.data,
                              keys={i: k for i, k in keys.items() if i in items},
                              bounds={i: b for i, b in bounds.items() if i in items},
                              estimates=results.cfa.estimates())


def scores(results: StudyResults) -> None:
    """Scale scores of the model's indicators (``survey.measure.scoring.scale_scores``), their
    descriptives and correlations, and the behaviour measures' descriptives (``survey.measure``)."""
    keys, bounds = instrument_keys(results.instrument)
    items = set(results.indicators)
    scales = {code: [i for i in results.instrument.indicators(code) if i in items]
              for code in results.instrument.construct_codes}
    scales = {code: members for code, members in scales.items() if members}
    results.scores = scale_scores(results.analytic.data, scales,
                                  keys={i: k for i, k in keys.items() if i in items},
                                  bounds={i: b for i, b in bounds.items() if i in items})
    results.score_description = describe(results.scores)
    results.score_correlations = scale_correlations(results.scores)
    behaviour = [i.id for i in results.instrument.items_by_role("behaviour")
                 if i.id in results.analytic.data.columns]
    results.behaviour_description = describe(results.analytic.data[behaviour]) if behaviour else None


_CONFIG_FIELDS = {"se": "bootstrap.replicates", "bootstrap": "bootstrap.replicates", "seed": "bootstrap.seed",
                  "estimator": "estimator", "missing": "missing", "group": "groups"}


def _fit(model: str, data: pd.DataFrame, options: dict[str, Any]) -> Any:
    """``survey.sem.fit``; an option it rejects is reported under the configuration field that set it."""
    try:
        return fit(model, data, **options)
    except SurveyInputError as exc:
        if exc.file is None and exc.field in _CONFIG_FIELDS:
            raise SurveyInputError(exc.message, field=_CONFIG_FIELDS[exc.field], value=exc.value) from None
        raise


def focal_outcome(hypotheses: list[Hypothesis], instrument: Any) -> str | None:
    """The latent outcome most hypotheses name (first named on a tie); ``None`` without one."""
    latent = set(instrument.construct_codes)
    counts: dict[str, int] = {}
    for h in hypotheses:
        if h.outcome in latent:
            counts[h.outcome] = counts.get(h.outcome, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None

# The invariance sequence of the paper, with the study's ``missing`` (FIML: every analytic respondent of the
# group; listwise: complete cases). Steps up to scalar: equal loadings and intercepts are
# what pooling the waves and comparing groups on the latent variables require (Vandenberg & Lance 2000).
# A step is tenable when Chen's (2007) rule passes and no univariate score test of its constraints is
# significant after Holm adjustment (localized non-invariance); the largest one is released and the model
# refitted until none is (partial invariance, Byrne, Shavelson & Muthen 1989).
INVARIANCE_OPTIONS: dict[str, Any] = {"steps": ("configural", "metric", "scalar"),
                                      "criterion": "chen", "adjust": "holm", "max_free": 3}


def path_comparison(results: StudyResults, outcome: str | None = None) -> Any:
    """Which driver matters most: ``SEMResult.compare_paths`` (survey.sem.compare_fitted) on the paths of the
    hypothesised drivers of ``outcome``, with the likelihood-ratio test of equal paths refitted on the same
    data and options; ``None`` when fewer than two hypotheses name ``outcome`` (default: the focal
    outcome). When the comparison cannot be computed on these data (the stage raises
    :class:`SurveyInputError`, e.g. a negative scaled difference correction), ``None`` too, and the
    stage's reason is kept in ``results.comparison_error`` for the paper's omission note."""
    outcome = outcome or results.outcome
    drivers = [h.predictor for h in results.hypotheses if h.outcome == outcome]
    if len(drivers) < 2 or not hasattr(results.sem, "compare_paths"):
        return None
    config = results.config
    try:
        return results.sem.compare_paths(outcome, drivers, data=results.scored, seed=config.bootstrap.seed,
                                         alpha=config.alpha, fit_options=fit_options(config, bootstrap=False))
    except SurveyInputError as exc:
        results.comparison_error = str(exc)
        return None


def measurement_variables(syntax: str) -> set[str]:
    """The observed indicators named on the right of ``=~`` in lavaan syntax."""
    out: set[str] = set()
    for line in syntax.splitlines():
        if "=~" in line:
            out.update(term.split("*")[-1].strip() for term in line.split("=~", 1)[1].split("+"))
    return out


def invariance_sample(
    scored: pd.DataFrame, group: str, items: list[str], min_group: int, missing: str = "listwise"
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows entering the invariance tests across ``group``: the group is known, and the group has at
    least ``min_group`` analytic cases on the model's ``items`` (complete cases when the sequence runs
    listwise; with FIML every respondent with some item answered); also the groups left out with their N."""
    known = scored[scored[group].notna()]
    items = list(items)
    used = known.dropna(subset=items) if missing == "listwise" else known[known[items].notna().any(axis=1)]
    sizes = used[group].value_counts()
    small = {g: int(n) for g, n in sizes.items() if n < min_group}
    keep = ~known[group].isin(list(small))
    return known[keep], {_group_label(g): n for g, n in sorted(small.items(), key=lambda kv: str(kv[0]))}


def _group_label(value: Any) -> str:
    """A group code as written in the data: 3.0 -> "3"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def run_analysis(config: PaperConfig) -> StudyResults:
    """Run every stage on the configured data: ingest and screen, key, fit the CFA and the SEM
    (``survey.sem.fit``), the measure stage's reliability, discriminant validity and scale scores, and
    the measurement invariance sequence of the CFA across each configured grouping column
    (``survey.sem.invariance`` with :data:`INVARIANCE_OPTIONS` and the study's ``missing``: FIML on every
    analytic respondent, or complete cases; respondents with the group missing are left out of that test)."""
    progress.stage(progress.STAGES[0])
    instrument = inputs.load_instrument(config.instrument_ref(config.model_instrument))
    analytic = inputs.analytic_data(config)
    sources = [inputs.load_instrument(config.instrument_ref(spec))
               for spec in dict.fromkeys(analytic.instruments)]
    absent = [g for g in config.groups if g not in analytic.data.columns]
    if absent:
        raise SurveyInputError("grouping column not in the analytic data", field="groups", value=absent[0])
    scored = inputs.reverse_keyed(analytic.data, instrument)
    items = inputs.common_items(instrument, sources, scored)
    model = inputs.lavaan_model(instrument, items=items)
    syntax = measurement_syntax(model)
    progress.stage(progress.STAGES[1])
    cfa = _fit(syntax, scored, fit_options(config, bootstrap=False))
    progress.stage(progress.STAGES[2])
    sem = _fit(model, scored, fit_options(config, bootstrap=True))
    results = StudyResults(config=config, instrument=instrument, analytic=analytic, scored=scored,
                           items=items, model=model, measurement_syntax=syntax,
                           hypotheses=hypotheses_of(config, instrument), cfa=cfa, sem=sem, reliability=None,
                           source_instruments=sources)
    progress.stage(progress.STAGES[3])
    results.reliability = reliability(results)
    scores(results)
    progress.stage(progress.STAGES[4])
    results.comparison = path_comparison(results)
    progress.stage(progress.STAGES[5])
    small_groups: list[SurveyWarning] = []
    for group in config.groups:
        indicators = [i for i in items if i in measurement_variables(syntax)]
        data, left_out = invariance_sample(scored, group, indicators, config.invariance_min_group,
                                           config.missing)
        if left_out:
            small_groups.append(SurveyWarning(
                "invariance_small_group",
                f"invariance across {group}: left out group(s) with fewer than {config.invariance_min_group} "
                f"analytic cases ({', '.join(f'{g}: N = {n}' for g, n in left_out.items())})", "report"))
        results.invariance[group] = measurement_invariance(
            syntax, data, group, estimator=config.estimator, missing=config.missing, **INVARIANCE_OPTIONS,
            alpha=config.alpha)
    results.warnings = [*analytic.warnings, *cfa.warnings, *sem.warnings, *results.reliability.warnings,
                        *small_groups,
                        *(SurveyWarning(w.code, f"invariance across {g}, {w.message}", w.stage)
                          for g, r in results.invariance.items() for w in r.warnings),
                        *(results.comparison.warnings if results.comparison is not None else [])]
    from survey.report.weighting import apply as apply_weights

    apply_weights(results)
    from survey.report.ordinal_tables import apply as apply_ordinal

    apply_ordinal(results)
    return results
