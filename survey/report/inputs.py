"""The inputs of the paper: the instrument, the raw data sources and the analytic data.

The data are the configured sources, or, when the configuration lists none, the embedded demo exports
(``survey.simulate.demo_files()``: two Qualtrics waves under follow-drivers 1.0.0 and 1.1.0). Both are
read, validated, de-identified and harmonised by the ingest stage and screened by the quality stage
(``survey.quality.prepare``) with its ``ScreenConfig`` built from the configuration's ``screens``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.instrument import lavaan_model, load_instrument
from survey.measure import instrument_keys, reverse_key
from survey.quality import ScreenConfig, ScreenedData, prepare
from survey.report.config import PaperConfig
from survey.simulate import demo_files

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
__all__ = ["AnalyticData", "analytic_data", "common_items", "lavaan_model", "load_instrument",
           "reverse_keyed"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a frame's canonical CSV (LF line ends, ``%.10g`` floats): stable across platforms."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    return sha256_bytes(text.encode("utf-8"))


def relative(path: Path, base: Path | None = None) -> str:
    """A path as recorded in outputs: relative to ``base`` (the configuration's folder), the repository
    or the working directory, POSIX separators; never absolute (outside all, the file name alone)."""
    path = path.resolve()
    roots = ([base.resolve()] if base is not None else []) + [REPO_ROOT, Path.cwd().resolve()]
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


@dataclass
class AnalyticData:
    """The analytic sample (responses as answered), the ingest result and where the data came from."""

    data: pd.DataFrame
    ingest: ScreenedData
    sources: list[dict[str, str]] = field(default_factory=list)
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def instruments(self) -> list[str]:
        """The instrument versions of the sources, in source order."""
        return [s["instrument"] for s in self.sources]


def _resolve(path: str, config: PaperConfig | None = None) -> Path:
    candidate = Path(config.resolve(path)) if config is not None else Path(path)
    if candidate.is_file():
        return candidate
    if not candidate.is_absolute() and (REPO_ROOT / candidate).is_file():
        return REPO_ROOT / candidate
    raise SurveyInputError("data source not found", file=path, field="data")


def analytic_data(config: PaperConfig) -> AnalyticData:
    """Ingest the configured sources (or the embedded demo data) into the analytic sample."""
    if config.data:
        pairs = [(_resolve(s.path, config), config.instrument_ref(s.instrument)) for s in config.data]
    else:
        pairs = [(Path(path), spec) for path, spec in demo_files()]
    result = prepare(pairs, screens=ScreenConfig.model_validate(config.screens))
    specs = [s.instrument for s in config.data] if config.data else [spec for _, spec in pairs]
    sources = [{"path": relative(path, config.base), "instrument": spec,
                "sha256": sha256_bytes(path.read_bytes())}
               for (path, _), spec in zip(pairs, specs, strict=True)]
    return AnalyticData(data=result.clean, ingest=result, sources=sources, warnings=list(result.warnings))


def observed_variables(instrument: Any) -> list[str]:
    """The observed (non-latent) variables the instrument's hypotheses name, e.g. a behaviour count."""
    latent = set(instrument.construct_codes)
    named = [v for h in instrument.hypotheses for v in (h.predictor, h.outcome)]
    return [v for v in dict.fromkeys(named) if v not in latent]


def common_items(model_instrument: Any, source_instruments: list[Any], data: pd.DataFrame) -> list[str]:
    """The model's observed variables: the indicators of the model's instrument and the observed
    variables its hypotheses name (:func:`observed_variables`) that every source instrument has with the
    same wording, and that are columns of the data.

    A reworded item (AUT2 in follow-drivers 1.1.0) or an added item (CON5) is not comparable across
    versions, so a pooled model uses the common anchor items (the instrument CHANGELOG's rule).
    """
    observed = set(observed_variables(model_instrument))
    wanted = [i for i in model_instrument.items if i.construct or i.id in observed]
    out = []
    for item in wanted:
        texts = [_text(inst, item.id) for inst in source_instruments]
        if all(t == item.text for t in texts) and item.id in data.columns and data[item.id].notna().any():
            out.append(item.id)
    return out


def _text(instrument: Any, item_id: str) -> str | None:
    try:
        return instrument.item(item_id).text
    except (SurveyInputError, KeyError, LookupError):
        return None


def reverse_keyed(data: pd.DataFrame, instrument: Any) -> pd.DataFrame:
    """Items scored for analysis: ``survey.measure.reverse_key`` with the instrument's keys and scale
    bounds (``(min + max) - x`` on each reverse-keyed item)."""
    keys, bounds = instrument_keys(instrument)
    present = {k: v for k, v in keys.items() if k in data.columns}
    return reverse_key(data, present, {k: v for k, v in bounds.items() if k in present})
