"""LimeSurvey response exports (CSV; "Export results", or the RemoteControl ``export_responses``).

One header row. Headings are question codes (``SHI1``; array sub-questions ``DRIVERS[SHI1]``), or
with "question code & question text" headings ``SHI1. The creators ...``; full-text headings carry no
code and are matched by text. Responses are answer codes ("short") or answer texts ("long").
Metadata: ``id`` (the response id), ``submitdate`` (empty for an incomplete response), ``lastpage``,
``startlanguage``, ``seed``, ``startdate``, ``datestamp``, ``ipaddr``, ``refurl``, ``token`` and, with
timings on, ``interviewtime`` (seconds) and ``...Time`` columns per group and question.
"""

from __future__ import annotations

import re

MARKERS = {"submitdate", "lastpage", "startlanguage", "seed"}
META = {"id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "refurl",
        "interviewtime", "optout", "emailstatus"}
PII = {"ipaddr", "token", "firstname", "lastname", "email"}
_TIMING = re.compile(r"^(groupTime\d+|.+Time)$")
_SUB = re.compile(r"^[A-Za-z][\w]*\[([A-Za-z][\w]*)\]$")
_CODE_TEXT = re.compile(r"^([A-Za-z][\w]*(?:\[[A-Za-z][\w]*\])?)\.\s+\S")


def detect(header: list[str]) -> dict | None:
    names = [h.strip() for h in header]
    if "id" in names and len(MARKERS & set(names)) >= 2:
        return {"format": "limesurvey", "names": names, "skip": 1, "import_ids": {}, "question_text": {}}
    return None


def code_of(name: str) -> str | None:
    """The item code a heading carries: ``DRIVERS[SHI1]`` -> SHI1, ``SHI1. The creators ...`` -> SHI1."""
    m = _CODE_TEXT.match(name)
    if m:
        name = m.group(1)
    m = _SUB.match(name)
    return m.group(1) if m else (name if name.isidentifier() else None)


def is_timing(name: str) -> bool:
    return bool(_TIMING.match(name)) and name != "interviewtime"
