"""Recovery: the simulated study (survey.simulate's population, items cut into 7 skewed categories),
treated as ordinal with WLSMV, gives standardized paths and loadings within .03 of the population's
at N = 20,000 (about 6 s), and the scaled test does not reject the true model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from survey.sem.ordinal.fit import fit_ordinal
from survey.simulate.population import DEFAULT_POPULATION, DRIVERS
from survey.simulate.responses import categorize, draw_groups, draw_latent, latent_responses, streams

# the study's population without its planted misfit (method factor, cross-loadings, correlated residual),
# so that MODEL is the true model whose parameters the fit must recover
POPULATION = replace(DEFAULT_POPULATION, noninvariance=(), method_loadings={}, cross_loadings={},
                     residual_correlations={})
MODEL = "\n".join(
    [f"{d} =~ {' + '.join(f'{d}{i}' for i in range(1, 5))}" for d in DRIVERS]
    + ["FOL =~ FOL1 + FOL2 + FOL3", "FOL ~ " + " + ".join(DRIVERS)]
)


def _simulate(n: int, seed: int):
    rng = streams(seed)
    groups = draw_groups(n, rng["groups"], POPULATION)
    latent = draw_latent(n, rng["latent"], POPULATION)
    return categorize(latent_responses(latent, groups, rng["items"], POPULATION), POPULATION)


@pytest.fixture(scope="module")
def big_fit():
    return fit_ordinal(MODEL, _simulate(20_000, 20260101))


def test_standardized_paths_recover_the_population(big_fit):
    est = big_fit.estimates()
    assert big_fit.converged
    for driver in DRIVERS:
        row = est[(est["lhs"] == "FOL") & (est["op"] == "~") & (est["rhs"] == driver)].iloc[0]
        assert row["std.all"] == pytest.approx(POPULATION.paths[driver], abs=0.03), driver


def test_standardized_loadings_and_thresholds_recover_the_population(big_fit):
    est = big_fit.estimates()
    loads = est[est["op"] == "=~"]
    for item, std in zip(loads["rhs"], loads["std.all"], strict=True):
        assert std == pytest.approx(POPULATION.loadings[item], abs=0.03), item
    th = est[est["op"] == "|"]
    for row in th.itertuples():  # 162 thresholds: each within 4 of its standard errors
        k = int(row.rhs[1:]) - 1
        assert abs(row.est - POPULATION.item_thresholds(row.lhs)[k]) < 4 * row.se, (row.lhs, k)


def test_the_true_model_is_not_rejected(big_fit):
    assert big_fit.fit_measures()["pvalue.scaled"] > 0.001
    assert big_fit.fit_measures()["rmsea.robust"] < 0.02
