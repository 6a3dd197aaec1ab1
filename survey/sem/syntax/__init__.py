"""lavaan model syntax -> parameter table (the first stage of survey.sem): the parser (:mod:`.parse`),
the table with lavaan's auto.* defaults (:mod:`.table`), labels and equalities (:mod:`.labels`), block
syntax ``group: NAME`` (:mod:`.blocks`), the multi-group table (:mod:`.groups`), defined parameters
(:mod:`.defined`) and what the estimation path accepts (:mod:`.checks`)."""

from survey.sem.syntax.table import (
    Formula,
    Modifiers,
    VariableNames,
    build_partable,
    lavaanify,
    parse_syntax,
    variable_names,
)

__all__ = ["Formula", "Modifiers", "VariableNames", "build_partable", "lavaanify", "parse_syntax",
           "variable_names"]
