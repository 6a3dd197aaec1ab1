"""Weighted columns of Tables 1 and 3 and the weighted-vs-unweighted hypothesis table.

The numbers come from :class:`survey.report.weighting.Weighting` (the measure stage's weighted
descriptives, the SEM fitted with and without ``sampling_weights``); these builders only select, label
and format. Tables 1 and 3 keep their unweighted columns and gain weighted ones beside them:

* Table 1 (sample): ``% (weighted)``, the weighted share of each category (``survey.measure.weighted``);
  for the behaviour measures the weighted M and SD;
* Table 3 (scale scores): weighted M and SD, and the weighted correlations above the diagonal (the
  unweighted ones, with their significance stars, stay below it);
* hypotheses, weighted and unweighted: b, SE, p and the decision of each hypothesis from both fits.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from survey.measure.weighted import weighted_shares
from survey.report import apa, tables
from survey.report.table import Omitted, Table


def sample_masks(data: pd.DataFrame, instrument: Any) -> list[np.ndarray]:
    """The respondents of each category row of :func:`survey.report.tables.sample_table`, in its order:
    instrument versions, then per demographic item its scale points and "not reported"."""
    masks: list[np.ndarray] = []
    if "instrument_version" in data.columns:
        for version in data["instrument_version"].value_counts(sort=False).sort_index().index:
            masks.append((data["instrument_version"] == version).to_numpy())
    for item in instrument.items:
        if item.role != "demographic" or item.id not in data.columns:
            continue
        values = pd.to_numeric(data[item.id], errors="coerce")
        points = list(instrument.scale_of(item.id).points)
        masks += [(values == code).to_numpy() for code in points]
        masks.append((~values.isin(points)).to_numpy())
    return masks


def weighted_sample_table(table: Table, data: pd.DataFrame, instrument: Any, weighting: Any) -> Table:
    """Table 1 with the weighted share of every category and the weighted M, SD of the behaviour rows."""
    masks = sample_masks(data, instrument)
    counts = table.data["n"].to_numpy()[: len(masks)]
    if [int(m.sum()) for m in masks] != [int(c) for c in counts]:
        raise RuntimeError("Table 1 rows no longer match survey.report.weighted_tables.sample_masks")
    shares = weighted_shares(masks, weighting.weights.reindex(data.index).to_numpy())
    extra = len(table.data) - len(masks)
    behaviour = weighting.behaviour
    n_behaviour = 0 if behaviour is None else len(behaviour)
    if extra != n_behaviour:
        raise RuntimeError("Table 1 behaviour rows do not match the weighted behaviour descriptives")
    frame = table.data.copy()
    frame["percent.weighted"] = [100 * s for s in shares] + [np.nan] * extra
    cells = [apa.percent(100 * s) for s in shares]
    if extra:
        frame["mean.weighted"] = [np.nan] * len(masks) + list(behaviour["mean"])
        frame["sd.weighted"] = [np.nan] * len(masks) + list(behaviour["sd"])
        cells += [f"M = {apa.num(m)}, SD = {apa.num(s)}" for m, s in zip(behaviour["mean"], behaviour["sd"],
                                                                         strict=True)]
    display = table.display.copy()
    display.insert(list(display.columns).index("%") + 1, "% (weighted)", cells)
    note = f"{table.note} {weighting.describe()} % (weighted) = weighted share of N."
    return dataclasses.replace(table, data=frame, display=display, note=note, align=[])


def weighted_descriptives_table(table: Table, weighting: Any) -> Table:
    """Table 3 with the weighted M and SD of each scale score and the weighted correlations above the
    diagonal."""
    described = weighting.score_description
    names = list(table.data["variable"])
    lookup = {}
    for rec in weighting.score_correlations.to_dict("records"):
        lookup[(rec["var1"], rec["var2"])] = lookup[(rec["var2"], rec["var1"])] = rec["r"]
    frame = table.data.copy()
    frame["mean.weighted"] = described.loc[names, "mean"].to_numpy()
    frame["sd.weighted"] = described.loc[names, "sd"].to_numpy()
    display = table.display.copy()
    at = list(display.columns).index("SD") + 1
    display.insert(at, "M (weighted)", [apa.num(v) for v in frame["mean.weighted"]])
    display.insert(at + 1, "SD (weighted)", [apa.num(v) for v in frame["sd.weighted"]])
    for j, g in enumerate(names):
        above = [lookup[(f, g)] if i < j else np.nan for i, f in enumerate(names)]
        frame[f"rw_{g}"] = above
        column = str(j + 1)
        display[column] = [apa.bounded(r) if i < j else cell
                           for i, (r, cell) in enumerate(zip(above, display[column], strict=True))]
    note = (f"{table.note} {weighting.describe()} Weighted M and SD (R survey svymean, svyvar) and, "
            "above the diagonal, weighted correlations (pairwise).")
    return dataclasses.replace(table, data=frame, display=display, note=note, align=[])


def weighted_hypothesis_table(weighting: Any, hypotheses: Any, alpha: float = 0.05) -> Table:
    """Table: each hypothesis tested with the unweighted and the weighted SEM (same estimator and
    missing-data options), side by side."""
    unweighted = tables.hypothesis_rows(weighting.sem_unweighted, hypotheses, alpha)
    weighted = tables.hypothesis_rows(weighting.sem_weighted, hypotheses, alpha)
    keep = ["hypothesis", "path", "b", "se", "pvalue", "beta", "supported"]
    data = unweighted[keep].merge(weighted[keep], on=["hypothesis", "path"], suffixes=("", ".weighted"))
    display = pd.DataFrame({"H": data["hypothesis"], "Path": data["path"]})
    for suffix, label in (("", "Unweighted"), (".weighted", "Weighted")):
        display[f"{label} b"] = [apa.num(v) for v in data[f"b{suffix}"]]
        display[f"{label} SE"] = [apa.num(v) for v in data[f"se{suffix}"]]
        display[f"{label} \u03b2"] = [apa.bounded(v) + apa.stars(p)
                                      for v, p in zip(data[f"beta{suffix}"], data[f"pvalue{suffix}"],
                                                      strict=True)]
        display[f"{label} p"] = [apa.pvalue(v) for v in data[f"pvalue{suffix}"]]
    display["Supported"] = [f"{a.capitalize()} / {b}" for a, b in zip(data["supported"],
                                                                      data["supported.weighted"],
                                                                      strict=True)]
    asked = getattr(weighting.sem_unweighted, "estimator", "")
    estimator = getattr(weighting.sem_weighted, "estimator", "")
    how = (f"estimator {asked} runs as {estimator} with weights, as in lavaan: robust (sandwich) standard "
           "errors and the Yuan-Bentler-Mplus test" if asked and estimator and asked != estimator
           else f"robust standard errors{'' if not estimator else f', estimator {estimator}'}")
    note = (f"Both models fitted with the same options and missing-data handling; the weighted one with "
            f"lavaan's sampling.weights (weights rescaled to sum to N; {how}). {weighting.describe()} "
            "Supported = "
            f"unweighted / weighted decision (p < {apa.bounded(alpha)} and the sign as hypothesised). "
            "* p < .05. ** p < .01. *** p < .001.")
    return Table("hypotheses_weighted", "Hypothesis tests, unweighted and weighted", data, display, note)


def extend_tables(results: Any, out: list[Table], omitted: list[Omitted]) -> None:
    """Weighted columns in Tables 1 and 3 and the weighted hypothesis table after the hypothesis table,
    in place; nothing when the study is unweighted."""
    weighting = getattr(results, "weighting", None)
    if weighting is None:
        return
    for k, table in enumerate(out):
        if table.key == "sample":
            out[k] = weighted_sample_table(table, results.analytic.data, results.instrument, weighting)
        elif table.key == "descriptives" and weighting.score_description is not None:
            out[k] = weighted_descriptives_table(table, weighting)
    if weighting.sem_weighted is None:
        omitted.append(Omitted("hypotheses_weighted", "Hypothesis tests, unweighted and weighted",
                               weighting.omitted_reason or "no weighted fit"))
        return
    at = next((k + 1 for k, t in enumerate(out) if t.key == "hypotheses"), len(out))
    out.insert(at, weighted_hypothesis_table(weighting, results.hypotheses, results.config.alpha))
