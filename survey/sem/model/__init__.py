"""Model matrices per group block (RAM form), implied moments and their derivatives, start values."""

from survey.sem.model.ram import Implied, RAMModel

__all__ = ["Implied", "RAMModel"]
