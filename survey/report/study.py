"""``survey init``: a study folder for one's own export, with a commented ``paper.yaml``.

The folder is self-contained, so that ``survey paper --config DIR/paper.yaml --out DIR/paper`` builds
the paper anywhere (paths in ``paper.yaml`` are relative to its folder)::

    DIR/paper.yaml          the study configuration (validated by survey.report.config.PaperConfig)
    DIR/data/<RAW>          a copy of the raw export
    DIR/instrument.yaml     a copy of the instrument, when it was given as a file

Nothing is written when the instrument or the export does not load (one-line
:class:`~survey.errors.SurveyInputError`), and an existing ``paper.yaml`` is never overwritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from survey.errors import SurveyInputError
from survey.instrument import load_instrument
from survey.report.config import parse_config

CONFIG_NAME = "paper.yaml"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(instrument: Any, spec: str, data: str, groups: list[str]) -> str:
    """The commented ``paper.yaml`` for one export (every field with its meaning)."""
    hypotheses = "; ".join(f"{h.id} {h.predictor} -> {h.outcome}" for h in instrument.hypotheses) or "none"
    candidates = ", ".join(groups) if groups else "none found"
    lines = [
        f"# Study configuration of `survey paper` for {instrument.spec} (written by `survey init`).",
        "# Build the paper:   survey paper --config paper.yaml --out paper     (from this folder)",
        "# Relative paths below are read from this folder. Every field is optional; see the README,",
        "# section \"Your own study\".",
        f"title: {_quote(instrument.title)}",
        f"instrument: {spec}" + "   # the questionnaire: NAME@VER (searched in SURVEY_INSTRUMENTS_PATH, then",
        "                                # the shipped instruments) or an instrument YAML file",
        "data:                            # raw exports and the instrument version each was collected with",
        f"  - path: {_quote(data)}",
        f"    instrument: {spec}",
        "screens: {}                      # survey.quality.ScreenConfig fields; {} = literature defaults",
        "                                 # (e.g. speeders: false, careless_exclude: [longstring, mahad])",
        "estimator: MLR                   # ML, MLR (robust: Yuan-Bentler scaled test, robust CFI/TLI/RMSEA)",
        "                                 # or MLM (Satorra-Bentler; complete cases)",
        "missing: fiml                    # fiml (full-information ML) or listwise",
        "bootstrap:",
        "  replicates: 0                  # e.g. 1000: percentile bootstrap CIs (minutes); 0 = delta method",
        "  seed: 20240601",
        f"groups: []                       # measurement invariance across columns; candidates: {candidates}",
        f"hypotheses: []                   # [] = the instrument's: {hypotheses}",
        "                                 # or e.g. [{id: H1, path: \"FOL ~ SHI\", sign: positive}]",
        "alpha: 0.05",
        "figures: true",
    ]
    return "\n".join(lines) + "\n"


def init_study(folder: str | Path, data: str | Path, instrument: str, *, force: bool = False) -> list[Path]:
    """Write the study folder ``folder`` for the raw export ``data`` collected with ``instrument``
    (``NAME@VER`` or an instrument YAML file); returns the files written."""
    from survey.ingest import read_source

    folder, raw = Path(folder), Path(data)
    if not raw.is_file():
        raise SurveyInputError("raw export not found", file=str(raw))
    inst = load_instrument(instrument)
    source = read_source(raw, inst, lenient=True)  # the export must read under the instrument
    answered = source.items.notna().any()
    groups = [i.id for i in inst.items if i.role == "demographic" and bool(answered.get(i.id, False))]
    target = folder / CONFIG_NAME
    if target.exists() and not force:
        raise SurveyInputError("already exists (use --force to replace it)", file=str(target))
    is_file = Path(instrument).suffix.lower() in (".yaml", ".yml") and Path(instrument).is_file()
    spec = "instrument.yaml" if is_file else inst.spec
    text = config_text(inst, spec, f"data/{raw.name}", groups)
    parse_config(yaml.safe_load(text), file=str(target))  # the file we write is valid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    written = []
    copy = folder / "data" / raw.name
    if copy.resolve() != raw.resolve():
        shutil.copyfile(raw, copy)
    written.append(copy)
    if is_file:
        shutil.copyfile(instrument, folder / "instrument.yaml")
        written.append(folder / "instrument.yaml")
    target.write_text(text, encoding="utf-8")
    written.append(target)
    return written
