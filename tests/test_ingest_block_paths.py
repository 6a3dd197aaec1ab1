"""The block-wise and in-place paths of the ingest and quality stages (issue 18's million-row ingest)
give the answers of the whole-matrix computations they replaced: rows read in place through a mask,
sums accumulated over several blocks (block sizes shrunk to force many), reverse keying on the fly,
pattern keys, duplicate rows through combined hashes, NA words by their case spellings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.ingest import em, missing
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
    monkeypatch.setattr(em, "BLOCK", 41)  # the EM (survey.ingest.em) sums complete rows in blocks
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


@pytest.mark.parametrize(
    "scale",
    [
        {"type": "ordinal", "points": {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"},
         "missing": {8: "PNTS", -9: "x"}},
        {"type": "nominal", "points": {1: "a", 3: "b", 7: "c"}, "missing": {}},
        {"type": "count", "min": 0, "max": 20, "missing": {99: "don't know"}},
        {"type": "numeric", "min": 1.5, "max": 240},
    ],
)
def test_integer_columns_coded_by_lookup_equal_the_general_branch(scale):
    from survey.ingest.validate import _coerce_integers, coerce_column
    from survey.instrument import Scale

    sc = Scale.model_validate(scale)
    rng = np.random.default_rng(7)
    cells = rng.integers(-12, 260, 5000)
    cells[rng.random(5000) < 0.3] = 1
    cells[rng.random(5000) < 0.05] = 8 if "8" in str(scale.get("missing")) else 99
    user_missing = {-9.0: "refused", 250.0: "user missing"}
    out_int = coerce_column(pd.Series(cells), sc, "s", "Q", "f.csv", user_missing)
    general = pd.Series(cells.astype("float64"))  # floats take the general numeric branch
    out_float = coerce_column(general, sc, "s", "Q", "f.csv", user_missing)
    assert np.array_equal(out_int[0].to_numpy(), out_float[0].to_numpy(), equal_nan=True)
    pd.testing.assert_series_equal(out_int[1], out_float[1])
    assert [(p.row, p.value, p.message, p.code) for p in out_int[2]] == [
        (p.row, p.value, p.message, p.code) for p in out_float[2]
    ]
    assert len(out_int[2]) > 100 and len(out_int[1]) > 10  # problems and missing codes occurred
    assert all(isinstance(p.value, int) for p in out_int[2])
    points = {float(k): v for k, v in sc.points.items()}
    assert _coerce_integers(pd.Series(cells), sc, sc.type, points, {}, np.empty(5000)) is not None
    assert _coerce_integers(general, sc, sc.type, points, {}, np.empty(5000)) is None
