"""Pool data collected under different versions of one instrument.

An item equivalent across versions shares a column. Equivalence is the instrument stage's rule
(:func:`survey.instrument.diff_instruments`: same text, keying, construct, role and scale definition).
An item that changed keeps a separate column per wording: the first wording under the item id
(``AUT2``), each later one under :func:`survey.instrument.versioned_column` of the version that
introduced it (``AUT2_v1_1_0``); a later version that returns to an earlier wording reuses that
wording's column. An item added in a later version is missing by design for earlier rows. Every row
records its ``instrument_version``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the instrument stage is imported when pooling, not with the ingest package
    import pandas as pd

    from survey.instrument import Instrument


def column_names(instruments: list[Instrument]) -> dict[str, dict[str, str]]:
    """{version: {item id: pooled column}} for versions of one instrument (any order).

    Each item of a version takes the column of the newest earlier version in which the item is
    unchanged (per :func:`~survey.instrument.diff_instruments`), else a new column: the item id for
    the first version that has the item, ``versioned_column(id, version)`` afterwards.
    """
    from survey.instrument import diff_instruments, versioned_column
    from survey.instrument.schema import semver_key

    ordered = sorted({str(i.version): i for i in instruments}.values(), key=lambda i: semver_key(i.version))
    out: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for k, inst in enumerate(ordered):
        earlier = ordered[:k][::-1]
        changed = {e.version: set(diff_instruments(e, inst).versioned_columns()) for e in earlier}
        mapping = {}
        for item_id in inst.item_ids:
            col = next(
                (
                    out[e.version][item_id]
                    for e in earlier
                    if item_id in out[e.version] and item_id not in changed[e.version]
                ),
                None,
            )
            if col is None:
                col = item_id if item_id not in seen else versioned_column(item_id, inst.version)
            mapping[item_id] = col
            seen.add(item_id)
        out[inst.version] = mapping
    return out


def harmonise(parts: list[tuple[Instrument, pd.DataFrame]]) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """Stack ``(instrument, items frame)`` parts into one frame with pooled column names.

    Returns the pooled frame (``instrument_version`` first, then columns in first-seen order) and the
    column map {version: {item id: pooled column}}.
    """
    import pandas as pd

    names = column_names([inst for inst, _ in parts])
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
