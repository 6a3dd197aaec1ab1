"""Study planning: power and sample size before fielding (DESIGN.md, ``survey power``).

- :mod:`~survey.power.analytic`: RMSEA tests of close and not-close fit (MacCallum, Browne & Sugawara
  1996; equal to semTools ``findRMSEApower``/``findRMSEAsamplesize``), Wald and Satorra-Saris (1985)
  power of one parameter and the N for a target power;
- :mod:`~survey.power.population`: population values of a lavaan-syntax model (POP.json, a pilot fit);
  :mod:`~survey.power.study`: the study's population from :mod:`survey.simulate` (7-point answers);
  :mod:`~survey.power.pipeline`: raw exports at planned rates, screened as the paper does, FIML;
- :mod:`~survey.power.replicate`, :mod:`~survey.power.runner`, :mod:`~survey.power.montecarlo`: Monte
  Carlo replications seeded per (seed, n, rep), run in process or on dask.distributed, checkpointed;
  power, bias, coverage and convergence per hypothesis (parameters, path differences, invariance);
  :mod:`~survey.power.fast`: replications refit prepared models (:mod:`survey.sem.prepared`);
- :mod:`~survey.power.search`: the smallest N with the target power, by bisection over N;
- :mod:`~survey.power.figure`, :mod:`~survey.power.report`: power curve (PNG, SVG), Markdown/HTML report.

>>> from survey.power import rmsea_sample_size
>>> rmsea_sample_size(0.05, 0.08, df=55, power=0.80)
200.0
"""

from __future__ import annotations

from importlib import import_module

# name -> module: imported on first use (PEP 562), so that `survey power --rmsea0 ...` (analytic) loads
# neither the Monte Carlo machinery nor the simulator
_WHERE = {
    "ParameterPower": "analytic", "difference_power": "analytic", "parameter_power": "analytic",
    "restricted_syntax": "analytic", "rmsea_power": "analytic", "rmsea_sample_size": "analytic",
    "PowerResult": "montecarlo", "monte_carlo_power": "montecarlo", "PipelineSource": "pipeline",
    "Population": "population", "exact_data": "population", "parameter_key": "population",
    "InvarianceTest": "replicate", "PathPair": "replicate", "PowerSpec": "replicate",
    "SearchResult": "search", "search_n": "search", "StudyPopulation": "study",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f"survey.power.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'survey.power' has no attribute {name!r}")


__all__ = [
    "InvarianceTest", "ParameterPower", "PathPair", "PipelineSource", "Population", "PowerResult",
    "PowerSpec", "SearchResult", "StudyPopulation", "difference_power", "exact_data", "monte_carlo_power",
    "parameter_key", "parameter_power", "restricted_syntax", "rmsea_power", "rmsea_sample_size", "search_n",
]
