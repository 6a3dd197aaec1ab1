"""Exports of an instrument: XLSForm (KoboToolbox / ODK), a Markdown codebook, a Frictionless Data Package.

- XLSForm follows the specification at https://xlsform.org: sheets ``survey`` (``type name label
  hint required constraint constraint_message``), ``choices`` (``list_name name label``) and
  ``settings`` (``form_title form_id version``). Ordinal and nominal scales become ``select_one
  <scale>`` lists whose choices include the labelled missing codes; count scales become ``integer``
  (``decimal`` for numeric scales with non-integer bounds) with a range constraint that also admits
  the missing codes; free text is ``text``. Each block is a ``begin group`` / ``end group`` pair.
- The Data Package follows Frictionless Table Schema v2 (https://datapackage.org): one tabular resource
  whose fields are the items (ordinal/nominal/count -> ``integer``, numeric -> ``number``, text ->
  ``string``), with ``constraints.enum`` or ``minimum``/``maximum``, ``categories`` (value, label) with
  ``categoriesOrdered`` for ordinal scales, and per-field ``missingValues`` listing the labelled
  missing codes (per field, because 8 is "Prefer not to say" on agree7 but a valid count elsewhere).

Files are written atomically: a temporary file in the target folder, then ``os.replace``.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from survey.errors import SurveyInputError
from survey.instrument.schema import Instrument, Item, Scale

SURVEY_COLUMNS = ["type", "name", "label", "hint", "required", "constraint", "constraint_message"]
CHOICE_COLUMNS = ["list_name", "name", "label"]
SETTINGS_COLUMNS = ["form_title", "form_id", "version"]


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if target.is_dir():
        raise SurveyInputError("is a directory; give a file name", file=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise SurveyInputError(f"cannot write: {exc.strerror or exc}", file=str(target)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise SurveyInputError(f"cannot write: {exc.strerror or exc}", file=str(target)) from None
        raise
    return target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def form_id(instrument: Instrument) -> str:
    """XML-safe form id: the instrument name with non-word characters as underscores."""
    return re.sub(r"\W", "_", instrument.name)


def _num(x: int | float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _range_constraint(scale: Scale) -> tuple[str, str]:
    parts = []
    if scale.min is not None:
        parts.append(f". >= {_num(scale.min)}")
    if scale.max is not None:
        parts.append(f". <= {_num(scale.max)}")
    if not parts:
        return "", ""
    valid = " and ".join(parts)
    lo = _num(scale.min) if scale.min is not None else "-inf"
    hi = _num(scale.max) if scale.max is not None else "inf"
    message = f"Enter a number from {lo} to {hi}"
    if scale.missing:
        codes = " or ".join(f". = {_num(code)}" for code in scale.missing)
        valid = f"({valid}) or {codes}"
        message += ", or " + ", ".join(f"{code} ({label})" for code, label in scale.missing.items())
    return valid, message


def _survey_row(item: Item, scale: Scale) -> dict[str, Any]:
    row: dict[str, Any] = {"name": item.id, "label": item.text, "required": "no" if item.pii else "yes"}
    if scale.type in ("ordinal", "nominal"):
        row["type"] = f"select_one {scale.name}"
    elif scale.type in ("count", "numeric"):
        integral = scale.type == "count" or all(
            b is None or float(b).is_integer() for b in (scale.min, scale.max))
        row["type"] = "integer" if integral else "decimal"
        row["constraint"], row["constraint_message"] = _range_constraint(scale)
        if scale.unit:
            row["hint"] = scale.unit
    else:
        row["type"] = "text"
    return row


def xlsform_rows(instrument: Instrument) -> dict[str, list[dict[str, Any]]]:
    """The three XLSForm sheets as lists of row dicts (``survey``, ``choices``, ``settings``)."""
    survey: list[dict[str, Any]] = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    placed: set[str] = set()
    for block in instrument.blocks:
        label = block.label or block.id.replace("_", " ").capitalize()
        survey.append({"type": "begin group", "name": block.id, "label": label})
        for item_id in block.items:
            item = instrument.item(item_id)
            survey.append(_survey_row(item, instrument.scales[item.scale]))
            placed.add(item_id)
        survey.append({"type": "end group", "name": block.id})
    for item in instrument.items:
        if item.id not in placed:
            survey.append(_survey_row(item, instrument.scales[item.scale]))

    used = []
    for item in instrument.items:
        scale = instrument.scales[item.scale]
        if scale.type in ("ordinal", "nominal") and scale.name not in used:
            used.append(scale.name)
    choices = [{"list_name": name, "name": str(code), "label": label}
               for name in used for code, label in instrument.scales[name].labels().items()]
    settings = [{"form_title": instrument.title, "form_id": form_id(instrument),
                 "version": instrument.version}]
    return {"survey": survey, "choices": choices, "settings": settings}


def to_xlsform(instrument: Instrument, path: str | Path) -> Path:
    """Write the instrument as an XLSForm workbook (``.xlsx``) at ``path``, atomically."""
    sheets = xlsform_rows(instrument)
    columns = {"survey": SURVEY_COLUMNS, "choices": CHOICE_COLUMNS, "settings": SETTINGS_COLUMNS}
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(columns[name])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.get(col, None) for col in columns[name]])
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def _md(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def to_codebook(instrument: Instrument) -> str:
    """A Markdown codebook: constructs (definition, items, literature), items, scales, hypotheses, blocks."""
    lines = [f"# Codebook: {instrument.title}", "",
             f"Instrument `{instrument.spec}` (SHA-256 `{instrument.sha256}`).", ""]
    if instrument.description:
        lines += [" ".join(instrument.description.split()), ""]

    lines += ["## Constructs", ""]
    for c in instrument.constructs:
        items = instrument.indicators(c.code)
        reverse = [i for i in items if instrument.item(i).keyed == -1]
        lines += [f"### {c.code}: {c.label}", ""]
        if c.definition:
            lines += [f"*Definition.* {c.definition}", ""]
        items_line = f"*Items.* {', '.join(items) or 'none'}"
        if reverse:
            items_line += f" (reverse keyed: {', '.join(reverse)})"
        lines += [items_line, ""]
        if c.literature:
            lines += ["*Literature.*", ""] + [f"- {ref}" for ref in c.literature] + [""]

    lines += ["## Items", "", "| id | text | construct | scale | keying | role | notes |",
              "|---|---|---|---|---|---|---|"]
    for item in instrument.items:
        keying = "reverse (-1)" if item.keyed == -1 else "+1"
        notes = []
        if item.expected is not None:
            scale = instrument.scales[item.scale]
            notes.append(f"expected answer {item.expected} ({scale.points.get(item.expected, '')})")
        if item.pii:
            notes.append("personal data, dropped at ingestion")
        lines.append(f"| {item.id} | {_md(item.text)} | {item.construct or ''} | {item.scale} | {keying} | "
                     f"{item.role} | {_md('; '.join(notes))} |")
    lines.append("")

    lines += ["## Scales", ""]
    for name, scale in instrument.scales.items():
        head = f"### {name} ({scale.type})"
        lines += [head, ""]
        if scale.type in ("count", "numeric"):
            unit = f" {scale.unit}" if scale.unit else ""
            lines += [f"Range {_num(scale.min) if scale.min is not None else '-inf'} to "
                      f"{_num(scale.max) if scale.max is not None else 'inf'}{unit}.", ""]
        if scale.points or scale.missing:
            lines += ["| code | label | kind |", "|---|---|---|"]
            lines += [f"| {code} | {_md(label)} | scale point |" for code, label in scale.points.items()]
            lines += [f"| {code} | {_md(label)} | labelled missing |"
                      for code, label in scale.missing.items()]
            lines.append("")
        elif scale.type == "text":
            lines += ["Free text.", ""]

    if instrument.hypotheses:
        lines += ["## Hypotheses", "", "| id | path | expected sign |", "|---|---|---|"]
        lines += [f"| {h.id} | {h.predictor} -> {h.outcome} | {h.sign} |" for h in instrument.hypotheses]
        lines.append("")
    if instrument.blocks:
        lines += ["## Blocks", "", "| block | items |", "|---|---|"]
        lines += [f"| {b.id} | {', '.join(b.items)} |" for b in instrument.blocks]
        lines.append("")
    return "\n".join(lines)


def _field(item: Item, scale: Scale) -> dict[str, Any]:
    field: dict[str, Any] = {"name": item.id, "title": item.id, "description": item.text}
    constraints: dict[str, Any] = {}
    if scale.type in ("ordinal", "nominal"):
        field["type"] = "integer"
        constraints["enum"] = list(scale.points)
        field["categories"] = [{"value": code, "label": label} for code, label in scale.points.items()]
        if scale.type == "ordinal":
            field["categoriesOrdered"] = True
    elif scale.type in ("count", "numeric"):
        field["type"] = "integer" if scale.type == "count" else "number"
        if scale.min is not None:
            constraints["minimum"] = scale.min
        if scale.max is not None:
            constraints["maximum"] = scale.max
    else:
        field["type"] = "string"
    if constraints:
        field["constraints"] = constraints
    field["missingValues"] = [{"value": "", "label": "Not answered"}] + [
        {"value": str(code), "label": label} for code, label in scale.missing.items()]
    field["survey"] = {"scale": scale.name, "construct": item.construct, "keyed": item.keyed,
                       "role": item.role, "pii": item.pii}
    return field


def to_datapackage(instrument: Instrument, *, path: str = "responses.csv") -> dict[str, Any]:
    """A Frictionless Data Package (v2) describing response data collected with the instrument.

    The resource ``path`` is the CSV of responses as answered (reverse-keyed items not recoded).
    """
    fields = [_field(item, instrument.scales[item.scale]) for item in instrument.items]
    name = re.sub(r"[^a-z0-9._-]", "-", instrument.name.lower())
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "profile": "tabular-data-package",
        "name": name,
        "title": instrument.title,
        "description": " ".join(instrument.description.split()),
        "version": instrument.version,
        "survey_instrument": {"spec": instrument.spec, "sha256": instrument.sha256},
        "resources": [{
            "name": "responses",
            "type": "table",
            "profile": "tabular-data-resource",
            "path": path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {
                "fields": fields,
                "missingValues": [""],
            },
        }],
    }
