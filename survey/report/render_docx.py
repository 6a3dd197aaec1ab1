"""DOCX rendering with APA-style tables (python-docx), written with stable bytes.

APA tables (Publication Manual, 7th ed., section 7.13): table number in bold, title in italic title
case on the next line, horizontal rules only (above and below the header row and below the last
row), no vertical rules, a note below beginning with *Note.* Column widths are fitted to the content
(:mod:`survey.report.layout`: no word or number broken across lines), tables wider than a portrait page
go into a landscape section, the header row repeats after a page break, rows never split, and captions
are kept with their table or figure. Headings follow APA 7 levels (bold, black, Times New Roman), and
statistical symbols are italic everywhere (:mod:`survey.report.symbols`).

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
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from survey.report import layout, symbols
from survey.report.table import Table

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT = "Times New Roman"
TABLE_PT = 9.0
PORTRAIT_WIDTH = 6.5   # inches of text on US Letter with 1 inch margins
LANDSCAPE_WIDTH = 9.0
KEEP_WHOLE_ROWS = 25   # tables up to this many rows are kept on one page (keep-with-next on their rows)
NBSP = "\u00a0"


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


def _runs(paragraph: Any, text: str, *, size: float | None = None, header: bool = False,
          italic: bool = False) -> None:
    """Add ``text`` as runs, statistical symbols in italic (:mod:`survey.report.symbols`)."""
    for piece, symbol in symbols.split(text, header=header):
        run = paragraph.add_run(piece)
        if size is not None:
            run.font.size = Pt(size)
        if symbol or italic:
            run.italic = True


def _keep_with_next(paragraph: Any) -> None:
    paragraph.paragraph_format.keep_with_next = True
    paragraph.paragraph_format.keep_together = True


def _cell_text(cell: Any, text: str, *, align: str, size: float, header: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "r" else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(0)
    fmt.space_before = Pt(0)
    fmt.line_spacing = 1.0
    if align == "r":  # numbers and intervals never break inside a cell
        text = text.replace(" ", NBSP)
    mark = OxmlElement("w:rPr")  # the paragraph mark at the table's size: an empty cell is no taller
    mark_size = OxmlElement("w:sz")
    mark_size.set(qn("w:val"), str(int(round(size * 2))))
    mark.append(mark_size)
    paragraph._p.get_or_add_pPr().append(mark)
    _runs(paragraph, text, size=size, header=header)


def _row_properties(row: Any, *, header: bool) -> None:
    """``w:cantSplit`` (a row never breaks across pages) and, on the header row, ``w:tblHeader`` (repeated
    at the top of every page the table continues on)."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _fixed_layout(grid: Any, widths: list[float]) -> None:
    """Fixed column widths (inches): ``w:tblLayout fixed``, the grid columns and every cell's width."""
    grid.autofit = False
    tbl_pr = grid._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    total = OxmlElement("w:tblW")
    total.set(qn("w:w"), str(sum(int(round(w * 1440)) for w in widths)))
    total.set(qn("w:type"), "dxa")
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    tbl_pr.append(total)
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = Inches(width)
        for cell in column.cells:
            cell.width = Inches(width)


def add_table(document: Any, table: Table, *, size: float = TABLE_PT, usable: float = PORTRAIT_WIDTH) -> None:
    """One APA table: bold number, italic title (both kept with the table), fitted fixed column widths,
    rules above/below the header and below the body, header row repeated on every page, rows kept whole."""
    columns = [str(c) for c in table.display.columns]
    rows = [[str(v) for v in row] for row in table.display.itertuples(index=False, name=None)]
    for smaller in (size - 1, size - 2):  # a table too wide even turned is set 1-2 points smaller
        if sum(layout.natural_widths(columns, rows, table.align, size)[0]) <= usable:
            break
        size = smaller
    widths = layout.column_widths(columns, rows, table.align, size, usable)
    label = document.add_paragraph()
    label.add_run(table.label).bold = True
    label.paragraph_format.space_after = Pt(0)
    _keep_with_next(label)
    title = document.add_paragraph()
    title.add_run(table.title).italic = True
    _keep_with_next(title)
    grid = document.add_table(rows=len(rows) + 1, cols=len(columns))
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fixed_layout(grid, widths)
    _row_properties(grid.rows[0], header=True)
    for j, name in enumerate(columns):
        cell = grid.cell(0, j)
        _cell_text(cell, name, align=table.align[j], size=size, header=True)
        _border(cell, top="12", bottom="6")
    for i, row in enumerate(rows, start=1):
        _row_properties(grid.rows[i], header=False)
        for j, value in enumerate(row):
            cell = grid.cell(i, j)
            _cell_text(cell, value, align=table.align[j], size=size)
            if len(rows) <= KEEP_WHOLE_ROWS or i == len(rows):  # short tables stay whole; the last
                _keep_with_next(cell.paragraphs[0])                # row stays with the note
            if i == len(rows):
                _border(cell, bottom="12")
    if table.note:
        note = document.add_paragraph()
        note.paragraph_format.line_spacing = 1.0
        lead = note.add_run("Note. ")
        lead.italic = True
        lead.font.size = Pt(size)
        _runs(note, table.note, size=size)


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


def _apa_styles(document: Any) -> None:
    """APA 7 styles: Times New Roman 12 pt, black; Title bold centred; Heading 1 (level 1) bold centred,
    Heading 2 (level 2) bold flush left, Heading 3 (level 3) bold italic flush left; no colour, no rules."""
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(6)
    for name, centred, italic in (("Title", True, False), ("Heading 1", True, False),
                                  ("Heading 2", False, False), ("Heading 3", False, True)):
        style = styles[name]
        style.font.name = FONT
        style.font.size = Pt(12)
        style.font.bold = True
        style.font.italic = italic
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.underline = False
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        fmt = style.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
        fmt.space_before = Pt(12)
        fmt.space_after = Pt(6)
        fmt.keep_with_next = True
        ppr = style.element.get_or_add_pPr()
        for border in ppr.findall(qn("w:pBdr")):  # Word's Title has a bottom rule
            ppr.remove(border)


def _section(document: Any, landscape: bool) -> None:
    """A new section in the orientation asked for (US Letter, 1 inch margins)."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _orient(section, landscape)


def _orient(section: Any, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    long, short = Inches(11), Inches(8.5)
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))


def render_docx(paper: Any) -> bytes:
    """The whole paper as a Word document: APA headings, text with italic symbols, APA tables with fitted
    column widths (wide tables in landscape sections), figures with their captions kept with them, and
    the estimation and data warnings once each in a supplement at the end."""
    document = Document()
    _apa_styles(document)
    _fix_core_properties(document, paper.title)
    _orient(document.sections[0], False)
    document.add_paragraph(paper.title, style="Title")
    for heading, paragraphs in paper.sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            _runs(document.add_paragraph(), text)
    document.add_heading("Tables", level=1)
    landscape = False
    for table in paper.tables:
        columns = [str(c) for c in table.display.columns]
        rows = [[str(v) for v in row] for row in table.display.itertuples(index=False, name=None)]
        wide = layout.needs_landscape(columns, rows, table.align, TABLE_PT, PORTRAIT_WIDTH)
        if wide != landscape:
            _section(document, wide)
            landscape = wide
        add_table(document, table, usable=LANDSCAPE_WIDTH if wide else PORTRAIT_WIDTH)
        document.add_paragraph()
    if landscape:
        _section(document, False)
    if paper.omitted:
        document.add_paragraph("Not reported in this build:")
        for omitted in paper.omitted:
            document.add_paragraph(omitted.sentence(), style="List Bullet")
    if paper.figures:
        document.add_heading("Figures", level=1)
        for figure in paper.figures:
            label = document.add_paragraph()
            label.add_run(figure.label).bold = True
            _keep_with_next(label)
            title = document.add_paragraph()
            title.add_run(figure.title).italic = True
            _keep_with_next(title)
            document.add_picture(io.BytesIO(figure.png), width=Inches(6.0))
            picture = document.paragraphs[-1]
            if figure.note:
                _keep_with_next(picture)
                note = document.add_paragraph()
                note.add_run("Note. ").italic = True
                _runs(note, figure.note)
    if paper.warnings:
        document.add_heading("Supplement: estimation and data warnings", level=1)
        for warning in paper.warnings:
            _runs(document.add_paragraph(style="List Bullet"), warning)
    buffer = io.BytesIO()
    document.save(buffer)
    return stable_zip(buffer.getvalue())
