"""Pool data collected under different versions of one instrument.

An item equivalent across versions (same id, same wording, same scale) shares a column. An item whose
wording or scale changed keeps a separate column per wording: the first wording under the item id
(``AUT2``), each later one under ``<id>_v<major>_<minor>_<patch>`` of the version that introduced it
(``AUT2_v1_1_0``). An item added in a later version is missing by design for earlier rows. Every row
records its ``instrument_version``. Which items changed comes from ``survey.instrument.diff_instruments``
when that function is available and reports reworded items, else from comparing item texts and scales.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from survey.ingest._instrument import scale_name


def version_key(version: str) -> tuple:
    parts = []
    for p in str(version).split("."):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return tuple(parts)


def version_suffix(version: str) -> str:
    """``1.1.0`` -> ``_v1_1_0`` (as ``survey.instrument.versioned_column``)."""
    return "_v" + re.sub(r"\W", "_", str(version))


def _changed_by_diff(old: Any, new: Any) -> set[str] | None:
    try:
        from survey.instrument import diff_instruments
    except ImportError:
        return None
    try:
        diff = diff_instruments(old, new)
    except Exception:  # noqa: BLE001 - an optional helper of another stage; fall back to texts
        return None
    if hasattr(diff, "versioned_columns"):
        return set(diff.versioned_columns())
    return None


def _signature(instrument: Any, item_id: str) -> tuple[str, str]:
    return (" ".join(str(instrument.item(item_id).text).split()), scale_name(instrument, item_id))


def column_names(instruments: list[Any]) -> dict[str, dict[str, str]]:
    """{version: {item id: pooled column}} for instruments of one name, oldest version first."""
    ordered = sorted(instruments, key=lambda i: version_key(i.version))
    history: dict[str, list[tuple[tuple[str, str], str]]] = {}
    out: dict[str, dict[str, str]] = {}
    previous = None
    for inst in ordered:
        changed = _changed_by_diff(previous, inst) if previous is not None else None
        prev_map = out.get(str(previous.version), {}) if previous is not None else {}
        mapping = {}
        for it in inst.items:
            sig = _signature(inst, it.id)
            past = history.setdefault(it.id, [])
            if not past:
                col = it.id
            else:
                if it.id in prev_map:
                    same = (
                        (it.id not in changed)
                        if changed is not None
                        else (_signature(previous, it.id) == sig)
                    )
                else:
                    same = False
                if same:
                    col = prev_map[it.id]
                else:
                    col = next((c for s, c in past if s == sig and c != prev_map.get(it.id)), None)
                    col = col or it.id + version_suffix(inst.version)
            if (sig, col) not in past:
                past.append((sig, col))
            mapping[it.id] = col
        out[str(inst.version)] = mapping
        previous = inst
    return out


def harmonise(parts: list[tuple[Any, pd.DataFrame]]) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """Stack ``(instrument, items frame)`` parts into one frame with pooled column names.

    Returns the pooled frame (``instrument_version`` first, then columns in first-seen order) and the
    column map {version: {item id: pooled column}}.
    """
    names = column_names(list({str(i.version): i for i, _ in parts}.values()))
    frames = []
    order: list[str] = []
    for inst, frame in parts:
        mapping = names[str(inst.version)]
        renamed = frame.rename(columns=mapping)
        for col in renamed.columns:
            if col not in order:
                order.append(col)
        renamed.insert(0, "instrument_version", str(inst.version))
        frames.append(renamed)
    if len(frames) == 1:
        pooled = frames[0].reset_index(drop=True)
    else:
        pooled = pd.concat(frames, ignore_index=True, sort=False)
    return pooled[["instrument_version", *order]], names
