"""survey.distributions: norm, chi2 and ncx2 tails bit-for-bit scipy.stats', and the rest of scipy.stats
behind it (the module lets ``survey fit`` skip importing scipy.stats; see its docstring)."""

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


def _same(mine, theirs) -> None:
    assert type(mine) is type(theirs), (mine, theirs)
    a, b = np.asarray(mine), np.asarray(theirs)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes(), (a, b)  # bit for bit, -0.0 and nan included


def _both(method: str, dist: str, *args) -> None:
    """The same value, or the same exception (boost's overflow in a far tail, as scipy raises it)."""
    try:
        theirs = getattr(getattr(stats, dist), method)(*args)
    except ArithmeticError as error:
        with pytest.raises(type(error)):
            getattr(getattr(sd, dist), method)(*args)
        return
    _same(getattr(getattr(sd, dist), method)(*args), theirs)


@pytest.mark.parametrize("method", ["cdf", "sf", "logcdf", "logsf"])
def test_norm_tails_equal_scipy_bit_for_bit(method: str) -> None:
    for x in X:
        _same(getattr(sd.norm, method)(x), getattr(stats.norm, method)(x))
    grid = np.array(X)
    _same(getattr(sd.norm, method)(grid), getattr(stats.norm, method)(grid))
    z = pd.Series([0.5, -2.0, 3.1])  # a column of z values, as the estimate tables pass them
    _same(getattr(sd.norm, method)(np.abs(z)), getattr(stats.norm, method)(np.abs(z)))
    _same(getattr(sd.norm, method)(2), getattr(stats.norm, method)(2))  # an integer
    _same(getattr(sd.norm, method)([1, 2]), getattr(stats.norm, method)([1, 2]))


@pytest.mark.parametrize("method", ["ppf", "isf"])
def test_norm_quantiles_equal_scipy_bit_for_bit(method: str) -> None:
    for q in Q:
        _same(getattr(sd.norm, method)(q), getattr(stats.norm, method)(q))
    _same(getattr(sd.norm, method)(np.array(Q)), getattr(stats.norm, method)(np.array(Q)))


@pytest.mark.parametrize("method", ["cdf", "sf", "ppf", "isf"])
def test_chi2_equals_scipy_bit_for_bit(method: str) -> None:
    points = Q if method in ("ppf", "isf") else X
    for x, df in itertools.product(points, DF):
        _same(getattr(sd.chi2, method)(x, df), getattr(stats.chi2, method)(x, df))
    grid, dfs = np.array(points)[:, None], np.array(DF)[None, :]  # broadcasting
    _same(getattr(sd.chi2, method)(grid, dfs), getattr(stats.chi2, method)(grid, dfs))
    _same(getattr(sd.chi2, method)(grid, 3), getattr(stats.chi2, method)(grid, 3))
    _same(getattr(sd.chi2, method)(0.5, 3), getattr(stats.chi2, method)(0.5, 3))


@pytest.mark.parametrize("method", ["cdf", "sf", "ppf", "isf"])
def test_ncx2_equals_scipy_bit_for_bit(method: str) -> None:
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
    _same(getattr(sd.ncx2, method)(0.5, 3, 2.0), getattr(stats.ncx2, method)(0.5, 3, 2.0))


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
            "d.norm.ppf(0.975)\nprint('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
