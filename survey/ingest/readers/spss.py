"""SPSS .sav (and portable .por) files via pyreadstat, read with ``user_missing=True``.

With ``user_missing=True`` declared user-missing values (8 "Prefer not to say" on a 1-7 scale, -99 on
counts) arrive as their values instead of system-missing, so they stay distinguishable from skipped
questions; validation turns them into labelled missing values, never into scale points. They are
applied as SPSS, pyreadstat and haven define them:

* a numeric missing *range* ``lo THRU hi`` makes every value inside it missing, labelled or not
  (each value found in the data is listed, with its value label or "missing");
* discrete numeric missing values likewise, and *string* missing values (pyreadstat reports both as
  ranges with ``lo == hi``) for string variables;
* value labels of string variables: a labelled non-numeric string is read as its label (what
  ``haven::as_factor`` shows), so a choice-text code such as ``"SA"`` labelled "Strongly agree" is
  matched against the scale's labels; numeric strings stay codes.

Portable files (.por) carry no user-missing flag in pyreadstat (those values arrive system-missing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError


def read(path: Path, portable: bool = False) -> dict:
    import pyreadstat  # 0.17 s with narwhals: only for SPSS files

    what = "SPSS portable" if portable else "SPSS"
    try:
        if portable:
            frame, meta = pyreadstat.read_por(str(path))
        else:
            frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise SurveyInputError(f"cannot read {what} file: {exc}", file=path.name) from None
    frame = pd.DataFrame(frame)
    all_labels = meta.variable_value_labels or {}
    labels = {
        c: {float(k): str(v) for k, v in d.items() if _is_number(k)} for c, d in all_labels.items()
    }
    text_labels = {
        c: {str(k): str(v) for k, v in d.items() if isinstance(k, str)} for c, d in all_labels.items()
    }
    user_missing: dict[str, dict[float, str]] = {}
    text_missing: dict[str, dict[str, str]] = {}
    for col, values in (meta.missing_user_values or {}).items():
        for v in values:
            _add(col, v, v, frame, labels, text_labels, user_missing, text_missing)
    for col, ranges in (meta.missing_ranges or {}).items():
        for r in ranges:
            _add(col, r.get("lo"), r.get("hi"), frame, labels, text_labels, user_missing, text_missing)
    for col, labs in text_labels.items():
        if col in frame.columns and labs and not pd.api.types.is_numeric_dtype(frame[col].dtype):
            frame[col] = _apply_text_labels(frame[col], labs, set(text_missing.get(col, {})))
    texts = dict(zip(meta.column_names, meta.column_labels or [], strict=False))
    return {
        "format": "por" if portable else "sav",
        "frame": frame,
        "value_labels": labels,
        "user_missing": user_missing,
        "text_missing": text_missing,
        "question_text": {k: v for k, v in texts.items() if v},
    }


def _add(col, lo, hi, frame, labels, text_labels, user_missing, text_missing) -> None:
    """Record the user-missing values ``lo..hi`` of ``col``: numeric values inside the range found in
    the data or labelled, or one string value."""
    if _is_number(lo) and _is_number(hi):
        lo, hi = float(lo), float(hi)
        found: set[float] = {k for k in labels.get(col, {}) if lo <= k <= hi}
        if lo == hi:
            found.add(lo)
        if col in frame.columns and pd.api.types.is_numeric_dtype(frame[col].dtype):
            values = frame[col].to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                inside = values[(values >= lo) & (values <= hi)]
            found.update(float(v) for v in np.unique(inside))
        for code in sorted(found):
            user_missing.setdefault(col, {})[code] = labels.get(col, {}).get(code, "missing")
    elif isinstance(lo, str) and isinstance(hi, str):
        values = [lo] if lo == hi else []
        if lo != hi and col in frame.columns:  # a string range (not writable by SPSS itself, but legal)
            present = frame[col].dropna().astype(str).unique().tolist()
            values = [v for v in present if lo <= v <= hi]
        for v in values:
            text_missing.setdefault(col, {})[v] = text_labels.get(col, {}).get(v, v)


def _apply_text_labels(values: pd.Series, labs: dict[str, str], missing: set[str]) -> pd.Series:
    """Labelled non-numeric strings replaced by their labels (user-missing strings kept as they are)."""
    keys = {k: v for k, v in labs.items() if k not in missing and not _numeric_text(k)}
    if not keys:
        return values
    stripped = values.astype("string").str.strip()
    return values.mask(stripped.isin(list(keys)), stripped.map(keys))


def _numeric_text(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
