"""lavaan's threshold formulas ``item | t1 + t2`` with ``group=`` (ordered items, delta or theta).

lavaan model.syntax ("Multiple groups"): a single label (``x1 | a*t1``) names one parameter in every
group (lavaan warns that it imposes equality across groups), ``c(a1, a2)*t1`` one label per group, a
fixed value holds in every group, ``c(0, NA)*t1`` per group (NA: free), ``start(c(...))`` per group.
The identification of :mod:`survey.sem.ordinal.multigroup` is lavaan 0.6.14's and is decided by
``group.equal`` alone: with ``"thresholds"`` the latent means and the scale factors (delta; the residual
variances, theta) of groups 2+ are free whatever the user's thresholds are; without it none are. User
labels take precedence over ``group.equal`` (``c(a1, a2)*t1`` are two parameters under
``group.equal = "thresholds"``), and under ``group.equal = "thresholds"`` a threshold fixed in one group
is fixed in every group (lavaan 0.6.14: ``c(0.1, NA)*t1`` and ``c(NA, 0.4)*t1`` are fixed in both;
tests/fixtures/threshold_groups). Each threshold gets a global key (:func:`threshold_index`); a fixed one
has index -1 and its value in ``Group.fixed`` (:mod:`survey.sem.ordinal.group_moments`). Estimation and
inference are then those of :mod:`survey.sem.ordinal.multigroup` over the free parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.syntax.thresholds import ThresholdSpec, check_threshold_spec

SINGLE_LABEL = ("lavaan WARNING: using a single label per parameter in a multiple group setting implies "
                "imposing equality constraints across all the groups")


def resolve(specs: list[ThresholdSpec], ordinal: list[str], other: list, frame: pd.DataFrame,
            levels: list) -> list[dict]:
    """Per group the terms by (item, 0-based threshold), c() vectors resolved (lavaan's errors otherwise);
    ``other``: the model's covariates or continuous variables (refused, as with one group)."""
    if other:
        raise SurveyInputError("threshold formulas (item | t1) with covariates or continuous variables "
                               "are not available yet (available: ordered items only)", field="model")
    count = {v: int(frame[v].dropna().nunique()) - 1 for v in ordinal}  # check_categories: all groups
    out: list[dict] = [{} for _ in levels]
    for spec in specs:
        check_threshold_spec(spec, count)
        for g in range(len(levels)):
            out[g][(spec.item, spec.k - 1)] = spec.in_group(g, len(levels))
    return out


def single_label_spans_groups(specs: list[ThresholdSpec]) -> bool:
    """True when a threshold's one label holds in every group (lavaan's warning)."""
    return any(s.label and not s.labels for s in specs)


def threshold_index(per_group: list[dict], g: int, ordinal: list[str], sample, keys: dict, equal: bool,
                    partial: frozenset, aliases: dict | None = None) -> tuple[list[int], dict]:
    """Group ``g``'s threshold keys in ``keys`` (index -1 when fixed) and the :class:`Group` fields of the
    formulas: ``fixed`` (local values where the index is -1), ``threshold_labels`` (by local threshold
    position) and ``starts`` (by global index)."""
    index: list[int] = []
    fixed: dict[int, float] = {}
    starts: dict[int, float] = {}
    labels: dict[int, str] = {}
    mine = per_group[g]
    for v, tv in zip(ordinal, sample.thresholds, strict=True):
        for k in range(tv.size):
            spec = mine.get((v, k))
            shared = equal and f"{v}|t{k + 1}" not in partial
            value = spec.fixed if spec is not None else None
            if value is None and shared and not (spec is not None and spec.label):
                value = next((grp[(v, k)].fixed for grp in per_group
                              if (v, k) in grp and grp[(v, k)].fixed is not None), None)
            pos = len(index)
            if value is not None:
                fixed[pos] = float(value)
                index.append(-1)
                continue
            if spec is not None and spec.label:
                labels[pos] = spec.label
                key: tuple = ("label", (aliases or {}).get(spec.label, spec.label))
            else:
                key = ("|", v, k) if shared else (g, "|", v, k)
            index.append(keys.setdefault(key, len(keys)))
            if spec is not None and spec.start is not None:
                starts[index[-1]] = float(spec.start)
    return index, {"fixed": fixed, "threshold_labels": labels, "starts": starts}


def label_rows(table: pd.DataFrame, groups) -> pd.DataFrame:
    """The user labels of the threshold rows (``group_estimates`` leaves them empty)."""
    table = table.copy()
    for k, grp in enumerate(groups, start=1):
        labels = getattr(grp, "threshold_labels", None) or {}
        if not labels:
            continue
        rows = np.flatnonzero((table["op"].to_numpy() == "|") & (table["group"].to_numpy() == k))
        for pos, label in labels.items():
            table.iloc[rows[pos], table.columns.get_loc("label")] = label
    return table


def finish(fit, groups, specs: list[ThresholdSpec]) -> None:
    """The threshold rows' labels, lavaan's single-label warning and the mark of tied thresholds."""
    fit.parameter_table = label_rows(fit.parameter_table, groups)
    fit.tied_thresholds = True
    fit.user_thresholds = [(s.item, f"t{s.k}") for s in specs]  # lavaan's user rows (group_vcov)
    if single_label_spans_groups(specs):
        fit.warnings.append(SINGLE_LABEL)
