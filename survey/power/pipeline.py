"""The whole pipeline as a Monte Carlo source: raw exports -> screens -> analytic sample -> FIML.

:class:`PipelineSource` draws, for a fielded (raw) sample size N, a Qualtrics export of the simulated
study (:func:`survey.simulate.simulate_raw`: careless respondents, previews, duplicates, partial
completes, "prefer not to say" codes, item non-response) at the *planned* rates, reads and screens it
as the paper does (:func:`survey.quality.prepare`: previews, incomplete, duplicates, speeders, attention
checks, careless indices), reverses the reverse-keyed items and hands the analytic sample -- with its
missing answers -- to the fit (``missing="fiml"`` by default). Power is then power *net of exclusions*
at the fielded N, and each record carries ``n_analytic`` (the expected analytic N is its mean).

Planned rates: ``careless`` (share of rows: straight-liners, random responders, speeders), ``partial``
(share of partial completes) and ``nonresponse`` (mean per-item skip rate of the agree items; the age
gradient of :data:`survey.simulate.contamination.RATES` is kept, scaled to this mean). ``simulate_raw``
takes its rates from that module-level table, so they are set for the duration of one call under a
lock (the simulate stage has no rates argument yet).
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.power.study import DEFAULT_STUDY, StudyPopulation, _instrument

_LOCK = threading.Lock()


@contextlib.contextmanager
def planned_rates(careless: float | None, partial: float | None, nonresponse: float | None):
    """Set the simulate stage's contamination rates for one ``simulate_raw`` call (module docstring)."""
    from survey.simulate import DEFAULT_POPULATION
    from survey.simulate import contamination as cont

    with _LOCK:
        saved = copy.deepcopy(cont.RATES)
        try:
            if careless is not None:
                cont.RATES["careless"] = (float(careless), float(careless))
            if partial is not None:
                cont.RATES["partial"] = float(partial)
            if nonresponse is not None:
                skip = dict(saved["skip_by_ageband"])
                probs = DEFAULT_POPULATION.group_probs["AGEBAND"]
                base = sum(probs[k] * v for k, v in skip.items())
                cont.RATES["skip_by_ageband"] = {k: min(1.0, v * float(nonresponse) / base)
                                                 for k, v in skip.items()}
            yield
        finally:
            cont.RATES.clear()
            cont.RATES.update(saved)


@dataclass
class PipelineSource:
    """Raw exports at planned rates, screened like the paper (module docstring)."""

    instrument: str = DEFAULT_STUDY
    careless: float | None = None
    partial: float | None = None
    nonresponse: float | None = None
    screens: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("careless", "partial", "nonresponse"):
            v = getattr(self, name)
            if v is not None and not 0 <= float(v) < 0.9:
                raise SurveyInputError("a planned rate must lie in [0, 0.9)", field=name, value=v)

    @cached_property
    def study(self) -> StudyPopulation:
        return StudyPopulation(self.instrument)

    @property
    def model(self) -> str:
        return self.study.model

    @property
    def truth(self) -> dict[str, float]:
        return self.study.truth

    @property
    def values(self) -> dict[str, float]:
        return self.study.truth

    @property
    def implied_moments(self) -> tuple[pd.DataFrame, pd.Series]:
        return self.study.implied_moments

    def draw(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The analytic sample of one fielded sample of ``n`` raw rows and its exclusion counts."""
        from survey.measure import reverse_key
        from survey.quality import prepare
        from survey.simulate import simulate_raw
        from survey.simulate.export import qualtrics_bytes

        inst = _instrument(self.instrument)
        seed = int(rng.integers(2**31 - 1))
        with planned_rates(self.careless, self.partial, self.nonresponse):
            raw, _ = simulate_raw(int(n), seed, inst)
        with tempfile.TemporaryDirectory(prefix="survey-power-") as tmp:
            path = Path(tmp) / "raw.csv"
            path.write_bytes(qualtrics_bytes(raw, inst))
            screened = prepare(path, inst, screens=self.screens, mcar=False)
        clean = screened.clean
        items = self.study.items
        data = reverse_key(clean[items].astype(float), inst.keys(), bounds=(1, 7))
        if self.study.count:
            data["FOLLOWED30"] = pd.to_numeric(clean["FOLLOWED30"], errors="coerce").astype(float)
        rep = screened.report
        info = {"n_raw": int(rep["n_raw"]), "n_analytic": int(rep["n_analytic"]),
                "n_missing_cells": int(data.isna().to_numpy().sum())}
        return data, info

    def draw_shifted(self, n: int, rng: np.random.Generator, parameter: str, shift: float) -> pd.DataFrame:
        raise SurveyInputError("the invariance test is not available with the whole-pipeline option",
                               field="invariance")

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "pipeline", "instrument": self.instrument, "careless": self.careless,
                "partial": self.partial, "nonresponse": self.nonresponse, "screens": self.screens}
