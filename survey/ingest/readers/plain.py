"""Plain CSV: one header row of column names (item ids and, optionally, the Qualtrics metadata names)."""

from __future__ import annotations


def detect(header: list[str]) -> dict:
    return {
        "format": "csv",
        "names": [h.strip() for h in header],
        "skip": 1,
        "import_ids": {},
        "question_text": {},
    }
