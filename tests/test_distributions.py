"""survey.distributions: norm, chi2 and ncx2 tails equal to scipy.stats' (the methods survey.tails computes
to 1e-12 relative, 1e-10 for ncx2, with every edge, shape and dtype bit for bit; the others bit for bit),
and the rest of scipy.stats behind it (the module lets ``survey fit`` skip importing scipy.stats and
scipy.special; see its docstring)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from survey import distributions as sd

ROOT = Path(__file__).resolve().parent.parent
X = [-np.inf, -40.0, -8.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 1e-8, 0.3, 1.0, 1.959963984540054, 3.7, 18.68,
     57.3, 400.8, 1e4, np.inf, np.nan]
Q = [-0.5, 0.0, 1e-300, 1e-12, 0.005, 0.025, 0.05, 0.5, 0.9, 0.95, 0.975, 1 - 1e-12, 1.0, 1.5, np.nan]
DF = [-1.0, 0.0, 0.5, 1.0, 3.0, 24.0, 356.0, np.inf, np.nan]
NC = [-1.0, 0.0, 1e-9, 0.5, 7.05, 300.0, np.nan]


# the methods computed by survey.tails (the standard library's math), and their relative tolerance
TAILS = {("norm", "cdf"): 1e-12, ("norm", "sf"): 1e-12, ("norm", "ppf"): 1e-12, ("norm", "isf"): 1e-12,
         ("chi2", "cdf"): 1e-12, ("chi2", "sf"): 1e-12, ("chi2", "ppf"): 1e-12,
         ("ncx2", "cdf"): 1e-10, ("ncx2", "sf"): 1e-10,
         ("ncx2", "ppf"): 1e-12}  # ncx2.ppf at nc = 0 is chi2.ppf


def _same(mine, theirs, rtol: float = 0.0) -> None:
    assert type(mine) is type(theirs), (mine, theirs)
    a, b = np.asarray(mine), np.asarray(theirs)
    assert a.dtype == b.dtype and a.shape == b.shape
    if rtol == 0.0:
        assert a.tobytes() == b.tobytes(), (a, b)  # bit for bit, -0.0 and nan included
        return
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    finite = np.isfinite(b)
    assert np.array_equal(a[np.isinf(b)], b[np.isinf(b)]), (a, b)  # the support bounds' infinities
    # scipy's ncx2 loses digits below 1e-100 and its CDF (cdflib) flushes tails below about 1e-60 to 0; there
    # survey.tails equals 40-digit mpmath (tests/test_tails.py), so below 1e-100 only the magnitude is held
    far = finite & (np.abs(b) <= 1e-100)
    assert np.all((a[far] >= 0) & (a[far] < (1e-50 if rtol >= 1e-10 else 1e-100))), (a, b)
    inner = finite & ~far
    assert np.all(np.abs(a[inner] - b[inner]) <= rtol * np.abs(b[inner])), (a, b)


def _both(method: str, dist: str, *args) -> None:
    """The same value, or the same exception (boost's overflow in a far tail, as scipy raises it)."""
    try:
        theirs = getattr(getattr(stats, dist), method)(*args)
    except ArithmeticError as error:
        if (dist, method) in TAILS:  # survey.tails has no overflow there: a probability
            value = np.asarray(getattr(getattr(sd, dist), method)(*args))
            assert np.all((value >= 0) & (value <= 1) | np.isnan(value))
            return
        with pytest.raises(type(error)):
            getattr(getattr(sd, dist), method)(*args)
        return
    _same(getattr(getattr(sd, dist), method)(*args), theirs, TAILS.get((dist, method), 0.0))


@pytest.mark.parametrize("method", ["cdf", "sf", "logcdf", "logsf"])
def test_norm_tails_equal_scipy(method: str) -> None:
    tol = TAILS.get(("norm", method), 0.0)
    for x in X:
        _same(getattr(sd.norm, method)(x), getattr(stats.norm, method)(x), tol)
    grid = np.array(X)
    _same(getattr(sd.norm, method)(grid), getattr(stats.norm, method)(grid), tol)
    z = pd.Series([0.5, -2.0, 3.1])  # a column of z values, as the estimate tables pass them
    _same(getattr(sd.norm, method)(np.abs(z)), getattr(stats.norm, method)(np.abs(z)), tol)
    _same(getattr(sd.norm, method)(2), getattr(stats.norm, method)(2), tol)  # an integer
    _same(getattr(sd.norm, method)([1, 2]), getattr(stats.norm, method)([1, 2]), tol)
    fine = np.linspace(-38.0, 9.0, 4001)  # the whole range, finely
    _same(getattr(sd.norm, method)(fine), getattr(stats.norm, method)(fine), tol)


@pytest.mark.parametrize("method", ["ppf", "isf"])
def test_norm_quantiles_equal_scipy(method: str) -> None:
    for q in Q:
        _same(getattr(sd.norm, method)(q), getattr(stats.norm, method)(q), TAILS[("norm", method)])
    _same(getattr(sd.norm, method)(np.array(Q)), getattr(stats.norm, method)(np.array(Q)),
          TAILS[("norm", method)])
    fine = np.concatenate([np.logspace(-300, -1, 600), np.linspace(0.1, 0.9, 801),
                           1 - np.logspace(-1, -15, 300)])
    _same(getattr(sd.norm, method)(fine), getattr(stats.norm, method)(fine), TAILS[("norm", method)])


@pytest.mark.parametrize("method", ["cdf", "sf", "ppf", "isf"])
def test_chi2_equals_scipy(method: str) -> None:
    tol = TAILS.get(("chi2", method), 0.0)
    points = Q if method in ("ppf", "isf") else X
    for x, df in itertools.product(points, DF):
        _same(getattr(sd.chi2, method)(x, df), getattr(stats.chi2, method)(x, df), tol)
    grid, dfs = np.array(points)[:, None], np.array(DF)[None, :]  # broadcasting
    _same(getattr(sd.chi2, method)(grid, dfs), getattr(stats.chi2, method)(grid, dfs), tol)
    _same(getattr(sd.chi2, method)(grid, 3), getattr(stats.chi2, method)(grid, 3), tol)
    _same(getattr(sd.chi2, method)(0.5, 3), getattr(stats.chi2, method)(0.5, 3), tol)
    fine = np.linspace(1e-6, 0.999999, 500) if method in ("ppf", "isf") else np.logspace(-4, 3.5, 500)
    fine = fine[:, None]
    dfs = np.array([0.5, 1, 2, 3, 7, 24, 36, 100, 356, 1200])[None, :]
    _same(getattr(sd.chi2, method)(fine, dfs), getattr(stats.chi2, method)(fine, dfs), tol)


@pytest.mark.parametrize("method", ["cdf", "sf", "ppf", "isf"])
def test_ncx2_equals_scipy(method: str) -> None:
    points = Q if method in ("ppf", "isf") else X
    for x, df, nc in itertools.product(points, DF, NC):
        _both(method, "ncx2", x, df, nc)
    raised = 0
    for x in points:  # arrays: one x against every df and nc (broadcast)
        grid = (np.array(x), np.array(DF)[:, None], np.array(NC)[None, :])
        try:
            getattr(stats.ncx2, method)(*grid)
        except ArithmeticError:
            raised += 1
        _both(method, "ncx2", *grid)
    assert raised < len(points)
    _same(getattr(sd.ncx2, method)(0.5, 3, 2.0), getattr(stats.ncx2, method)(0.5, 3, 2.0),
          TAILS.get(("ncx2", method), 0.0))
    if method in ("cdf", "sf"):  # the RMSEA inversions' range: chi-squares up to 4 N, df up to 1000
        x, df, nc = np.meshgrid(np.logspace(-1, 3.8, 40), [1, 2, 5, 24, 36, 100, 356, 1000],
                                [1e-3, 0.5, 3.0, 20.0, 150.0, 1000.0, 5000.0], indexing="ij")
        _same(getattr(sd.ncx2, method)(x, df, nc), getattr(stats.ncx2, method)(x, df, nc),
              TAILS[("ncx2", method)])


def test_everything_else_is_scipy_stats_itself() -> None:
    assert sd.t is stats.t and sd.spearmanr is stats.spearmanr
    _same(sd.norm.pdf(0.3), stats.norm.pdf(0.3))  # a method not reimplemented
    _same(sd.chi2.logsf(3.0, 2), stats.chi2.logsf(3.0, 2))
    _same(sd.norm.sf(1.0, loc=2.0, scale=3.0), stats.norm.sf(1.0, loc=2.0, scale=3.0))  # loc/scale
    _same(sd.chi2.sf(3.0, df=2), stats.chi2.sf(3.0, df=2))  # the shape by keyword
    _same(sd.chi2(4).sf(5.0), stats.chi2(4).sf(5.0))  # frozen
    with pytest.raises(AttributeError):
        sd.no_such_distribution  # noqa: B018


def test_importing_it_does_not_import_scipy_stats() -> None:
    code = ("import sys\nfrom survey import distributions as d\nd.chi2.sf(3.0, 2); d.ncx2.cdf(3.0, 2, 1.0)\n"
            "d.norm.ppf(0.975); d.norm.sf([1.0, 2.0]); d.chi2.ppf(0.95, 3); d.ncx2.sf(30.0, 24, 3.0)\n"
            "print('scipy.stats' in sys.modules, 'scipy.special' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False False"  # the fit path's tails need neither (survey.tails)


def test_long_arrays_are_scipy_and_the_scalar_cdf_is_the_method() -> None:
    x = np.linspace(0.01, 60.0, 300)  # above 256 values: scipy.special's loops, bit for bit
    _same(sd.chi2.sf(x, 9), stats.chi2.sf(x, 9))
    _same(sd.norm.sf(x - 30), stats.norm.sf(x - 30))
    for t, df, nc in ((18.7, 24, 3.0), (400.8, 356, 0.0), (0.0, 5, 2.0), (55.0, 8, 150.0)):
        assert sd.ncx2_cdf_scalar(t, df, nc) == pytest.approx(
            float(stats.ncx2.cdf(t, df, nc) if nc else stats.chi2.cdf(t, df)), rel=1e-10, abs=1e-300)
    assert np.isnan(sd.ncx2_cdf_scalar(10.0, np.inf, 1.0)) and np.isnan(stats.ncx2.cdf(10.0, np.inf, 1.0))
