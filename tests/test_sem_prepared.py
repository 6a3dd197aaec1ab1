"""The prepared model (survey.sem.prepared) gives the full fit's numbers: estimates, standard errors and the
chi-square of survey.sem.fit on the same data within 1e-8, from lavaan's start values and from a warm start,
for ML, MLR + FIML, MLM, fixed.x covariates and multi-group models with equality constraints; and the power
replications that use it (survey.power.fast) give the records of the full fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.power.population import Population
from survey.power.replicate import InvarianceTest, PathPair, PowerSpec, fast_path, replicate_chunk
from survey.power.study import StudyPopulation
from survey.sem import fit
from survey.sem.prepared import PreparedModel, supported

TOL = 1e-8
CFA = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ F1"
VALUES = {"F1=~x2": 0.8, "F1=~x3": 0.7, "F2=~x5": 0.9, "F2=~x6": 0.8, "F2~F1": 0.4, "F1~~F1": 1.0,
          "F2~~F2": 0.8, **{f"x{i}~~x{i}": 0.5 for i in range(1, 7)}}


@pytest.fixture(scope="module")
def study():
    s = StudyPopulation()
    return Population.from_dict(s.model, s.truth, source="study")


@pytest.fixture(scope="module")
def cfa():
    return Population.from_dict(CFA, VALUES)


def _free(res):
    est = res.estimates(standardized=False)
    est = est[est["se"] > 0]
    group = est["group"] if "group" in est.columns else pd.Series(1, index=est.index)
    rows = zip(group, est["lhs"], est["op"], est["rhs"], strict=True)
    keys = [(int(g), f"{a}{o}{b}") for g, a, o, b in rows]
    return keys, est["est"].to_numpy(float), est["se"].to_numpy(float)


def _assert_equal(pm: PreparedModel, rf, res) -> None:
    keys, est, se = _free(res)
    idx = [pm.index[k] for k in keys]
    assert len(set(idx)) == pm.mg.npar  # every free parameter compared
    assert np.max(np.abs(rf.theta[idx] - est)) < TOL
    assert np.max(np.abs(rf.se[idx] - se)) < TOL
    assert abs(rf.chisq - res.fit_measures()["chisq"]) < TOL
    assert rf.df == res.fit_measures()["df"]
    assert rf.converged == res.converged
    assert sorted({w.code for w in rf.warnings}) == sorted({w.code for w in res.warnings})


@pytest.mark.parametrize("n", [200, 500])
def test_study_model_equals_the_full_fit_from_default_and_warm_starts(study, n):
    pm = PreparedModel(study.model)
    warm = pm.theta_from(study.values)
    assert np.all(np.isfinite(warm))
    for seed in range(3):
        data = study.draw(n, np.random.default_rng(seed))
        res = fit(study.model, data)
        cold = pm.refit(data)
        fast = pm.refit(data[pm.ov].to_numpy(), warm)  # an array in the model's column order
        _assert_equal(pm, cold, res)
        _assert_equal(pm, fast, res)
        assert fast.iterations < cold.iterations  # the warm start saves iterations
        assert abs(fast.pvalue - res.fit_measures()["pvalue"]) < TOL


def test_mlr_with_fiml_and_mlm_equal_the_full_fit(cfa):
    rng = np.random.default_rng(3)
    data = cfa.draw(300, rng)
    holes = data.mask(rng.random(data.shape) < 0.08)
    for options, frame in (({"estimator": "MLR", "missing": "fiml"}, holes), ({"estimator": "MLM"}, data),
                           ({"missing": "fiml"}, holes)):
        pm = PreparedModel(CFA, **options)
        res = fit(CFA, frame, **options)
        rf = pm.refit(frame, pm.theta_from(cfa.values))
        _assert_equal(pm, rf, res)
        if options.get("estimator") in ("MLR", "MLM"):
            assert abs(rf.scaled.stat_scaled - res.fit_measures()["chisq.scaled"]) < 1e-7


def test_fixed_x_covariates_take_each_data_set_sample_moments(cfa):
    model = "F1 =~ x1 + x2 + x3\nF1 ~ z1 + z2"
    rng = np.random.default_rng(8)
    pm = PreparedModel(model)
    for _ in range(2):
        z = rng.standard_normal((250, 2)) * [1.0, 2.0]
        f = z @ [0.5, -0.2] + rng.standard_normal(250)
        data = pd.DataFrame({"x1": f + rng.standard_normal(250), "x2": 0.8 * f + rng.standard_normal(250),
                             "x3": 0.6 * f + rng.standard_normal(250), "z1": z[:, 0], "z2": z[:, 1]})
        _assert_equal(pm, pm.refit(data), fit(model, data))


def test_multigroup_models_with_equality_constraints_equal_the_full_fit(cfa):
    rng = np.random.default_rng(12)
    frames = [cfa.draw(220, rng), cfa.draw_shifted(180, rng, "x2~1", 0.4)]
    data = pd.concat([f.assign(g=k) for k, f in enumerate(frames, start=1)], ignore_index=True)
    for equal in (["loadings"], ["loadings", "intercepts"]):
        pm = PreparedModel(CFA, groups=2, group_equal=equal)
        res = fit(CFA, data, group="g", group_equal=equal)
        _assert_equal(pm, pm.refit([f[pm.ov].to_numpy() for f in frames], pm.theta_from(cfa.values)), res)


def test_a_bad_warm_start_falls_back_to_lavaan_start_values(cfa):
    data = cfa.draw(200, np.random.default_rng(4))
    pm = PreparedModel(CFA)
    bad = pm.theta_from({k: (-5.0 if "~~" in k else 40.0) for k in cfa.values})
    _assert_equal(pm, pm.refit(data, bad), fit(CFA, data))


def test_what_takes_another_path_is_not_prepared():
    assert supported(CFA, {})
    assert supported(CFA, {"estimator": "MLR", "missing": "fiml", "std_lv": True})
    assert supported("F1 =~ x1 + a*x2 + b*x3\na == b", {})  # a shared parameter, as in the engine
    assert not supported("F1 =~ x1 + a*x2 + b*x3\na > 0", {})  # explicit constraints: survey.sem.constrained
    assert not supported("F1 =~ x1 + a*x2 + b*x3\na == 2*b", {})
    assert not supported(CFA, {"se": "bootstrap", "bootstrap": 50})
    assert not supported(CFA, {"ordered": True})
    assert not supported(CFA, {"estimator": "WLSMV"})
    assert not supported(CFA, {"no_such_option": 1})
    # defined parameters: a record carries their delta-method rows, so the replication uses survey.sem.fit
    model = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ b*F1\nbb := b*b"
    spec = PowerSpec(Population.from_dict(model, VALUES), model)
    assert supported(model, {}) and fast_path(spec).main is None


def test_fast_replications_equal_the_full_fit_records(cfa):
    inv = InvarianceTest("x2~1", 0.3)
    spec = PowerSpec(cfa, CFA, seed=17, invariance=inv)
    tasks = [(120, r) for r in range(4)]
    fast = replicate_chunk(spec, tasks)
    assert fast_path(spec).main is not None and fast_path(spec).base is not None
    slow_spec = PowerSpec(cfa, CFA, seed=17, invariance=inv)
    path = fast_path(slow_spec)
    path.main = path.base = None  # the full survey.sem.fit path
    slow = replicate_chunk(slow_spec, tasks)
    for a, b in zip(fast, slow, strict=True):
        assert a["invariance"]["converged"] and "error" not in a["invariance"]
        assert set(a) == set(b) and set(a["est"]) == set(b["est"]) and a["warnings"] == b["warnings"]
        assert max(abs(a["est"][k] - b["est"][k]) for k in b["est"]) < TOL
        assert max(abs(a["se"][k] - b["se"][k]) for k in b["se"]) < TOL
        assert a["invariance"]["df_diff"] == b["invariance"]["df_diff"]
        assert abs(a["invariance"]["chisq_diff"] - b["invariance"]["chisq_diff"]) < TOL
        assert abs(a["invariance"]["pvalue"] - b["invariance"]["pvalue"]) < TOL


def test_fast_path_differences_equal_the_full_fit(study):
    pairs = (PathPair("FOL", "EMO", "CON"), PathPair("FOL", "SHI", "SKL", scale="raw"))
    spec = PowerSpec(study, study.model, seed=3, pairs=pairs, mcar=0.0)
    fast = replicate_chunk(spec, [(300, 0), (300, 1)])
    slow_spec = PowerSpec(study, study.model, seed=3, pairs=pairs)
    fast_path(slow_spec).main = None
    slow = replicate_chunk(slow_spec, [(300, 0), (300, 1)])
    for a, b in zip(fast, slow, strict=True):
        for p in pairs:
            assert np.max(np.abs(np.subtract(a["diff"][p.name], b["diff"][p.name]))) < TOL


def test_threads_do_not_share_the_fixed_x_moments_of_a_prepared_model():
    from survey.power.montecarlo import monte_carlo_power

    model = "F1 =~ x1 + x2 + x3\nF1 ~ z1"
    values = {"F1=~x2": 0.8, "F1=~x3": 0.7, "F1~z1": 0.5, "F1~~F1": 1.0, "z1~~z1": 2.0,
              **{f"x{i}~~x{i}": 0.5 for i in range(1, 4)}}
    spec = PowerSpec(Population.from_dict(model, values), model, seed=8)
    one = monte_carlo_power(spec, [80], 8, workers=1)
    threads = monte_carlo_power(spec, [80], 8, workers=2, processes=False)
    assert one.records == threads.records
    path = fast_path(spec)
    assert path.main is not None and any(path.main._exo)  # the fixed.x path was the one exercised
    data = spec.source.draw(80, np.random.default_rng(0))
    _assert_equal(path.main, path.main.refit(data, path.main_start), fit(model, data))


def test_fast_mcar_replications_delete_the_cells_of_the_full_path(cfa):
    opts = {"estimator": "MLR", "missing": "fiml"}
    spec = PowerSpec(cfa, CFA, fit_options=opts, mcar=0.1, seed=6)
    slow_spec = PowerSpec(cfa, CFA, fit_options=opts, mcar=0.1, seed=6)
    fast_path(slow_spec).main = None
    tasks = [(150, 0), (150, 1)]
    assert fast_path(spec).order is not None  # the array draw of a Population
    for a, b in zip(replicate_chunk(spec, tasks), replicate_chunk(slow_spec, tasks), strict=True):
        assert a["converged"] and set(a["est"]) == set(b["est"])
        assert max(abs(a["est"][k] - b["est"][k]) for k in b["est"]) < TOL
        assert max(abs(a["se"][k] - b["se"][k]) for k in b["se"]) < TOL
