"""The paper: run every stage on the configured data, then render every format.

:func:`build_paper` computes (instrument -> data -> scoring -> measurement -> SEM -> tables, figures,
text); :func:`write_paper` renders and writes ``reports/paper/``. Outputs depend only on the inputs:
same instrument, data, configuration and package versions give the same bytes.
"""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from survey.measure import latent_correlations
from survey.quality import ScreenConfig
from survey.report import figures, inputs, provenance, tables, text
from survey.report.analysis import StudyResults, run_analysis
from survey.report.config import PaperConfig
from survey.report.render_csv import render_csv
from survey.report.render_docx import render_docx
from survey.report.render_html import render_html
from survey.report.render_latex import render_latex
from survey.report.render_markdown import render_markdown, render_results
from survey.report.table import Omitted, Table
from survey.simulate import DEMO_SEED


@dataclass
class Figure:
    """A figure of the paper, rendered to PNG and SVG bytes."""

    key: str
    title: str
    png: bytes
    svg: bytes
    note: str = ""
    number: int = 0

    @property
    def label(self) -> str:
        return f"Figure {self.number}"


@dataclass
class Paper:
    """Everything the renderers need, computed once from the stages' results."""

    title: str
    results: StudyResults
    tables: list[Table] = field(default_factory=list)
    omitted: list[Omitted] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> PaperConfig:
        return self.results.config

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"] + [t._repr_html_() for t in self.tables]
        return "\n".join(parts)


def _tables(results: StudyResults) -> tuple[list[Table], list[Omitted]]:
    """Tables 1-10 in the paper's order; a table with nothing to report becomes an :class:`Omitted` line."""
    out: list[Table] = []
    omitted: list[Omitted] = []
    out.append(tables.sample_table(results.analytic.data, results.instrument, results.behaviour_description))
    out.append(tables.flow_table(results.analytic.ingest))
    out.append(tables.descriptives_table(results.score_description, results.score_correlations))
    out.append(tables.measurement_table(results.cfa, results.instrument, results.reliability.factors))
    out.append(tables.discriminant_table(results.reliability))
    fits = {"CFA (measurement model)": results.cfa, "SEM (structural model)": results.sem}
    out.append(tables.fit_table(fits, results.config.estimator))
    out.append(tables.hypothesis_table(results.sem, results.hypotheses, results.config.alpha))
    boot = results.config.bootstrap
    method = (f"percentile bootstrap, {boot.replicates} replicates, seed {boot.seed}" if boot.replicates
              else "delta method")
    indirect = tables.indirect_table(results.sem, method, tables.indirect_chain(results))
    if indirect is None:
        omitted.append(Omitted("indirect", "Indirect effects", "the model defines no indirect effects"))
    else:
        out.append(indirect)
    if results.invariance:
        out.append(tables.invariance_table(results.invariance, results.config.estimator))
    else:
        omitted.append(Omitted("invariance", "Measurement invariance",
                               "the configuration names no grouping column (groups: []); set e.g. "
                               "groups: [instrument_version] to include it"))
    if results.comparison is not None:
        out.append(tables.path_comparison_table(results.comparison))
    else:
        reason = ("fewer than two hypotheses name the same outcome" if results.comparison_error is None
                  else f"the comparison could not be computed on these data ({results.comparison_error})")
        omitted.append(Omitted("path_comparison", "Which driver matters most", reason))
    from survey.report.weighted_tables import extend_tables

    extend_tables(results, out, omitted)
    from survey.report.ordinal_tables import extend_tables as extend_ordinal

    extend_ordinal(results, out, omitted)
    for number, table in enumerate(out, start=1):
        table.number = number
    return out, omitted


def build_paper(config: PaperConfig, *, config_file: str | None = None, config_bytes: bytes | None = None
                ) -> Paper:
    """Run the pipeline and assemble tables, figures, text and the manifest (nothing is written)."""
    return assemble_paper(run_analysis(config), config_file=config_file, config_bytes=config_bytes)


def assemble_paper(results: StudyResults, *, config_file: str | None = None,
                   config_bytes: bytes | None = None) -> Paper:
    """Tables, figures, text and manifest from the stages' results (see :func:`run_analysis`)."""
    config = results.config
    paper = Paper(title=config.title or results.instrument.title, results=results)
    paper.tables, paper.omitted = _tables(results)
    if config.figures:
        paper.figures = _figures(results)
    paper.warnings = list(dict.fromkeys(str(w) for w in results.warnings))
    paper.sections = [("Method", [_data_paragraph(results)]), ("Results", text.results_section(paper))]
    paper.manifest = _manifest(paper, config_file, config_bytes)
    return paper


def _figures(results: StudyResults) -> list[Figure]:
    out = []
    outcome = results.outcome
    drivers = [h.predictor for h in results.hypotheses if h.outcome == outcome]
    behaviour = next((h.outcome for h in results.hypotheses if h.predictor == outcome
                      and h.outcome in results.behaviour), None)
    png, svg = figures.render(figures.path_diagram(results.sem, drivers, outcome, behaviour))
    out.append(Figure("figure_path", "Structural model with standardized estimates", png, svg,
                      "Completely standardized path coefficients; dashed: p \u2265 .05. * p < .05. "
                      "** p < .01. *** p < .001."))
    indicators = results.indicators
    scale = results.instrument.scale_of(indicators[0])
    png, svg = figures.render(figures.response_distribution(results.analytic.data, indicators, scale.points))
    out.append(Figure("figure_responses", "Item response distributions", png, svg,
                      "Responses as answered (reverse-keyed items not recoded); labelled missing codes "
                      "excluded."))
    matrix = latent_correlations(results.cfa.estimates(), list(results.reliability.factors.index))
    png, svg = figures.render(figures.correlation_heatmap(matrix))
    out.append(Figure("figure_correlations", "Latent factor correlations (CFA)", png, svg,
                      "Completely standardized factor covariances from the confirmatory factor analysis."))
    comparison = results.comparison
    if comparison is not None:
        level = f"{comparison.level:.0%} CI"
        png, svg = figures.render(figures.path_forest(comparison.std_paths, comparison.outcome, level))
        method = tables.comparison_ci_method(comparison)
        out.append(Figure("figure_forest", f"Standardized paths to {comparison.outcome}, ordered by estimate",
                          png, svg, f"Completely standardized path coefficients with {level} ({method}); "
                          "dashed line: zero. Which differences are significant: see the path comparison "
                          "table (Holm-adjusted)."))
    for number, figure in enumerate(out, start=1):
        figure.number = number
    return out


def _data_paragraph(results: StudyResults) -> str:
    a = results.analytic
    report = a.ingest.report
    sources = ", ".join(f"{Path(s['path']).name} under {s['instrument']}" for s in a.sources)
    dropped = [i.id for i in results.instrument.items if (i.construct and i.id not in results.items)]
    if results.config.missing == "fiml":
        missing = (f"with full-information maximum likelihood for missing responses (N = {results.sem.nobs} "
                   "in the structural model)")
    else:
        missing = f"with listwise deletion (N = {results.sem.nobs} complete cases in the structural model)"
    boot = results.config.bootstrap
    if boot.replicates:
        missing += (f"; standard errors and confidence intervals by the nonparametric bootstrap "
                    f"({boot.replicates} replicates, seed {boot.seed})")
    text = (f"Of {report['n_raw']} raw responses ({sources}), {report['n_excluded']} were excluded by the "
            "data-quality screens (see the exclusion flow table), leaving an analytic sample of "
            f"N = {report['n_analytic']}. "
            f"The measurement and structural models of instrument {results.instrument.spec} were estimated "
            f"with survey.sem (lavaan-equal; estimator {results.config.estimator}), {missing}.")
    if dropped:
        text += (" Items not shared with the same wording by every instrument version "
                 f"({', '.join(dropped)}) were left out of the pooled models.")
    return text


def _manifest(paper: Paper, config_file: str | None, config_bytes: bytes | None) -> dict[str, Any]:
    results = paper.results
    config = results.config
    return {
        "instrument": {"spec": results.instrument.spec, "sha256": results.instrument.sha256},
        "source_instruments": {i.spec: i.sha256 for i in results.source_instruments},
        "data": {"sources": results.analytic.sources,
                 "analytic_sha256": inputs.frame_sha256(results.analytic.data),
                 "n_analytic": len(results.analytic.data)},
        "config": config.to_dict(),
        "config_file": None if config_file is None else {
            "path": inputs.relative(Path(config_file)), "sha256": inputs.sha256_bytes(config_bytes or b"")},
        "versions": provenance.package_versions(),
        "seeds": {"bootstrap": config.bootstrap.seed,
                  "screens": ScreenConfig.model_validate(config.screens).seed,
                  "demo_data": None if config.data else DEMO_SEED},
        "model": results.model,
        "tables": [t.key for t in paper.tables],
        "omitted": [o.key for o in paper.omitted],
        "git": f"not recorded here (changes with every commit); see {provenance.LOCAL_FILE}, not committed",
    }


def render_files(paper: Paper) -> dict[str, bytes]:
    """Every output file of the paper as ``{relative name: bytes}`` (the manifest last)."""
    files: dict[str, bytes] = {}
    for table in paper.tables:
        files[f"tables/{table.key}.csv"] = render_csv(table.data)
    for figure in paper.figures:
        files[f"{figure.key}.png"] = figure.png
        files[f"{figure.key}.svg"] = figure.svg
    files["paper.md"] = render_markdown(paper)
    files["results.md"] = render_results(paper)
    files["paper.html"] = render_html(paper)
    files["paper.tex"] = render_latex(paper)
    files["paper.docx"] = render_docx(paper)
    files[".gitignore"] = f"{provenance.LOCAL_FILE}\n".encode()
    manifest = dict(paper.manifest)
    manifest["files"] = {name: inputs.sha256_bytes(data) for name, data in sorted(files.items())}
    files["manifest.json"] = provenance.dumps(manifest)
    return files


def write_paper(paper: Paper, out: str | Path, *, local: dict[str, Any] | None = None) -> list[Path]:
    """Write every file into ``out`` (created if needed), replacing files of an earlier run.

    Files are written to temporary names first and renamed into place, so a failure leaves nothing
    half-written; files listed in an earlier run's manifest and not produced now are removed.
    """
    out = Path(out)
    files = render_files(paper)
    out.mkdir(parents=True, exist_ok=True)
    previous = _previous_files(out)
    written = []
    for name, data in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        written.append(target)
    for name in previous - set(files):
        stale = out / name
        if stale.is_file():
            stale.unlink()
    if local is not None:
        (out / provenance.LOCAL_FILE).write_bytes(provenance.dumps(local))
    return written


def _previous_files(out: Path) -> set[str]:
    import json

    manifest = out / "manifest.json"
    if not manifest.is_file():
        return set()
    try:
        return set(json.loads(manifest.read_text(encoding="utf-8")).get("files", {}))
    except (ValueError, AttributeError):
        return set()
