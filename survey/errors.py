"""Errors and warnings shared by every stage.

Bad input raises :class:`SurveyInputError`, whose message is one line naming the file, row, column and
value where they are known. The command line turns it into that line on stderr and exit status 2.
Problems that do not stop the analysis (a Heywood case, a tiny N, a construct with two indicators)
travel as :class:`SurveyWarning` objects in the result and in every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from survey.personal import mask_personal

#: An error is one line of about 200 characters: values are cut at MAX_VALUE characters and column
#: names at MAX_COLUMN (so that an error about the data stays under 200 with the command line's
#: "error: " before it), a longer line (a refusal quoting lavaan's reason) in its middle at MAX_LINE
#: (with an ellipsis).
MAX_VALUE = 40
MAX_COLUMN = 60
MAX_LINE = 240
#: how an ingest error ends: the problem list in the user's output folder, never cut
LIST_TAIL = "; full list in "


def shorten_value(value: Any) -> str:
    """``value`` as an error shows it: text quoted, on one line, personal data masked
    (:func:`survey.personal.mask_personal`), at most :data:`MAX_VALUE` characters."""
    if isinstance(value, str):
        text = repr(mask_personal(" ".join(value.split())))
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "\u2026"


def available_columns(columns: Any, shown: int = 6, width: int = 16) -> str:
    """A few of the data's column names for an error about an unknown column (issue 18):
    ``"the data have 15 columns: id, sex, ageyr, agemo, school, grade, …"``. At most ``shown`` names,
    each cut at ``width`` characters, so that the error stays one line of about 200 characters."""
    names = [" ".join(str(c).split()) for c in columns]
    cut = [n if len(n) <= width else n[: width - 1] + "…" for n in names[:shown]]
    more = ", …" if len(names) > shown else ""
    return f"the data have {len(names)} column{'s' if len(names) != 1 else ''}: {', '.join(cut)}{more}"


class SurveyError(Exception):
    """Base class of the errors this package raises on purpose."""


class SurveyInputError(SurveyError, ValueError):
    """Bad input: a malformed file, an unknown column, an out-of-range code, a wrong version.

    >>> str(SurveyInputError("code out of range", file="raw.csv", row=12, column="SHI1", value=9))
    "raw.csv: row 12, column 'SHI1', value 9: code out of range"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        field: str | None = None,
    ) -> None:
        self.message = " ".join(str(message).split())
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.value = value
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where: list[str] = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            col = repr(" ".join(self.column.split()) if isinstance(self.column, str) else self.column)
            where.append(f"column {col if len(col) <= MAX_COLUMN else col[: MAX_COLUMN - 1] + chr(0x2026)}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        if self.value is not None:
            where.append(f"value {shorten_value(self.value)}")
        prefix = ", ".join(where)
        head = self.file if self.file else ""
        if head and prefix:
            line = f"{head}: {prefix}: {self.message}"
        elif head or prefix:
            line = f"{head or prefix}: {self.message}"
        else:
            line = self.message
        if len(line) <= MAX_LINE:
            return line
        # cut the middle: the file (start) and "; full list in DIR/problems.csv" (the user's own output
        # folder, end) stay whole
        cut = line.rfind(LIST_TAIL)
        tail = line[cut:] if cut > 0 else ""
        line = line[:cut] if cut > 0 else line
        keep = max(MAX_LINE - len(tail), 120) - 1  # a long output folder may lengthen the line
        if len(line) > keep + 1:
            line = line[: keep - keep // 3] + "\u2026" + line[len(line) - keep // 3 :]
        return line + tail


class EstimationError(SurveyError):
    """A model that cannot be estimated (not identified, does not converge, no data left)."""


@dataclass(frozen=True)
class SurveyWarning:
    """A reported, non-fatal problem.

    ``code`` is stable (for tests and JSON); ``message`` is plain language.
    """

    code: str
    message: str
    stage: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return self.message
