"""SurveyMonkey exports (CSV or XLSX, "All responses data", expanded or condensed columns).

Two header rows: (1) the respondent metadata names (``Respondent ID``, ``Collector ID``, ``Start
Date``, ``End Date``, ``IP Address``, ``Email Address``, ``First Name``, ``Last Name``, ``Custom
Data 1``) followed by the question texts, a question spanning several columns written over its first
column only; (2) below each question column the answer option or matrix row (``Response`` for a
single-answer question, ``Open-Ended Response`` for a text box), blank under metadata. Cells hold
answer texts ("Actual answer text") or the options' numbers ("Numerical value").

Columns are named ``question - row`` (or the question alone when the row is ``Response``); the
statement (the matrix row, else the question) is the column's question text, which
:func:`survey.ingest.columns.map_columns` matches against the instrument's item texts. Start and end
dates give the duration.
"""

from __future__ import annotations

META = {
    "Respondent ID": "ResponseId",
    "Collector ID": "CollectorID",
    "Start Date": "start",
    "End Date": "end",
    "IP Address": "IPAddress",
    "Email Address": "RecipientEmail",
    "First Name": "RecipientFirstName",
    "Last Name": "RecipientLastName",
    "Custom Data 1": "CustomData1",
    "Custom Data": "CustomData1",
}
GENERIC = {"response", "open-ended response", "other (please specify)", ""}
PII = {"CustomData1"}


def detect(rows: list[list[str]]) -> dict | None:
    if len(rows) < 2:
        return None
    first = [c.strip() for c in rows[0]]
    if not {"Respondent ID", "Collector ID"} <= set(first):
        return None
    second = [c.strip() for c in rows[1]] + [""] * max(0, len(first) - len(rows[1]))
    names, texts = [], {}
    question = ""
    seen: dict[str, int] = {}
    for head, sub in zip(first, second, strict=False):
        if head in META and not sub:
            names.append(META[head])
            continue
        question = head or question
        statement = sub if sub.casefold() not in GENERIC else question
        name = question if sub.casefold() in GENERIC else f"{question} - {sub}"
        if name in seen:  # the same question twice: number the later copies
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
        texts[name] = statement
    return {"format": "surveymonkey", "names": names, "skip": 2, "import_ids": {}, "question_text": texts}
