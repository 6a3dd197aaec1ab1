"""Markdown rendering of the paper (GitHub-flavoured pipe tables)."""

from __future__ import annotations

from typing import Any

from survey.ingest.safe import escape_markdown, escape_prose
from survey.report.table import Table, _is_texty


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _cell(value: Any) -> str:
    """Numbers, intervals and stars as written; any other cell may hold respondent text, so HTML and
    Markdown syntax in it is neutralised (:func:`survey.ingest.safe.escape_markdown`)."""
    return escape_markdown(value) if _is_texty(value) else _escape(value)


def markdown_table(table: Table) -> str:
    """One table: bold label, italic title, pipe table, note."""
    cols = list(table.display.columns)
    lines = [f"**{table.label}**", "", f"*{escape_prose(table.title)}*", ""]
    lines.append("| " + " | ".join(escape_prose(c) for c in cols) + " |")
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in table.align) + "|")
    for row in table.display.itertuples(index=False, name=None):  # cells may hold respondent text
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if table.note:
        lines.extend(["", f"*Note.* {escape_prose(table.note)}"])
    return "\n".join(lines) + "\n"


def render_markdown(paper: Any) -> bytes:
    """The whole paper as Markdown: method, results text, tables, figures, omissions, warnings. The
    text may carry respondent text (group labels, column names, value labels): every piece is escaped
    (:func:`survey.ingest.safe.escape_prose`), as the HTML renderer's autoescape does."""
    out = [f"# {escape_prose(paper.title)}", ""]
    for heading, paragraphs in paper.sections:
        out.extend([f"## {escape_prose(heading)}", ""])
        for paragraph in paragraphs:
            out.extend([escape_prose(paragraph), ""])
    out.extend(["## Tables", ""])
    for table in paper.tables:
        out.extend([markdown_table(table), ""])
    if paper.omitted:
        out.extend(["Not reported in this build:", ""])
        out.extend(f"- {escape_prose(o.sentence())}" for o in paper.omitted)
        out.append("")
    if paper.figures:
        out.extend(["## Figures", ""])
        for figure in paper.figures:
            title = escape_prose(figure.title)
            out.extend([f"**{figure.label}**", "", f"*{title}*", "", f"![{title}]({figure.key}.svg)", ""])
            if figure.note:
                out.extend([f"*Note.* {escape_prose(figure.note)}", ""])
    if paper.warnings:
        out.extend(["## Supplement: estimation and data warnings", ""])
        out.extend(f"- {escape_prose(w)}" for w in paper.warnings)
        out.append("")
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")


def render_results(paper: Any) -> bytes:
    """``results.md``: the Results section alone (APA text generated from the numbers)."""
    paragraphs = dict(paper.sections).get("Results", [])
    return ("## Results\n\n" + "\n\n".join(escape_prose(p) for p in paragraphs) + "\n").encode("utf-8")
