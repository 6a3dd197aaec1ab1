"""Structural equation models, lavaan-equal maximum likelihood.

``fit(model, data)`` fits a lavaan-syntax model with lavaan ``sem()`` defaults and returns a
:class:`SEMResult` (``estimates()``, ``fit_measures()``, ``r2()``, ``modindices()``, ``summary()``).
One module per estimation step: syntax, data, model, start, estimate, vcov, test, fitmeasures,
standardize, defined, modindices, diagnostics, result, summary.
"""

from __future__ import annotations

import sys
import types

from survey.sem.api import fit
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
    "efa",
    "fit",
    "invariance",
    "lavaanify",
    "parse_syntax",
]


def __getattr__(name: str):
    """Path comparison on first use (PEP 562): a plain fit does not load survey.sem.compare."""
    if name in ("FittedPathComparison", "compare_paths_fitted"):
        from survey.sem import compare_fitted

        return getattr(compare_fitted, name)
    if name == "efa":  # lavaan's efa() function: the package survey.sem.efa is callable
        import importlib

        return importlib.import_module("survey.sem.efa")
    raise AttributeError(f"module 'survey.sem' has no attribute {name!r}")


class _CallableSemModule(types.ModuleType):
    """``survey.sem(model, data, ...)`` is lavaan's ``sem()`` (:func:`survey.sem.wrappers.sem`) while
    ``survey.sem`` stays this package (a module whose class adds ``__call__``)."""

    def __call__(self, model, data, **options):
        from survey.sem.wrappers import sem

        return sem(model, data, **options)


sys.modules[__name__].__class__ = _CallableSemModule
