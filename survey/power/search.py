"""Sample-size search: the smallest N whose Monte Carlo power reaches the target, by bisection over N.

For each hypothesis (a parameter ``lhs op rhs``, a path difference or the invariance test):

1. a starting bracket from the analytic Wald power at the population (:func:`survey.power.analytic.
   parameter_power`; the N it needs, times ``bracket`` = (0.7, 1.4)), widened by doubling/halving until
   the Monte Carlo power is below the target at ``lo`` and at or above it at ``hi``;
2. bisection on integers while ``hi - lo`` exceeds ``tolerance`` (default: ``rel_tolerance`` = 2% of
   ``hi``, at least 5),
   keeping ``power(lo) < target <= power(hi)``; the answer is ``hi``.

Smoothed N (simsem's continuous-N power, Schoemann, Miller, Pornprasertmanit & Wu 2014, *IJBD* 38,
471-479): every replication of every evaluated N enters one probit regression of "rejected" on sqrt(N),
P(reject | N) = Phi(a + b sqrt(N)) (the Wald power's shape, Phi(delta sqrt(N / N0) - z) when power is
well above alpha), fitted by maximum likelihood; ``n_smoothed`` solves Phi(a + b sqrt(N)) = target. It
uses all evaluations at once and is less noisy than the bisection's last step.

Every evaluation runs ``replications`` replications at one N; replications are seeded by (seed, n, rep)
(:func:`survey.power.replicate.rng_for`), so evaluations are shared by all hypotheses, reused from the
checkpoint, and the search gives the same answer on any number of workers. Monte Carlo power is noisy:
the answer carries the power at N and its Monte Carlo standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survey.errors import SurveyInputError
from survey.power.montecarlo import PowerResult, build_result, check_spec, hypothesis_names
from survey.power.replicate import PowerSpec
from survey.power.runner import Checkpoint, run_replications

N_MIN = 20
N_MAX = 100_000


@dataclass
class SearchResult:
    """Smallest N per hypothesis (``n_required``), the power there, and every evaluated N (``result``)."""

    n_required: dict[str, int | None]
    power_at: dict[str, float]
    mcse_at: dict[str, float]
    result: PowerResult
    target: float
    evaluations: list[int] = field(default_factory=list)
    n_smoothed: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = self.result.to_dict()
        out["n_required"] = dict(self.n_required)
        out["n_required_smoothed"] = dict(self.n_smoothed)
        out["power_at_n_required"] = {k: _finite(v) for k, v in self.power_at.items()}
        out["mcse_at_n_required"] = {k: _finite(v) for k, v in self.mcse_at.items()}
        out["target"] = self.target
        return out


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


class _Evaluator:
    """Power at one N (all hypotheses), computed once per N and cached."""

    def __init__(self, spec: PowerSpec, replications: int, run_options: dict[str, Any], alpha: float,
                 level: float, target: float) -> None:
        self.spec, self.replications, self.options = spec, replications, run_options
        self.alpha, self.level, self.target = alpha, level, target
        self.records: dict[int, list[dict[str, Any]]] = {}
        self.ckpt = Checkpoint(run_options.pop("checkpoint", None), spec.fingerprint())

    def table(self, n: int) -> pd.DataFrame:
        if n not in self.records:
            tasks = [(n, r) for r in range(self.replications)]
            self.records[n] = run_replications(self.spec, tasks, checkpoint=self.ckpt, **self.options)
        res = build_result(self.records[n], self.spec, [n], self.replications, self.alpha, self.level,
                           self.target)
        return res.table.set_index("parameter")

    def power(self, n: int, name: str) -> float:
        return float(self.table(n).loc[name, "power"])


def _guess(spec: PowerSpec, name: str, target: float, alpha: float) -> int | None:
    from survey.power.analytic import difference_power, parameter_power

    source = spec.source
    if not hasattr(source, "implied_moments"):
        return None
    try:
        pair = next((p for p in spec.pairs if p.name == name), None)
        if pair is not None:
            pp = difference_power(source, pair, alpha, spec.fit_options)
        elif name in source.truth:
            pp = parameter_power(source, name, alpha, spec.fit_options)
        else:
            return None
    except Exception:  # the analytic guess is only a starting bracket
        return None
    n = pp.n_required(target, "wald")
    return n if n > 0 else None


def search_n(
    spec: PowerSpec,
    hypotheses: list[str],
    replications: int,
    *,
    target: float = 0.80,
    alpha: float = 0.05,
    level: float = 0.95,
    n_start: tuple[int, int] | None = None,
    tolerance: int | None = None,
    bracket: tuple[float, float] = (0.7, 1.4),
    rel_tolerance: float = 0.02,
    n_max: int = N_MAX,
    workers: int | None = 1,
    scheduler: str | None = None,
    processes: bool = True,
    checkpoint: str | None = None,
    progress: bool | None = None,
) -> SearchResult:
    """Smallest N with Monte Carlo power >= ``target`` for each of ``hypotheses`` (module docstring)."""
    if not 0 < target < 1:
        raise SurveyInputError("target power must lie in (0, 1)", field="target", value=target)
    check_spec(spec, spec.source.truth)
    ev = _Evaluator(spec, int(replications), {"workers": workers, "scheduler": scheduler,
                                              "processes": processes, "checkpoint": checkpoint,
                                              "progress": progress}, alpha, level, target)
    known = set(hypothesis_names(spec))
    for name in hypotheses:
        if name not in known:
            raise SurveyInputError("no such hypothesis in this run (a free parameter 'lhs op rhs', a "
                                   "compared pair or the invariance test)", field="hypothesis", value=name)
    out: dict[str, int | None] = {}
    for name in hypotheses:
        start = n_start or _bracket(_guess(spec, name, target, alpha), bracket)
        tol = tolerance if tolerance is not None else None
        out[name] = _bisect(ev, name, target, start, tol, n_max, rel_tolerance)
    grid = sorted(ev.records)
    records = [r for n in grid for r in ev.records[n]]
    result = build_result(records, spec, grid, int(replications), alpha, level, target)
    result.n_required = dict(out)
    power_at = {k: (ev.power(v, k) if v else float("nan")) for k, v in out.items()}
    mcse_at = {k: (float(ev.table(v).loc[k, "mcse"]) if v else float("nan")) for k, v in out.items()}
    smooth = {k: smoothed_n(records, k, spec, target, alpha) for k in out}
    return SearchResult(out, power_at, mcse_at, result, target, grid, smooth)


def smoothed_n(records: list[dict[str, Any]], name: str, spec: PowerSpec, target: float = 0.80,
               alpha: float = 0.05) -> int | None:
    """N where the probit fit Phi(a + b sqrt(N)) of all replications reaches ``target`` (module doc);
    None when the fit has no positive slope or fewer than two sample sizes were evaluated."""
    import numpy as np
    from scipy import optimize
    from scipy import stats as sps

    from survey.power.montecarlo import rejections

    n, rej = rejections(records, name, spec.source.truth, spec.pairs, alpha)
    if len(np.unique(n)) < 2 or rej.all() or not rej.any():
        return None
    x = np.sqrt(n)
    xm, xs = x.mean(), x.std()

    def nll(theta: np.ndarray) -> float:
        eta = theta[0] + theta[1] * (x - xm) / xs
        return -float(np.sum(np.where(rej, sps.norm.logcdf(eta), sps.norm.logsf(eta))))

    fit = optimize.minimize(nll, np.zeros(2), method="BFGS")
    a, b = fit.x[0], fit.x[1] / xs
    if not np.isfinite(fit.fun) or b <= 0:
        return None
    root = (sps.norm.ppf(target) - a) / b + xm
    return int(math.ceil(root**2)) if root > 0 else None


def _bracket(guess: int | None, factors: tuple[float, float] = (0.7, 1.4)) -> tuple[int, int]:
    if guess is None:
        return 100, 400
    return max(N_MIN, int(guess * factors[0])), max(N_MIN + 1, int(math.ceil(guess * factors[1])))


def _bisect(ev: _Evaluator, name: str, target: float, start: tuple[int, int], tolerance: int | None,
            n_max: int, rel_tolerance: float = 0.02) -> int | None:
    lo, hi = int(start[0]), int(start[1])
    while ev.power(hi, name) < target:  # widen upwards
        lo, hi = hi, hi * 2
        if hi > n_max:
            return None
    while lo > N_MIN and ev.power(lo, name) >= target:  # widen downwards
        lo, hi = max(N_MIN, lo // 2), lo
    if ev.power(lo, name) >= target:
        return lo
    while hi - lo > (tolerance if tolerance is not None else max(5, int(rel_tolerance * hi))):
        mid = (lo + hi) // 2
        if ev.power(mid, name) >= target:
            hi = mid
        else:
            lo = mid
    return hi
