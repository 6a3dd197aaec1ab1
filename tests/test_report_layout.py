"""Word and HTML output a journal takes: fitted column widths, landscape for wide tables, repeated header
rows, rows kept whole, captions kept with their table or figure, APA headings, italic statistical
symbols; HTML numbers that never wrap, scrolling tables, warnings once in a supplement.

Where LibreOffice and Chromium are installed, the DOCX is rendered to PDF and the HTML to a screenshot
(skipped with the reason where they are absent: CI has only Python).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from survey.report import layout, symbols
from survey.report.render_docx import LANDSCAPE_WIDTH, PORTRAIT_WIDTH, TABLE_PT, render_docx
from survey.report.render_html import render_html
from survey.report.table import Table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _narrow_table() -> Table:
    data = pd.DataFrame({"Variable": ["FOLLOWED30 (M, SD, Mdn)", "Scalar invariant across groups"],
                         "n": ["1257", "12"], "95% CI": ["[-0.12, 0.34]", "[0.01, 0.02]"],
                         "p": ["< .001", ".034"]})
    return Table("narrow", "A narrow table", data, data.copy(), "M = mean; p = two-sided p value.")


def _wide_table() -> Table:
    columns = {f"\u0394RMSEA {k}": [f"[-0.{k}12, 0.{k}34]"] * 60 for k in range(7)}
    columns = {"Model": [f"scalar (partial {i})" for i in range(60)]} | columns
    data = pd.DataFrame(columns)
    return Table("wide", "A wide table", data, data.copy(), "A table wider than a portrait page.")


@dataclass
class _Paper:
    title: str = "A paper"
    tables: list[Table] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)
    omitted: list[Any] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def _paper() -> _Paper:
    from survey.report.figures import _figure, render

    fig = _figure(3, 2)
    fig.add_subplot().plot([0, 1], [0, 1])
    png, svg = render(fig)
    figure = SimpleNamespace(key="figure_x", label="Figure 1", title="A line", png=png, svg=svg,
                             note="p < .05 throughout.")
    narrow, wide = _narrow_table(), _wide_table()
    narrow.number, wide.number = 1, 2
    return _Paper(tables=[narrow, wide], figures=[figure],
                  sections=[("Results", ["The CFA fit, \u03c7\u00b2(278) = 249.44, p = .890, N = 1257."])],
                  warnings=["Heywood case in group 2", "Small sample: 3 cases per parameter"],
                  manifest={"instrument": {"spec": "x@1.0.0", "sha256": "0"},
                            "data": {"analytic_sha256": "0"}})


@pytest.fixture(scope="module")
def docx_xml() -> tuple[bytes, str, str]:
    data = render_docx(_paper())
    archive = zipfile.ZipFile(io.BytesIO(data))
    return data, archive.read("word/document.xml").decode(), archive.read("word/styles.xml").decode()


def test_symbols_are_split_as_whole_tokens() -> None:
    assert symbols.split("b = 0.25, SE = 0.04, p < .001, MLR") == [
        ("b", True), (" = 0.25, ", False), ("SE", True), (" = 0.04, ", False), ("p", True),
        (" < .001, MLR", False)]
    assert symbols.split("\u03c7\u00b2 YB", header=True) == [("\u03c7\u00b2", True), (" YB", False)]
    assert symbols.split("Model", header=True) == [("Model", False)]
    # every symbol token of a header, and chi-square after the difference sign (issue 17 audit)
    assert symbols.split("\u0394\u03c7\u00b2 (\u0394df)", header=True) == [
        ("\u0394", False), ("\u03c7\u00b2", True), (" (\u0394", False), ("df", True), (")", False)]
    assert symbols.split("Ordinal\u00a0(WLSMV)\u00a0SE", header=True) == [
        ("Ordinal\u00a0(WLSMV)\u00a0", False), ("SE", True)]
    assert symbols.split("P(strongest)", header=True) == [("P(strongest)", False)]
    assert symbols.split("\u0394\u03c7\u00b2(5) = 34.89, \u0394CFI = .01") == [
        ("\u0394", False), ("\u03c7\u00b2", True), ("(5) = 34.89, \u0394CFI = .01", False)]


def test_column_widths_fit_the_longest_unbreakable_piece() -> None:
    table = _narrow_table()
    columns = list(table.display.columns)
    rows = table.display.to_numpy().tolist()
    align = table.align
    widths = layout.column_widths(columns, rows, align, TABLE_PT, PORTRAIT_WIDTH)
    assert sum(widths) <= PORTRAIT_WIDTH + 1e-9
    for j in range(len(columns)):
        pieces = [w for r in rows for w in ([r[j]] if align[j] == "r" else r[j].split())]
        assert widths[j] >= max(layout.text_width(p, TABLE_PT) for p in pieces)
    assert widths[0] >= layout.text_width("FOLLOWED30", TABLE_PT)  # the word that broke ("FOLLOWE / D30")
    wide = _wide_table()
    assert layout.needs_landscape(list(wide.display.columns), wide.display.to_numpy().tolist(), wide.align,
                                  TABLE_PT, PORTRAIT_WIDTH)


def test_docx_tables_have_fixed_widths_repeated_headers_and_whole_rows(docx_xml) -> None:
    _, xml, _ = docx_xml
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", xml, flags=re.S)
    assert len(tables) == 2
    for tbl in tables:
        assert '<w:tblLayout w:type="fixed"/>' in tbl
        grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', tbl)]
        cells = [int(w) for w in re.findall(r'<w:tcW w:type="dxa" w:w="(\d+)"/>', tbl)]
        assert grid and all(w > 0 for w in grid) and cells
        rows = re.findall(r"<w:tr[ >].*?</w:tr>", tbl, flags=re.S)
        assert "<w:tblHeader/>" in rows[0] and all("<w:tblHeader/>" not in r for r in rows[1:])
        assert all("<w:cantSplit/>" in r for r in rows)
        marks = re.findall(r"<w:pPr>.*?</w:pPr>", tbl, flags=re.S)  # empty cells no taller than others
        assert marks and all("<w:rPr><w:sz w:val=" in m for m in marks)
    narrow, wide = (sum(int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', t)) for t in tables)
    assert narrow <= PORTRAIT_WIDTH * 1440 + 5
    assert PORTRAIT_WIDTH * 1440 < wide <= LANDSCAPE_WIDTH * 1440 + 5


def test_docx_wide_table_in_a_landscape_section(docx_xml) -> None:
    _, xml, _ = docx_xml
    sections = re.findall(r"<w:sectPr.*?</w:sectPr>", xml, flags=re.S)
    orients = ["landscape" if 'w:orient="landscape"' in s else "portrait" for s in sections]
    assert orients == ["portrait", "landscape", "portrait"]  # text | wide table | the rest
    before_wide = xml.split("A wide table")[0]
    assert before_wide.count("<w:sectPr") == 1  # the portrait section closes just before it


def test_docx_captions_keep_with_their_table_and_figure(docx_xml) -> None:
    _, xml, _ = docx_xml
    for caption in ("Table 1", "A narrow table", "Table 2", "A wide table", "Figure 1", "A line"):
        paragraph = re.findall(rf"<w:p>(?:(?!<w:p>).)*?{caption}</w:t>", xml, flags=re.S)
        assert paragraph and "<w:keepNext/>" in paragraph[-1], caption
    picture = re.findall(r"<w:p>(?:(?!<w:p>).)*?<w:drawing>", xml, flags=re.S)
    assert picture and "<w:keepNext/>" in picture[0]  # the figure stays with its note


def test_docx_apa_headings_and_italic_symbols(docx_xml) -> None:
    _, xml, styles = docx_xml
    heading = re.search(r'<w:style w:type="paragraph" w:styleId="Heading1">.*?</w:style>', styles, flags=re.S)
    assert heading is not None
    block = heading.group(0)
    assert '<w:color w:val="000000"/>' in block and '<w:jc w:val="center"/>' in block and "<w:b/>" in block
    assert 'w:ascii="Times New Roman"' in block and "asciiTheme" not in block
    title = re.search(r'<w:style w:type="paragraph" w:styleId="Title">.*?</w:style>', styles, flags=re.S)
    assert title is not None and "<w:pBdr>" not in title.group(0)
    for symbol in ("p", "N", "\u03c7\u00b2", "M"):
        assert re.search(rf"<w:i/>(?:(?!</w:r>).)*<w:t>{symbol}</w:t>", xml, flags=re.S), symbol
    assert "Supplement: estimation and data warnings" in xml.split("A line")[-1]  # after the figures


def test_html_numbers_nowrap_tables_scroll_warnings_once_at_the_end() -> None:
    html = render_html(_paper()).decode()
    assert "td.r, th.r { text-align: right; white-space: nowrap; }" in html
    assert html.count('<div class="scroll">') == 2
    assert "<i>p</i> = .890" in html and "<i>N</i> = 1257" in html
    for warning in ("Heywood case in group 2", "Small sample: 3 cases per parameter"):
        assert html.count(warning) == 1
        assert html.index(warning) > html.index('id="figure_x"')


# ------------------------------------------------------------------ rendered, where the tools exist

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFINFO = shutil.which("pdfinfo")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(not (SOFFICE and PDFINFO and PDFTOTEXT),
                    reason="LibreOffice (soffice) and poppler-utils are not installed")
def test_docx_renders_to_pdf_with_landscape_pages_and_unbroken_words(tmp_path: Path, docx_xml) -> None:
    data, _, _ = docx_xml
    (tmp_path / "paper.docx").write_bytes(data)
    subprocess.run([SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "paper.docx")], check=True, capture_output=True, timeout=240,
                   env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pdf = tmp_path / "paper.pdf"
    info = subprocess.run([PDFINFO, "-l", "20", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    assert 3 <= pages <= 8
    assert any(float(w) > float(h) for w, h in sizes)  # the wide table's landscape pages
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    # no cell content broken across lines: every number, interval and long word is printed whole
    assert "FOLLOWED30" in text and "[-0.12, 0.34]" in text.replace("\u00a0", " ")
    assert text.count("scalar (partial 59)") == 1
    assert text.count("Model") >= 2  # the wide table's header row repeated on its next page


@pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed")
def test_html_screenshot_has_no_overflowing_cell(tmp_path: Path) -> None:
    html = render_html(_paper()).decode()
    probe = ("<script>window.onload=function(){var bad=0;document.querySelectorAll('td,th').forEach("
             "function(c){if(c.scrollWidth>c.clientWidth+1)bad++;});document.title='overflow:'+bad;};</script>")
    (tmp_path / "paper.html").write_text(html.replace("</body>", probe + "</body>"))
    shot = tmp_path / "shot.png"
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                             "--window-size=900,1400", f"--screenshot={shot}", "--dump-dom",
                             f"file://{tmp_path / 'paper.html'}"],
                            capture_output=True, text=True, timeout=240)
    assert shot.is_file() and shot.stat().st_size > 1000
    assert "<title>overflow:0</title>" in result.stdout
