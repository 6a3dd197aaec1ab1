"""Data for the analysis commands (``survey fit``, ``survey quality``, ``survey reliability``),
validated as ``survey ingest`` validates it.

Given an instrument, the file is read and checked by the ingest stage's own readers and validation
(:func:`survey.ingest.read_source`): an out-of-range code, a label not on the scale or a non-number
in a count is an error naming file, row, column and value, never data; labelled missing codes become
NaN; a file that carries none of the instrument's items is an error. A subset of the items is fine
(the model is built on those present). Given item columns instead (``--items``), each must exist and
hold numbers (a text column is an error). A file that is not the output of ``survey ingest`` (which
writes ``respondent_id`` and ``instrument_version``) was not screened: a warning says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, available_columns
from survey.ingest.pipeline import read_source
from survey.ingest.readers import NOT_SCREENED, RawTable, read_raw, screened
from survey.ingest.validate import NA_WORDS, Problem
from survey.instrument import Instrument, load_instrument


@dataclass
class AnalysisData:
    """``frame``: the file's columns with the instrument's items coded (labelled missing as NaN);
    ``items``: the item columns present, in questionnaire order; ``warnings``."""

    frame: pd.DataFrame
    items: list[str]
    instrument: Instrument | None
    screened: bool
    warnings: list[str] = field(default_factory=list)


def _screened(raw: RawTable) -> bool:
    return screened(raw)


def _first_problem(problems: list[Problem]) -> SurveyInputError:
    p = problems[0]
    more = f" ({len(problems)} problems; survey ingest --lenient lists them all)" if len(problems) > 1 else ""
    return SurveyInputError(p.message + more, file=p.file, row=p.row, column=p.column, value=p.value)


def _as_given(exc: SurveyInputError, data: str | os.PathLike) -> SurveyInputError:
    """The error naming the data file as the user wrote it (the readers name it by its base name)."""
    if exc.file is None or exc.file != Path(data).name or str(data) == exc.file:
        return exc
    out = SurveyInputError(exc.message, file=str(data), row=exc.row, column=exc.column, value=exc.value,
                           field=exc.field)
    return out


def analysis_data(data: str | os.PathLike, instrument: str | Path | Instrument) -> AnalysisData:
    """Read ``data`` and validate it against ``instrument`` as ingest does (see the module doc)."""
    try:
        return _analysis_data(data, instrument)
    except SurveyInputError as exc:
        raise _as_given(exc, data) from None


def numeric_columns(data: str | os.PathLike, columns: list[str]) -> AnalysisData:
    """Read ``data`` and return ``columns`` as numbers: each must exist and hold numbers (NA words and
    empty cells are missing); a text value is an error naming the cell."""
    try:
        return _numeric_columns(data, columns)
    except SurveyInputError as exc:
        raise _as_given(exc, data) from None


def _analysis_data(data: str | os.PathLike, instrument: str | Path | Instrument) -> AnalysisData:
    path = Path(data)
    raw = read_raw(path)
    inst = load_instrument(instrument)
    src = read_source(path, inst)
    problems = [p for p in src.validated.problems if p.code != "missing_item"]
    if problems:
        raise _first_problem(problems)
    missing = {p.column for p in src.validated.problems if p.code == "missing_item"}
    items = [c for c in src.items.columns if c not in missing]
    if not items:
        ids = ", ".join(inst.item_ids[:4])
        raise SurveyInputError(f"the file carries none of {inst.spec}'s items ({ids}, ...)", file=path.name)
    drop = [c for c in raw.frame.columns if c in src.column_map or c in src.pii_dropped]
    frame = raw.frame.drop(columns=drop)
    for item in items:
        frame[item] = src.items[item].to_numpy()
    frame["respondent_id"] = src.meta["respondent_id"].to_numpy()
    screened = _screened(raw)
    warns = [] if screened else [NOT_SCREENED]
    absent = [i.id for i in inst.items if i.construct and i.id in missing]
    if absent:  # ingest refuses the file; the analysis runs on the items present, and says so
        shown = ", ".join(absent[:6]) + (", ..." if len(absent) > 6 else "")
        warns.append(f"{len(absent)} item(s) of {inst.spec}'s constructs not in the file: {shown}; "
                     "scores, reliability and the model use the items present")
    return AnalysisData(frame, items, inst, screened, warns)


def _numeric_columns(data: str | os.PathLike, columns: list[str]) -> AnalysisData:
    path = Path(data)
    raw = read_raw(path)
    frame = raw.frame.copy()
    for col in columns:
        if col not in frame.columns:
            raise SurveyInputError(f"column not found; {available_columns(frame.columns)}", file=raw.file,
                                   column=col)
        values = frame[col]
        if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
            text = values.astype("string").str.strip()
            blank = text.isna() | (text == "") | text.str.casefold().isin(NA_WORDS)
            num = pd.to_numeric(text.mask(blank), errors="coerce")
            bad = np.flatnonzero((~blank & num.isna()).to_numpy(dtype=bool))
            if len(bad):
                r = int(bad[0])
                raise SurveyInputError(
                    "not a number: a text column cannot be an item", file=raw.file, row=r + 1, column=col,
                    value=str(values.iloc[r]),
                )
            frame[col] = num.astype("float64")
        for code, _ in (raw.user_missing.get(col) or {}).items():
            frame[col] = frame[col].mask(frame[col] == code)
    screened = _screened(raw)
    return AnalysisData(frame, list(columns), None, screened, [] if screened else [NOT_SCREENED])
