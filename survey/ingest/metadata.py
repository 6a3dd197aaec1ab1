"""Respondent metadata of a raw export, coded for the screens: the respondent id as text, Qualtrics
Status / Progress / Finished / Duration as numbers (their labels, and SPSS value labels, understood),
LimeSurvey's submit date and ODK/Kobo start and end times, the distribution channel; the Kobo form
version checked against the instrument.
"""

from __future__ import annotations

from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.ingest.columns import ColumnMap
from survey.ingest.problems import Problem, cell_problems, display
from survey.ingest.readers import NA_WORDS
from survey.ingest.readers.decimal import to_point
from survey.instrument import Instrument

STATUS_LABELS = {
    "ip address": 0,
    "survey preview": 1,
    "survey test": 2,
    "imported": 4,
    "spam": 8,
    "preview spam": 9,
    "imported spam": 12,
    "offline": 16,
    "offline preview": 17,
}
BOOL_LABELS = {"true": 1, "false": 0, "yes": 1, "no": 0, "1": 1, "0": 0}


def _case_variants(word: str) -> set[str]:
    out = {""}
    for ch in word:
        out = {v + c for v in out for c in {ch.lower(), ch.upper()}}
    return out


#: Every spelling whose casefold is an NA word. The NA words are ASCII without the letters f, k, s and
#: t, the only ASCII letters that non-ASCII characters fold to (K, long s, the ligatures), so a cell
#: folds into an NA word exactly when it is an upper/lower-case variant of one: a set lookup per cell
#: instead of a casefold.
NA_SPELLINGS = frozenset().union(*(_case_variants(w) for w in NA_WORDS))


def id_text(values: pd.Series) -> np.ndarray:
    """Respondent ids as text: whole-number floats (a numeric id column with blank cells) without
    ".0", blank cells and NA words as ""."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.astype("float64").to_numpy()
        out = np.full(len(num), "", dtype=object)
        ok = np.isfinite(num)
        whole = ok & (np.floor(num) == num) & (np.abs(num) < 2**53)
        out[whole] = num[whole].astype(np.int64).astype(str)
        out[ok & ~whole] = num[ok & ~whole].astype(str)
        return out
    cells = np.array(values.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
    if set(map(type, cells)) <= {str, type(None)}:  # text as read: C-level passes, no per-cell bytecode
        cells[np.equal(cells, None)] = ""
        stripped = list(map(str.strip, cells, repeat(" ")))
        hits = NA_SPELLINGS.intersection(stripped)
        out = np.empty(len(cells), dtype=object)
        out[:] = [("" if t in hits else t) for t in stripped] if hits else stripped
        return out
    text = values.astype("string").str.strip(" ")
    text = text.mask(text.str.casefold().isin(NA_WORDS), "")
    return text.fillna("").to_numpy(dtype=object)


def numeric_meta(
    raw: pd.Series,
    col: str,
    file: str,
    labels: dict[str, int] | None = None,
    value_labels: dict[float, str] | None = None,
    decimal: str = ".",
) -> tuple[pd.Series, list[Problem]]:
    """A metadata column as numbers; codes whose value label (SPSS) is a known label ("False",
    "Survey Preview") take that label's meaning, so Finished coded 2 = "False" is 0. ``decimal`` ","
    reads text numbers as European ones (``664,5`` seconds)."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = raw.astype("float64")
        if labels and value_labels:
            recode = {
                code: float(labels[lab.strip().casefold()])
                for code, lab in value_labels.items()
                if lab.strip().casefold() in labels
            }
            if recode:
                num = num.map(lambda v: recode.get(v, v)).astype("float64")
        return num, []
    text = raw.astype("string").str.strip()
    mapped = text.str.casefold().map(labels or {}).astype("float64")
    text = text.mask(text.str.casefold().isin(NA_WORDS) & mapped.isna(), "")
    present = (text.notna() & (text != "")).to_numpy(dtype=bool)
    number_text = to_point(text) if decimal == "," else text
    num = mapped.fillna(pd.to_numeric(number_text.where(mapped.isna()), errors="coerce").astype("float64"))
    bad = present & num.isna().to_numpy()
    return num.astype("float64"), cell_problems(file, col, raw, bad, "not a number", "non_numeric")


def meta_frame(
    frame: pd.DataFrame,
    cmap: ColumnMap,
    file: str,
    value_labels: dict[str, dict[float, str]] | None = None,
    decimal: str = ".",
) -> tuple[pd.DataFrame, list[Problem]]:
    """Metadata for the screens; ``decimal``: the file's decimal mark (Progress and Duration)."""
    meta = pd.DataFrame(index=frame.index)
    problems: list[Problem] = []
    by_name = {v: k for k, v in cmap.meta.items()}
    stem = Path(file).stem
    rid_col = by_name.get("respondent_id")

    def fallback(rows: np.ndarray) -> np.ndarray:
        return np.array([f"{stem}-{i + 1}" for i in rows], dtype=object)

    if rid_col is not None:
        rid = id_text(frame[rid_col])
        blank = np.flatnonzero(rid == "")
        if len(blank):
            rid[blank] = fallback(blank)
        meta["respondent_id"] = rid
    else:
        meta["respondent_id"] = fallback(np.arange(len(frame)))
    for name, labels in (
        ("Status", STATUS_LABELS),
        ("Progress", None),
        ("Finished", BOOL_LABELS),
        ("Duration", None),
    ):
        if name in by_name:
            col = by_name[name]
            vl = (value_labels or {}).get(col)
            dec = decimal if name in ("Progress", "Duration") else "."
            meta[name], probs = numeric_meta(frame[col], col, file, labels, vl, dec)
            problems += probs
    if "Finished" not in meta and "submitdate" in by_name:  # LimeSurvey: no submit date = incomplete
        sub = frame[by_name["submitdate"]].astype("string").str.strip()
        meta["Finished"] = (sub.notna() & (sub != "")).astype("float64").to_numpy()
    if "Duration" not in meta and "start" in by_name and "end" in by_name:
        start = pd.to_datetime(frame[by_name["start"]], errors="coerce", utc=True, format="mixed")
        end = pd.to_datetime(frame[by_name["end"]], errors="coerce", utc=True, format="mixed")
        meta["Duration"] = (end - start).dt.total_seconds()
    if "DistributionChannel" in by_name:
        meta["DistributionChannel"] = frame[by_name["DistributionChannel"]].to_numpy()
    return meta, problems


def check_kobo_version(frame: pd.DataFrame, cmap: ColumnMap, instrument: Instrument, file: str) -> None:
    """Every Kobo submission must carry the instrument's version in ``__version__`` ("v" prefix allowed)."""
    col = next((k for k, v in cmap.meta.items() if v == "__version__"), None)
    if col is None:
        return
    text = frame[col].astype("string").str.strip().str.lstrip("vV")
    # Kobo writes its own deployment id ("vGb8sEf2LMkRGr4T...") unless the form sets a version:
    # only a version-like value (1.0.0) is compared with the instrument's
    semver = text.str.fullmatch(r"\d+(\.\d+){1,2}").fillna(False)
    bad = (semver & (text != str(instrument.version))).to_numpy(dtype=bool)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise SurveyInputError(
            f"form version does not match instrument {instrument.name}@{instrument.version}",
            file=file,
            row=r + 1,
            column=col,
            value=display(frame[col].iloc[r]),
        )
