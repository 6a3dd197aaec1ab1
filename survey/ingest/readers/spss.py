"""SPSS .sav files via pyreadstat, read with ``user_missing=True``.

With ``user_missing=True`` declared user-missing values (8 "Prefer not to say" on a 1-7 scale, -99 on
counts) arrive as their codes instead of system-missing, so they stay distinguishable from skipped
questions; validation turns them into labelled missing values, never into scale points.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from survey.errors import SurveyInputError


def read(path: Path) -> dict:
    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except pyreadstat.ReadstatError as exc:
        raise SurveyInputError(f"cannot read SPSS file: {exc}", file=path.name) from None
    except pyreadstat.PyreadstatError as exc:
        raise SurveyInputError(f"cannot read SPSS file: {exc}", file=path.name) from None
    user_missing: dict[str, dict[float, str]] = {}
    labels = {
        c: {float(k): str(v) for k, v in d.items() if _is_number(k)}
        for c, d in (meta.variable_value_labels or {}).items()
    }
    for col, values in (meta.missing_user_values or {}).items():
        user_missing[col] = {
            float(v): labels.get(col, {}).get(float(v), "missing") for v in values if _is_number(v)
        }
    for col, ranges in (meta.missing_ranges or {}).items():
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if _is_number(lo) and _is_number(hi):
                for code, lab in labels.get(col, {}).items():
                    if lo <= code <= hi:
                        user_missing.setdefault(col, {})[code] = lab
                if lo == hi:
                    user_missing.setdefault(col, {}).setdefault(float(lo), "missing")
    texts = dict(zip(meta.column_names, meta.column_labels or [], strict=False))
    frame = pd.DataFrame(frame)
    return {
        "format": "sav",
        "frame": frame,
        "value_labels": labels,
        "user_missing": user_missing,
        "question_text": {k: v for k, v in texts.items() if v},
    }


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
