"""Bootstrap of a multi-group fit through the one pipeline (lavaan ``se="bootstrap"`` / ``bootstrapLavaan``
with ``group=``), complete data or FIML.

As lavaan's ``lav_bootstrap_internal``, every replicate resamples N_g rows with replacement *within each
group* (whole rows, missing values included with FIML), rebuilds the block statistics
(:func:`survey.sem.data.blocks.complete_block` / missing-data patterns) and refits the model by the same
objective and optimiser from the full-sample estimates, with one capped fallback instead of the full chain
(:func:`survey.sem.estimate.optimizer.estimate_replicate`: a resample neither converges on costs two
iteration budgets, not four).
Replicate b draws with ``numpy.random.default_rng(SeedSequence(seed).spawn(B)[b])``, group after group, so
the replicates are the same whatever the executor. ``indices`` (one B x N_g matrix of 0-based rows per group)
replaces the draws, e.g. to share resamples with lavaan.

Explicit constraints (``a == 2*b``, ``a > 0``, ``a*b == 1``: the table's ``==``/``<``/``>`` rows) hold in
every replicate, as in lavaan, whose replicates refit the same parameter table: each is minimised under them
(:func:`constrained_refit`). Single-group fits with such rows come here too (:func:`survey.sem.bootstrap`).

lower()/upper() bounds hold in every replicate too (lavaan's replicates keep the table's lower/upper
columns): each is minimised inside the box (:mod:`survey.sem.bootstrap_bounds`).

Bollen-Stine (1992): each group's data are first transformed to fit the model exactly,
``Z_g = (Y_g - 1 ybar_g') S_g^{-1/2} Sigma_g^{1/2} [+ 1 mu_g']`` (lavaan, complete data only: lavaan 0.6.14
refuses the Bollen-Stine bootstrap with missing data); p = #{T*_b > T} / B_ok (lavaan: strict >).
"""

from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.bootstrap_bounds import replicate_bounds
from survey.sem.bootstrap_common import (
    assemble,
    check_replicates,
    refuse_bollen_stine_missing,
    symmetric_power,
)
from survey.sem.data.blocks import CompleteBlock, MissingBlock, complete_block
from survey.sem.data.missing import em_saturated, loglik, missing_patterns
from survey.sem.estimate.objective import total_f, total_gradient
from survey.sem.estimate.optimizer import estimate_replicate
from survey.sem.executor import chunks, get_executor
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.results.values import std_at, values_at


@dataclass
class BlockSpec:
    """What one replicate needs (sent once per chunk to the workers)."""

    mg: MultiGroupModel
    parts: list[np.ndarray]  # rows of each group (NaN = missing with FIML)
    fiml: bool
    x_index: list[int]
    names: list[str]
    theta: np.ndarray
    defined: np.ndarray  # partable rows of := parameters
    std_rows: np.ndarray  # partable rows whose std.all is reported
    h1: list  # full-sample blocks (their moments seed the scoring matrix)
    chisq: bool = False
    constrained: bool = False  # explicit constraint rows (==, <, >): every replicate refitted under them
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # lower()/upper(): the box every replicate keeps


def _block(spec: BlockSpec, g: int, x: np.ndarray, with_h1: bool):
    if not spec.fiml:
        return complete_block(x, spec.names, spec.x_index, spec.h1[g].label)
    md = missing_patterns(x)
    base = spec.h1[g]
    block = MissingBlock(
        base.label, md.n, base.cov, base.mean, md.x, names=spec.names, x_index=spec.x_index, md=md
    )
    if with_h1:  # the saturated log-likelihood only shifts F; needed for the replicate chi-square
        mean, cov, _ = em_saturated(md)
        block.em_logl = float(loglik(md, cov, mean))
    else:
        block.em_logl = 0.0
    return block


def replicate(spec: BlockSpec, idx: list[np.ndarray]) -> tuple[np.ndarray, float, bool]:
    """Refit on the rows ``idx[g]`` of every group: (free, defined, std.all values), T = N F, converged."""
    blocks = [_block(spec, g, spec.parts[g][i], spec.chisq) for g, i in enumerate(idx)]
    mg = spec.mg
    for ram, b in zip(mg.models, blocks, strict=True):
        if spec.x_index:
            ram.set_exogenous(b.cov, b.mean)
    if spec.constrained:  # lavaan refits each replicate with the table's constraint rows
        theta, converged = constrained_refit(mg, blocks, spec.theta, spec.bounds)
    elif spec.bounds is not None:  # lower()/upper(): nlminb's box in each replicate (sem.bootstrap_bounds)
        from survey.sem.bootstrap_bounds import bounded_refit

        theta, converged = bounded_refit(mg, blocks, spec.theta, spec.bounds)
    else:
        est = estimate_replicate(mg, blocks, spec.theta)  # the primary optimiser and one capped fallback
        theta, converged = est.theta, bool(est.converged)
    vals = values_at(mg, theta)
    std = std_at(mg, theta, "std.all")
    out = np.concatenate([theta, vals[spec.defined], std[spec.std_rows]])
    n = sum(b.n for b in blocks)
    t = n * total_f(mg, blocks, theta) if spec.chisq else float("nan")
    return out, float(t), converged


def has_constraints(partable) -> bool:
    """Whether the table holds explicit constraint rows (``a == 2*b``, ``a > 0``, ``a*b == 1``)."""
    return bool(partable["op"].isin(["==", "<", ">"]).any())


def constrained_refit(mg: MultiGroupModel, blocks: list, start: np.ndarray,
                      bounds: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, bool]:
    """One replicate minimised under the explicit constraints (SLSQP, as
    :func:`survey.sem.constrained.fit_constrained` does for the full sample; lavaan's replicates use the
    same parameter table, constraints included, ``lav_bootstrap_internal``), from the full-sample
    (constrained) estimates; converged when SLSQP reports success and the constraints hold (1e-6).
    ``bounds``: lower()/upper() as a box besides (lavaan's ``nlminb.constr`` takes them)."""
    from survey.sem.constrained import constraint_functions, minimize_constrained

    # the table's values are affine in theta (free entries, fixed constants): v(t) = v0 + V t, built once
    v0 = values_at(mg, np.zeros(mg.npar))
    v_lin = np.column_stack([values_at(mg, e) - v0 for e in np.eye(mg.npar)]) if mg.npar else None
    eq, ineq, slack, rows = constraint_functions(mg.partable, lambda t: v0 + v_lin @ t)
    sol = minimize_constrained(lambda t: total_f(mg, blocks, t), lambda t: total_gradient(mg, blocks, t),
                               start, eq, ineq, bounds=bounds)
    s = slack(sol.theta)
    is_eq = (rows["op"] == "==").to_numpy()
    held = bool(np.all(np.abs(s[is_eq]) < 1e-6) and np.all(s[~is_eq] > -1e-6))
    return sol.theta, bool(sol.converged and held and np.isfinite(sol.fun))


def run_chunk(task) -> list[tuple[int, np.ndarray | None, float, bool]]:
    """Worker entry point: the replicates of one chunk."""
    spec, ids, draws = task
    sizes = [p.shape[0] for p in spec.parts]
    out = []
    with _single_thread():
        _run(spec, ids, draws, sizes, out)
    return out


def _single_thread():
    """BLAS threads only add overhead on these small matrices (and oversubscribe the workers)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _run(spec: BlockSpec, ids, draws, sizes: list[int], out: list) -> None:
    for b, draw in zip(ids, draws, strict=True):
        if isinstance(draw, np.random.SeedSequence):
            rng = np.random.default_rng(draw)
            idx = [rng.integers(0, m, size=m) for m in sizes]
        else:
            idx = list(draw)
        try:
            vals, t, ok = replicate(spec, idx)
        except Exception:  # a replicate that cannot be fitted counts as failed
            vals, t, ok = None, float("nan"), False
        out.append((b, vals, t, ok))


def bollen_stine_parts(result) -> list[np.ndarray]:
    """Each group's complete data transformed to the model-implied moments."""
    parts = []
    for i, (ram, b) in enumerate(zip(result.mg.models, result.stats.groups, strict=True)):
        imp = ram.implied(result.mg.local(result.theta_full, i))
        z = (b.raw - b.mean) @ symmetric_power(b.cov, -0.5) @ symmetric_power(imp.sigma, 0.5)
        parts.append(z + (imp.mean if ram.meanstructure else b.mean))
    return parts


def bootstrap_blocks(
    result,
    n: int = 1000,
    *,
    seed: int | None = None,
    level: float = 0.95,
    bollen_stine: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    executor=None,
    indices: list[np.ndarray] | None = None,
    chunk_size: int | None = None,
):
    """Nonparametric (or Bollen-Stine) bootstrap of a multi-group :class:`SEMResult`."""
    fiml = result.missing != "listwise"
    if bollen_stine and fiml:
        refuse_bollen_stine_missing()
    blocks = result.stats.groups
    if indices is not None:
        indices = [np.asarray(ix) for ix in indices]
        if len(indices) != len(blocks) or any(
            ix.ndim != 2 or ix.shape[1] != b.n or ix.min() < 0 or ix.max() >= b.n
            for ix, b in zip(indices, blocks, strict=False)
        ):
            raise SurveyInputError(
                "indices must hold one B x N_g matrix of row numbers per group", field="indices"
            )
        n = indices[0].shape[0]
    n = check_replicates(n)
    pt = result.partable
    names = result._names()
    free = pt["free"].to_numpy()
    free_rows = np.array([int(np.flatnonzero(free == k)[0]) for k in range(1, result.mg.npar + 1)], dtype=int)
    defined = np.flatnonzero((pt["op"] == ":=").to_numpy())
    def_names = list(pt["lhs"].to_numpy()[defined])
    std_rows = np.concatenate([free_rows, defined]).astype(int)
    columns = names + def_names + [f"std.all:{c}" for c in names + def_names]
    parts = bollen_stine_parts(result) if bollen_stine else [np.asarray(b.raw, dtype=float) for b in blocks]
    spec = BlockSpec(
        copy.deepcopy(result.mg),
        parts,
        fiml,
        list(blocks[0].x_index),
        list(result.mg.ov),
        result.theta.copy(),
        defined,
        std_rows,
        list(blocks),
        chisq=bollen_stine,
        constrained=has_constraints(pt),
        bounds=replicate_bounds(result),
    )
    draws = (
        [tuple(ix[b] for ix in indices) for b in range(n)]
        if indices is not None
        else np.random.SeedSequence(seed).spawn(n)
    )
    own = executor is None
    ex = executor if executor is not None else get_executor(scheduler, workers)
    size = chunk_size or max(1, math.ceil(n / (4 * max(ex.workers, 1))))
    tasks = [(spec, list(r), [draws[i] for i in r]) for r in chunks(n, size)]
    values = np.full((n, len(columns)), np.nan)
    chisq = np.full(n, np.nan)
    try:
        for part in ex.map(run_chunk, tasks):
            for b, vals, t, ok in part:
                if ok and vals is not None:
                    values[b], chisq[b] = vals, t
    finally:
        if own:
            ex.close()
    full = np.concatenate(
        [result.theta, pt["est"].to_numpy(dtype=float)[defined], result._std_values("std.all")[std_rows]]
    )
    return assemble(result, values, chisq, columns, full, names + def_names, std_rows, seed=seed, level=level,
                    bollen_stine=bollen_stine)


__all__ = ["CompleteBlock", "bootstrap_blocks", "replicate"]
