"""The work behind ``survey paper`` (the command in :mod:`survey.cli` stays a thin wrapper)."""

from __future__ import annotations

import time
from pathlib import Path

from survey.errors import SurveyInputError
from survey.report import inputs, progress, provenance
from survey.report.analysis import run_analysis
from survey.report.config import load_config
from survey.report.paper import assemble_paper, write_paper


def run_paper(config: str | Path | None, out: str | Path, *, start: float | None = None) -> list[Path]:
    """Load the configuration, build the paper, write it to ``out``; returns the files written.

    The git commit and the wall time go to ``provenance.local.json`` (not committed, never compared).
    A configuration value that a stage rejects is reported with the configuration file's name.
    """
    start = time.perf_counter() if start is None else start
    settings = load_config(config)
    config_file = None if config is None else inputs.relative(Path(config))
    config_bytes = None if config is None else Path(config).read_bytes()
    progress.active(progress.Progress("survey paper"))
    try:
        results = run_analysis(settings)
        progress.stage(progress.STAGES[6])
        paper = assemble_paper(results, config_file=config_file, config_bytes=config_bytes)
        progress.stage(progress.STAGES[7])
        local = provenance.local_provenance(time.perf_counter() - start)
        return write_paper(paper, out, local=local)
    except SurveyInputError as exc:
        if config is None or exc.file is not None or exc.field is None:
            raise
        raise SurveyInputError(exc.message, file=str(config), field=exc.field, value=exc.value) from None
    finally:
        progress.release()
