"""Structural equation models, lavaan-equal maximum likelihood.

``fit(model, data)`` fits a lavaan-syntax model with lavaan ``sem()`` defaults and returns a
:class:`SEMResult` (``estimates()``, ``fit_measures()``, ``r2()``, ``modindices()``, ``summary()``).
One module per estimation step: syntax, data, model, start, estimate, vcov, test, fitmeasures,
standardize, defined, modindices, diagnostics, result, summary.
"""

from __future__ import annotations

from survey.sem.api import fit
from survey.sem.compare_fitted import FittedPathComparison, compare_paths_fitted
from survey.sem.invariance import InvarianceResult, invariance
from survey.sem.mgresult import MultiGroupResult
from survey.sem.result import SEMResult
from survey.sem.syntax import lavaanify, parse_syntax

__all__ = [
    "FittedPathComparison",
    "InvarianceResult",
    "MultiGroupResult",
    "SEMResult",
    "compare_paths_fitted",
    "fit",
    "invariance",
    "lavaanify",
    "parse_syntax",
]
