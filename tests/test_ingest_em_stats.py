"""The EM of survey.ingest.em on per-pattern sufficient statistics against a row-by-row E-step (the
formulas of Little & Rubin, 2002, section 11.2.1, one respondent at a time, written out here), and the
range test of the missing-data report against pandas' isin.
The EM itself is checked against R (lavaan's EM) in tests/test_ingest_missing.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.ingest import em
from survey.ingest.missing import _in_index


def _rowwise_em(a: np.ndarray, iters: int) -> tuple[np.ndarray, np.ndarray]:
    n, p = a.shape
    mu, var = np.nanmean(a, axis=0), np.nanvar(a, axis=0)
    sigma = np.diag(var)
    for _ in range(iters):
        t1, t2 = np.zeros(p), np.zeros((p, p))
        for row in a:
            o, m = ~np.isnan(row), np.isnan(row)
            x = row.copy()
            c = np.zeros((p, p))
            if m.any():
                b = sigma[np.ix_(m, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
                x[m] = mu[m] + b @ (row[o] - mu[o])
                c[np.ix_(m, m)] = sigma[np.ix_(m, m)] - b @ sigma[np.ix_(o, m)]
            t1 += x
            t2 += np.outer(x, x) + c
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
    return mu, sigma


def _data() -> np.ndarray:
    rng = np.random.default_rng(7)
    p = 5
    a = rng.standard_normal((300, p)) @ np.linalg.cholesky(0.5 + 0.5 * np.eye(p)).T + 3.0
    a[rng.random(a.shape) < 0.15] = np.nan  # one, two and three missing per row: many pattern shapes
    return a[~np.isnan(a).all(axis=1)]


def test_sufficient_statistics_em_equals_rowwise_em():
    a = _data()
    mu, sigma, iters = em.em_mvnorm(a, tol=1e-12)
    ref_mu, ref_sigma = _rowwise_em(a, iters)
    assert iters > 5
    assert np.abs(mu - ref_mu).max() < 1e-11 and np.abs(sigma - ref_sigma).max() < 1e-11


def test_pattern_sums_are_the_observed_sums():
    a = _data()
    pats, groups, _ = em._patterns(a)
    *_, sums = em._em_fit(a, pats, groups)
    for pat, rows, s in zip(pats, groups, sums, strict=True):
        assert np.allclose(s, a[np.ix_(rows, np.flatnonzero(pat))].sum(axis=0), rtol=1e-13, atol=1e-12)


def test_range_membership_equals_isin():
    rows = pd.Index([0, 3, 9, 10, 57, -1])
    for index in (pd.RangeIndex(10), pd.RangeIndex(3, 58), pd.Index([3, 57, 99])):
        assert np.array_equal(_in_index(rows, index), rows.isin(index))

