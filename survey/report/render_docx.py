"""DOCX rendering with APA-style tables (python-docx), written with stable bytes.

APA tables (Publication Manual, 7th ed., section 7.13): table number in bold, title in italic title
case on the next line, horizontal rules only (above and below the header row and below the last
row), no vertical rules, a note below beginning with *Note.*

Byte stability: python-docx stamps the core properties with the current time and the zip members
with the current date. The core properties are set to fixed values and the package is rewritten as a
zip with sorted members, a fixed ``date_time`` (1980-01-01, the zip epoch), fixed permissions and
stored (uncompressed) members, so that no zlib version enters the bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from survey.report.table import Table

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _border(cell: Any, **edges: str) -> None:
    """Set cell borders, e.g. ``_border(cell, top="12", bottom="4")`` (sizes in eighths of a point)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge, size in edges.items():
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), size)
        element.set(qn("w:space"), "0")
        element.set(qn("w:color"), "000000")
        borders.append(element)


def _cell_text(cell: Any, text: str, *, align: str, italic: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "r" else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.font.size = Pt(9)
    run.italic = italic


def add_table(document: Any, table: Table) -> None:
    """One APA table: bold number, italic title, rules above/below the header and below the body."""
    label = document.add_paragraph()
    label.add_run(table.label).bold = True
    label.paragraph_format.space_after = Pt(0)
    document.add_paragraph().add_run(table.title).italic = True
    columns = [str(c) for c in table.display.columns]
    rows = [[str(v) for v in row] for row in table.display.itertuples(index=False, name=None)]
    grid = document.add_table(rows=len(rows) + 1, cols=len(columns))
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, name in enumerate(columns):
        cell = grid.cell(0, j)
        _cell_text(cell, name, align=table.align[j], italic=len(name) <= 3)
        _border(cell, top="12", bottom="6")
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            cell = grid.cell(i, j)
            _cell_text(cell, value, align=table.align[j])
            if i == len(rows):
                _border(cell, bottom="12")
    if table.note:
        note = document.add_paragraph()
        note.add_run("Note. ").italic = True
        note.add_run(table.note).font.size = Pt(9)


def _fix_core_properties(document: Any, title: str) -> None:
    core = document.core_properties
    core.author = "survey"
    core.last_modified_by = "survey"
    core.title = title
    core.created = FIXED_TIME
    core.modified = FIXED_TIME
    core.last_printed = FIXED_TIME
    core.revision = 1
    core.comments = ""


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip with sorted members, fixed timestamps and permissions, and no compression.

    Members are stored, not deflated: deflate output depends on the zlib build Python links to (system
    zlib, zlib-ng), so stored members keep the bytes equal across machines. The figures inside are PNG,
    already compressed, so the file grows little.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {info.filename: source.read(info.filename) for info in source.infolist()}
    out = io.BytesIO()
    # [Content_Types].xml must come first for some readers; then the rest sorted.
    order = sorted(members, key=lambda name: (name != "[Content_Types].xml", name))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            target.writestr(info, members[name])
    return out.getvalue()


def render_docx(paper: Any) -> bytes:
    """The whole paper as a Word document: sections, warnings, APA tables, figures (PNG)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    _fix_core_properties(document, paper.title)
    document.add_heading(paper.title, level=0)
    for heading, paragraphs in paper.sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    if paper.warnings:
        document.add_heading("Estimation and data warnings", level=1)
        for warning in paper.warnings:
            document.add_paragraph(warning, style="List Bullet")
    document.add_heading("Tables", level=1)
    for table in paper.tables:
        add_table(document, table)
    if paper.omitted:
        document.add_paragraph("Not reported in this build:")
        for omitted in paper.omitted:
            document.add_paragraph(omitted.sentence(), style="List Bullet")
    if paper.figures:
        document.add_heading("Figures", level=1)
        for figure in paper.figures:
            label = document.add_paragraph()
            label.add_run(figure.label).bold = True
            document.add_paragraph().add_run(figure.title).italic = True
            document.add_picture(io.BytesIO(figure.png), width=Inches(6.0))
            if figure.note:
                note = document.add_paragraph()
                note.add_run("Note. ").italic = True
                note.add_run(figure.note)
    buffer = io.BytesIO()
    document.save(buffer)
    return stable_zip(buffer.getvalue())
