"""Scale scores: reverse keying, then the item mean with a minimum-valid-items rule.

score_i = mean of the keyed items answered by respondent i, when at least ``min_valid`` of the scale's
k items are answered (a fraction: ceil(min_valid * k); default 2/3, the common "two-thirds rule",
e.g. Downey & King 1998, J. General Psychology 125(2), 175-191, on person-mean substitution), else NaN.
Reverse keying is ``(min + max) - x`` (:func:`survey.measure.keys.reverse_key`), applied to the items
as answered, with keys and bounds from the instrument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from survey.measure.keys import instrument_keys, reverse_key

__all__ = ["min_valid_count", "scale_score", "scale_scores"]


def min_valid_count(k: int, min_valid: float | int = 2 / 3) -> int:
    """Items needed for a score: ``min_valid`` itself when it is an integer >= 1, else ceil(min_valid * k)
    (with a small tolerance, so 2/3 of 3 items is 2)."""
    if isinstance(min_valid, int) and min_valid >= 1:
        return min(min_valid, k)
    return max(1, math.ceil(float(min_valid) * k - 1e-9))


def scale_score(items: pd.DataFrame, min_valid: float | int = 2 / 3) -> pd.Series:
    """Mean of the (already keyed) item columns per row, NaN when fewer than the minimum are valid."""
    values = items.apply(pd.to_numeric, errors="coerce")
    need = min_valid_count(values.shape[1], min_valid)
    score = values.mean(axis=1, skipna=True)
    return score.where(values.notna().sum(axis=1) >= need)


def scale_scores(
    data: pd.DataFrame,
    scales: Mapping[str, Sequence[str]] | Any,
    *,
    keys: Mapping[str, int] | None = None,
    bounds: Mapping[str, tuple[float, float]] | tuple[float, float] | None = None,
    min_valid: float | int = 2 / 3,
) -> pd.DataFrame:
    """Scale scores of ``data`` (items as answered).

    ``scales``: {scale: [items]} with ``keys``/``bounds``, or an instrument (its constructs, keys and
    scale bounds; items absent from ``data`` are skipped, so pooled data are scored through the items
    they hold). Returns one column per scale, on ``data``'s index.
    """
    if hasattr(scales, "construct_codes") and hasattr(scales, "indicators"):
        inst = scales
        keys, bounds = instrument_keys(inst)
        scales = {c: inst.indicators(c) for c in inst.construct_codes}
    keys = dict(keys or {})
    out = {}
    for name, members in scales.items():
        cols = [c for c in members if c in data.columns]
        if not cols:
            continue
        sub_keys = {c: keys.get(c, 1) for c in cols}
        sub_bounds = (
            bounds
            if bounds is None or isinstance(bounds, tuple)
            else {c: bounds[c] for c in cols if c in bounds}
        )
        keyed = reverse_key(data[cols].apply(pd.to_numeric, errors="coerce"), sub_keys, sub_bounds)
        out[name] = scale_score(keyed, min_valid)
    return pd.DataFrame(out, index=data.index)
