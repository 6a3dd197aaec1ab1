"""Report stage: tables, figures, renderers (Markdown, HTML, LaTeX, CSV, DOCX), provenance, the paper.

>>> from survey.report import load_config, run_analysis, assemble_paper, write_paper
>>> results = run_analysis(load_config("analysis/paper.yaml"))   # doctest: +SKIP
>>> paper = assemble_paper(results)                               # doctest: +SKIP
>>> write_paper(paper, "reports/paper")                           # doctest: +SKIP
"""

from __future__ import annotations

from survey.report.analysis import StudyResults, run_analysis
from survey.report.config import PaperConfig, load_config, parse_config
from survey.report.paper import Figure, Paper, assemble_paper, build_paper, render_files, write_paper
from survey.report.table import Omitted, Table

__all__ = ["Figure", "Omitted", "Paper", "PaperConfig", "StudyResults", "Table", "assemble_paper",
           "build_paper", "load_config", "parse_config", "render_files", "run_analysis", "write_paper"]
