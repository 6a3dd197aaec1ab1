"""FIML bootstrap (lavaan ``missing="ml", se="bootstrap"``) on identical resamples: ours vs lavaan 0.6.14.

tests/fixtures/bootstrap/make_reference_fiml.R refits the study model by FIML on the first 100 resamples of
indices.csv.gz (our seeded resampler, make_indices.py) of tests/fixtures/robust/study_mcar.csv (N = 500, ~10%
MCAR missing values; whole rows, missing values included), starting from the full-sample estimates, and saves
the bootstrap SEs and percentile limits of every free and := parameter and of their std.all values.
With the same resamples only the optimizers' convergence differs: lavaan's nlminb stops at a relative change
of 1e-10 in F (parameters ~1e-5 from the optimum), ours at max |dlogl/dtheta| / N < 1e-8. Measured (lavaan
0.6.14, 100 replicates, 111 free and := parameters): full-sample estimates differ by <= 4.9e-6 (std.all by
<= 1.5e-6), replicate estimates by <= 2.4e-5, SEs by <= 3.7e-6 absolute (2.9e-5 relative), percentile limits
by <= 1.5e-5; std.all SEs by <= 1.2e-6, their limits by <= 4.7e-6. Bounds, as the complete-data parity
(test_bootstrap_parity.py): 1e-4 on estimates, replicates and limits, 2e-5 absolute and 2e-4 relative on SEs.
lavaan needs ~65 iterations (3.4 s) per refit; ours ~12 likelihood evaluations (0.1 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.bootstrap import apply_bootstrap, bootstrap
from survey.sem.fiml import fit_fiml

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "bootstrap" / "reference_fiml.json").read_text())
MODEL = REF["model"]
B = REF["B"]


@pytest.fixture(scope="module")
def mcar() -> pd.DataFrame:
    return pd.read_csv(FIX / "robust" / "study_mcar.csv")


@pytest.fixture(scope="module")
def fiml_fit(mcar):
    return fit_fiml(MODEL, mcar)


@pytest.fixture(scope="module")
def indices() -> np.ndarray:
    return pd.read_csv(FIX / "bootstrap" / "indices.csv.gz", header=None, nrows=B).to_numpy(dtype=np.int64)


def _names() -> list[str]:
    rows = pd.DataFrame(REF["rows"])
    return [lab if lab else f"{lhs}{op}{rhs}" for lhs, op, rhs, lab in
            zip(rows["lhs"], rows["op"], rows["rhs"], rows["label"], strict=True)]


def test_full_sample_fit_is_lavaans(fiml_fit):
    rows = pd.DataFrame(REF["rows"])
    est = fiml_fit.estimates().merge(rows, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(est) == len(rows) == 111  # free (incl. 28 intercepts) and := rows
    assert np.abs(est["est"] - est["est_ref"]).max() < 1e-4
    assert np.abs(est["std.all"].to_numpy() - np.array(REF["std0"])).max() < 1e-4


def test_fiml_replicate_estimates_equal_lavaan_refits(fiml_fit, indices):
    boot = bootstrap(fiml_fit, indices=indices[:5], workers=1, progress=False)
    assert boot.n_failed == 0
    lavaan = pd.DataFrame(REF["first5"], columns=_names())
    assert np.abs(boot.replicates[_names()].to_numpy() - lavaan.to_numpy()).max() < 1e-4


def test_fiml_bootstrap_equals_lavaan_on_identical_resamples(fiml_fit, indices):
    boot = bootstrap(fiml_fit, indices=indices, workers=2, progress=False)
    assert boot.n_failed == 0 and REF["est"]["n_ok"] == B
    names = _names()
    se, lims = boot.se(ddof=1), boot.ci("perc")  # the fixture: R sd()
    ref = REF["est"]
    assert np.abs(se[names].to_numpy() - np.array(ref["se"])).max() < 2e-5
    assert np.abs(se[names].to_numpy() / np.array(ref["se"]) - 1).max() < 2e-4
    assert np.abs(lims.loc[names, "ci.lower"].to_numpy() - np.array(ref["ci.lower"])).max() < 1e-4
    assert np.abs(lims.loc[names, "ci.upper"].to_numpy() - np.array(ref["ci.upper"])).max() < 1e-4
    std = [f"std.all:{c}" for c in names]
    ref = REF["std"]
    assert np.abs(se[std].to_numpy() - np.array(ref["se"])).max() < 2e-5
    assert np.abs(lims.loc[std, "ci.lower"].to_numpy() - np.array(ref["ci.lower"])).max() < 1e-4
    assert np.abs(lims.loc[std, "ci.upper"].to_numpy() - np.array(ref["ci.upper"])).max() < 1e-4
    table = apply_bootstrap(fiml_fit.estimates(), boot)
    ind = table[table["op"] == ":="]
    assert ind["ci.lower"].notna().all() and (ind["ci.lower"] < ind["est"]).all()


def test_fiml_seed_gives_same_replicates_whatever_the_workers(fiml_fit):
    a = bootstrap(fiml_fit, 6, seed=11, workers=1, progress=False)
    b = bootstrap(fiml_fit, 6, seed=11, workers=2, progress=False, chunk_size=2)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert a.n_failed == 0


def test_fit_api_fiml_bootstrap(mcar):
    res = fit(MODEL, mcar, missing="fiml", estimator="MLR", se="bootstrap", bootstrap=4, seed=3, workers=1)
    assert res.bootstrap.n_requested == 4 and res.bootstrap.n_failed == 0
    est = res.estimates()
    boot_se = res.bootstrap.se()
    assert est.loc[(est["lhs"] == "ind_SHI") & (est["op"] == ":="), "se"].iloc[0] == pytest.approx(
        boot_se["ind_SHI"], rel=1e-12
    )
    with pytest.raises(SurveyInputError):
        bootstrap(res, 4, seed=1, bollen_stine=True, progress=False)


def test_failed_fiml_replicates_are_counted(fiml_fit, indices, monkeypatch):
    import survey.sem.bootstrap as bs

    real = bs.fit_fiml_fast

    def flaky(model, md, start, metric, h1, **kw):  # "fails" when the resample's first row has SHI1 > 3
        theta, f, ok = real(model, md, start, metric, h1, **kw)
        return theta, f, ok and bool(md.x[0, 0] <= 3)

    monkeypatch.setattr(bs, "fit_fiml_fast", flaky)
    boot = bootstrap(fiml_fit, indices=indices[:8], workers=1, progress=False)
    expected = ~(fiml_fit.missing_data.x[indices[:8, 0], 0] <= 3)
    assert 0 < expected.sum() < 8
    assert boot.n_failed == expected.sum() and len(boot.replicates) == 8
    assert np.array_equal(boot.replicates.isna().all(axis=1).to_numpy(), expected)
    assert any(w.code == "bootstrap_failed" for w in boot.warnings)
    assert len(boot.ok) == 8 - expected.sum()
