"""``scipy.stats`` for the toolkit, without its import cost: a drop-in for ``from scipy import stats``.

Importing ``scipy.stats`` takes about 0.35 s (it loads scipy.interpolate, integrate, spatial, ndimage,
fft ...), and even ``scipy.special`` 0.17 s, as much as a small ``survey fit``. What a fit needs are the
tails of three distributions: the normal (z tests, confidence intervals), the chi-square (test p-values)
and the noncentral chi-square (RMSEA interval and close-fit tests). :data:`norm`, :data:`chi2` and
:data:`ncx2` evaluate ``cdf``/``sf``/``logcdf``/``logsf``/``ppf``/``isf`` inside a copy of the argument
and support handling of ``rv_continuous`` (scipy/stats/_distn_infrastructure.py) with ``loc = 0``,
``scale = 1``. The methods a fit calls (norm cdf, sf, ppf, isf; chi2 cdf, sf, ppf; ncx2 cdf, sf, with
finite shapes, on up to 256 values) are :mod:`survey.tails` (the standard library's ``math``; equal to
scipy.special to 1e-12 relative, 1e-10 for ncx2); longer arrays and the other methods call the very
``scipy.special`` functions that ``scipy.stats`` calls (``ndtr``, ``log_ndtr``, ``ndtri``; ``chdtr``,
``chdtrc``, ``chdtri``, ``gammaincinv``; ``chndtr``, ``_ncx2_sf``, ``_ncx2_isf``, ``chndtrix``:
scipy/stats/_continuous_distns.py), imported on first use. :func:`ncx2_cdf_scalar` is one point of the
noncentral CDF for root searches (the RMSEA limits), without the array handling.
tests/test_distributions.py compares every method with scipy.stats on a grid with every edge (nan,
+-inf, the support bounds, invalid shapes, arrays, broadcasting): edges and shapes bit for bit, values to
those tolerances. Anything else (``loc``/``scale``, other methods, other names: ``sps.t``,
``sps.f``, ``sps.spearmanr`` ...) is taken from ``scipy.stats`` itself, imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from survey import tails

__all__ = ["chi2", "ncx2", "ncx2_cdf_scalar", "norm"]

# arrays longer than this go to scipy.special (imported on first use): its C loops beat math's per
# element on long arrays (quality indices over respondents, Monte Carlo draws), while a fit's own calls
# are scalars and its estimates' column of z values
_SCALAR_MAX = 256


class _Special:
    """``scipy.special`` (and its ``_ufuncs``), imported on first use: the methods a fit calls do not."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self._module), name)


sc = _Special("scipy.special")
scu = _Special("scipy.special._ufuncs")


def _math(scalar: Callable[..., float], special: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """``scalar`` (survey.tails) elementwise over broadcast arguments; ``special`` (scipy's) where a shape
    is infinite (df = inf), which the math of survey.tails does not take."""

    def evaluate(*args: Any) -> np.ndarray:
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args))
        if arrays[0].size > _SCALAR_MAX or not all(np.isfinite(a).all() for a in arrays[1:]):
            return special(*args)
        flat = [a.ravel().tolist() for a in arrays]
        out = np.fromiter((scalar(*v) for v in zip(*flat, strict=True)), dtype=float, count=arrays[0].size)
        return out.reshape(arrays[0].shape)

    return evaluate


def _scipy_stats() -> Any:
    return importlib.import_module("scipy.stats")


def __getattr__(name: str) -> Any:
    """Every other attribute is ``scipy.stats``'s (imported on first use)."""
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_scipy_stats(), name)


def _positive(*args: np.ndarray) -> Any:
    """rv_generic._argcheck: every shape parameter > 0."""
    cond: Any = 1
    for arg in args:
        cond = np.logical_and(cond, np.asarray(arg) > 0)
    return cond


def _reduce(cond: np.ndarray, *args: np.ndarray) -> list[np.ndarray]:
    """scipy.stats' argsreduce: the entries of each argument where ``cond`` holds."""
    newargs = np.atleast_1d(*args)
    if not isinstance(newargs, list | tuple):
        newargs = (newargs,)
    if np.all(cond):
        *newargs, cond = np.broadcast_arrays(*newargs, cond)
        return [arg.ravel() for arg in newargs]
    s = cond.shape
    return [(arg if np.size(arg) == 1 else np.extract(cond, np.broadcast_to(arg, s))) for arg in newargs]


def _result(output: np.ndarray) -> Any:
    return output[()] if output.ndim == 0 else output


class _Distribution:
    """One continuous distribution's tails as rv_continuous evaluates them (loc 0, scale 1)."""

    def __init__(self, name: str, nshapes: int, a: float, b: float, argcheck: Callable[..., Any],
                 funcs: dict[str, Callable[..., Any]]) -> None:
        self.name, self._nshapes, self._a, self._b = name, nshapes, a, b
        self._argcheck, self._funcs = argcheck, funcs

    def __getattr__(self, name: str) -> Any:  # pdf, rvs, freezing ...: scipy.stats' own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(getattr(_scipy_stats(), self.name), name)

    def __call__(self, *args: Any, **kwds: Any) -> Any:  # a frozen distribution
        return getattr(_scipy_stats(), self.name)(*args, **kwds)

    def __repr__(self) -> str:
        return f"<survey.distributions.{self.name}: scipy.stats.{self.name} tails via scipy.special>"

    def _delegate(self, method: str, x: Any, args: tuple, kwds: dict) -> tuple[bool, Any]:
        if kwds or len(args) != self._nshapes or method not in self._funcs:
            return True, getattr(getattr(_scipy_stats(), self.name), method)(x, *args, **kwds)
        return False, None

    def _prepare(self, x: Any, args: tuple) -> tuple[np.ndarray, tuple, Any, Any, np.dtype]:
        loc, scale = np.asarray(0), np.asarray(1)
        x = np.asarray(x)
        args = tuple(map(np.asarray, args))
        dtyp = np.promote_types(x.dtype, np.float64)
        x = np.asarray((x - loc) / scale, dtype=dtyp)
        cond0 = self._argcheck(*args) & (scale > 0)
        with np.errstate(invalid="ignore"):
            cond1 = (self._a < x) & (x < self._b) & (scale > 0)
        return x, args, cond0, cond1, dtyp

    def _lower(self, method: str, x: Any, args: tuple, kwds: dict, log: bool) -> Any:
        """cdf / logcdf: ``rv_continuous.cdf`` and ``.logcdf``."""
        done, value = self._delegate(method, x, args, kwds)
        if done:
            return value
        x, args, cond0, cond1, dtyp = self._prepare(x, args)
        cond2 = (x >= np.asarray(self._b)) & cond0
        cond = cond0 & cond1
        if log:
            output = np.empty(np.shape(cond), dtyp)
            output.fill(-np.inf)
            np.place(output, (1 - cond0) * (cond1 == cond1) + np.isnan(x), np.nan)
            np.place(output, cond2, 0.0)
        else:
            output = np.zeros(np.shape(cond), dtyp)
            np.place(output, (1 - cond0) + np.isnan(x), np.nan)
            np.place(output, cond2, 1.0)
        if np.any(cond):
            np.place(output, cond, self._funcs[method](*_reduce(cond, *((x,) + args))))
        return _result(output)

    def _upper(self, method: str, x: Any, args: tuple, kwds: dict, log: bool) -> Any:
        """sf / logsf: ``rv_continuous.sf`` and ``.logsf``."""
        done, value = self._delegate(method, x, args, kwds)
        if done:
            return value
        x, args, cond0, cond1, dtyp = self._prepare(x, args)
        cond2 = cond0 & (x <= self._a)
        cond = cond0 & cond1
        if log:
            output = np.empty(np.shape(cond), dtyp)
            output.fill(-np.inf)
        else:
            output = np.zeros(np.shape(cond), dtyp)
        np.place(output, (1 - cond0) + np.isnan(x), np.nan)
        np.place(output, cond2, 0.0 if log else 1.0)
        if np.any(cond):
            np.place(output, cond, self._funcs[method](*_reduce(cond, *((x,) + args))))
        return _result(output)

    def _inverse(self, method: str, q: Any, args: tuple, kwds: dict) -> Any:
        """ppf / isf: ``rv_continuous.ppf`` and ``.isf``."""
        done, value = self._delegate(method, q, args, kwds)
        if done:
            return value
        loc, scale = np.asarray(0), np.asarray(1)
        q = np.asarray(q)
        args = tuple(map(np.asarray, args))
        cond0 = self._argcheck(*args) & (scale > 0) & (loc == loc)
        cond1 = (0 < q) & (q < 1)
        at_a, at_b = (q == 0, q == 1) if method == "ppf" else (q == 1, q == 0)
        cond2, cond3 = cond0 & at_a, cond0 & at_b
        cond = cond0 & cond1
        output = np.full(np.shape(cond), fill_value=np.nan)
        np.place(output, cond2, _reduce(cond2, self._a * scale + loc)[0])
        np.place(output, cond3, _reduce(cond3, self._b * scale + loc)[0])
        if np.any(cond):
            goodargs = _reduce(cond, *((q,) + args + (scale, loc)))
            scale, loc, goodargs = goodargs[-2], goodargs[-1], goodargs[:-2]
            np.place(output, cond, self._funcs[method](*goodargs) * scale + loc)
        return _result(output)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return self._lower("cdf", x, args, kwds, log=False)

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return self._lower("logcdf", x, args, kwds, log=True)

    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return self._upper("sf", x, args, kwds, log=False)

    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return self._upper("logsf", x, args, kwds, log=True)

    def ppf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        return self._inverse("ppf", q, args, kwds)

    def isf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        return self._inverse("isf", q, args, kwds)


def _apply_where(cond: Any, args: tuple, f1: Callable[..., Any], f2: Callable[..., Any]) -> np.ndarray:
    """scipy._lib.array_api_extra.apply_where (numpy): ``f1`` where ``cond`` holds, ``f2`` elsewhere."""
    cond, *args = np.broadcast_arrays(cond, *args)
    with np.errstate(over="ignore"):  # scipy's ncx2 methods: gh-17432
        temp1 = f1(*(arr[cond] for arr in args))
        temp2 = f2(*(arr[~cond] for arr in args))
    out = np.empty_like(cond, dtype=np.result_type(temp1, temp2))
    out[cond] = temp1
    out[~cond] = temp2
    return out


def _ncx2_check(df: np.ndarray, nc: np.ndarray) -> Any:
    return (df > 0) & np.isfinite(df) & (nc >= 0)


_CHI2 = {
    "cdf": _math(tails.chi2_cdf, lambda x, df: sc.chdtr(df, x)),
    "sf": _math(tails.chi2_sf, lambda x, df: sc.chdtrc(df, x)),
    "isf": lambda p, df: sc.chdtri(df, p),
    "ppf": _math(tails.chi2_ppf, lambda p, df: 2 * sc.gammaincinv(df / 2, p)),
}
_NDTR = _math(tails.ndtr, lambda x: sc.ndtr(x))
_NDTRI = _math(tails.ndtri, lambda q: sc.ndtri(q))

norm = _Distribution("norm", 0, -np.inf, np.inf, _positive, {
    "cdf": _NDTR,
    "logcdf": lambda x: sc.log_ndtr(x),
    "sf": lambda x: _NDTR(-x),
    "logsf": lambda x: sc.log_ndtr(-x),
    "ppf": _NDTRI,
    "isf": lambda q: -_NDTRI(q),
})
chi2 = _Distribution("chi2", 1, 0.0, np.inf, _positive, dict(_CHI2))


def ncx2_cdf_scalar(x: float, df: float, nc: float) -> float:
    """``float(ncx2.cdf(x, df, nc))`` (``chi2.cdf`` at nc = 0) for one point, without the array handling:
    what a root search over the noncentrality evaluates (the RMSEA limits), by :mod:`survey.tails`."""
    if not (np.isfinite(x) and np.isfinite(df) and np.isfinite(nc)) or df <= 0 or nc < 0:
        return float(ncx2.cdf(x, df, nc) if nc > 0 else chi2.cdf(x, df))
    if x <= 0:
        return 0.0
    return tails.ncx2_cdf(float(x), float(df), float(nc)) if nc > 0 else tails.chi2_cdf(float(x), float(df))


def _noncentral(f1: Callable[..., Any], method: str) -> Callable[..., np.ndarray]:
    """An ncx2 method: ``f1`` where nc != 0, the central chi-square's where nc == 0 (as scipy)."""
    central = _CHI2[method]
    return lambda x, df, nc: _apply_where(nc != 0, (x, df, nc), f1, lambda x, df, _: central(x, df))


ncx2 = _Distribution("ncx2", 2, 0.0, np.inf, _ncx2_check, {
    "cdf": _noncentral(_math(tails.ncx2_cdf, lambda *a: sc.chndtr(*a)), "cdf"),
    "sf": _noncentral(_math(tails.ncx2_sf, lambda *a: scu._ncx2_sf(*a)), "sf"),
    "isf": _noncentral(lambda *a: scu._ncx2_isf(*a), "isf"),
    "ppf": _noncentral(lambda *a: sc.chndtrix(*a), "ppf"),
})
