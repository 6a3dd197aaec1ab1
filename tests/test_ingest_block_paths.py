"""The block-wise and in-place paths of the ingest and quality stages (issue 18's million-row ingest)
give the answers of the whole-matrix computations they replaced: rows read in place through a mask,
sums accumulated over several blocks (block sizes shrunk to force many), reverse keying on the fly,
pattern keys, duplicate rows through combined hashes, NA words by their case spellings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.ingest import missing
from survey.ingest.metadata import NA_WORDS, id_text
from survey.quality import careless, screens


def _items(n: int = 900, p: int = 8, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    a = np.clip(np.rint(4 + 1.2 * f + rng.standard_normal((n, p))), 1, 7)
    a[rng.random((n, p)) < 0.06] = np.nan
    a[:5] = np.nan  # rows without answers
    return np.asfortranarray(a)


def test_masked_moments_and_mahalanobis_equal_the_subset():
    a = _items()
    rows = np.random.default_rng(1).random(len(a)) < 0.8
    sub = np.asfortranarray(a[rows])
    mo, ref = careless.pairwise_moments(a, rows), careless.pairwise_moments(sub)
    for k in ("N", "A", "Q", "S"):
        assert np.array_equal(mo[k], ref[k])
    d2 = careless.mahad_rows(a, rows)
    expected = careless.mahad(pd.DataFrame(sub)).to_numpy()
    assert np.isnan(d2[~rows]).all()
    assert np.array_equal(np.isnan(d2[rows]), np.isnan(expected))
    assert np.nanmax(np.abs(d2[rows] - expected)) < 1e-12
    assert np.isnan(d2[:5]).all()


def test_blocks_sum_to_the_whole(monkeypatch):
    a = _items()
    rows = np.ones(len(a), dtype=bool)
    whole_mo, whole_d2 = careless.pairwise_moments(a, rows), careless.mahad_rows(a, rows)
    whole_em = missing.em_mvnorm(a)
    monkeypatch.setattr(careless, "CHUNK", 37)
    monkeypatch.setattr(missing, "BLOCK", 41)
    mo = careless.pairwise_moments(a, rows)
    for k in ("N", "A", "Q", "S"):
        assert np.allclose(mo[k], whole_mo[k], rtol=1e-13, atol=0)
    d2 = careless.mahad_rows(a, rows)
    assert np.nanmax(np.abs(d2 - whole_d2) / whole_d2) < 1e-12
    mu, sigma, _ = missing.em_mvnorm(a)
    assert np.abs(mu - whole_em[0]).max() < 1e-11 and np.abs(sigma - whole_em[1]).max() < 1e-11


def test_column_moments_are_numpys_bits():
    a = _items(p=5)
    mean, var = missing._col_moments(a)
    assert np.array_equal(mean, np.nanmean(a, axis=0)) and np.array_equal(var, np.nanvar(a, axis=0))
    c = np.ascontiguousarray(a)
    mean, var = missing._col_moments(c)
    assert np.array_equal(var, np.nanvar(c, axis=0))


def test_even_odd_reflects_on_the_fly():
    a = _items(p=8)
    x = pd.DataFrame(a, columns=[f"i{j}" for j in range(8)])
    keyed = x.copy()
    for c in ("i1", "i6"):
        keyed[c] = 8.0 - keyed[c]
    ours = careless.evenodd(x, [4, 4], reflect={"i1": 8.0, "i6": 8.0})
    assert ours.equals(careless.evenodd(keyed, [4, 4]))
    assert not ours.equals(careless.evenodd(x, [4, 4]))


@pytest.mark.parametrize("p", [3, 64, 70])
def test_pattern_keys_group_equal_rows(p):
    rng = np.random.default_rng(p)
    mask = rng.random((500, p)) < (0.02 if p > 10 else 0.4)
    group, first = missing.row_keys(mask)
    _, order, inverse = np.unique(mask, axis=0, return_index=True, return_inverse=True)
    # same partition, groups numbered by first appearance
    assert len(first) == len(order)
    assert all(len(set(inverse.ravel()[group == g])) == 1 for g in range(len(first)))
    assert np.array_equal(first, np.sort(first)) and np.array_equal(group[first], np.arange(len(first)))
    assert all((mask[first[g]] == mask[group == g]).all() for g in range(len(first)))


def test_first_duplicates_is_pandas_duplicated_even_when_all_keys_collide(monkeypatch):
    rng = np.random.default_rng(5)
    table = rng.integers(0, 3, (3000, 3)).astype(float)
    expected = pd.DataFrame(table).duplicated(keep="first").to_numpy()
    assert 0 < expected.sum() < len(table)
    assert np.array_equal(screens.first_duplicates(table), expected)
    monkeypatch.setattr(screens, "hash_array", lambda v: np.zeros(len(v), dtype=np.uint64))
    assert np.array_equal(screens.first_duplicates(table), expected)


def test_ids_lose_na_words_in_any_case_only():
    cells = [" R_1 ", "nUlL", " NaN ", None, "N/a", "x", "#n/a n/a", "\ufb01", "  ", "Nonesuch", "na"]
    got = list(id_text(pd.Series(cells, dtype="str")))
    assert got == ["R_1", "", "", "", "", "x", "", "\ufb01", "", "Nonesuch", ""]
    for w in NA_WORDS:
        assert id_text(pd.Series([w.upper(), w.title()], dtype="str")).tolist() == ["", ""]
