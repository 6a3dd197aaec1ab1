"""se = "bootstrap" with the continuous least-squares estimators (was refused) against lavaan 0.6.14 refits on
identical resamples (tests/fixtures/ls_options/make_ls_bootstrap.R, make_ls_bootstrap_indices.py: the 100
index rows our seeded resampler draws; lavaan refits each from its full-sample estimates).

On every replicate both programs fit, the replicate estimates agree within 1e-3; ULS and DWLS converge on
all 100 in both and the bootstrap SEs (sd, divisor B) agree within 1e-5. lavaan's nlminb gives up on a few
replicates ours fits (GLS: replicate 75; WLS: 1, 29, 92, 93, while ours leaves out 67 and 97, lavaan 67):
the SEs over lavaan's converged set, from our replicates, equal lavaan's (GLS, within 1e-5), and the
WLS sets differ, so only its common replicates are compared there. The estimates() table: lavaan's
se="bootstrap" columns (bootstrap SE, z, percentile limits of the replicates) within 1e-5."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.ls_bootstrap import resample_indices

HERE = Path(__file__).parent / "fixtures" / "ls_options"
REF = json.loads((HERE / "ls_bootstrap.json").read_text())
HS = pd.read_csv(HERE / REF["data"])
B = 100


@pytest.fixture(scope="module")
def fits():
    return {e: fit(REF["model"], HS, estimator=e, se="bootstrap", bootstrap=B, seed=REF["seed"])
            for e in REF["cases"]}


def test_the_resamples_are_the_committed_ones():
    committed = np.loadtxt(HERE / "ls_bootstrap_indices.csv", delimiter=",", dtype=int)
    np.testing.assert_array_equal(resample_indices(len(HS), B, REF["seed"]), committed)


def _order(res, case) -> np.ndarray:
    """Columns of our replicates in lavaan's coef() order."""
    pt = res.mg.partable
    free = pt[pt["free"] > 0]
    ours = {(r.lhs, r.op, r.rhs): int(r.free) - 1 for r in free.itertuples()}
    want = pd.DataFrame(case["est"])
    return np.array([ours[(r.lhs, r.op, r.rhs)] for r in want.itertuples()])


@pytest.mark.parametrize("estimator", sorted(REF["cases"]))
def test_replicates_equal_lavaans_refits(fits, estimator):
    res, case = fits[estimator], REF["cases"][estimator]
    ours = res.boot_replicates[:, _order(res, case)]
    theirs = np.array([[np.nan if v is None else v for v in row] for row in case["replicates"]], float)
    both = np.all(np.isfinite(ours), axis=1) & np.all(np.isfinite(theirs), axis=1)
    assert both.sum() >= 94
    np.testing.assert_allclose(ours[both], theirs[both], atol=1e-3)
    assert res.se_options[0] == "bootstrap"


@pytest.mark.parametrize("estimator", ["ULS", "DWLS", "GLS"])
def test_bootstrap_se_equals_lavaan(fits, estimator):
    res, case = fits[estimator], REF["cases"][estimator]
    reps = res.boot_replicates[:, _order(res, case)].copy()
    reps[np.asarray(case["failed"], int) - 1] = np.nan  # lavaan's failed replicates (module notes)
    good = reps[np.all(np.isfinite(reps), axis=1)]
    se = np.sqrt(((good - good.mean(axis=0)) ** 2).mean(axis=0))
    np.testing.assert_allclose(se, case["se"], atol=1e-5)
    if not case["failed"]:  # the fit's own SEs
        est = res.estimates()
        want = pd.DataFrame(case["est"]).assign(se=case["se"])
        got = want.merge(est, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
        np.testing.assert_allclose(got["se"], got["se_r"], atol=1e-5)


def test_bootstrap_beside_fixed_x_refused_in_one_line():
    with pytest.raises(SurveyInputError) as err:
        fit("visual =~ x1 + x2 + x3\nvisual ~ ageyr", HS, estimator="ULS", se="bootstrap", bootstrap=10,
            fixed_x=True)
    assert "\n" not in str(err.value) and "bootstrap" in str(err.value)


@pytest.mark.parametrize("estimator", ["ULS", "DWLS"])
def test_estimates_table_has_lavaans_bootstrap_columns(fits, estimator):
    """se = bootstrap SE, z = est / se, percentile limits (lavaan's boot.ci.type "perc", R quantile type 7)
    of lavaan's replicates."""
    res, case = fits[estimator], REF["cases"][estimator]
    theirs = np.array(case["replicates"], float)
    want = pd.DataFrame(case["est"]).assign(
        se=case["se"], lo=np.quantile(theirs, 0.025, axis=0), hi=np.quantile(theirs, 0.975, axis=0))
    got = want.merge(res.estimates(), on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(got) == len(want)
    np.testing.assert_allclose(got["se"], got["se_r"], atol=1e-5)
    np.testing.assert_allclose(got["ci.lower"], got["lo"], atol=1e-5)
    np.testing.assert_allclose(got["ci.upper"], got["hi"], atol=1e-5)
    np.testing.assert_allclose(got["z"], got["est"] / got["se"], rtol=1e-12)
