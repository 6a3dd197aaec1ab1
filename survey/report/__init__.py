"""Report stage: tables, figures, renderers (Markdown, HTML, LaTeX, CSV, DOCX), provenance, the paper.

>>> from survey.report import load_config, build_paper, write_paper
>>> paper = build_paper(load_config("analysis/paper.yaml"))      # doctest: +SKIP
>>> write_paper(paper, "reports/paper")                           # doctest: +SKIP
"""

from __future__ import annotations

from survey.report.config import PaperConfig, load_config, parse_config
from survey.report.paper import Figure, Paper, build_paper, render_files, write_paper
from survey.report.table import Omitted, Table

__all__ = ["Figure", "Omitted", "Paper", "PaperConfig", "Table", "build_paper", "load_config", "parse_config",
           "render_files", "write_paper"]
