"""Ordered (Likert) items in SEM as lavaan 0.6 treats them: thresholds and polychoric correlations in
lavaan's two steps, their asymptotic covariance (Muthen 1984), DWLS / ULS / WLS objectives with robust
standard errors and the WLSMV / WLSM / ULSMV tests, single- and multi-group.

One module per step: thresholds -> bivariate -> polychoric -> acov -> objective -> test -> fitmeasures ->
estimates / summary; fit (one group) and multigroup (several) put them together; choices resolves
lavaan's estimator / se / test / information options; probit and conditional handle observed covariates
(lavaan's conditional.x). Everything it takes from the continuous engine comes through ``_engine``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"OrdinalFit": "fit", "SampleStatistics": "fit", "fit_ordinal": "fit", "sample_statistics": "fit",
         "GroupFit": "multigroup", "fit_ordinal_groups": "multigroup"}

__all__ = ["GroupFit", "OrdinalFit", "SampleStatistics", "fit_ordinal", "fit_ordinal_groups",
           "sample_statistics"]


def __getattr__(name: str) -> Any:
    """The ordinal estimators on first use (PEP 562): a continuous fit imports survey.sem.ordinal.route
    (this package) without them."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"survey.sem.ordinal.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'survey.sem.ordinal' has no attribute {name!r}")
