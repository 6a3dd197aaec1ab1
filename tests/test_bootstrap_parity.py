"""Bootstrap on identical resamples: survey.sem.bootstrap vs lavaan 0.6.14 refits.

tests/fixtures/bootstrap/indices.csv.gz holds 1,000 resamples of tests/fixtures/robust/study.csv drawn by our
seeded resampler (make_indices.py); make_reference.R refits the study model with lavaan on each of them
(starting values: the full-sample estimates) and saves the SEs (sd, divisor B - 1) and percentile limits.
With the same resamples there is no Monte Carlo difference left, only the optimizers' convergence:
lavaan's nlminb stops at a relative change of 1e-10 in F, i.e. parameters within ~sqrt(1e-10 F / F'') ~ 1e-5
of the optimum (ours: max |gradient| < 1e-7, ~1e-7). Measured: replicate estimates differ by <= 3.3e-5,
SEs by <= 4.0e-6 absolute (2.7e-5 relative), percentile limits by <= 1.9e-5 (1,000 replicates). Bounds:
1e-4 on replicates and limits, 2e-5 absolute and 2e-4 relative on SEs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.bootstrap import apply_bootstrap, bootstrap

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "bootstrap" / "reference.json").read_text())


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make_data = _module("robust_make_data", FIX / "robust" / "make_data.py")
make_indices = _module("bootstrap_make_indices", FIX / "bootstrap" / "make_indices.py")
TOL = 1e-4


def _check(diff: pd.DataFrame) -> None:
    assert diff['se'].max() < 2e-5 and diff['se.rel'].max() < 2e-4, diff.max()
    assert diff[['ci.lower', 'ci.upper']].max().max() < TOL, diff.max()


@pytest.fixture(scope="module")
def study_fit():
    return fit(make_data.STUDY_MODEL, pd.read_csv(FIX / "robust" / "study.csv"))


@pytest.fixture(scope="module")
def indices():
    return pd.read_csv(FIX / "bootstrap" / "indices.csv.gz", header=None).to_numpy(dtype=np.int64)


def _compare(result, boot, ref: dict) -> pd.DataFrame:
    est = apply_bootstrap(result.estimates(), boot)
    rows = pd.DataFrame(REF["rows"])
    # the fixture's se is R's sd() (divisor B - 1); lavaan's se = "bootstrap" (and ours) has divisor B
    se_lavaan = np.asarray(ref["se"]) * np.sqrt((ref["n_ok"] - 1) / ref["n_ok"])
    rows["se_r"], rows["lo_r"], rows["hi_r"] = se_lavaan, ref["ci.lower"], ref["ci.upper"]
    merged = est.merge(rows, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(merged) == len(rows) == 83  # every free and := parameter (incl. the 6 indirect effects)
    return pd.DataFrame({
        "se": (merged["se"] - merged["se_r"]).abs(),
        "se.rel": (merged["se"] / merged["se_r"] - 1).abs(),
        "ci.lower": (merged["ci.lower"] - merged["lo_r"]).abs(),
        "ci.upper": (merged["ci.upper"] - merged["hi_r"]).abs(),
    })


def test_committed_indices_are_our_seeded_resamples(indices):
    assert indices.shape == (1000, 500)
    assert np.array_equal(indices[:50], make_indices.resample_indices(500, 1000)[:50])


def test_replicate_estimates_equal_lavaan_refits(study_fit, indices):
    boot = bootstrap(study_fit, indices=indices[:5], workers=1, progress=False)
    ours = boot.replicates[[c for c in boot.replicates.columns if not c.startswith("std.all:")]]
    rows = pd.DataFrame(REF["rows"])
    names = [lab if lab else f"{lhs}{op}{rhs}" for lhs, op, rhs, lab in
             zip(rows["lhs"], rows["op"], rows["rhs"], rows["label"], strict=True)]
    lavaan = pd.DataFrame(REF["first5"], columns=names)
    assert np.abs(ours[names].to_numpy() - lavaan.to_numpy()).max() < 1e-4


def test_bootstrap_equals_lavaan_on_identical_resamples_200(study_fit, indices):
    boot = bootstrap(study_fit, indices=indices[:200], workers=2, progress=False)
    assert boot.n_failed == 0 and REF["b200"]["n_ok"] == 200
    diff = _compare(study_fit, boot, REF["b200"])
    _check(diff)


@pytest.mark.slow
def test_bootstrap_equals_lavaan_on_identical_resamples_1000(study_fit, indices):
    boot = bootstrap(study_fit, indices=indices, workers=2, progress=False)
    assert boot.n_failed == 0 and REF["b1000"]["n_ok"] == 1000
    diff = _compare(study_fit, boot, REF["b1000"])
    _check(diff)


def test_indices_argument_is_checked(study_fit, indices):
    with pytest.raises(SurveyInputError):
        bootstrap(study_fit, indices=indices[:3, :10], progress=False)
    with pytest.raises(SurveyInputError):
        bootstrap(study_fit, indices=indices[:3] + 1000, progress=False)
