"""The one import point of the ordinal package into the SEM engine (:mod:`survey.sem.engine`).

Everything :mod:`survey.sem.ordinal` needs from the rest of ``survey.sem`` comes through this module:
the parameter table (:mod:`survey.sem.syntax`), the engine's RAM model of a group block with its implied
moments and derivatives (:mod:`survey.sem.model.ram`), the block sample statistics it starts from
(:mod:`survey.sem.data.moments`), lavaan's starting values (:mod:`survey.sem.start`, the engine's) and
the engine's central-difference Jacobian (:mod:`survey.sem.standardize`), defined parameters
(:mod:`survey.sem.syntax.defined`) and the one result class, :class:`survey.sem.results.result.SEMResult`
(the ordinal results subclass it, :mod:`survey.sem.ordinal.results`), and the engine's score statistics
of equality constraints (:mod:`survey.sem.score`).
"""

from __future__ import annotations

from survey.sem.data.moments import GroupStats
from survey.sem.model.ram import RAMModel
from survey.sem.results.result import SEMResult
from survey.sem.score import score_statistics
from survey.sem.standardize import numerical_jacobian
from survey.sem.start import start_values
from survey.sem.syntax import lavaanify, variable_names
from survey.sem.syntax.defined import DefinedFunction
from survey.sem.test import ChiSquareTest

__all__ = ["ChiSquareTest", "DefinedFunction", "GroupStats", "RAMModel", "SEMResult", "lavaanify",
           "numerical_jacobian", "score_statistics", "start_values", "variable_names"]
