"""KoboToolbox / ODK Central CSV exports.

Kobo names columns by the XLSForm ``name``, prefixed by the group path (``drivers_a/SHI1``, or
``drivers_a-SHI1`` with the "-" group separator), and appends submission metadata (``_uuid``,
``_submission_time``, ``__version__``, ``_id``, ``_index`` ...). ``start`` and ``end`` are the
form-opened and form-saved timestamps; their difference is the interview duration.
"""

from __future__ import annotations

META_COLUMNS = {
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "simserial",
    "subscriberid",
    "phonenumber",
    "audit",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_version_",
    "_tags",
    "_index",
    "meta/instanceID",
    "instanceID",
    "formhub/uuid",
    "_xform_id_string",
    "_attachments",
    "_geolocation",
    "meta/rootUuid",
    "meta/deprecatedID",
}
PII_COLUMNS = {
    "deviceid",
    "username",
    "simserial",
    "subscriberid",
    "phonenumber",
    "_geolocation",
    "_submitted_by",
    "_attachments",
}
MARKERS = {"_uuid", "__version__", "_submission_time", "_version_", "meta/instanceID", "formhub/uuid"}


def detect(header: list[str]) -> dict | None:
    names = [h.strip() for h in header]
    if MARKERS & set(names):
        return {"format": "kobo", "names": names, "skip": 1, "import_ids": {}, "question_text": {}}
    return None


def strip_group(name: str) -> str:
    """``drivers_a/SHI1`` and ``drivers_a-SHI1`` -> ``SHI1`` (the XLSForm name without its group path)."""
    if name in META_COLUMNS:
        return name
    tail = name.rsplit("/", 1)[-1]
    return tail.rsplit("-", 1)[-1] if "-" in tail else tail
