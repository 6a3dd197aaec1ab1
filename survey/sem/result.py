"""The one result class lives in :mod:`survey.sem.results.result` (re-exported here for callers)."""

from survey.sem.results.result import SEMResult

__all__ = ["SEMResult"]
