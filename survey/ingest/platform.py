"""Columns that survey platforms, statistics packages and panel providers add to real exports.

They are not instrument items and not errors: strict mode drops them and lists each one, with its
kind, in ``ingest.json`` (``platform_columns``). Personal data among them (panel worker ids,
submitter names, device ids, GPS coordinates) are dropped as personal data instead.

Sources (documented export layouts): Qualtrics Text iQ adds ``<question> - Topics``, ``- Parent
Topics``, ``- Sentiment``, ``- Sentiment Score``, ``- Sentiment Polarity``, ``- Topic Sentiment
Label`` and ``- Topic Sentiment Score`` columns; the legacy Qualtrics exporter ends every line with a
delimiter (an unnamed, empty last column); R's ``write.csv`` writes row names as a first column with
an empty header, ``write.table`` with no header field for them (the reader names it ``(row names)``);
KoboToolbox, ODK Central and Ona append submission metadata (``_id``, ``_uuid``,
``_submission_time``, ``_version``, ``_duration``, ``_index``, ``SubmissionDate``, ``KEY``, ...);
Prolific passes ``PROLIFIC_PID``, ``STUDY_ID``, ``SESSION_ID``, MTurk ``workerId``, ``assignmentId``,
``hitId``.
"""

from __future__ import annotations

import re

import pandas as pd

TEXT_IQ = re.compile(
    r"^.+ - (Topics|Parent Topics|Sentiment|Sentiment Score|Sentiment Polarity|Topic Sentiment Label|"
    r"Topic Sentiment Score|Topic Hierarchy Level \d+|Emotion|Emotion Intensity|Actionability|"
    r"Effort Score)$",
    re.IGNORECASE,
)
#: Submission metadata of KoboToolbox, ODK Central, Ona and SurveyCTO (names as exported; a leading
#: "@" of XML-attribute headers is ignored).
FORM_META = {
    "_id", "_uuid", "_submission_time", "_version", "_version_", "__version__", "_duration", "_index",
    "_date_modified", "_media_count", "_total_media", "_media_all_received", "_xform_id",
    "_xform_id_string", "_edited", "_last_edited", "_review_status", "_review_comment", "_status",
    "_validation_status", "_notes", "_tags", "_parent_index", "_parent_table_name", "_submission__id",
    "_submission__uuid", "_submission__submission_time", "_bamboo_dataset_id", "_attachments",
    "meta/instanceID", "meta/instanceName", "meta/deprecatedID", "meta/rootUuid", "meta/audit",
    "meta-instanceID", "meta-instanceName", "formhub/uuid", "instanceID", "instanceName",
    "SubmissionDate", "KEY", "AttachmentsPresent", "AttachmentsExpected", "ReviewState", "Edits",
    "FormVersion", "__id", "__system/submissionDate", "__system/status", "__system/reviewState",
    "__system/edits", "__system/formVersion", "__system/attachmentsPresent",
    "__system/attachmentsExpected", "start", "end", "today", "audit", "CompletionDate", "formdef_version",
}
#: Personal data among platform columns: panel worker ids (Prolific, MTurk, CloudResearch) and the
#: form tools' submitter and device fields.
PERSONAL = {
    "prolificpid", "prolificid", "participantid", "sessionid", "workerid", "mturkid", "mturkworkerid",
    "assignmentid", "mid", "cintid", "psid", "rid", "submittername", "submitterid", "deviceid",
    "systemsubmittername", "systemsubmitterid", "systemdeviceid", "username", "phonenumber",
    "simserial", "subscriberid", "submittedby", "geolocation", "email", "emailaddress",
}
PANEL = {"studyid", "hitid", "surveyid", "projectid"}
_GEO = re.compile(r"^_.+_(latitude|longitude|altitude|precision)$", re.IGNORECASE)
_BLANK = re.compile(r"^\(column \d+\)$|^Unnamed: \d+$|^\.\.\.\d+$")


def squash(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def blank_name(name: str) -> bool:
    """A column without a header name (the reader names it "(column N)"; pandas "Unnamed: N")."""
    return name == "" or bool(_BLANK.match(name))


def is_personal(name: str) -> bool:
    base = name.lstrip("@")
    return squash(base) in PERSONAL or bool(_GEO.match(base))


def kind(name: str, values: pd.Series, position: int) -> str | None:
    """What platform column ``name`` is ("Text iQ", "form metadata", ...), or None when it is not one."""
    base = name.lstrip("@")
    if TEXT_IQ.match(base):
        return "Qualtrics Text iQ"
    if base in FORM_META or base.rsplit("/", 1)[-1] in FORM_META or ("__system" in base):
        return "form metadata (Kobo/ODK/Ona)"
    if squash(base) in PANEL:
        return "panel metadata (Prolific/MTurk)"
    if name == "(row names)" and position == 0:  # the reader's name for R write.table's row names
        return "row names (R write.table)"
    if blank_name(name) or name in ("X", "rownames", "row.names"):
        text = values.astype("string").str.strip()
        empty = text.isna() | (text == "")
        if bool(empty.all()):
            return "empty column without a name"
        if position == 0 and not bool(empty.any()) and text.is_unique:
            # R's write.csv (and pandas' to_csv index): one distinct name per row, 1..n or, after
            # subsetting rows, any distinct names (3, 7, 9, ...)
            return "row names (R write.csv)"
    return None
