"""Sample-size search (bisection over N with Monte Carlo), the study population and the whole-pipeline
source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.power import Population
from survey.power.montecarlo import monte_carlo_power
from survey.power.pipeline import PipelineSource, planned_rates
from survey.power.replicate import PowerSpec, replicate
from survey.power.runner import run_replications
from survey.power.search import search_n
from survey.power.study import StudyPopulation

FIX = Path(__file__).parent / "fixtures" / "power"
MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ F1"


@pytest.fixture(scope="module")
def population():
    return Population.from_json(MODEL, FIX / "population.json")


def test_search_returns_the_first_evaluated_n_reaching_the_target(population):
    res = search_n(PowerSpec(population, MODEL, seed=8), ["F2~F1"], 24, n_start=(120, 260),
                   rel_tolerance=0.08)
    n = res.n_required["F2~F1"]
    table = res.result.table[res.result.table["parameter"] == "F2~F1"].set_index("n")["power"]
    assert table[n] >= 0.8 and res.power_at["F2~F1"] == table[n]
    below = table[table.index < n]
    assert len(below) and below.iloc[-1] < 0.8  # the bracket's lower end is under the target
    assert n - below.index[-1] <= max(5, int(0.08 * n))
    assert 100 < n < 300  # the analytic Wald N is 180
    out = res.to_dict()
    assert out["n_required"]["F2~F1"] == n and n in out["n"]
    assert 120 < out["n_required_smoothed"]["F2~F1"] < 260
    json.dumps(out)


def test_smoothed_n_recovers_a_known_probit_power_curve(population):
    from scipy import stats

    from survey.power.search import smoothed_n

    rng = np.random.default_rng(0)
    a, b = -2.0, 0.2  # P(reject | N) = Phi(a + b sqrt(N)): power .80 at sqrt(N) = (0.8416 + 2) / 0.2
    records = []
    for n in (100, 150, 200, 300, 400):
        for rep in range(400):
            reject = rng.random() < stats.norm.cdf(a + b * np.sqrt(n))
            est = 3.0 if reject else 0.5
            records.append({"n": n, "rep": rep, "converged": True, "est": {"F2~F1": est},
                            "se": {"F2~F1": 1.0}})
    expected = ((stats.norm.ppf(0.8) - a) / b) ** 2
    got = smoothed_n(records, "F2~F1", PowerSpec(population, MODEL))
    assert abs(got - expected) / expected < 0.05


def test_search_refuses_unknown_hypotheses_and_targets(population):
    with pytest.raises(SurveyInputError, match="no such hypothesis"):
        search_n(PowerSpec(population, MODEL), ["F2~F9"], 5)
    with pytest.raises(SurveyInputError, match="target"):
        search_n(PowerSpec(population, MODEL), ["F2~F1"], 5, target=1.5)


def test_scheduler_address_gives_the_same_records(population):
    from dask.distributed import LocalCluster

    spec = PowerSpec(population, MODEL, seed=21)
    tasks = [(60, r) for r in range(4)]
    local = run_replications(spec, tasks, workers=1)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster:
        remote = run_replications(spec, tasks, scheduler=cluster.scheduler_address)
    assert remote == local


def test_unreachable_scheduler_is_a_one_line_input_error(population, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    with pytest.raises(SurveyInputError, match="cannot reach the Dask scheduler"):
        run_replications(PowerSpec(population, MODEL), [(60, 0)])


def test_study_population_truth_equals_the_simulate_stage_pseudo_true():
    from survey.simulate import pseudo_true

    study = StudyPopulation()
    ref = pseudo_true(study.items)
    for d in ("SHI", "EMO", "CON"):
        row = ref[(ref["lhs"] == "FOL") & (ref["rhs"] == d)].iloc[0]
        assert study.truth[f"FOL~{d}"] == pytest.approx(row["est"], abs=1e-3)
        assert study.truth_std[f"FOL~{d}"] == pytest.approx(row["std.all"], abs=1e-3)


def test_study_population_draws_analysis_keyed_answers():
    study = StudyPopulation()
    data = study.draw(400, np.random.default_rng(3))
    assert list(data.columns) == study.observed and len(data) == 400
    assert data[study.items].isin(range(1, 8)).all().all()
    assert data["SHI1"].corr(data["SHI4"]) > 0.2  # SHI4 is reverse-keyed as answered, reversed back here
    shifted = study.draw_shifted(400, np.random.default_rng(3), "PEER2~1", 0.6)
    assert shifted["PEER2"].mean() > data["PEER2"].mean() + 0.3
    with pytest.raises(ValueError):
        study.draw_shifted(10, np.random.default_rng(3), "PEER=~PEER2", 0.6)


def test_planned_rates_apply_for_one_call_and_are_restored():
    from survey.simulate import contamination as cont
    from survey.simulate import simulate_raw

    before = json.dumps(cont.RATES, sort_keys=True, default=str)
    with planned_rates(0.2, 0.1, 0.05):
        assert cont.RATES["careless"] == (0.2, 0.2) and cont.RATES["partial"] == 0.1
        raw, truth = simulate_raw(300, 5)
    assert json.dumps(cont.RATES, sort_keys=True, default=str) == before
    assert (raw["Finished"] == 0).sum() >= 25  # 10% partial completes (plus none otherwise)


def test_pipeline_power_is_net_of_exclusions():
    clean = PipelineSource(careless=0.0, partial=0.0, nonresponse=0.0)
    dirty = PipelineSource(careless=0.2, partial=0.1, nonresponse=0.03)
    data0, info0 = clean.draw(300, np.random.default_rng(1))
    data1, info1 = dirty.draw(300, np.random.default_rng(1))
    assert info0["n_raw"] == info1["n_raw"] == 300
    assert info1["n_analytic"] < info0["n_analytic"] - 0.2 * 300
    assert info1["n_missing_cells"] > info0["n_missing_cells"]
    assert isinstance(data1, pd.DataFrame) and set(clean.study.observed) == set(data1.columns)
    spec = PowerSpec(dirty, dirty.model, fit_options={"missing": "fiml"}, seed=2)
    rec = replicate(spec, 300, 0)
    assert rec["converged"] and rec["n_analytic"] < 240 and rec["se"]["FOL~EMO"] > 0
    res = monte_carlo_power(spec, [250], 2)
    out = res.to_dict()
    assert out["n_analytic"][0] == pytest.approx(np.mean([r["n_analytic"] for r in res.records]))
    assert out["n_analytic"][0] < 250


def test_pipeline_rates_are_checked():
    with pytest.raises(SurveyInputError, match="planned rate"):
        PipelineSource(careless=1.5)
