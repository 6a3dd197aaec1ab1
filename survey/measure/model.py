"""The measurement part of a lavaan-syntax model: which items measure which factor.

Only the ``=~`` ("is measured by") lines matter to the psychometric stage. Modifiers in front of an
indicator (``1*x``, ``NA*x``, ``l1*x``, ``start(.7)*x``) are dropped: reliability and validity
statistics are computed from a model with every loading free and factor variances fixed to 1.
A formula may continue on the next line when a line ends with ``+`` or the next begins with ``+``
(as in lavaan). Comments start with ``#`` or ``!``.
"""

from __future__ import annotations

import re
from pathlib import Path

from survey.errors import SurveyInputError

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def _logical_lines(model: str) -> list[str]:
    lines: list[str] = []
    for raw in model.replace(";", "\n").splitlines():
        line = re.split(r"[#!]", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        if lines and (lines[-1].endswith("+") or line.startswith("+")):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


def measurement_model(model: str, *, file: str | None = None) -> dict[str, list[str]]:
    """Return ``{factor: [indicator, ...]}`` from the ``=~`` lines of a lavaan model, in order.

    A factor named on several ``=~`` lines collects all of them (as lavaan does). Raises
    :class:`SurveyInputError` when the model has no measurement part or a malformed indicator.
    """
    factors: dict[str, list[str]] = {}
    for number, line in enumerate(_logical_lines(model), start=1):
        if "=~" not in line:
            continue
        lhs, rhs = (part.strip() for part in line.split("=~", 1))
        if not _NAME.match(lhs):
            raise SurveyInputError("malformed factor name in '=~' line", file=file, row=number, value=lhs)
        for term in rhs.split("+"):
            name = term.strip().rsplit("*", 1)[-1].strip()
            if not _NAME.match(name):
                raise SurveyInputError(
                    "malformed indicator in '=~' line", file=file, row=number, value=term.strip()
                )
            bucket = factors.setdefault(lhs, [])
            if name not in bucket:
                bucket.append(name)
    if not factors:
        raise SurveyInputError("the model has no measurement part ('=~' lines)", file=file)
    return factors


def read_measurement_model(path: str | Path) -> dict[str, list[str]]:
    """Read a lavaan-syntax file and return its measurement part (see :func:`measurement_model`)."""
    text = Path(path).read_text(encoding="utf-8")
    return measurement_model(text, file=str(path))


def lavaan_syntax(factors: dict[str, list[str]]) -> str:
    """Write ``{factor: items}`` back as lavaan ``=~`` lines."""
    return "\n".join(f"{f} =~ {' + '.join(items)}" for f, items in factors.items())
