"""Ordered (Likert) items in SEM as lavaan 0.6 treats them: thresholds and polychoric correlations in
lavaan's two steps, their asymptotic covariance (Muthen 1984), DWLS / ULS / WLS objectives with robust
standard errors and the WLSMV / WLSM / ULSMV tests, single- and multi-group.

One module per step: thresholds -> bivariate -> polychoric -> acov -> objective -> test -> fitmeasures ->
estimates / summary; fit (one group) and multigroup (several) put them together. Everything it takes from
the continuous engine comes through ``_engine``.
"""

from __future__ import annotations

from survey.sem.ordinal.fit import OrdinalFit, SampleStatistics, fit_ordinal, sample_statistics
from survey.sem.ordinal.multigroup import GroupFit, fit_ordinal_groups

__all__ = ["GroupFit", "OrdinalFit", "SampleStatistics", "fit_ordinal", "fit_ordinal_groups",
           "sample_statistics"]
