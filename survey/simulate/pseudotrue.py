"""Pseudo-true values: what ML estimation of the analysis model converges to on the simulated 7-point data.

The analysis model treats the 7-point scores and the count as continuous, which they are not, so ML
estimates converge to the minimiser of F_ML(Sigma(theta), Sigma_pop) over the model's parameters,
the pseudo-true value (White 1982, *Econometrica* 50, 1-25), not to the generating parameters. We
compute the exact population covariance of the category scores and the count
(:meth:`PopulationModel.observed_covariance`) and fit the model to it with semopy (ML, covariance input).
Recovery tests compare estimates with both the generating values and these.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from survey.simulate.population import DEFAULT_POPULATION, DRIVERS, OUTCOME, PopulationModel


def analysis_model(items: list[str], population: PopulationModel = DEFAULT_POPULATION,
                   count: bool = True) -> str:
    """The lavaan-syntax analysis model over ``items`` (markers first): factors, FOL ~ drivers, count ~ FOL.

    The same model as ``survey.instrument.lavaan_model`` without labels and defined parameters.
    """
    lines = []
    for construct in (*DRIVERS, OUTCOME):
        its = population.items_of(construct, items)
        lines.append(f"{construct} =~ " + " + ".join(its))
    lines.append(f"{OUTCOME} ~ " + " + ".join(DRIVERS))
    if count:
        lines.append(f"FOLLOWED30 ~ {OUTCOME}")
    return "\n".join(lines)


@lru_cache(maxsize=8)
def _pseudo_true(items: tuple[str, ...], count: bool) -> pd.DataFrame:
    import semopy

    pop = DEFAULT_POPULATION
    sigma = pop.observed_covariance(list(items), count=count)
    model = semopy.Model(analysis_model(list(items), pop, count))
    model.fit(cov=sigma, n_samples=100_000, obj="MLW")
    est = model.inspect(std_est=True)
    est = est.rename(columns={"lval": "lhs", "rval": "rhs", "Estimate": "est", "Est. Std": "std.all"})
    return est[["lhs", "op", "rhs", "est", "std.all"]].reset_index(drop=True)


def pseudo_true(items: list[str], count: bool = True) -> pd.DataFrame:
    """Pseudo-true estimates (``lhs op rhs est std.all``, semopy's operators) of :func:`analysis_model` for
    the default population over ``items`` (analysis-keyed), marker identification."""
    return _pseudo_true(tuple(items), count).copy()
