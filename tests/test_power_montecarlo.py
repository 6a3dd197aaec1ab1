"""Monte Carlo power (survey.power.montecarlo): agreement with the analytic Wald power, identical results
with 1 worker, 2 Dask workers and a process LocalCluster, checkpoints that resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from survey.errors import SurveyInputError
from survey.power import Population, parameter_power
from survey.power.analytic import difference_power
from survey.power.montecarlo import monte_carlo_power
from survey.power.replicate import InvarianceTest, PathPair, PowerSpec, rng_for

FIX = Path(__file__).parent / "fixtures" / "power"
MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ F1"
MODEL3 = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF3 =~ x7 + x8 + x9\nF3 ~ F1 + F2"


@pytest.fixture(scope="module")
def population():
    return Population.from_json(MODEL, FIX / "population.json")


@pytest.fixture(scope="module")
def population3():
    values = {"F1=~x1": 1, "F1=~x2": 0.8, "F1=~x3": 0.7, "F2=~x4": 1, "F2=~x5": 0.9, "F2=~x6": 0.8,
              "F3=~x7": 1, "F3=~x8": 0.8, "F3=~x9": 0.9, "F3~F1": 0.45, "F3~F2": 0.15, "F1~~F2": 0.3,
              "F1~~F1": 1, "F2~~F2": 1, "F3~~F3": 0.6, **{f"x{i}~~x{i}": 0.5 for i in range(1, 10)}}
    return Population.from_dict(MODEL3, values)


def _within_3_mcse(mc: float, analytic: float, r: int) -> bool:
    return abs(mc - analytic) <= 3 * np.sqrt(analytic * (1 - analytic) / r)


def test_monte_carlo_power_of_a_path_matches_the_analytic_wald_power(population):
    n, r = 150, 200
    res = monte_carlo_power(PowerSpec(population, MODEL, seed=11), [n], r)
    row = res.table.set_index("parameter").loc["F2~F1"]
    analytic = float(parameter_power(population, "F2~F1").wald(n))
    assert 0.6 < analytic < 0.8 and row["converged"] == r
    assert _within_3_mcse(row["power"], analytic, r), (row["power"], analytic)
    assert row["mcse"] == pytest.approx(np.sqrt(row["power"] * (1 - row["power"]) / r))
    # the estimates are unbiased to Monte Carlo error, the 95% intervals cover about 95%
    assert abs(row["bias"]) < 3 * row["sd_est"] / np.sqrt(r)
    assert 0.9 <= row["coverage"] <= 0.99


def test_power_of_a_path_difference_matches_the_analytic_wald_power(population3):
    pair = PathPair("F3", "F1", "F2")
    n, r = 120, 150
    res = monte_carlo_power(PowerSpec(population3, MODEL3, pairs=(pair,), seed=5), [n], r)
    row = res.table.set_index("parameter").loc[pair.name]
    ap = difference_power(population3, pair)
    assert ap.value == pytest.approx(0.30, abs=1e-6)  # 0.45 * 1 - 0.15 * 1
    assert row["truth"] == pytest.approx(0.30)
    assert _within_3_mcse(row["power"], float(ap.wald(n)), r), (row["power"], float(ap.wald(n)))


@pytest.mark.slow
def test_monte_carlo_power_long(population):
    res = monte_carlo_power(PowerSpec(population, MODEL, seed=3), [80, 250], 1000, workers=2)
    pp = parameter_power(population, "F2~F1")
    for n in (80, 250):
        row = res.table[(res.table["n"] == n) & (res.table["parameter"] == "F2~F1")].iloc[0]
        assert _within_3_mcse(row["power"], float(pp.wald(n)), 1000)
        # Wald intervals reach their level asymptotically: .952 at N = 250; at N = 80 the standard errors
        # are too small and the intervals cover .913 (the same on main before the prepared model)
        low = 0.93 if n >= 250 else 0.89
        assert low <= row["coverage"] <= 0.97


def test_invariance_power_rises_with_the_planted_shift(population):
    inv = InvarianceTest("x2~1", 0.5)
    none = InvarianceTest("x2~1", 0.0)
    big = monte_carlo_power(PowerSpec(population, MODEL, invariance=inv, seed=2), [400], 30)
    null = monte_carlo_power(PowerSpec(population, MODEL, invariance=none, seed=2), [400], 30)
    p_big = big.table.set_index("parameter").loc["invariance:intercepts", "power"]
    p_null = null.table.set_index("parameter").loc["invariance:intercepts", "power"]
    assert p_big >= 0.9 and p_null <= 0.2


def test_seeds_depend_on_n_and_rep_only():
    a = rng_for(7, 100, 3).standard_normal(3)
    assert np.array_equal(a, rng_for(7, 100, 3).standard_normal(3))
    assert not np.array_equal(a, rng_for(7, 100, 4).standard_normal(3))
    assert not np.array_equal(a, rng_for(7, 101, 3).standard_normal(3))


def test_identical_results_with_1_and_2_workers_and_a_local_cluster(population):
    spec = PowerSpec(population, MODEL, seed=99, invariance=InvarianceTest("x2~1", 0.3))
    one = monte_carlo_power(spec, [60, 90], 6, workers=1)
    threads = monte_carlo_power(spec, [60, 90], 6, workers=2, processes=False)
    procs = monte_carlo_power(spec, [90, 60], 6, workers=2, processes=True)
    assert one.records == threads.records == procs.records
    assert one.table.equals(threads.table) and one.table.equals(procs.table)
    # a bigger grid reuses the same replications at the shared n
    more = monte_carlo_power(spec, [60], 8, workers=1)
    assert more.records[:6] == one.records[:6]


def test_local_cluster_workers_are_forked_on_linux_unless_configured(population, monkeypatch):
    import sys

    import dask

    from survey.power.runner import ENV_START, start_method

    monkeypatch.delenv(ENV_START, raising=False)
    assert start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        assert start_method() == "forkserver"
    monkeypatch.setenv(ENV_START, "spawn")
    assert start_method() == "spawn"
    # spawned workers (which import the engine anew) give the records of the calling process
    spec = PowerSpec(population, MODEL, seed=21)
    spawned = monte_carlo_power(spec, [70], 3, workers=2, processes=True)
    assert spawned.records == monte_carlo_power(spec, [70], 3, workers=1).records


def test_checkpoint_resumes_and_refuses_another_run(population, tmp_path):
    path = tmp_path / "ckpt.jsonl"
    spec = PowerSpec(population, MODEL, seed=4)
    first = monte_carlo_power(spec, [70], 3, checkpoint=str(path))
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["fingerprint"]["seed"] == 4
    # mark a stored record: a resumed run must take it from the file, not recompute it
    rec = json.loads(lines[1])
    rec["est"]["F2~F1"] = 123.0
    path.write_text("\n".join([lines[0], json.dumps(rec), *lines[2:]]) + "\n" + '{"n": 70, "re')  # cut line
    resumed = monte_carlo_power(spec, [70], 5, checkpoint=str(path))
    assert resumed.records[0]["est"]["F2~F1"] == 123.0
    assert resumed.records[1:3] == first.records[1:3] and len(resumed.records) == 5
    fresh = monte_carlo_power(spec, [70], 5)
    assert resumed.records[3:] == fresh.records[3:]
    # the cut line was dropped and the file repaired: a third run reads every record back
    assert len(path.read_text().splitlines()) == 6
    third = monte_carlo_power(spec, [70], 5, checkpoint=str(path))
    assert third.records == resumed.records
    with pytest.raises(SurveyInputError, match="another run"):
        monte_carlo_power(PowerSpec(population, MODEL, seed=5), [70], 3, checkpoint=str(path))


def test_bad_hypotheses_are_refused_before_running(population):
    with pytest.raises(SurveyInputError, match="does not estimate"):
        monte_carlo_power(PowerSpec(population, MODEL, pairs=(PathPair("F2", "F1", "F9"),)), [50], 2)
    with pytest.raises(SurveyInputError, match="sample sizes"):
        monte_carlo_power(PowerSpec(population, MODEL), [1], 2)


def test_json_shape(population):
    res = monte_carlo_power(PowerSpec(population, MODEL, seed=1), [60, 80], 3)
    out = res.to_dict()
    assert out["n"] == [60, 80] and len(out["power"]["F2~F1"]) == 2
    assert set(out) >= {"n", "power", "n_required", "mcse", "bias", "coverage", "convergence"}
    json.dumps(out)


def test_robust_estimator_with_fiml_on_mcar_data(population):
    spec = PowerSpec(population, MODEL, fit_options={"estimator": "MLR", "missing": "fiml"}, mcar=0.1, seed=6)
    res = monte_carlo_power(spec, [150], 12)
    row = res.table.set_index("parameter").loc["F2~F1"]
    assert row["converged"] == 12 and 0 < row["power"] <= 1 and abs(row["bias"]) < 0.1
    listwise = monte_carlo_power(PowerSpec(population, MODEL, mcar=0.1, seed=6), [150], 12)
    # listwise deletion of 10% of cells over 6 items keeps about 53% of the rows: larger standard errors
    assert listwise.table.set_index("parameter").loc["F2~F1", "mean_se"] > row["mean_se"]
