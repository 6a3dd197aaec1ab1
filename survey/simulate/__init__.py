"""The simulated follow-drivers study: a population model with known truth and realistic raw exports.

- :mod:`~survey.simulate.population`: the truth (``PopulationModel``, ``population_reliability``);
- :mod:`~survey.simulate.pseudotrue`: what ML estimation on the 7-point data converges to;
- :mod:`~survey.simulate.responses`: latent scores -> 7-point answers (``simulate_clean``);
- :mod:`~survey.simulate.contamination`, :mod:`~survey.simulate.metadata`, :mod:`~survey.simulate.raw`:
  careless respondents, previews, partials, duplicates, missing codes, metadata (``simulate_raw``);
- :mod:`~survey.simulate.export`: Qualtrics CSV, plain CSV and SPSS .sav with ``.truth.json``;
- :mod:`~survey.simulate.demo`: the embedded two-wave demo data.
"""

from __future__ import annotations

from survey.simulate.demo import DEMO_SEED, demo_files, write_demo
from survey.simulate.export import FORMATS, export_bytes, truth_bytes, write_simulation
from survey.simulate.population import (
    DEFAULT_POPULATION,
    DRIVERS,
    OUTCOME,
    NonInvariance,
    PopulationModel,
    population_reliability,
)
from survey.simulate.pseudotrue import analysis_model, pseudo_true
from survey.simulate.raw import simulate_raw
from survey.simulate.responses import simulate_clean

__all__ = [
    "DEFAULT_POPULATION", "DEMO_SEED", "DRIVERS", "FORMATS", "OUTCOME", "NonInvariance", "PopulationModel",
    "analysis_model", "demo_files", "export_bytes", "population_reliability", "pseudo_true", "simulate_clean",
    "simulate_raw", "truth_bytes", "write_demo", "write_simulation",
]
