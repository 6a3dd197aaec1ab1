"""The one import point of the ordinal package into the continuous SEM engine.

Everything :mod:`survey.sem.ordinal` needs from the rest of ``survey.sem`` (the parameter table, the
RAM model's implied moments and their derivatives, starting values) comes through this module, so that
the engine's restructure re-points these imports here only.
"""

from __future__ import annotations

from survey.sem.data import GroupStats
from survey.sem.model import RAMModel
from survey.sem.start import start_values
from survey.sem.syntax import lavaanify, variable_names

__all__ = ["GroupStats", "RAMModel", "lavaanify", "start_values", "variable_names"]
