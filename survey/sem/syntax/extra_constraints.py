"""lavaan's ``constraints=`` argument of ``lavaan()`` / ``cfa()`` / ``sem()`` / ``growth()``: extra
(in)equality constraints written in model syntax but given apart from the model.

lavaan 0.6 (``lavaanify``, R/lav_partable.R) parses the string with ``lavParseModelString`` and keeps its
constraint rows only (``==``, ``<``, ``>`` and ``:=``), appending them after the model's own constraints, as
if they had been written at the end of the model syntax. That is what :func:`merge_constraints` does;
lines of another kind (``f =~ x``), which lavaan drops without a word, are refused in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from survey.errors import SurveyInputError

_CONSTRAINT = re.compile(r"==|:=|<(?!~)|>")
_MODEL_OP = re.compile(r"=~|~~|<~|~|\|")


def _lines(constraints: str | Iterable[str]) -> list[str]:
    """The statements of the constraints= argument (one string, or lavaan's character vector)."""
    parts = [constraints] if isinstance(constraints, str) else list(constraints)
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise SurveyInputError("constraints= must be lavaan syntax text (a string or a list of strings)",
                                   value=repr(part), field="constraints")
        for line in part.splitlines():
            line = re.split(r"[#!]", line, maxsplit=1)[0]
            out += [s.strip() for s in line.split(";") if s.strip()]
    return out


def merge_constraints(model: str, constraints: str | Iterable[str] | None) -> str:
    """The model syntax with lavaan's ``constraints=`` statements appended (module notes)."""
    if constraints is None:
        return model
    lines = _lines(constraints)
    for k, line in enumerate(lines, start=1):
        if not _CONSTRAINT.search(line) or _MODEL_OP.search(_CONSTRAINT.sub(" ", line)):
            raise SurveyInputError(f"constraints= statement {k} is not an (in)equality constraint or a := "
                                   f"definition (lavaan keeps only those): {line}", value=line,
                                   field="constraints")
    return model if not lines else model.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
