"""Careless-responding indices against base-R re-implementations of careless 1.2.2
(tests/fixtures/quality/make_reference.R; mahad also checked against psych::outlier 2.2.9 there)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.quality import careless

HERE = Path(__file__).parent / "fixtures" / "quality"
FACTORS = [4, 4, 4, 4, 5, 4, 3]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "careless_data.csv")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(HERE / "careless_reference.csv")


def _close(ours: pd.Series, theirs: pd.Series, tol: float = 1e-6) -> float:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    diff = np.nanmax(np.abs(ours - theirs))
    assert diff < tol
    return diff


def test_fixture_is_large_and_has_missing_values(data):
    assert data.shape == (1200, 28)
    assert data.isna().any(axis=1).sum() > 100


def test_longstring_parity(data, ref):
    out = careless.longstring(data, avg=True)
    _close(out["longstr"], ref["longstr"])
    _close(out["avgstr"], ref["avgstr"])
    assert careless.longstring(data).name == "longstring"


def test_irv_parity(data, ref):
    _close(careless.irv(data), ref["irv"])


def test_mahad_parity(data, ref):
    out = careless.mahad(data, flag=True)
    _close(out["d_sq"], ref["mahad"])
    assert (out["flagged"].astype(bool).to_numpy() == ref["mahad_flag"].to_numpy()).all()
    meta = json.loads((HERE / "careless_reference.json").read_text())
    from scipy import stats

    assert stats.chi2.ppf(0.99, 28) == pytest.approx(meta["chisq_cut_99"], abs=1e-9)


def test_evenodd_parity(data, ref):
    out = careless.evenodd(data, FACTORS, diag=True)
    _close(out["eo_cor"], ref["evenodd"])
    assert (out["eo_missing"].to_numpy() == ref["eo_missing"].to_numpy()).all()


@pytest.mark.parametrize(("crit", "col"), [(0.60, "psychsyn"), (0.40, "psychsyn40")])
def test_psychsyn_parity(data, ref, crit, col):
    out = careless.psychsyn(data, crit, diag=True, resample_na=False)
    _close(out["cor"], ref[col])
    assert (out["numPairs"].to_numpy() == ref[f"{col}_pairs"].to_numpy()).all()


def test_psychsyn_pairs_match_careless_order(data):
    meta = json.loads((HERE / "careless_reference.json").read_text())
    assert careless.psychsyn_pairs(data, 0.60) == [tuple(p) for p in meta["psychsyn_pairs_60"]]


def test_psychsyn_resampling_is_seeded_and_only_touches_undefined_rows(data):
    a = careless.psychsyn(data, 0.60, seed=3)
    b = careless.psychsyn(data, 0.60, seed=3)
    plain = careless.psychsyn(data, 0.60, resample_na=False)
    assert a.equals(b)
    defined = plain.notna()
    assert np.allclose(a[defined], plain[defined])


def test_pairwise_cov_and_cor_equal_pandas(data):
    cov = careless.pairwise_cov(data.to_numpy())
    assert np.allclose(cov, data.cov().to_numpy(), atol=1e-12)
    assert np.allclose(careless.pairwise_cor(data.to_numpy()), data.corr().to_numpy(), atol=1e-12)


def test_hand_values():
    x = pd.DataFrame([[1, 1, 1, 2, 2], [1, 2, 3, 4, 5], [3, 3, np.nan, 3, 3]], dtype=float)
    ls = careless.longstring(x, avg=True)
    assert ls["longstr"].tolist() == [3, 1, 2]
    assert ls["avgstr"].tolist() == pytest.approx([2.5, 1.0, 5 / 3])
    assert careless.irv(x).tolist() == pytest.approx([np.std([1, 1, 1, 2, 2], ddof=1), np.sqrt(2.5), 0.0])
    assert np.isnan(careless.irv(x, na_rm=False).iloc[2])


def test_evenodd_sign_and_errors():
    # two scales, perfectly consistent halves -> r = 1 -> Spearman-Brown 1 -> reported -1
    x = pd.DataFrame([[1, 1, 7, 7, 4, 4]], dtype=float)
    assert careless.evenodd(x, [2, 2, 2]).iloc[0] == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        careless.evenodd(x, [6])
    with pytest.raises(ValueError):
        careless.evenodd(x, [4, 4])


def test_mahad_all_missing_row_is_nan(data):
    x = data.copy()
    x.iloc[5] = np.nan
    out = careless.mahad(x)
    assert np.isnan(out.iloc[5]) and out.drop(index=5).notna().all()
    with pytest.raises(ValueError):
        careless.mahad(x, na_rm=False)
