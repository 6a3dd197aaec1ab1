"""Qualtrics CSV exports.

Current exports have three header rows: (1) column names (export tags), (2) question text, localised
to the survey language, and (3) an ImportId JSON object per column (``{"ImportId":"QID12_3"}``,
``{"ImportId":"_recordId"}``). The legacy exporter writes two rows: ``V1..Vn`` for metadata plus
question ids in row 1, and ``ResponseID, ResponseSet, ...`` plus question text in row 2.

Columns are named by export tag (row 1), never by the question-text row. Metadata columns are named
by their ImportId when present, so renamed or localised metadata headers still map; ``_TEXT``
ImportIds mark free-text entry columns.
"""

from __future__ import annotations

import json
import re

from survey.errors import SurveyInputError

#: Qualtrics metadata ImportId -> column name of the current export.
IMPORT_ID_META = {
    "startDate": "StartDate",
    "endDate": "EndDate",
    "status": "Status",
    "ipAddress": "IPAddress",
    "progress": "Progress",
    "duration": "Duration (in seconds)",
    "finished": "Finished",
    "recordedDate": "RecordedDate",
    "_recordId": "ResponseId",
    "recipientLastName": "RecipientLastName",
    "recipientFirstName": "RecipientFirstName",
    "recipientEmail": "RecipientEmail",
    "externalDataReference": "ExternalReference",
    "locationLatitude": "LocationLatitude",
    "locationLongitude": "LocationLongitude",
    "distributionChannel": "DistributionChannel",
    "userLanguage": "UserLanguage",
}
#: Legacy-exporter metadata names -> current names.
LEGACY_META = {
    "ResponseID": "ResponseId",
    "ResponseSet": "ResponseSet",
    "Name": "RecipientName",
    "ExternalDataReference": "ExternalReference",
    "EmailAddress": "RecipientEmail",
    "IPAddress": "IPAddress",
    "Status": "Status",
    "StartDate": "StartDate",
    "EndDate": "EndDate",
    "Finished": "Finished",
    "LocationLatitude": "LocationLatitude",
    "LocationLongitude": "LocationLongitude",
    "LocationAccuracy": "LocationAccuracy",
}
META_COLUMNS = set(IMPORT_ID_META.values()) | set(LEGACY_META.values()) | {"Q_RecaptchaScore", "Q_Language"}
_RESPONSE_ID = re.compile(r"^R_[A-Za-z0-9]+$")
_V_COL = re.compile(r"^V\d+$")


def _import_id(cell: str) -> str | None:
    cell = cell.strip()
    if not cell.startswith("{"):
        return None
    try:
        obj = json.loads(cell)
    except json.JSONDecodeError:
        return None
    if isinstance(obj, dict) and "ImportId" in obj:
        return str(obj["ImportId"])
    return None


def _looks_like_data(row: list[str]) -> bool:
    """A second row that is a record, not a row of question texts: most of its filled cells are numbers
    (a plain CSV whose ids are not ``R_...``, e.g. ``P001`` or a formula-like ``+R_1``, keeps its first
    respondent instead of losing it as a header row)."""
    filled = [c.strip() for c in row if c.strip()]
    if not filled:
        return False
    numeric = 0
    for cell in filled:
        try:
            float(cell.replace(",", "."))
        except ValueError:
            continue
        numeric += 1
    return numeric * 2 > len(filled)


def detect(rows: list[list[str]], file: str) -> dict | None:
    """Return the layout of a Qualtrics export (names, header rows, import ids, texts), else None."""
    if len(rows) < 2:
        return None
    header = [h.strip() for h in rows[0]]
    if len(rows) >= 3:
        ids = [_import_id(c) for c in rows[2]]
        if sum(i is not None for i in ids) >= max(1, len(header) // 2):
            if len(rows[2]) != len(header):
                raise SurveyInputError(
                    "ImportId row has a different number of fields than the header", file=file, row=3
                )
            names = []
            import_ids = {}
            for name, iid in zip(header, ids, strict=True):
                canon = IMPORT_ID_META.get(iid or "", name)
                names.append(canon)
                if iid:
                    import_ids[canon] = iid
            texts = dict(zip(names, (c.strip() for c in rows[1]), strict=False))
            return {
                "format": "qualtrics",
                "names": names,
                "skip": 3,
                "import_ids": import_ids,
                "question_text": texts,
            }
    second = [c.strip() for c in rows[1]]
    v_cols = sum(bool(_V_COL.match(h)) for h in header)
    if v_cols >= 3 and "ResponseID" in second:
        names = [
            LEGACY_META.get(s, s) if _V_COL.match(h) else h for h, s in zip(header, second, strict=False)
        ]
        texts = {n: s for n, s in zip(names, second, strict=False)}
        return {
            "format": "qualtrics-legacy",
            "names": names,
            "skip": 2,
            "import_ids": {},
            "question_text": texts,
        }
    for key in ("ResponseId", "ResponseID"):
        if key in header:
            pos = header.index(key)
            value = second[pos] if pos < len(second) else ""
            if value and not _RESPONSE_ID.match(value) and not _looks_like_data(second):
                names = [LEGACY_META.get(h, h) for h in header]
                return {
                    "format": "qualtrics-legacy",
                    "names": names,
                    "skip": 2,
                    "import_ids": {},
                    "question_text": dict(zip(names, second, strict=False)),
                }
    return None


def is_text_entry(column: str, import_id: str | None) -> bool:
    """Free-text entry column (``QID7_TEXT``, ``GENDER_4_TEXT``): personal-data risk."""
    return column.upper().endswith("_TEXT") or bool(import_id and import_id.upper().endswith("_TEXT"))
