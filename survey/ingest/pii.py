"""Personal data: drop before anything is written, or keep a named column as a salted hash.

Dropped by default: IP address, location, e-mail, recipient names, external reference, Kobo device
and user fields, free-text entry columns (``*_TEXT``) and every item with ``pii: true`` or a ``text``
scale. A column the configuration names in ``keep`` is kept as ``sha256(salt + value)`` (hex), so
records can be linked across waves without holding the identifier; a salt is then required.
"""

from __future__ import annotations

import hashlib
import logging

import pandas as pd

from survey.errors import SurveyInputError

log = logging.getLogger(__name__)


def hash_column(values: pd.Series, salt: str) -> pd.Series:
    """SHA-256 of ``salt + value`` for each non-missing value (missing stays missing)."""
    out = values.astype(object).where(values.notna())
    return out.map(lambda v: hashlib.sha256(f"{salt}{v}".encode()).hexdigest(), na_action="ignore")


def remove_pii(
    frame: pd.DataFrame,
    pii_columns: list[str],
    keep: list[str] | tuple[str, ...] = (),
    salt: str | None = None,
    *,
    file: str | None = None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Drop the personal-data columns of ``frame``; hash those named in ``keep``.

    Returns ``(frame, dropped, hashed)``. A dropped column may already be absent from ``frame`` (left
    unread by :func:`survey.ingest.readers.read_raw`); it is listed and logged all the same. A ``keep``
    column that is not a personal-data column of the file is an error, as is ``keep`` without a
    ``salt`` (an unsalted hash of an e-mail is reversible).
    """
    keep = list(keep)
    if keep and not salt:
        raise SurveyInputError(
            "keeping personal-data columns needs a per-project salt", file=file, column=keep[0]
        )
    for col in keep:
        if col not in pii_columns:
            raise SurveyInputError(
                "column named in keep_pii is not a personal-data column of the file", file=file, column=col
            )
    dropped = [c for c in pii_columns if c not in keep]
    frame = frame.drop(columns=[c for c in dropped if c in frame.columns])  # some may be left unread
    hashed = []
    for col in keep:
        frame[col] = hash_column(frame[col], str(salt))
        hashed.append(col)
    if dropped:
        log.info("%s: dropped personal-data columns %s", file or "data", ", ".join(dropped))
    return frame, dropped, hashed
