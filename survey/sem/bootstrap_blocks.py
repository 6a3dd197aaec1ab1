"""Bootstrap of a multi-group fit through the one pipeline (lavaan ``se="bootstrap"`` / ``bootstrapLavaan``
with ``group=``), complete data or FIML.

As lavaan's ``lav_bootstrap_internal``, every replicate resamples N_g rows with replacement *within each
group* (whole rows, missing values included with FIML), rebuilds the block statistics
(:func:`survey.sem.data.blocks.complete_block` / missing-data patterns) and refits the model by the same
objective and optimiser (:func:`survey.sem.estimate.optimizer.estimate`) from the full-sample estimates.
Replicate b draws with ``numpy.random.default_rng(SeedSequence(seed).spawn(B)[b])``, group after group, so
the replicates are the same whatever the executor. ``indices`` (one B x N_g matrix of 0-based rows per group)
replaces the draws, e.g. to share resamples with lavaan.

Bollen-Stine (1992): each group's data are first transformed to fit the model exactly,
``Z_g = (Y_g - 1 ybar_g') S_g^{-1/2} Sigma_g^{1/2} [+ 1 mu_g']`` (lavaan, complete data only: lavaan 0.6.14
refuses the Bollen-Stine bootstrap with missing data); p = #{T*_b >= T} / B_ok.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.bootstrap_common import assemble, check_replicates, symmetric_power
from survey.sem.data.blocks import CompleteBlock, MissingBlock, complete_block
from survey.sem.data.missing import em_saturated, loglik, missing_patterns
from survey.sem.estimate.objective import total_f
from survey.sem.estimate.optimizer import estimate
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
    est = estimate(mg, blocks, spec.theta)
    vals = values_at(mg, est.theta)
    std = std_at(mg, est.theta, "std.all")
    out = np.concatenate([est.theta, vals[spec.defined], std[spec.std_rows]])
    n = sum(b.n for b in blocks)
    t = n * total_f(mg, blocks, est.theta) if spec.chisq else float("nan")
    return out, float(t), bool(est.converged)


def run_chunk(task) -> list[tuple[int, np.ndarray | None, float, bool]]:
    """Worker entry point: the replicates of one chunk."""
    spec, ids, draws = task
    sizes = [p.shape[0] for p in spec.parts]
    out = []
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
    return out


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
        raise SurveyInputError(
            "bollen.stine bootstrap not available for missing data (lavaan 0.6)", field="bollen_stine"
        )
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
