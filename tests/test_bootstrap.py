"""Bootstrap (survey.sem.bootstrap) and executors (survey.sem.executor).

Reference: lavaan 0.6.14 ``sem(..., se="bootstrap", bootstrap=1000)`` on tests/fixtures/robust/study.csv
(tests/fixtures/robust/make_reference.R). Bootstrap SEs are random: two independent 1,000-replicate runs
differ by ~3% (sd of a bootstrap SE is about SE / sqrt(2B)), so the 10% bound is tested with 1,000
replicates against lavaan's 1,000 (see the test's docstring for the Monte Carlo error).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey.sem.bootstrap as bs
from survey.sem import fit
from survey.sem.bootstrap import BootstrapResult, bootstrap, symmetric_power
from survey.sem.executor import LocalExecutor, SerialExecutor, chunks, get_executor
from survey.sem.ranks import rank_intervals

HERE = Path(__file__).parent / "fixtures" / "robust"
REF = json.loads((HERE / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location("robust_make_data", HERE / "make_data.py")
make_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_data)
DRIVERS = ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(HERE / "hs.csv")


@pytest.fixture(scope="module")
def study_fit():
    return fit(make_data.STUDY_MODEL, pd.read_csv(HERE / "study.csv"))


@pytest.fixture(scope="module")
def study_boot(study_fit):
    return study_fit, bootstrap(study_fit, 1000, seed=20240611, workers=2, progress=False)


def _relative_se_differences(result, boot) -> pd.Series:
    est = bs.apply_bootstrap(result.estimates(), boot)
    ref = pd.DataFrame(REF["cases"]["study_boot"]["estimates"])
    merged = est.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    merged = merged[merged["se_r"] > 0]
    assert len(merged) == len(ref[ref["se"] > 0])  # every free and := row, incl. indirect effects
    return (merged["se"] / merged["se_r"] - 1).abs()


def test_bootstrap_se_within_10pct_of_lavaan_1000(study_boot):
    """1,000 replicates each side. The relative difference of two independent bootstrap SEs has sd
    sqrt(2 (kappa - 1) / (4 B)) ~ 3.7% here (kappa: kurtosis of the replicates), so over 83 parameters
    the largest difference is ~10% by chance alone (seeds 1 and 2 give 8.2% and 9.5%, this seed 12.0%
    for PEER =~ PEER2). Hence: 10% for at least 95% of the parameters, and every parameter within
    max(10%, 4 Monte Carlo sd)."""
    from scipy.stats import kurtosis

    result, boot = study_boot
    assert boot.n_failed == 0
    rel = _relative_se_differences(result, boot)
    assert (rel < 0.10).mean() >= 0.95 and rel.median() < 0.05, rel.sort_values().tail()
    varying = boot.ok.loc[:, boot.ok.std() > 1e-8]  # (std.all of fixed-variance rows are constant)
    kappa = np.nanmax(kurtosis(varying.to_numpy(), axis=0, fisher=False))
    mc_sd = np.sqrt(2 * (kappa - 1) / (4 * 1000))
    assert rel.max() < max(0.10, 4 * mc_sd), rel.sort_values().tail()


def test_percentile_intervals_close_to_lavaan(study_boot):
    result, boot = study_boot
    est = bs.apply_bootstrap(result.estimates(), boot)
    ref = pd.DataFrame(REF["cases"]["study_boot"]["estimates"])  # lavaan: boot.ci.type = "perc"
    merged = est.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    merged = merged[merged["se_r"] > 0]
    for side in ("ci.lower", "ci.upper"):
        assert ((merged[side] - merged[side + "_r"]).abs() / merged["se_r"]).max() < 0.5


def test_replicates_frame_and_paths_feed_rank_intervals(study_fit, study_boot):
    _, study_boot = study_boot
    reps = study_boot.replicates
    assert reps.shape[0] == 1000 and "ind_SHI" in reps.columns and "std.all:b_SHI" in reps.columns
    paths = study_boot.paths("FOL")
    assert list(paths.columns) == DRIVERS
    std = study_fit.estimates().query("op == '~' and lhs == 'FOL'").set_index("rhs")["std.all"]
    assert np.allclose(paths.mean(), std[DRIVERS], atol=0.05)
    ranks = rank_intervals(paths)
    assert ranks.attrs["n_replicates"] == 1000 and ranks["p.strongest"].sum() == pytest.approx(1.0)


def test_seed_gives_same_replicates_whatever_the_workers(hs):
    res = fit(make_data.HS_MODEL, hs)
    a = bootstrap(res, 24, seed=7, workers=1, progress=False)
    b = bootstrap(res, 24, seed=7, workers=2, progress=False, chunk_size=5)
    assert a.replicates.to_numpy().tobytes() == b.replicates.to_numpy().tobytes()
    # a longer run extends a shorter one (SeedSequence.spawn)
    c = bootstrap(res, 10, seed=7, workers=1, progress=False)
    assert np.array_equal(c.replicates.to_numpy(), a.replicates.to_numpy()[:10])
    d = bootstrap(res, 10, seed=8, workers=1, progress=False)
    assert not np.array_equal(c.replicates.to_numpy(), d.replicates.to_numpy())


def test_dask_cluster_equals_local_run(hs):
    distributed = pytest.importorskip("dask.distributed")
    res = fit(make_data.HS_MODEL, hs)
    local = bootstrap(res, 16, seed=3, workers=1, progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cl:
        with get_executor(cl.scheduler_address) as ex:
            assert ex.kind == "dask" and ex.workers == 2
            remote = bootstrap(res, 16, seed=3, executor=ex, progress=False)
    assert np.array_equal(local.replicates.to_numpy(), remote.replicates.to_numpy())


def test_get_executor_choices(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert isinstance(get_executor(None, 1), SerialExecutor)
    with get_executor(None, 2) as ex:
        assert isinstance(ex, LocalExecutor) and list(ex.map(abs, [-1, -2, 3])) == [1, 2, 3]
    assert [list(r) for r in chunks(5, 2)] == [[0, 1], [2, 3], [4]]


def test_non_converged_replicates_are_counted(hs, monkeypatch):
    res = fit(make_data.HS_MODEL, hs)
    real = bs.replicate_values
    calls = {"n": 0}

    def flaky(spec, x):
        calls["n"] += 1
        if calls["n"] % 4 == 0:
            raise np.linalg.LinAlgError("singular")
        return real(spec, x)

    monkeypatch.setattr(bs, "replicate_values", flaky)
    boot = bootstrap(res, 12, seed=1, workers=1, progress=False)
    assert boot.n_failed == 3 and boot.replicates.isna().all(axis=1).sum() == 3
    assert len(boot.ok) == 9 and any(w.code == "bootstrap_failed" for w in boot.warnings)


def test_bollen_stine(hs):
    res = fit(make_data.HS_MODEL, hs)
    g = res.group_stats
    sigma = res.ram.implied(res.theta).sigma
    z = (g.raw - g.mean) @ symmetric_power(g.cov, -0.5) @ symmetric_power(sigma, 0.5)
    assert np.allclose(np.cov(z.T, bias=True), sigma)  # the transformed data fit the model exactly
    boot = bootstrap(res, 40, seed=5, workers=1, bollen_stine=True, progress=False)
    assert boot.bollen_stine_pvalue is not None and boot.bollen_stine_pvalue < 0.05  # chisq = 85.3 on 24 df
    assert np.nanmean(boot.chisq) == pytest.approx(24, rel=0.35)  # T* ~ chi2(df) under the transformed H0


def test_bc_and_bca_limits():
    rng = np.random.default_rng(0)
    reps = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.gamma(2.0, size=4000)})
    est = reps.median()
    jack = pd.DataFrame({"a": rng.normal(size=50) * 1e-3, "b": rng.normal(size=50) * 1e-3})
    boot = BootstrapResult(
        replicates=reps, estimates=est, n_requested=4000, n_failed=0, seed=0, jackknife=jack
    )
    perc, bc = boot.ci("perc"), boot.ci("bc")
    assert np.allclose(perc.loc["a"], bc.loc["a"], atol=0.05)  # z0 ~ 0: bc = percentile
    assert np.allclose(perc.loc["b"], bc.loc["b"], atol=0.05)  # estimate at the median: z0 = 0
    # a skewed jackknife gives a non-zero acceleration and moves the BCa limits
    boot.jackknife = pd.DataFrame({"a": rng.gamma(0.5, size=50), "b": rng.gamma(0.5, size=50)})
    bca = boot.ci("bca")
    assert (bca["ci.lower"] < bca["ci.upper"]).all() and not np.allclose(bca.loc["a"], bc.loc["a"])


def test_bca_with_jackknife_runs(hs):
    small = hs.iloc[:60]
    res = fit("visual =~ x1 + x2 + x3", small)
    boot = bootstrap(res, 30, seed=2, workers=1, ci="bca", progress=False)
    assert boot.jackknife.shape[0] == 60
    lims = boot.ci("bca")
    assert np.all(np.isfinite(lims.to_numpy())) and (lims["ci.lower"] <= lims["ci.upper"]).all()


def test_bca_on_a_grouped_or_constrained_fit_is_refused_not_ignored(hs):
    """The multi-group / constrained route has no jackknife: ci='bca' was silently percentile before."""
    from survey.errors import SurveyInputError

    small = pd.read_csv(HERE.parent / "heldout" / "hs.csv")  # with the school column
    for res in (fit("visual =~ x1 + x2 + x3", small, group="school"),
                fit("visual =~ x1 + a*x2 + b*x3\na == 1.2*b", small)):
        with pytest.raises(SurveyInputError, match="ci='bca'"):
            bootstrap(res, 5, seed=1, workers=1, ci="bca", progress=False)


def test_progress_quiet_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert bs._progress(10, None) is None


def test_fit_api_bootstrap_fills_estimates(hs):
    res = fit(make_data.HS_MODEL, hs, se="bootstrap", bootstrap=20, seed=1, workers=1)
    est = res.estimates()
    free = est[res.partable["free"] > 0]
    assert np.allclose(free["se"].to_numpy(), res.bootstrap.se()[res.vcov().index].to_numpy())
    assert np.allclose(np.sqrt(np.diag(res.vcov())), res.bootstrap.se()[res.vcov().index])
