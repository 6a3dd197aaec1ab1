"""The study's own population as a Monte Carlo source: 7-point answers from :mod:`survey.simulate`.

:class:`StudyPopulation` draws clean respondents of an instrument version from the population model
(:func:`survey.simulate.simulate_clean`), reverses the reverse-keyed items
(:func:`survey.measure.reverse_key`) and keeps the analysis model's columns
(:func:`survey.simulate.analysis_model`: six drivers, FOL, FOLLOWED30 ~ FOL). The 7-point scores are
not normal, so the estimates converge to pseudo-true values (White 1982), not to the generating
standardized paths: :attr:`StudyPopulation.truth` fits the analysis model to the exact population
covariance of the category scores (:meth:`survey.simulate.PopulationModel.observed_covariance`), and
bias and coverage are measured against it.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from survey.power.population import exact_data, parameter_key

DEFAULT_STUDY = "follow-drivers@1.1.0"


@lru_cache(maxsize=4)
def _instrument(spec: str):
    from survey.instrument import load_instrument

    return load_instrument(spec)


@dataclasses.dataclass
class StudyPopulation:
    """The simulated follow-drivers study under ``instrument`` (``name@version``)."""

    instrument: str = DEFAULT_STUDY
    count: bool = True

    @cached_property
    def items(self) -> list[str]:
        from survey.simulate import DEFAULT_POPULATION

        inst = _instrument(self.instrument)
        return [i for i in inst.keys() if i in DEFAULT_POPULATION.loadings]

    @cached_property
    def model(self) -> str:
        from survey.simulate import analysis_model

        return analysis_model(self.items, count=self.count)

    @property
    def observed(self) -> list[str]:
        return [*self.items, *(["FOLLOWED30"] if self.count else [])]

    def _answers(self, n: int, seed: int, population: Any = None) -> pd.DataFrame:
        from survey.measure import reverse_key
        from survey.simulate import DEFAULT_POPULATION, simulate_clean

        data, _ = simulate_clean(n, seed, _instrument(self.instrument), population or DEFAULT_POPULATION)
        keyed = reverse_key(data[self.items], _instrument(self.instrument).keys(), bounds=(1, 7))
        if self.count:
            keyed["FOLLOWED30"] = data["FOLLOWED30"].astype(float)
        return keyed.astype(float)

    def draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` clean respondents (analysis-keyed 7-point items and the count), seeded from ``rng``."""
        return self._answers(n, int(rng.integers(2**31 - 1)))

    def draw_shifted(self, n: int, rng: np.random.Generator, parameter: str, shift: float) -> pd.DataFrame:
        """Respondents whose item ``parameter`` (``"PEER2~1"``) has its latent-response intercept raised
        by ``shift`` SD (the way :mod:`survey.simulate` plants non-invariance); no other planted shift."""
        from survey.simulate import DEFAULT_POPULATION, NonInvariance

        item = parameter[:-2] if parameter.endswith("~1") else None
        if item is None or item not in self.items:
            raise ValueError(f"the study population can shift item intercepts ('ITEM~1'), not {parameter!r}")
        probs = dict(DEFAULT_POPULATION.group_probs)
        probs["AGEBAND"] = {1: 1.0}
        plant = (NonInvariance(item, "AGEBAND", 1, float(shift)),) if shift else ()
        pop = dataclasses.replace(DEFAULT_POPULATION, noninvariance=plant, group_probs=probs)
        return self._answers(n, int(rng.integers(2**31 - 1)), pop)

    @cached_property
    def truth(self) -> dict[str, float]:
        """Pseudo-true values of the free parameters: the ML fit to the exact population covariance."""
        from survey.sem import fit
        from survey.simulate import DEFAULT_POPULATION

        sigma = DEFAULT_POPULATION.observed_covariance(self.items, count=self.count)
        res = fit(self.model, exact_data(sigma, None, 1000))
        est = res.estimates(standardized=False)
        est = est[est["se"] > 0]
        return {parameter_key(r.lhs, r.op, r.rhs): float(r.est) for r in est.itertuples(index=False)}

    @property
    def values(self) -> dict[str, float]:
        """Population values for the analytic power (:func:`survey.power.analytic.parameter_power`)."""
        return self.truth

    @cached_property
    def implied_moments(self) -> tuple[pd.DataFrame, pd.Series]:
        """The exact population covariance of the analysis-keyed category scores and the count."""
        from survey.simulate import DEFAULT_POPULATION

        sigma = DEFAULT_POPULATION.observed_covariance(self.items, count=self.count)
        return sigma, pd.Series(0.0, index=sigma.columns)

    @cached_property
    def truth_std(self) -> dict[str, float]:
        """Pseudo-true completely standardized values (``std.all``) of the free parameters."""
        from survey.sem import fit
        from survey.simulate import DEFAULT_POPULATION

        sigma = DEFAULT_POPULATION.observed_covariance(self.items, count=self.count)
        est = fit(self.model, exact_data(sigma, None, 1000)).estimates()
        est = est[est["se"] > 0]
        keys = [parameter_key(a, o, b) for a, o, b in zip(est["lhs"], est["op"], est["rhs"], strict=True)]
        return dict(zip(keys, est["std.all"].astype(float), strict=True))

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "study", "instrument": self.instrument, "count": self.count}
