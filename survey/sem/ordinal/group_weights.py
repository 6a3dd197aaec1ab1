"""Sampling weights of a multi-group ordinal fit (lavaan 0.6.14 ``sampling.weights`` with ``group=``).

lavaan (``lav_data_full``) normalises the weights of the cases it keeps (listwise: complete rows; pairwise:
rows observed on some variable): "total" (its default) rescales all of them to sum to the total N, "group"
each group's to sum to its N_g, "none" keeps them. Each group's thresholds, correlations and ``WLS.W =
B^-1 INNER B^-T`` (``muthen1984`` with ``wt``) do not depend on the scale of its weights, so they are the
one-group statistics with the weights rescaled within the group (:func:`survey.sem.ordinal.fit.
sample_statistics`). What the normalization changes (``lav_samplestats_from_data``): the group's N is then
its weight sum S_g (``nobs[[g]] <- sum(WT[[g]])``) and ``NACOV = WLS.W * S_g``, so Gamma_g is scaled by
S_g / N_g and S_g takes N_g's place in the fit over groups (objective, vcov, tests, RMSEA); the reported
numbers of observations stay the case counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEIGHT_COLUMN = "__survey_group_weight__"


def rescaled(frame: pd.DataFrame, column: str, normalization: str, names: list[str], missing: str,
             group: str) -> tuple[pd.DataFrame, str]:
    """``frame`` (the cases of the chosen groups) with the checked weights normalised as lavaan's
    ``normalization`` over the kept cases (as WEIGHT_COLUMN), and the normalization each group's
    statistics take ("total" within the group)."""
    from survey.sem.data.weighted import design_from

    w = design_from(frame, column, None, normalization).weights  # checked: numbers, finite, >= 0
    seen = frame[names].notna()
    keep = (seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)).to_numpy()
    if normalization == "total":
        w = w * keep.sum() / w[keep].sum()
    elif normalization == "group":
        for level in frame[group].unique():
            in_g = (frame[group] == level).to_numpy() & keep
            w = np.where(in_g, w * in_g.sum() / w[in_g].sum(), w)
    out = frame.copy()
    out[WEIGHT_COLUMN] = w
    return out, "total"


def group_size(rows: pd.DataFrame, names: list[str], missing: str) -> float:
    """S_g: the group's weight sum over the cases its statistics use (module docstring)."""
    seen = rows[names].notna()
    keep = seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)
    return float(np.sum(rows.loc[keep, WEIGHT_COLUMN].to_numpy(dtype=float)))


def rescale(sample, size: float) -> float:
    """Gamma_g scaled by S_g / N_g (module docstring); returns S_g."""
    sample.gamma = sample.gamma * (size / sample.nobs)
    return size
