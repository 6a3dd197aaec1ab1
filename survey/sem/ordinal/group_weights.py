"""Sampling weights of a multi-group ordinal fit (lavaan 0.6.14 ``sampling.weights`` with ``group=``).

With ``sampling.weights.normalization = "group"`` lavaan (``lav_data_full``) rescales each group's weights
to sum to its N_g (after the cases it drops: listwise, incomplete rows; pairwise, rows missing on every
variable); each group's thresholds, polychorics and Gamma are then the weighted one-group statistics
(:func:`survey.sem.ordinal.fit.sample_statistics`), and the fit over groups is the unweighted one's.
lavaan's default "total" (weights summing to the total N) and "none" also change how lavaan 0.6.14 weighs
the groups against each other (its SRMR uses the groups' weight sums; its chi-square differs from both
the count- and the weight-sum-weighted one by ~3e-5 relative on the bfi fixture): not reproduced, refused.
"""

from __future__ import annotations

import pandas as pd

from survey.errors import SurveyInputError

WEIGHT_COLUMN = "__survey_group_weight__"


def rescaled(frame: pd.DataFrame, column: str, normalization: str) -> tuple[pd.DataFrame, str]:
    """``frame`` with the checked weight column (as WEIGHT_COLUMN) and the normalization each group's
    statistics take ("total" within the group: lavaan's "group")."""
    from survey.sem.data.weighted import design_from

    w = design_from(frame, column, None, normalization).weights  # checked: numbers, finite, >= 0
    if normalization != "group":
        raise SurveyInputError(f"sampling_weights_normalization={normalization!r} with ordered items and two "
                               "or more groups is not available yet (available: 'group', each group's "
                               "weights summing to its N)", field="sampling_weights_normalization",
                               value=normalization)
    out = frame.copy()
    out[WEIGHT_COLUMN] = w
    return out, "total"
