"""One Monte Carlo replication: draw a data set of size n, fit the model, keep what power needs.

A :class:`PowerSpec` says what to draw (a :class:`~survey.power.population.Population`, the study's
instrument population or the whole raw-export pipeline), what to fit (the model and the
:func:`survey.sem.fit` options) and which extra hypotheses to test (pairwise path differences, one
invariance constraint). :func:`replicate` turns (spec, n, rep) into one JSON-able record.

The fits: a prepared model where it reproduces :func:`survey.sem.fit` (:mod:`survey.power.fast`,
:mod:`survey.sem.prepared`: parsed and built once per process, warm-started at the population values;
the full fit's numbers within its optimiser tolerance), else :func:`survey.sem.fit` itself.

Seeds: replication ``rep`` at sample size ``n`` draws from
``numpy.random.SeedSequence(seed, spawn_key=(n, rep))`` (O'Neill 2014, PCG; numpy's independent
streams), so a record depends on (seed, n, rep) only -- not on the grid, the chunking, the order of
work or the number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas and the population module are imported where a replicate runs: the
    import pandas as pd  # analytic `survey power` imports this module for PowerSpec only

RECORD_VERSION = 1
FIT_KEYS = ("chisq", "df", "pvalue", "rmsea", "cfi", "srmr")


@dataclass(frozen=True)
class PathPair:
    """Two paths into one outcome whose difference is tested: ``outcome ~ a`` minus ``outcome ~ b``.

    ``scale`` "std": the difference of the paths scaled by their predictors' SDs,
    ``b_a sd(a) - b_b sd(b)`` (zero exactly when the standardized paths are equal, the comparison of
    ``--compare-paths``), by the delta method; "raw": the unstandardized difference ``b_a - b_b``.
    """

    outcome: str
    a: str
    b: str
    scale: str = "std"

    @property
    def name(self) -> str:
        return f"{self.outcome}~{self.a}-{self.outcome}~{self.b}"


@dataclass(frozen=True)
class InvarianceTest:
    """The power of an invariance test for a planted non-invariant parameter.

    Respondents fall into groups by ``proportions``; in group ``planted_group`` (1-based) the parameter
    ``parameter`` (``"x2~1"``: an intercept, ``"F1=~x2"``: a loading) is shifted by ``shift``. Each
    replicate fits the model with ``base`` constraints and with ``base + (test,)`` and keeps the
    likelihood-ratio (chi-square difference) test.
    """

    parameter: str
    shift: float
    proportions: tuple[float, ...] = (0.5, 0.5)
    planted_group: int = 2
    test: str = "intercepts"
    base: tuple[str, ...] = ("loadings",)

    @property
    def name(self) -> str:
        return f"invariance:{self.test}"

    def group_sizes(self, n: int) -> list[int]:
        """Group sizes summing to n (largest-remainder rounding of n * proportions)."""
        p = np.asarray(self.proportions, dtype=float)
        p = p / p.sum()
        raw = n * p
        sizes = np.floor(raw).astype(int)
        for k in np.argsort(-(raw - sizes), kind="stable")[: n - sizes.sum()]:
            sizes[k] += 1
        return [int(s) for s in sizes]


@dataclass
class PowerSpec:
    """Everything one replication needs (picklable: sent once to every Dask worker)."""

    source: Any  # has .model, .draw(n, rng) -> DataFrame (or (DataFrame, info)), .truth, .fingerprint()
    model: str
    fit_options: dict[str, Any] = field(default_factory=dict)
    pairs: tuple[PathPair, ...] = ()
    invariance: InvarianceTest | None = None
    seed: int = 20240601
    fit_test: bool = False  # also keep the model chi-square test (fit_measures(): baseline model and more)
    mcar: float = 0.0  # share of item responses deleted completely at random (for missing="fiml")

    def __getstate__(self) -> dict[str, Any]:  # the prepared models are rebuilt where the spec is used
        return {k: v for k, v in self.__dict__.items() if k != "_fast"}

    def fingerprint(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, "source": self.source.fingerprint(), "model": self.model,
                "fit_options": self.fit_options, "pairs": [p.__dict__ for p in self.pairs],
                "invariance": None if self.invariance is None else self.invariance.__dict__,
                "seed": int(self.seed), "fit_test": bool(self.fit_test), "mcar": float(self.mcar)}


def rng_for(seed: int, n: int, rep: int) -> np.random.Generator:
    """The generator of replication ``rep`` at sample size ``n`` (module docstring)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(n), int(rep))))


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _keys(est: pd.DataFrame) -> list[str]:
    from survey.power.population import parameter_key

    return [parameter_key(a, o, b) for a, o, b in zip(est["lhs"], est["op"], est["rhs"], strict=True)]


def difference_and_gradient(pair: PathPair, index: Any, value: Any, vcov: Any) -> tuple[float, float]:
    """Estimate and delta-method se of the difference ``pair``: ``index(key)`` is the position of a free
    parameter ``lhs op rhs`` in ``vcov`` (None when it is not free), ``value(position)`` its estimate.

    With scale "std", g = b_a sqrt(v_a) - b_b sqrt(v_b) (v the predictors' variance parameters), gradient
    (sqrt(v_a), b_a / (2 sqrt(v_a)), -sqrt(v_b), -b_b / (2 sqrt(v_b))) (Rao 1973, 6a.2); "raw": b_a - b_b.
    """
    pa, pb = f"{pair.outcome}~{pair.a}", f"{pair.outcome}~{pair.b}"
    names = [index(pa), index(pb)]
    if any(n is None for n in names):
        raise ValueError(f"the paths of {pair.name} are not free parameters of the model")
    grad = [1.0, -1.0]
    diff = value(names[0]) - value(names[1])
    if pair.scale == "std":
        va, vb = index(f"{pair.a}~~{pair.a}"), index(f"{pair.b}~~{pair.b}")
        if va is None or vb is None:
            raise ValueError(f"std difference needs free variances of {pair.a} and {pair.b} "
                             "(exogenous predictors); use scale='raw'")
        sa, sb = math.sqrt(max(value(va), 1e-12)), math.sqrt(max(value(vb), 1e-12))
        diff = value(names[0]) * sa - value(names[1]) * sb
        grad = [sa, -sb, value(names[0]) / (2 * sa), -value(names[1]) / (2 * sb)]
        names += [va, vb]
    sub = np.asarray(vcov, dtype=float)[np.ix_(names, names)]
    g = np.asarray(grad)
    return diff, math.sqrt(max(float(g @ sub @ g), 0.0))


def pair_difference(result: Any, est: pd.DataFrame, pair: PathPair) -> tuple[float, float]:
    """Estimate and delta-method se of the difference ``pair`` from a fitted single-group result
    (:func:`difference_and_gradient` on ``result.vcov()``, lavaan's ``vcov()``, named by label or
    ``lhs op rhs``)."""
    keys = _keys(est)
    vc = result.vcov()
    position = {name: i for i, name in enumerate(vc.index)}
    values: dict[int, float] = {}

    def index(key: str) -> int | None:
        if key not in keys:
            return None
        row = est.iloc[keys.index(key)]
        label = row["label"] if isinstance(row["label"], str) and row["label"] else key
        if label not in position:
            return None
        values[position[label]] = float(row["est"])
        return position[label]

    return difference_and_gradient(pair, index, values.__getitem__, vc.to_numpy(dtype=float))


def _fit_record(spec: PowerSpec, data: pd.DataFrame) -> dict[str, Any]:
    from survey.sem import fit

    res = fit(spec.model, data, **spec.fit_options)
    est = res.estimates(standardized=False)
    free = est[est["se"].to_numpy(dtype=float) > 0]
    keys = _keys(free)
    out: dict[str, Any] = {
        "converged": bool(getattr(res, "converged", True)),
        "est": {k: _num(v) for k, v in zip(keys, free["est"], strict=True)},
        "se": {k: _num(v) for k, v in zip(keys, free["se"], strict=True)},
    }
    if spec.fit_test:
        fm = res.fit_measures()
        out["fit"] = {k: _num(fm[k]) for k in FIT_KEYS if k in fm}
    out["warnings"] = sorted({str(getattr(w, "code", w)) for w in getattr(res, "warnings", [])})
    diffs = {}
    for pair in spec.pairs:
        d, se = pair_difference(res, est, pair)
        diffs[pair.name] = [_num(d), _num(se)]
    if diffs:
        out["diff"] = diffs
    return out


def _invariance_record(spec: PowerSpec, n: int, rng: np.random.Generator) -> dict[str, Any]:
    import pandas as pd
    from scipy import stats as sps

    from survey.sem import fit

    inv = spec.invariance
    assert inv is not None
    frames = []
    for g, size in enumerate(inv.group_sizes(n), start=1):
        shift = inv.shift if g == inv.planted_group else 0.0
        frame = spec.source.draw_shifted(size, rng, inv.parameter, shift)
        frame["group"] = g
        frames.append(frame)
    fast = fast_path(spec)
    if fast.base is not None and all(len(f) for f in frames):
        stat, df, ok = fast.invariance(fast.arrays(frames))
        return {"converged": ok, "chisq_diff": _num(stat), "df_diff": float(df),
                "pvalue": _num(sps.chi2.sf(max(stat, 0.0), df)) if df > 0 and np.isfinite(stat) else None}
    data = pd.concat(frames, ignore_index=True)
    opts = {k: v for k, v in spec.fit_options.items() if k not in ("group", "group_equal")}
    base = fit(spec.model, data, group="group", group_equal=list(inv.base), **opts)
    test = fit(spec.model, data, group="group", group_equal=[*inv.base, inv.test], **opts)
    f0, f1 = base.fit_measures(), test.fit_measures()
    stat = float(f1["chisq"] - f0["chisq"])
    df = float(f1["df"] - f0["df"])
    ok = bool(getattr(base, "converged", True) and getattr(test, "converged", True))
    return {"converged": ok, "chisq_diff": _num(stat), "df_diff": df,
            "pvalue": _num(sps.chi2.sf(max(stat, 0.0), df)) if df > 0 else None}


def replicate(spec: PowerSpec, n: int, rep: int) -> dict[str, Any]:
    """The record of replication ``rep`` at sample size ``n`` (JSON-able; failures are recorded)."""
    rng = rng_for(spec.seed, n, rep)
    record: dict[str, Any] = {"n": int(n), "rep": int(rep)}
    try:
        fast = fast_path(spec)
        if fast.main is not None:  # a prepared model (survey.power.fast): the same numbers, faster
            data, info = fast.draw(spec.source, int(n), rng, spec.mcar)
            record.update(info)
            record.update(fast.record(data, spec.pairs))
        else:
            drawn = spec.source.draw(int(n), rng)
            data, info = drawn if isinstance(drawn, tuple) else (drawn, {})
            if spec.mcar > 0:  # MCAR item non-response: each cell missing with probability mcar
                data = data.mask(rng.random(data.shape) < spec.mcar)
            record.update(info)
            record.update(_fit_record(spec, data))
    except Exception as exc:  # an estimation failure is a non-converged replication, not a crash
        record.update({"converged": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]})
    if spec.invariance is not None:
        try:
            record["invariance"] = _invariance_record(spec, int(n), rng)
        except Exception as exc:
            record["invariance"] = {"converged": False,
                                    "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    return record


def replicate_chunk(spec: PowerSpec, tasks: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Records of several (n, rep) pairs, in order (one Dask task; BLAS on one thread, as survey.sem.fit)."""
    from survey.sem.api import single_thread

    with single_thread():
        return [replicate(spec, n, rep) for n, rep in tasks]


def fast_path(spec: PowerSpec):
    """The prepared models of ``spec`` (:class:`survey.power.fast.FastPath`), built once per process and
    thread (a refit sets the fixed.x moments of its model: threads do not share one) and rebuilt when the
    spec's model, options, source or hypotheses change."""
    import threading

    from survey.power.fast import FastPath

    token = (spec.model, repr(sorted(spec.fit_options.items())), id(spec.source), spec.fit_test,
             spec.pairs, spec.invariance)
    per_thread = spec.__dict__.setdefault("_fast", {})
    cached = per_thread.get(threading.get_ident())
    if cached is None or cached[0] != token:
        cached = (token, FastPath.build(spec))
        per_thread[threading.get_ident()] = cached
    return cached[1]
