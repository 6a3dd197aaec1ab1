"""Problems found in a raw export: :class:`Problem` (file, 1-based data row, column, value, what is
wrong), the problem list as a frame and as problems.csv (neutralised as every CSV the tool writes), and
the one-line error that summarises a list (strict mode stops on it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, shorten_value
from survey.ingest.safe import display_value, write_csv


@dataclass(frozen=True)
class Problem:
    """One problem in a raw file: where (file, 1-based data row, column), the value, what is wrong."""

    file: str
    row: int | None
    column: str | None
    value: Any
    message: str
    code: str

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {shorten_value(self.value)}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    cols = ["file", "row", "column", "value", "code", "message"]
    return pd.DataFrame([p.to_dict() for p in problems], columns=cols)


def write_problems(problems: list[Problem], path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(problems_frame(problems), path)
    except OSError as exc:
        message = f"cannot write the problem list: {exc.strerror or exc}"
        raise SurveyInputError(message, file=str(path)) from None
    return path


def summary_error(problems: list[Problem], problems_path: str | Path | None) -> SurveyInputError:
    """One line: "raw.csv: 37 problems, first: row 12, column 'SHI1', value 9: ...; full list in P"."""
    first = problems[0]
    n = len(problems)
    where = first.where()
    head = f"{first.file}: {n} problem{'s' if n != 1 else ''}, first: " + (f"{where}: " if where else "")
    tail = f"; full list in {problems_path}" if problems_path else "; full list in the error's .problems"
    exc = SurveyInputError(head + first.message + tail)
    exc.file, exc.row, exc.column, exc.value = first.file, first.row, first.column, first.value
    exc.problems = problems  # type: ignore[attr-defined]
    return exc


def display(v: Any) -> Any:
    """A cell as a problem shows it: whole floats as integers, numpy scalars as Python's, text
    neutralised (:func:`survey.ingest.safe.display_value`)."""
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str):
        return display_value(v)
    return v


def cell_problems(
    file: str, col: str, raw: pd.Series, mask: np.ndarray, message: str, code: str
) -> list[Problem]:
    """One :class:`Problem` per row of ``raw`` where ``mask`` holds (rows numbered from 1)."""
    rows = np.flatnonzero(mask)
    values = raw.to_numpy()[rows]
    return [
        Problem(file, int(r) + 1, col, display(v), message, code) for r, v in zip(rows, values, strict=True)
    ]
