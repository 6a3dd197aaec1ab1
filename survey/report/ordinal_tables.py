"""The ordinal sensitivity analysis of the paper (``ordered: true`` in paper.yaml).

The study's main models treat the 7-point items as continuous (the configured estimator, e.g. MLR). With
``ordered: true`` the structural model is fitted once more with the items as ordered categories: lavaan's
``sem(..., ordered = items, estimator = "WLSMV")`` (thresholds, polychoric and polyserial correlations,
DWLS with robust SEs and the mean-and-variance adjusted test; Muthen, du Toit & Spisic 1997), through
``survey.sem.fit`` (:mod:`survey.sem.ordinal`); the behaviour measures stay continuous. The table sets each
hypothesised path under both treatments side by side, and one sentence says where the conclusions differ
(Rhemtulla, Brosseau-Liard & Savalei 2012: with seven categories the two usually agree). The ordinal fit
uses complete cases (lavaan's default for ordered data), so its N can be smaller than the main fit's.
These builders only select, label and format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.report import apa, tables
from survey.report.table import Omitted, Table

ORDINAL_ESTIMATOR = "WLSMV"
TITLE = "Sensitivity: hypothesis tests with the items as continuous and as ordinal"


@dataclass
class OrdinalSensitivity:
    """The ordinal refit of the structural model, or why there is none."""

    fit: Any = None
    items: tuple[str, ...] = ()
    omitted_reason: str | None = None


def apply(results: Any) -> None:
    """Fit the structural model with the indicators ordered when the configuration asks for it
    (``results.ordinal``); its warnings join the study's, prefixed."""
    if not getattr(results.config, "ordered", False):
        return
    from survey.report.analysis import measurement_variables
    from survey.sem import fit

    items = tuple(i for i in results.indicators if i in measurement_variables(results.measurement_syntax))
    try:
        ordinal = fit(results.model, results.scored, estimator=ORDINAL_ESTIMATOR, ordered=list(items))
    except SurveyInputError as exc:
        results.ordinal = OrdinalSensitivity(items=items, omitted_reason=f"the ordinal fit failed ({exc})")
        return
    results.ordinal = OrdinalSensitivity(ordinal, items)
    results.warnings.extend(SurveyWarning("ordinal_fit", f"ordinal sensitivity fit: {w}", "sem")
                            for w in ordinal.warnings)


def sensitivity_rows(continuous: Any, ordinal: Any, hypotheses: Any, alpha: float = 0.05) -> pd.DataFrame:
    """Per hypothesis b, SE, beta, p and the decision under both fits (``.ordinal`` the WLSMV ones)."""
    keep = ["hypothesis", "path", "b", "se", "beta", "pvalue", "supported"]
    left = tables.hypothesis_rows(continuous, hypotheses, alpha)[keep]
    right = tables.hypothesis_rows(ordinal, hypotheses, alpha)[keep]
    data = left.merge(right, on=["hypothesis", "path"], suffixes=("", ".ordinal"))
    data["beta.difference"] = data["beta.ordinal"] - data["beta"]
    return data


def differences_sentence(data: pd.DataFrame, estimator: str, n_continuous: int, n_ordinal: int,
                         label: str = "the sensitivity table") -> str:
    """Where the conclusions of the two treatments differ (decisions, then the largest change in beta)."""
    changed = data[data["supported"] != data["supported.ordinal"]]
    head = (f"Treating the items as ordinal ({ORDINAL_ESTIMATOR}, N = {n_ordinal} complete cases) instead of "
            f"continuous ({estimator}, N = {n_continuous}; {label}) ")
    if changed.empty:
        head += f"leads to the same decision for all {len(data)} hypotheses"
    else:
        parts = [f"{r['hypothesis']} ({r['path']}: {_decision(r['supported'])} as continuous, "
                 f"{_decision(r['supported.ordinal'])} as ordinal)" for r in changed.to_dict("records")]
        head += f"changes the decision for {_join(parts)}"
    big = data.loc[data["beta.difference"].abs().idxmax()] if len(data) else None
    if big is not None:
        head += (f"; the largest change in a standardized path is {big['hypothesis']}'s, "
                 f"\u03b2 = {apa.bounded(big['beta'])} vs {apa.bounded(big['beta.ordinal'])}")
    return head + "."


def _decision(value: str) -> str:
    return "supported" if value == "yes" else "not supported"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def ordinal_sensitivity_table(results: Any) -> Table:
    """Table: each hypothesis under the configured estimator (items continuous) and WLSMV (ordinal)."""
    config, ordinal = results.config, results.ordinal.fit
    data = sensitivity_rows(results.sem, ordinal, results.hypotheses, config.alpha)
    display = pd.DataFrame({"H": data["hypothesis"], "Path": data["path"]})
    for suffix, label in (("", f"Continuous ({config.estimator})"),
                          (".ordinal", f"Ordinal ({ORDINAL_ESTIMATOR})")):
        display[f"{label} b"] = [apa.num(v) for v in data[f"b{suffix}"]]
        display[f"{label} SE"] = [apa.num(v) for v in data[f"se{suffix}"]]
        display[f"{label} \u03b2"] = [apa.bounded(v) + apa.stars(p)
                                      for v, p in zip(data[f"beta{suffix}"], data[f"pvalue{suffix}"],
                                                      strict=True)]
    display["Supported"] = [f"{a.capitalize()} / {b}"
                            for a, b in zip(data["supported"], data["supported.ordinal"], strict=True)]
    fm = ordinal.fit_measures()
    n_cont, n_ord = int(results.sem.nobs), int(ordinal.nobs)
    note = (f"Continuous: the structural model as in the hypothesis table ({config.estimator}, missing = "
            f"{config.missing}, N = {n_cont}). Ordinal: the {len(results.ordinal.items)} items as ordered "
            f"categories (thresholds and polychoric / polyserial correlations; DWLS with robust SEs; "
            f"lavaan's WLSMV), complete cases, N = {n_ord}; behaviour measures continuous; scaled "
            f"\u03c7\u00b2({int(fm['df'])}) = {fm['chisq.scaled']:.2f}, "
            f"CFI = {apa.bounded(fm['cfi.scaled'])}, RMSEA = {apa.bounded(fm['rmsea.scaled'])}. "
            "b of an ordinal fit is on the scale of the items' latent responses (variance 1); "
            f"compare \u03b2. Supported = continuous / ordinal decision (p < {apa.bounded(config.alpha)} "
            "and the sign as hypothesised). * p < .05. ** p < .01. *** p < .001.")
    meta = {"estimator": config.estimator, "n_continuous": n_cont, "n_ordinal": n_ord}
    return Table("hypotheses_ordinal", TITLE, data, display, note, meta=meta)


def ordinal_paragraph(table: Table) -> str:
    """The Results sentence on the sensitivity table (:func:`differences_sentence`)."""
    meta = table.meta
    return differences_sentence(table.data, meta["estimator"], meta["n_continuous"], meta["n_ordinal"],
                                table.label)


def extend_tables(results: Any, out: list[Table], omitted: list[Omitted]) -> None:
    """The sensitivity table after the hypothesis tables (and the weighted one), in place; an omission
    line when the ordinal fit failed; nothing without ``ordered: true``."""
    sensitivity = getattr(results, "ordinal", None)
    if sensitivity is None:
        return
    if sensitivity.fit is None:
        omitted.append(Omitted("hypotheses_ordinal", TITLE, sensitivity.omitted_reason or "no ordinal fit"))
        return
    keys = [t.key for t in out]
    after = max((k for k, key in enumerate(keys) if key in ("hypotheses", "hypotheses_weighted")), default=-1)
    out.insert(after + 1 if after >= 0 else len(out), ordinal_sensitivity_table(results))
