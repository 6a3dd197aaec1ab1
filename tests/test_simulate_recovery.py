"""Recovery: ML on 20,000 clean simulated respondents returns the population values.

The instrument's lavaan model (``survey.instrument.lavaan_model``, defined parameters dropped because
semopy has no ``:=``) is fitted by semopy (ML, ``obj="MLW"``) after reverse-scoring the reverse-keyed
items (8 - x). Targets:
- standardized paths to FOL: the generating values (.25 .18 .15 .30 .08 .10), +- .03;
- standardized loadings: the population loadings of the 7-point scores (``loadings_observed``: the ML
  one-factor solution of their exact population covariance), +- .03. The generating loadings of the
  continuous latent responses are higher (categorisation attenuates them by about .03); see
  ``PopulationModel.describe()``;
- everything also against the pseudo-true values of the full model (``survey.simulate.pseudo_true``).
"""

from __future__ import annotations

import time
import warnings

import pandas as pd
import pytest

from survey.instrument import lavaan_model, load_instrument
from survey.simulate import DEFAULT_POPULATION, DRIVERS, pseudo_true, simulate_clean

N = 20_000
SEED = 20261128


@pytest.fixture(scope="module")
def fitted():
    import semopy

    inst = load_instrument("follow-drivers@1.1.0")
    t0 = time.perf_counter()
    data, truth = simulate_clean(N, SEED, inst)
    for item, key in inst.keys().items():
        if key == -1 and item in data.columns:
            data[item] = 8 - data[item]
    model = "\n".join(line for line in lavaan_model(inst).splitlines() if ":=" not in line)
    sem = semopy.Model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sem.fit(data, obj="MLW")
        est = sem.inspect(std_est=True)
    elapsed = time.perf_counter() - t0
    est = est[est["op"] == "~"].rename(columns={"lval": "lhs", "rval": "rhs", "Est. Std": "std"})
    return est[["lhs", "rhs", "Estimate", "std"]].reset_index(drop=True), truth, elapsed, inst


def test_recovery_runs_quickly(fitted):
    assert fitted[2] < 60


def test_standardized_paths_recovered(fitted):
    """Against the pseudo-true paths: the planted misfit (method factor, cross-loadings, a correlated
    residual) moves what ML converges to away from the generating paths (see the test below)."""
    est, truth, _, _ = fitted
    paths = est[est["lhs"] == "FOL"].set_index("rhs")["std"]
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    target = pt[(pt["lhs"] == "FOL") & (pt["op"] == "~")].set_index("rhs")["std.all"]
    diffs = {d: abs(paths[d] - target[d]) for d in DRIVERS}
    assert max(diffs.values()) < 0.03, diffs
    generating = {d: abs(paths[d] - truth["population"]["paths_std"][d]) for d in DRIVERS}
    assert max(generating.values()) < 0.05, generating
    count = est[est["lhs"] == "FOLLOWED30"]["std"].iloc[0]
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    pt_count = pt[(pt["lhs"] == "FOLLOWED30") & (pt["op"] == "~")]["std.all"].iloc[0]
    assert count == pytest.approx(pt_count, abs=0.03)


def test_standardized_loadings_recovered(fitted):
    est, truth, _, inst = fitted
    items = [i for c in (*DRIVERS, "FOL") for i in inst.indicators(c)]
    load = est[est["lhs"].isin(items)].set_index("lhs")["std"].abs()
    observed = pd.Series(truth["population"]["loadings_observed"])
    diff = (load - observed[load.index]).abs()
    assert len(diff) == 28 and diff.max() < 0.03, diff.sort_values().tail()
    latent = pd.Series(truth["population"]["loadings_latent"])
    misfit = {*DEFAULT_POPULATION.method_loadings, *(i for i, _ in DEFAULT_POPULATION.cross_loadings),
              *(i for pair in DEFAULT_POPULATION.residual_correlations for i in pair)}
    clean = [i for i in load.index if i not in misfit]
    assert len(clean) >= 15
    assert ((latent[clean] - load[clean]) > 0).mean() > 0.9  # attenuation by coarse categories


def test_estimates_near_pseudo_true(fitted):
    est, _, _, _ = fitted
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    pt = pt[pt["op"] == "~"].set_index(["lhs", "rhs"])
    merged = est.set_index(["lhs", "rhs"]).join(pt, how="inner")
    assert len(merged) == 35
    assert (merged["std"] - merged["std.all"]).abs().max() < 0.03


def _pseudo_true_paths(population) -> pd.Series:
    import semopy

    from survey.simulate import analysis_model

    items = list(population.loadings)
    model = semopy.Model(analysis_model(items, population, count=False))
    model.fit(cov=population.observed_covariance(items), n_samples=100_000, obj="MLW")
    est = model.inspect(std_est=True)
    return est[(est["lval"] == "FOL") & (est["op"] == "~")].set_index("rval")["Est. Std"]


def test_pseudo_true_paths_equal_generating_paths_without_the_misfit():
    """Coarse categorisation attenuates loadings but leaves the standardized structural paths intact:
    without the planted misfit the pseudo-true paths equal the generating ones; with it (the demo
    population) ML converges elsewhere, by less than .035."""
    from dataclasses import replace

    perfect = replace(DEFAULT_POPULATION, method_loadings={}, cross_loadings={}, residual_correlations={})
    paths = _pseudo_true_paths(perfect)
    for d in DRIVERS:
        assert paths[d] == pytest.approx(DEFAULT_POPULATION.paths[d], abs=0.003)
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    misfit = pt[(pt["lhs"] == "FOL") & (pt["op"] == "~")].set_index("rhs")["std.all"]
    bias = {d: misfit[d] - DEFAULT_POPULATION.paths[d] for d in DRIVERS}
    assert 0.01 < max(abs(b) for b in bias.values()) < 0.035, bias
