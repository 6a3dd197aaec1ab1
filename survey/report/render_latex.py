"""LaTeX rendering: a standalone article with booktabs tables and the PNG figures.

Text is escaped for LaTeX (``& % $ # _ { } ~ ^ \\``), Greek letters and symbols become math.
"""

from __future__ import annotations

import re
from typing import Any

from survey.report.table import Table

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_SYMBOLS = {"\u03bb": r"$\lambda$", "\u03b2": r"$\beta$", "\u03b1": r"$\alpha$", "\u03c9": r"$\omega$",
            "\u03c7": r"$\chi$", "\u0394": r"$\Delta$", "\u00b2": r"$^2$", "\u2192": r"$\rightarrow$",
            "\u2265": r"$\geq$",
            "\u2264": r"$\leq$", "\u2014": "---", "\u2013": "--", "<": r"$<$", ">": r"$>$",
            "\u221e": r"$\infty$", "\u2019": "'"}

_ADJACENT_MATH = re.compile(r"(?<!\\)\$\$")


def escape(text: Any) -> str:
    """LaTeX-escaped text, line breaks as spaces (a blank line inside a table cell, caption or ``\\item``
    would end the paragraph there and stop pdflatex)."""
    out = []
    for ch in str(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " "):
        out.append(_SPECIAL.get(ch) or _SYMBOLS.get(ch) or ch)
    return _ADJACENT_MATH.sub("", "".join(out))


def escape_first(text: Any) -> str:
    """:func:`escape` for text that follows ``\\\\`` (a table row's first cell) or ``\\item``: a leading
    ``[`` is braced, which LaTeX would otherwise read as the optional argument of the command before."""
    line = escape(text)
    rest = line.lstrip()
    return "{[}" + rest[1:] if rest.startswith("[") else line


def latex_table(table: Table) -> str:
    """One table (booktabs rules, APA layout: number above, italic title, note below)."""
    spec = "".join(table.align)
    wide = len(table.align) > 8  # scaled to the text width
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small",
             rf"\caption*{{\textbf{{{escape(table.label)}}}\\\textit{{{escape(table.title)}}}}}",
             *([r"\resizebox{\linewidth}{!}{%"] if wide else []),
             rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(escape_first(c) if j == 0 else escape(c) for j, c in enumerate(table.display.columns))
             + r" \\", r"\midrule"]
    for row in table.display.itertuples(index=False, name=None):
        lines.append(" & ".join(escape_first(v) if j == 0 else escape(v) for j, v in enumerate(row)) + r" \\")
    lines.extend([r"\bottomrule", r"\end{tabular}" + ("}" if wide else "")])
    if table.note:
        note = escape(table.note)
        lines.append(rf"\par\smallskip\parbox{{\linewidth}}{{\footnotesize\textit{{Note.}} {note}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def render_latex(paper: Any) -> bytes:
    """The whole paper as a LaTeX article (compile with pdflatex next to the PNG figures)."""
    out = [r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}", r"\usepackage[T1]{fontenc}",
           r"\usepackage{booktabs}", r"\usepackage{caption}", r"\usepackage{graphicx}",
           r"\usepackage[margin=2.5cm]{geometry}", rf"\title{{{escape(paper.title)}}}", r"\date{}",
           r"\begin{document}", r"\maketitle", ""]
    for heading, paragraphs in paper.sections:
        out.append(rf"\section*{{{escape(heading)}}}")
        out.extend(escape(p) + "\n" for p in paragraphs)
    for table in paper.tables:
        out.append(latex_table(table))
    if paper.omitted:
        out.extend(["Not reported in this build:", r"\begin{itemize}"])
        out.extend(rf"\item {escape_first(o.sentence())}" for o in paper.omitted)
        out.append(r"\end{itemize}")
    for figure in paper.figures:
        out.extend([r"\begin{figure}[htbp]", r"\centering",
                    rf"\caption*{{\textbf{{{escape(figure.label)}}}\\\textit{{{escape(figure.title)}}}}}",
                    rf"\includegraphics[width=\linewidth]{{{figure.key}.png}}"])
        if figure.note:
            out.append(rf"\par\footnotesize\textit{{Note.}} {escape(figure.note)}")
        out.append(r"\end{figure}")
    if paper.warnings:
        out.extend([r"\section*{Supplement: estimation and data warnings}", r"\begin{itemize}"])
        out.extend(rf"\item {escape_first(w)}" for w in paper.warnings)
        out.append(r"\end{itemize}")
    out.append(r"\end{document}")
    return ("\n".join(out) + "\n").encode("utf-8")
