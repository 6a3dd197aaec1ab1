"""Writing simulated raw data as the files researchers get: Qualtrics CSV, plain CSV, SPSS .sav.

- **Qualtrics CSV** (as Qualtrics' "Export data > CSV" writes it): UTF-8 with BOM, CRLF line endings,
  three header rows: (1) export tags (metadata columns, then item ids), (2) question text (matrix
  sub-questions as ``<stem> - <statement>``), (3) ImportId JSON (``{"ImportId":"startDate",
  "timeZone":"America/Denver"}``, ``{"ImportId":"_recordId"}``, ``{"ImportId":"QID<k>"}``, matrix
  sub-questions ``QID<k>_<j>``, text entry ``QID<k>_TEXT``). Numeric values by default; with
  ``choice_text`` the labels of choice questions (and ``IP Address``/``Survey Preview``, ``True``/``False``).
  Question numbers follow the blocks: a block made only of agree items is one matrix question (its
  sub-questions numbered by position), every other item is a question of its own.
- **Plain CSV**: UTF-8 without BOM, LF line endings, one header row with the same column names.
- **SPSS .sav** (pyreadstat): variable labels = question text, value labels from the scales, user-missing
  codes declared (8 on agree items, 9 on demographics, -99 on counts). SPSS names cannot hold spaces or
  brackets, so ``Duration (in seconds)`` is written ``Duration__in_seconds_`` as Qualtrics' SPSS export
  does. The .sav header carries a creation date and time; we overwrite them with a fixed stamp
  (``01 Jan 26 00:00:00``) so the same seed gives the same bytes.

Each export gets ``<file>.truth.json`` beside it (sorted keys, no timestamps). Files are written to a
temporary name in the target folder and renamed, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.simulate.metadata import META_COLUMNS
from survey.simulate.raw import DEFAULT_START, simulate_raw
from survey.simulate.responses import DEFAULT_INSTRUMENT, resolve_instrument

FORMATS = ("qualtrics", "csv", "sav")
TIME_ZONE = "America/Denver"
MATRIX_STEM = "Please indicate how much you agree or disagree with each statement."
META_LABELS = {
    "StartDate": "Start Date", "EndDate": "End Date", "Status": "Response Type", "IPAddress": "IP Address",
    "Progress": "Progress", "Duration (in seconds)": "Duration (in seconds)", "Finished": "Finished",
    "RecordedDate": "Recorded Date", "ResponseId": "Response ID", "RecipientLastName": "Recipient Last Name",
    "RecipientFirstName": "Recipient First Name", "RecipientEmail": "Recipient Email",
    "ExternalReference": "External Data Reference", "LocationLatitude": "Location Latitude",
    "LocationLongitude": "Location Longitude", "DistributionChannel": "Distribution Channel",
    "UserLanguage": "User Language",
}
META_IMPORT = {
    "StartDate": "startDate", "EndDate": "endDate", "Status": "status", "IPAddress": "ipAddress",
    "Progress": "progress", "Duration (in seconds)": "duration", "Finished": "finished",
    "RecordedDate": "recordedDate", "ResponseId": "_recordId", "RecipientLastName": "recipientLastName",
    "RecipientFirstName": "recipientFirstName", "RecipientEmail": "recipientEmail",
    "ExternalReference": "externalDataReference", "LocationLatitude": "locationLatitude",
    "LocationLongitude": "locationLongitude", "DistributionChannel": "distributionChannel",
    "UserLanguage": "userLanguage",
}
STATUS_LABELS = {0: "IP Address", 1: "Survey Preview"}
FINISHED_LABELS = {0: "False", 1: "True"}
SAV_NAMES = {"Duration (in seconds)": "Duration__in_seconds_"}
SAV_STAMP = (b"01 Jan 26", b"00:00:00")  # creation date (9 bytes) and time (8 bytes) in the .sav header


def _is_matrix_block(instrument, items: list[str]) -> bool:
    scales = {instrument.item(i).scale for i in items}
    roles = {instrument.item(i).role for i in items}
    return (len(items) > 1 and len(scales) == 1 and instrument.scale_of(items[0]).type == "ordinal"
            and roles <= {"indicator", "outcome", "attention"})


def question_map(instrument) -> dict[str, tuple[str, str]]:
    """``{item id: (question text as row 2 shows it, ImportId)}`` in questionnaire order."""
    out: dict[str, tuple[str, str]] = {}
    qid = 0
    placed = [i for b in instrument.blocks for i in b.items]
    groups = [list(b.items) for b in instrument.blocks]
    groups += [[it.id] for it in instrument.items if it.id not in placed]
    for items in groups:
        if _is_matrix_block(instrument, items):
            qid += 1
            for j, i in enumerate(items, start=1):
                out[i] = (f"{MATRIX_STEM} - {instrument.item(i).text}", f"QID{qid}_{j}")
            continue
        for i in items:
            qid += 1
            kind = instrument.scale_of(i).type
            suffix = "_TEXT" if kind in ("text", "count", "numeric") else ""
            out[i] = (instrument.item(i).text, f"QID{qid}{suffix}")
    return out


def _import_id(col: str, qmap: dict[str, tuple[str, str]]) -> str:
    if col in META_IMPORT:
        obj: dict[str, str] = {"ImportId": META_IMPORT[col]}
        if col in ("StartDate", "EndDate", "RecordedDate"):
            obj["timeZone"] = TIME_ZONE
    else:
        obj = {"ImportId": qmap[col][1]}
    return json.dumps(obj, separators=(",", ":"))


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _labelled(frame: pd.DataFrame, instrument) -> pd.DataFrame:
    """Choice-text variant: codes of choice questions replaced by their labels."""
    out = frame.astype(object).copy()
    for col in frame.columns:
        if col == "Status":
            out[col] = frame[col].map(STATUS_LABELS)
        elif col == "Finished":
            out[col] = frame[col].map(FINISHED_LABELS)
        elif col not in META_COLUMNS:
            scale = instrument.scale_of(col)
            if scale.type in ("ordinal", "nominal"):
                labels = {**scale.points, **scale.missing}
                out[col] = [labels.get(int(v), str(v)) if not pd.isna(v) else "" for v in frame[col]]
    return out


def qualtrics_bytes(frame: pd.DataFrame, instrument, choice_text: bool = False) -> bytes:
    """The Qualtrics CSV export of ``frame`` as bytes (BOM, CRLF, three header rows)."""
    qmap = question_map(instrument)
    cols = list(frame.columns)
    data = _labelled(frame, instrument) if choice_text else frame
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(cols)
    writer.writerow([META_LABELS[c] if c in META_LABELS else qmap[c][0] for c in cols])
    writer.writerow([_import_id(c, qmap) for c in cols])
    for row in data.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def csv_bytes(frame: pd.DataFrame, instrument=None, choice_text: bool = False) -> bytes:
    """Plain CSV: one header row, UTF-8 without BOM, LF line endings."""
    data = _labelled(frame, instrument) if choice_text and instrument is not None else frame
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in data.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def sav_metadata(frame: pd.DataFrame, instrument) -> dict[str, Any]:
    """Variable labels, value labels and user-missing codes for pyreadstat, keyed by the .sav names."""
    qmap = question_map(instrument)
    labels, values, missing, measure = {}, {}, {}, {}
    for col in frame.columns:
        name = SAV_NAMES.get(col, col)
        labels[name] = META_LABELS.get(col) or qmap[col][0]
        if col == "Status":
            values[name] = {float(k): v for k, v in STATUS_LABELS.items()}
        elif col == "Finished":
            values[name] = {float(k): v for k, v in FINISHED_LABELS.items()}
        if col in META_COLUMNS:
            continue
        scale = instrument.scale_of(col)
        if scale.type in ("ordinal", "nominal"):
            values[name] = {float(k): v for k, v in {**scale.points, **scale.missing}.items()}
            measure[name] = "ordinal" if scale.type == "ordinal" else "nominal"
        elif scale.type in ("count", "numeric"):
            if scale.missing:
                values[name] = {float(k): v for k, v in scale.missing.items()}
            measure[name] = "scale"
        if scale.missing and scale.type != "text":
            missing[name] = [float(k) for k in sorted(scale.missing)]
    return {"column_labels": labels, "variable_value_labels": values, "missing_ranges": missing,
            "variable_measure": measure}


def sav_bytes(frame: pd.DataFrame, instrument, choice_text: bool = False) -> bytes:
    """SPSS .sav bytes via pyreadstat, header creation stamp fixed (see the module docstring).

    Values stay numeric: the labels travel as value labels, so ``choice_text`` changes nothing here.
    """
    import pyreadstat

    data = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        name = SAV_NAMES.get(col, col)
        s = frame[col]
        if s.dtype.kind in "iu" or str(s.dtype) == "Int64":
            data[name] = s.astype("Float64").astype(float).to_numpy()
        else:
            data[name] = np.array([_cell(v) for v in s], dtype=object)
    meta = sav_metadata(frame, instrument)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.sav"
        pyreadstat.write_sav(data, str(path), **meta)
        raw = bytearray(path.read_bytes())
    return bytes(fix_sav_stamp(raw))


def fix_sav_stamp(raw: bytearray) -> bytearray:
    """Overwrite the creation date and time of a .sav file header (bytes 92-100 and 101-108).

    The SPSS file header: rec_type(4) prod_name(60) layout_code(4) nominal_case_size(4) compression(4)
    weight_index(4) ncases(4) bias(8) creation_date(9) creation_time(8) file_label(64).
    """
    if raw[:4] not in (b"$FL2", b"$FL3"):
        raise ValueError("not an SPSS .sav file")
    raw[92:101] = SAV_STAMP[0]
    raw[101:109] = SAV_STAMP[1]
    return raw


def truth_bytes(truth: dict[str, Any]) -> bytes:
    """The ground truth as JSON: sorted keys, two-space indent, one line per row, trailing newline, no
    timestamps."""
    body = dict(truth)
    rows = body.pop("rows", None)
    if rows is not None:
        body["rows"] = "\x00ROWS\x00"
    text = json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False)
    if rows is not None:
        lines = ",\n    ".join(json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
                               for r in rows)
        text = text.replace('"\\u0000ROWS\\u0000"', "[\n    " + lines + "\n  ]" if rows else "[]")
    return (text + "\n").encode("utf-8")


def export_bytes(frame: pd.DataFrame, instrument, fmt: str = "qualtrics", choice_text: bool = False) -> bytes:
    """The export of ``frame`` in ``fmt`` (``qualtrics``, ``csv`` or ``sav``)."""
    writers = {"qualtrics": qualtrics_bytes, "csv": csv_bytes, "sav": sav_bytes}
    if fmt not in writers:
        raise SurveyInputError(f"unknown format; use one of {', '.join(FORMATS)}", value=fmt, field="format")
    return writers[fmt](frame, resolve_instrument(instrument), choice_text)


def atomic_write(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary name beside it, then rename them all (no half-written outputs)."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, payload in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.chmod(tmp, 0o666 & ~_umask())
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def truth_path(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".truth.json")


def write_simulation(out: Path | str, n: int, seed: int, instrument: Any = DEFAULT_INSTRUMENT,
                     fmt: str = "qualtrics", choice_text: bool = False,
                     start: str = DEFAULT_START) -> tuple[Path, Path]:
    """Simulate ``n`` raw rows and write ``out`` in ``fmt`` plus ``out.truth.json``. Returns both paths."""
    if fmt not in FORMATS:
        raise SurveyInputError(f"unknown format; use one of {', '.join(FORMATS)}", value=fmt, field="format")
    inst = resolve_instrument(instrument)
    frame, truth = simulate_raw(n, seed, inst, start=start)
    truth["format"] = fmt
    truth["choice_text"] = bool(choice_text)
    out = Path(out)
    atomic_write({out: export_bytes(frame, inst, fmt, choice_text), truth_path(out): truth_bytes(truth)})
    return out, truth_path(out)
