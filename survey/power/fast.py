"""The fast path of a replication: prepared models (:mod:`survey.sem.prepared`) instead of ``survey.sem.fit``.

A replication needs, from each fit, the estimates and standard errors of the free parameters, the vcov
entries of the compared paths, convergence and (invariance) the chi-square; :class:`FastPath` parses and
builds the replication's models once per process -- the analysis model and, with an
:class:`~survey.power.replicate.InvarianceTest`, its two multi-group models -- and refits each data set from a
warm start at the population values (:meth:`survey.sem.prepared.PreparedModel.refit`). A record is the one
``survey.sem.fit`` gives (estimates, SEs and chi-square within the full fit's own optimiser tolerance, a few
1e-9; the same warning codes). Where a prepared model does not reproduce ``survey.sem.fit`` (explicit
constraints, composites, ordered items, bootstrap; defined parameters ``:=``, whose delta-method rows a record
carries; ``fit_test``, which needs the baseline model and the fit measures) the replication uses
``survey.sem.fit`` (:func:`survey.power.replicate.replicate`).

Data from a :class:`~survey.power.population.Population` skip the DataFrame: the rows are drawn from the
replication's own generator exactly as :meth:`Population.draw` draws them (same numbers), as an array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from survey.power.population import Population
from survey.sem.prepared import PreparedModel, supported


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _start(pm: PreparedModel, source: Any) -> np.ndarray:
    """Warm start: the population values of the free parameters (NaN where the source has none; the
    refit fills those from lavaan's start values)."""
    values = getattr(source, "values", None) or source.truth
    return pm.theta_from(values)


@dataclass
class FastPath:
    """Prepared models of one :class:`~survey.power.replicate.PowerSpec` (module docstring)."""

    main: PreparedModel | None
    main_start: np.ndarray | None
    order: np.ndarray | None  # Population columns -> the prepared model's order of observed variables
    base: PreparedModel | None = None
    test: PreparedModel | None = None
    base_start: np.ndarray | None = None
    test_start: np.ndarray | None = None

    @classmethod
    def build(cls, spec: Any) -> FastPath:
        opts = dict(spec.fit_options)
        main = start = order = None
        if not spec.fit_test and "group" not in opts and supported(spec.model, opts):
            main = PreparedModel(spec.model, **opts)
            if (main.partable["op"] == ":=").any():
                main = None
        if main is not None:
            start = _start(main, spec.source)
            if isinstance(spec.source, Population):
                cols = list(spec.source.observed)
                if set(main.ov) <= set(cols):
                    order = np.array([cols.index(v) for v in main.ov], dtype=int)
        base = test = base_start = test_start = None
        inv = spec.invariance
        if inv is not None:
            mg = {k: v for k, v in opts.items() if k not in ("group", "group_equal")}
            g = len(inv.proportions)
            base_opts = {**mg, "group_equal": list(inv.base)}
            test_opts = {**mg, "group_equal": [*inv.base, inv.test]}
            try:
                base = PreparedModel(spec.model, groups=g, **base_opts)
                test = PreparedModel(spec.model, groups=g, **test_opts)
                base_start, test_start = _start(base, spec.source), _start(test, spec.source)
            except Exception:  # not prepared: the replication fits them with survey.sem.fit
                base = test = base_start = test_start = None
        return cls(main, start, order, base, test, base_start, test_start)

    # ------------------------------------------------------------------ the analysis model
    def draw(self, source: Any, n: int, rng: np.random.Generator, mcar: float) -> Any:
        """The replication's data: an array in the prepared model's order (Population), else the source's
        DataFrame; MCAR cells deleted with the same draws as :func:`survey.power.replicate.replicate`."""
        if self.order is not None:
            sigma, mean = source.implied_moments
            chol = np.linalg.cholesky(sigma.to_numpy())
            z = rng.standard_normal((int(n), len(mean)))
            x = z @ chol.T + mean.to_numpy()
            if mcar > 0:
                x = np.where(rng.random(x.shape) < mcar, np.nan, x)
            return x[:, self.order], {}
        drawn = source.draw(int(n), rng)
        data, info = drawn if isinstance(drawn, tuple) else (drawn, {})
        if mcar > 0:
            data = data.mask(rng.random(data.shape) < mcar)
        return data, info

    def record(self, data: Any, pairs: tuple = ()) -> dict[str, Any]:
        """est/se of the free parameters, convergence, warning codes and path differences (as
        :func:`survey.power.replicate._fit_record`)."""
        pm = self.main
        assert pm is not None
        rf = pm.refit(data, self.main_start)
        se = rf.se
        keep = [(k, i) for (g, k), i in pm.index.items() if g == 1 and se[i] > 0]
        out: dict[str, Any] = {
            "converged": rf.converged,
            "est": {k: _num(rf.theta[i]) for k, i in keep},
            "se": {k: _num(se[i]) for k, i in keep},
            "warnings": sorted({w.code for w in rf.warnings}),
        }
        diffs = {}
        for pair in pairs:
            d, s = difference(pm, rf, pair)
            diffs[pair.name] = [_num(d), _num(s)]
        if diffs:
            out["diff"] = diffs
        return out

    # ------------------------------------------------------------------ invariance
    def invariance(self, frames: list[Any]) -> tuple[float, float, bool]:
        """(chi-square difference, df difference, both converged) of the base and the constrained model."""
        assert self.base is not None and self.test is not None
        f0 = self.base.refit(frames, self.base_start)
        f1 = self.test.refit(frames, self.test_start)
        return f1.chisq - f0.chisq, f1.df - f0.df, bool(f0.converged and f1.converged)

    def arrays(self, frames: list[Any]) -> list[np.ndarray]:
        """Group DataFrames as arrays in the multi-group model's order of the observed variables."""
        assert self.base is not None
        return [f[self.base.ov].to_numpy(dtype=float) for f in frames]


def difference(pm: PreparedModel, rf: Any, pair: Any) -> tuple[float, float]:
    """Estimate and delta-method se of a path difference from a refit (the same formula as
    :func:`survey.power.replicate.pair_difference`; Rao 1973, 6a.2)."""
    from survey.power.replicate import difference_and_gradient

    def index(key: str) -> int | None:
        return pm.index.get((1, key))

    return difference_and_gradient(pair, index, lambda i: float(rf.theta[i]), rf.vcov)
