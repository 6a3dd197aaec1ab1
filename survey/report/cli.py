"""The work behind ``survey paper`` (the command in :mod:`survey.cli` stays a thin wrapper)."""

from __future__ import annotations

import time
from pathlib import Path

from survey.report import inputs, provenance
from survey.report.config import load_config
from survey.report.paper import build_paper, write_paper


def run_paper(config: str | Path | None, out: str | Path, *, start: float | None = None) -> list[Path]:
    """Load the configuration, build the paper, write it to ``out``; returns the files written."""
    start = time.perf_counter() if start is None else start
    settings = load_config(config)
    config_file = None if config is None else inputs.relative(Path(config))
    config_bytes = None if config is None else Path(config).read_bytes()
    paper = build_paper(settings, config_file=config_file, config_bytes=config_bytes)
    local = {"git": provenance.git_commit(), "wall_seconds": round(time.perf_counter() - start, 2)}
    return write_paper(paper, out, local=local)
