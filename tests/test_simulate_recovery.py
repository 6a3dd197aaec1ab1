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
    est, truth, _, _ = fitted
    paths = est[est["lhs"] == "FOL"].set_index("rhs")["std"]
    diffs = {d: abs(paths[d] - truth["population"]["paths_std"][d]) for d in DRIVERS}
    assert max(diffs.values()) < 0.03, diffs
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
    assert ((latent[load.index] - load) > 0).mean() > 0.9  # attenuation by coarse categories


def test_estimates_near_pseudo_true(fitted):
    est, _, _, _ = fitted
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    pt = pt[pt["op"] == "~"].set_index(["lhs", "rhs"])
    merged = est.set_index(["lhs", "rhs"]).join(pt, how="inner")
    assert len(merged) == 35
    assert (merged["std"] - merged["std.all"]).abs().max() < 0.03


def test_pseudo_true_paths_equal_generating_paths():
    """Coarse categorisation attenuates loadings but leaves the standardized structural paths intact."""
    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    paths = pt[(pt["lhs"] == "FOL") & (pt["op"] == "~")].set_index("rhs")["std.all"]
    for d in DRIVERS:
        assert paths[d] == pytest.approx(DEFAULT_POPULATION.paths[d], abs=0.003)
