"""Multi-group fits (lavaan ``sem(group=, group.equal=, group.partial=)``) run through the one pipeline
(:func:`survey.sem.fit` with ``group=``; :mod:`survey.sem.engine`). Kept here: the call with the group
first, and the group helpers the invariance sequence uses.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from survey.sem.api import single_thread  # noqa: F401 - re-exported
from survey.sem.data.blocks import group_label  # noqa: F401 - re-exported
from survey.sem.model.blocks import MultiGroupModel  # noqa: F401 - re-exported


def group_order(column: pd.Series) -> list:
    """Group values in order of first appearance (lavaan), missing values excluded."""
    return list(pd.unique(column.dropna()))


def fit_multigroup(
    model: str,
    data: pd.DataFrame,
    group: str,
    *,
    group_equal: Iterable[str] | str = (),
    group_partial: Iterable[str] | str = (),
    estimator: str = "ML",
    missing: str = "listwise",
    se: str = "default",
    bootstrap: int | None = None,
    **options,
):
    """``survey.sem.fit(model, data, group=group, ...)``."""
    from survey.sem.api import fit

    return fit(
        model,
        data,
        group=group,
        group_equal=group_equal,
        group_partial=group_partial,
        estimator=estimator,
        missing=missing,
        se=se,
        bootstrap=bootstrap,
        **options,
    )
