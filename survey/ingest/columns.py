"""Map the columns of a raw export to instrument items and known metadata.

Rules, in order: an exact item id; a Kobo group path stripped (``drivers_a/SHI1``, ``drivers_a-SHI1``);
an item id in another case (``shi1``). Qualtrics metadata are recognised by name (already renamed by
ImportId in the reader), Kobo metadata by name. Anything else is an unknown column. A column that is
an item of another version of the same instrument (CON5 in a 1.0.0 file) is a wrong-version error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from survey.errors import SurveyInputError
from survey.ingest import platform
from survey.ingest.readers import RawTable, googleforms, kobo, limesurvey, qualtrics, surveymonkey
from survey.ingest.readers._text import fold
from survey.instrument import Instrument, list_instruments, load_instrument

#: Metadata that are personal data (dropped before anything is written).
PII_META = {
    "IPAddress",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "RecipientName",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "LocationAccuracy",
} | kobo.PII_COLUMNS | limesurvey.PII | surveymonkey.PII | googleforms.PII

#: Metadata the screens read, by canonical name.
SCREEN_META = {
    "ResponseId": "respondent_id",
    "_uuid": "respondent_id",
    "id": "respondent_id",
    "respondent_id": "respondent_id",
    "Status": "Status",
    "DistributionChannel": "DistributionChannel",
    "Progress": "Progress",
    "Finished": "Finished",
    "Duration (in seconds)": "Duration",
    "Duration": "Duration",
    "_duration": "Duration",
    "start": "start",
    "end": "end",
    "__version__": "__version__",
    "_version_": "__version__",
    "submitdate": "submitdate",
    "interviewtime": "Duration",
    "startdate": "start",
    "datestamp": "end",
}


@dataclass
class ColumnMap:
    """Where each file column goes: ``items`` {column: item id}, ``meta`` {column: canonical name},
    ``pii`` (personal-data columns present), ``other_meta`` (known metadata not used), ``platform``
    {column: kind} (platform columns and columns that do not look like items: dropped and listed),
    ``unknown`` (columns that look like items of the instrument but are not: errors)."""

    items: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    pii: list[str] = field(default_factory=list)
    other_meta: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    platform: dict[str, str] = field(default_factory=dict)
    missing_items: list[str] = field(default_factory=list)
    missing_hint: dict[str, str] = field(default_factory=dict)


def sibling_versions(instrument: Instrument) -> list[Instrument]:
    """Every other available version of the same instrument (to tell a wrong-version file)."""
    out = []
    for spec in list_instruments():
        name, _, version = spec.partition("@")
        if name == instrument.name and version != instrument.version:
            try:
                out.append(load_instrument(spec))
            except SurveyInputError:  # a broken sibling file does not stop reading this one
                continue
    return out


def map_columns(raw: RawTable, instrument: Instrument) -> ColumnMap:
    ids = instrument.item_ids
    by_case = {i.casefold(): i for i in ids}
    known_meta = (qualtrics.META_COLUMNS | kobo.META_COLUMNS | set(SCREEN_META) | limesurvey.META
                  | set(surveymonkey.META.values()) | googleforms.META | {"instrument_version"})
    by_text = {_text_key(instrument.item(i).text): i for i in ids}
    out = ColumnMap()
    target_of: dict[str, str] = {}
    for col in raw.names:
        iid = raw.import_ids.get(col)
        name = _canonical_meta(col, known_meta)
        text = raw.question_text.get(col, "")
        candidates = [col, kobo.strip_group(col), limesurvey.code_of(col) or "",
                      limesurvey.code_of(text) or ""]
        item = next((c for c in candidates if c in ids), None)
        if item is None:
            item = next((by_case[c.casefold()] for c in candidates if c.casefold() in by_case), None)
        if item is None and raw.format.startswith(("surveymonkey", "limesurvey", "googleforms")):
            item = by_text.get(_text_key(text or col))  # full-text headings: the item's own wording
        if item is not None:
            if item in target_of:
                raise SurveyInputError(
                    f"columns {target_of[item]!r} and {col!r} both map to item {item}",
                    file=raw.file,
                    column=col,
                )
            target_of[item] = col
            if instrument.item(item).pii or instrument.scale_of(item).type == "text":
                out.pii.append(col)
            else:
                out.items[col] = item
        elif name in PII_META or qualtrics.is_text_entry(col, iid) or platform.is_personal(col):
            out.pii.append(col)
        elif name in SCREEN_META:
            out.meta[col] = SCREEN_META[name]
        elif name in known_meta or (iid is not None and not iid.startswith("QID")) or col.startswith("Q_"):
            out.other_meta.append(col)
        else:
            out.unknown.append(col)
    _check_version(raw, instrument, out)
    _split_unknown(raw, instrument, out)
    text_items = {i for i in ids if instrument.scale_of(i).type == "text" or instrument.item(i).pii}
    out.missing_items = [i for i in ids if i not in target_of and i not in text_items]
    if out.missing_items:
        for other in sibling_versions(instrument):
            absent = set(out.missing_items) - set(other.item_ids)
            for item in sorted(absent):
                out.missing_hint.setdefault(item, f"{instrument.name}@{other.version}")
    return out


_Q_NAME = re.compile(r"^Q\d+(_\d+)*$", re.IGNORECASE)
_CODE_NUMBER = re.compile(r"^([A-Za-z]+)[ _.-]?\d+")


def looks_like_item(col: str, import_id: str | None, instrument: Instrument) -> bool:
    """A column that looks like a questionnaire item: a Qualtrics question (ImportId ``QID...``, or a
    default name ``Q12``, ``Q3_2``), an item id in another spelling (``SHI 1``, ``shi_1``), or a
    construct code or item stem of the instrument followed by a number (``SHI7``, ``FOL_4``)."""
    if import_id and import_id.upper().startswith("QID"):
        return True
    base = kobo.strip_group(col).strip()
    if _Q_NAME.match(base):
        return True
    if _squash(base) in {_squash(i) for i in instrument.item_ids}:
        return True
    m = _CODE_NUMBER.match(base)
    if m is None:
        return False
    stems = {c.casefold() for c in instrument.construct_codes}
    stems |= {m2.group(1).casefold() for i in instrument.item_ids if (m2 := _CODE_NUMBER.match(i))}
    return m.group(1).casefold() in stems


def _split_unknown(raw: RawTable, instrument: Instrument, cmap: ColumnMap) -> None:
    """Keep as errors only the unknown columns that look like items; list the others as platform
    columns (a known kind, or "unrecognised column")."""
    columns = raw.names  # positions in the file (unread personal-data columns included)
    for col in [c for c in cmap.unknown if raw.format.startswith("limesurvey") and limesurvey.is_timing(c)]:
        cmap.unknown.remove(col)
        cmap.platform[col] = "LimeSurvey timing"
    for col in cmap.other_meta:
        j = columns.index(col)
        cmap.platform[col] = platform.kind(col, _values(raw, col, j), j) or "platform metadata"
    keep = []
    for col in cmap.unknown:
        j = columns.index(col)
        kind = platform.kind(col, _values(raw, col, j), j)
        if kind is None and looks_like_item(col, raw.import_ids.get(col), instrument):
            keep.append(col)
        else:
            cmap.platform[col] = kind or "unrecognised column"
    cmap.unknown = keep


def _values(raw: RawTable, col: str, j: int):
    """The cells of column ``col``, the ``j``-th of the file (by name when some columns were unread:
    the frame's positions then differ from the file's; names of text exports are strings)."""
    return raw.frame[col] if raw.skipped else raw.frame.iloc[:, j]


def _text_key(text: str) -> str:
    return " ".join(fold(str(text)).split())


def _squash(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def _canonical_meta(col: str, known: set[str]) -> str:
    """Known metadata name of ``col``, ignoring case, spaces and punctuation (SPSS exports write
    ``Duration (in seconds)`` as ``Duration__in_seconds_``); ``col`` itself when none matches."""
    if col in known or col in PII_META:
        return col
    squashed = _squash(col)
    for name in (*SCREEN_META, *sorted(PII_META), *sorted(known)):
        if _squash(name) == squashed and not name.startswith("_"):
            return name
    return col


def _check_version(raw: RawTable, instrument: Instrument, cmap: ColumnMap) -> None:
    if not cmap.unknown:
        return
    own = set(instrument.item_ids)
    for other in sibling_versions(instrument):
        foreign = [c for c in cmap.unknown if kobo.strip_group(c) in set(other.item_ids) - own]
        if foreign:
            raise SurveyInputError(
                f"item {kobo.strip_group(foreign[0])} belongs to {instrument.name}@{other.version}, not to "
                f"{instrument.name}@{instrument.version}: wrong instrument version?",
                file=raw.file,
                column=foreign[0],
            )
