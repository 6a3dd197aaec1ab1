"""One self-contained HTML file: jinja2 with autoescape, figures embedded as base64 data URIs.

Every string (table cells, notes, respondent or instrument text) goes through jinja2's HTML escaping;
nothing is marked safe except the data URIs, which are base64 and cannot carry markup, and the
``<i>`` around statistical symbols that :func:`symbols_html` adds to already-escaped text. Numbers and
intervals never wrap inside a cell (``white-space: nowrap`` on numeric columns), wide tables scroll
sideways in their own box, and the warnings are listed once each in a supplement at the end.
"""

from __future__ import annotations

import base64
from typing import Any

import jinja2
import markupsafe

from survey.report import symbols

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("survey.report", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
    keep_trailing_newline=True,
    trim_blocks=False,
    lstrip_blocks=False,
)


def symbols_html(text: str, header: bool = False) -> markupsafe.Markup:
    """``text`` HTML-escaped, its statistical symbols in ``<i>`` (:mod:`survey.report.symbols`)."""
    parts = []
    for piece, italic in symbols.split(str(text), header=header):
        escaped = markupsafe.escape(piece)
        parts.append(markupsafe.Markup("<i>{}</i>").format(escaped) if italic else escaped)
    return markupsafe.Markup("").join(parts)


_ENV.filters["sym"] = symbols_html
_ENV.filters["symh"] = lambda text: symbols_html(text, header=True)


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,...``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_html(paper: Any) -> bytes:
    """The whole paper as one HTML document (UTF-8, LF line ends)."""
    tables = [{"key": t.key, "label": t.label, "title": t.title, "note": t.note, "align": t.align,
               "columns": [str(c) for c in t.display.columns],
               "rows": [[str(v) for v in row] for row in t.display.itertuples(index=False, name=None)]}
              for t in paper.tables]
    figures = [{"key": f.key, "label": f.label, "title": f.title, "note": f.note,
                "uri": data_uri(f.svg, "image/svg+xml")} for f in paper.figures]
    html = _ENV.get_template("paper.html.j2").render(paper=paper, tables=tables, figures=figures)
    return html.encode("utf-8")
