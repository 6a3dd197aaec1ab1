"""Study planning: power and sample size before fielding.

- :mod:`~survey.power.analytic`: RMSEA tests of close and not-close fit (MacCallum, Browne & Sugawara
  1996; semTools ``findRMSEApower``/``findRMSEAsamplesize``), Wald and Satorra-Saris (1985) power of one
  parameter;
- :mod:`~survey.power.population`: population values of a lavaan-syntax model (POP.json, a pilot fit).
"""

from __future__ import annotations

from survey.power.analytic import (
    ParameterPower,
    parameter_power,
    restricted_syntax,
    rmsea_power,
    rmsea_sample_size,
)
from survey.power.population import Population, exact_data, parameter_key

__all__ = [
    "ParameterPower", "Population", "exact_data", "parameter_key", "parameter_power", "restricted_syntax",
    "rmsea_power", "rmsea_sample_size",
]
