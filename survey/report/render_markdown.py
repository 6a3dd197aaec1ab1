"""Markdown rendering of the paper (GitHub-flavoured pipe tables)."""

from __future__ import annotations

from typing import Any

from survey.ingest.safe import escape_markdown
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
    lines = [f"**{table.label}**", "", f"*{_escape(table.title)}*", ""]
    lines.append("| " + " | ".join(_escape(c) for c in cols) + " |")
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in table.align) + "|")
    for row in table.display.itertuples(index=False, name=None):  # cells may hold respondent text
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if table.note:
        lines.extend(["", f"*Note.* {_escape(table.note)}"])
    return "\n".join(lines) + "\n"


def render_markdown(paper: Any) -> bytes:
    """The whole paper as Markdown: method, results text, tables, figures, omissions, warnings."""
    out = [f"# {paper.title}", ""]
    for heading, paragraphs in paper.sections:
        out.extend([f"## {heading}", ""])
        for paragraph in paragraphs:
            out.extend([paragraph, ""])
    out.extend(["## Tables", ""])
    for table in paper.tables:
        out.extend([markdown_table(table), ""])
    if paper.omitted:
        out.extend(["Not reported in this build:", ""])
        out.extend(f"- {o.sentence()}" for o in paper.omitted)
        out.append("")
    if paper.figures:
        out.extend(["## Figures", ""])
        for figure in paper.figures:
            out.extend([f"**{figure.label}**", "", f"*{figure.title}*", "",
                        f"![{figure.title}]({figure.key}.svg)", ""])
            if figure.note:
                out.extend([f"*Note.* {figure.note}", ""])
    if paper.warnings:
        out.extend(["## Supplement: estimation and data warnings", ""])
        out.extend(f"- {w}" for w in paper.warnings)
        out.append("")
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")


def render_results(paper: Any) -> bytes:
    """``results.md``: the Results section alone (APA text generated from the numbers)."""
    paragraphs = dict(paper.sections).get("Results", [])
    return ("## Results\n\n" + "\n\n".join(paragraphs) + "\n").encode("utf-8")
