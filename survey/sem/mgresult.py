"""Multi-group fits return the one result class, :class:`survey.sem.results.result.SEMResult`."""

from survey.sem.results.result import MultiGroupResult, SEMResult

__all__ = ["MultiGroupResult", "SEMResult"]
