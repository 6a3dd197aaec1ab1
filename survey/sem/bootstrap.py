"""Nonparametric bootstrap of an ML fit: standard errors, percentile / BC / BCa intervals, Bollen-Stine p.

Ordinary case resampling (Efron & Tibshirani 1993, ch. 6): replicate b draws N rows with replacement and
refits the model by ML, starting from the full-sample estimates. Every replicate has its own seed,
``numpy.random.SeedSequence(seed).spawn(B)[b]``, so the replicates are the same whatever the number of
workers or the executor (:mod:`survey.sem.executor`). For each free parameter, ``:=`` parameter and the
standardized (std.all) value of every free / defined row:

    se      = sd of the replicates (divisor B, as lavaan ``se="bootstrap"``; ``se(ddof=1)``: R's sd())
    perc    = [q_{a/2}, q_{1-a/2}] of the replicates (lavaan ``boot.ci.type="perc"``, quantile type 7)
    bc      = bias-corrected (lavaan ``"bca.simple"``): z0 = Phi^-1(#{t* < t} / B),
              limits q_{Phi(2 z0 + z_{a/2})}, q_{Phi(2 z0 + z_{1-a/2})}                       (Efron 1981)
    bca     = BCa (Efron 1987, JASA 82): a_j = sum (tbar - t_(i))^3 / (6 [sum (tbar - t_(i))^2]^{3/2})
              from the N leave-one-out (jackknife) fits,
              limits q_{Phi(z0 + (z0 + z_a) / (1 - a_j (z0 + z_a)))}.
              Cost: N extra model fits (same executor); requested with ``ci="bca"``.

Bollen-Stine (1992, Sociological Methods & Research 21): the data are transformed to fit the model exactly,
``Z = (Y - 1 ybar') S^{-1/2} Sigma_hat^{1/2} + 1 mu_hat'``, then resampled;
p = #{T*_b > T} / B_ok (lavaan: strict >).

FIML fits (:class:`survey.sem.fiml.FIMLResult`, lavaan ``missing="ml", se="bootstrap"``): the replicates
resample whole rows of the raw data, missing values included, regroup them by missing-data pattern and
refit by FIML from the full-sample estimates (:func:`fit_fiml_fast`); std.all from the model-implied
moments, as for the full-sample fit. The Bollen-Stine transform needs complete data: lavaan 0.6.14 refuses it
with missing data and so do we, with its reason (:data:`survey.sem.bootstrap_common.BOLLEN_STINE_MISSING`).

Replicates that do not converge are kept as rows of NaN in ``replicates``, counted in ``n_failed`` and
reported as a warning; statistics use the converged ones (as lavaan, which also reports the count).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.bootstrap_common import (
    assemble,
    check_replicates,
    refuse_bollen_stine_missing,
    symmetric_power,
)
from survey.sem.bootstrap_fit import expected_hessian, fit_fiml_fast, fit_ml_fast
from survey.sem.data import GroupStats
from survey.sem.executor import Executor, chunks, get_executor
from survey.sem.model import RAMModel
from survey.sem.results.boot import BootstrapResult, apply_bootstrap  # noqa: F401 - re-exported
from survey.sem.standardize import standardize
from survey.sem.syntax.defined import DefinedFunction

CI_TYPES = ("perc", "bc", "bca")


@dataclass
class ReplicateSpec:
    """What one replicate computes; sent once per chunk to the workers."""

    model: RAMModel
    x: np.ndarray
    theta: np.ndarray
    free_rows: np.ndarray  # partable row of each free parameter (first occurrence)
    std_rows: np.ndarray  # partable rows whose std.all is reported
    meanstructure: bool
    exo: bool
    defined: DefinedFunction | None = None
    metric: np.ndarray | None = None  # inverse expected Hessian (FIML: observed information) at the estimates
    fiml: bool = False  # x holds NaN: refit by FIML (then ``h1`` = the full-sample EM moments)
    h1: GroupStats | None = None


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    c = x - mean
    return c.T @ c / x.shape[0], mean


def replicate_values(spec: ReplicateSpec, x: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Refit on ``x``: (free, defined parameters, std.all of ``std_rows``), T = N F_ML, converged.

    FIML (``spec.fiml``): rows of ``x`` may hold NaN; T = -2 logl (the H0 deviance)."""
    model = spec.model
    if spec.fiml:
        from survey.sem.data.missing import missing_patterns

        md = missing_patterns(x)
        theta, f, ok = fit_fiml_fast(model, md, spec.theta, spec.metric, spec.h1)
        f = 2.0 * f  # N * 2 (-logl / N) = -2 logl
    else:
        cov, mean = _moments(x)
        if spec.exo:
            model.set_exogenous(cov, mean)
        theta, f, ok = fit_ml_fast(model, cov, mean, spec.theta, metric=spec.metric)
    pt = model.partable
    values = model.parameter_values(theta)
    defined = (pt["op"] == ":=").to_numpy()
    std = standardize(model, theta, "std.all", rows=pt)
    if defined.any():
        if spec.defined is None:
            spec.defined = DefinedFunction(pt)
        values[defined] = spec.defined(values)
        std[defined] = spec.defined(std)  # lavaan: := rows evaluated at the standardized parameters
    out = np.concatenate([theta, values[defined], std[spec.std_rows]])
    return out, float(x.shape[0] * f), ok


def _single_thread():
    """BLAS threads only add overhead on these small matrices (and oversubscribe the workers)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(1)


def run_chunk(
    task: tuple[ReplicateSpec, list[int], list[np.random.SeedSequence | np.ndarray]],
) -> list[tuple[int, np.ndarray, float, bool]]:
    """Worker entry point: the replicates of one chunk (each with its own seed, or its given row indices)."""
    spec, ids, draws = task
    n = spec.x.shape[0]
    out = []
    with _single_thread():
        for b, draw in zip(ids, draws, strict=True):
            idx = draw if isinstance(draw, np.ndarray) else np.random.default_rng(draw).integers(0, n, size=n)
            try:
                vals, t, ok = replicate_values(spec, spec.x[idx])
            except Exception:  # a replicate that cannot be fitted counts as failed, never stops the run
                vals, t, ok = None, float("nan"), False
            out.append((b, vals, t, ok))
    return out


def run_jackknife(task: tuple[ReplicateSpec, list[int]]) -> list[tuple[int, np.ndarray | None]]:
    """Worker entry point: leave-one-out fits (for the BCa acceleration)."""
    spec, ids = task
    n = spec.x.shape[0]
    out = []
    for i in ids:
        keep = np.ones(n, dtype=bool)
        keep[i] = False
        try:
            vals, _, ok = replicate_values(spec, spec.x[keep])
        except Exception:
            vals, ok = None, False
        out.append((i, vals if ok else None))
    return out


# ---------------------------------------------------------------------------------------------- result


def parameter_names(pt: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """lavaan-style names of the free parameters (label, else ``lhs op rhs``) and their first table row."""
    names, rows = [], []
    for k in range(1, int(pt["free"].max()) + 1 if len(pt) else 1):
        idx = np.flatnonzero(pt["free"].to_numpy() == k)
        if not idx.size:
            continue
        r = pt.iloc[idx[0]]
        names.append(r["label"] if r["label"] else f"{r['lhs']}{r['op']}{r['rhs']}")
        rows.append(idx[0])
    return names, np.array(rows, dtype=int)


def _progress(total: int, enabled: bool | None):
    """A bar on a terminal, a line per tenth of the replicates otherwise (:mod:`survey.progress`);
    None when silenced (SURVEY_PROGRESS=0, or CI unless asked for)."""
    from survey.progress import Progress

    bar = Progress("bootstrap", total, unit="rep", enabled=False if enabled is None and os.environ.get("CI")
                   else enabled)
    return None if bar.quiet else bar


def bootstrap(
    result: Any,
    n: int = 1000,
    *,
    seed: int | None = None,
    ci: str = "perc",
    level: float = 0.95,
    bollen_stine: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
    indices: np.ndarray | None = None,
) -> BootstrapResult:
    """Nonparametric bootstrap of an ML fit (``SEMResult`` of :func:`survey.sem.fit`), complete-data or FIML
    (``FIMLResult``: whole rows resampled with their missing values, each replicate refitted by FIML).

    ``n`` replicates; ``seed`` makes them reproducible whatever ``workers``/``scheduler``
    (:func:`survey.sem.executor.get_executor`). ``ci="bca"`` adds the N jackknife fits for the BCa
    acceleration. ``bollen_stine=True`` resamples the model-transformed data instead and returns the
    Bollen-Stine p-value of the chi-square test (its parameter replicates are not the ordinary ones).
    ``indices`` (B x N integers, 0-based rows of the complete cases; FIML: of the cases with some observed
    value) replaces the seeded draws: replicate b
    refits on rows ``indices[b]`` (e.g. resamples shared with another program; ``n`` becomes B).
    """
    from survey.sem.bootstrap_blocks import bootstrap_blocks, has_constraints
    from survey.sem.bootstrap_bounds import replicate_bounds

    # multi-group fits: resampled within groups (lavaan); explicit constraints / lower()/upper() bounds:
    # refitted under them
    if not getattr(result, "single", True) or has_constraints(result.partable) \
            or replicate_bounds(result) is not None:
        if ci not in ("perc", "bc"):  # never silently percentile: the BCa jackknife is single-group only
            raise SurveyInputError("ci='bca' (jackknife acceleration) is available for single-group fits "
                                   "without constraints or bounds; use ci='perc' or ci='bc' (lavaan's "
                                   "bca.simple)", value=ci, field="ci")
        if indices is not None and getattr(result, "single", True) and np.ndim(indices) == 2:
            indices = [np.asarray(indices)]  # one group: its B x N matrix
        return bootstrap_blocks(result, n, seed=seed, level=level, bollen_stine=bollen_stine,
                                scheduler=scheduler, workers=workers, executor=executor, indices=indices,
                                chunk_size=chunk_size)
    if indices is not None:
        indices = np.asarray(indices)
        n_rows = np.asarray(result.group_stats.raw).shape[0]
        if indices.ndim != 2 or indices.shape[1] != n_rows or not np.issubdtype(indices.dtype, np.integer) \
                or indices.min() < 0 or indices.max() >= n_rows:
            raise SurveyInputError(
                f"indices must be a B x {n_rows} matrix of row numbers in 0..{n_rows - 1}", field="indices"
            )
        n = indices.shape[0]
    n = check_replicates(n)
    if ci not in CI_TYPES:
        raise SurveyInputError("ci must be perc, bc or bca", value=ci, field="ci")
    ram: RAMModel = result.ram
    g: GroupStats = result.group_stats
    fiml = hasattr(result, "missing_data")
    if fiml and bollen_stine:
        refuse_bollen_stine_missing()
    n = int(n)
    pt = ram.partable
    names, free_rows = parameter_names(pt)
    defined = (pt["op"] == ":=").to_numpy()
    def_names = list(pt.loc[defined, "lhs"])
    std_rows = np.concatenate([free_rows, np.flatnonzero(defined)]).astype(int)
    std_names = [f"std.all:{c}" for c in names + def_names]
    columns = names + def_names + std_names
    x = np.asarray(g.raw, dtype=float)
    theta = np.asarray(result.theta, dtype=float)
    if bollen_stine:
        imp = ram.implied(theta)
        mu = imp.mean if ram.meanstructure else g.mean
        x = (x - g.mean) @ symmetric_power(g.cov, -0.5) @ symmetric_power(imp.sigma, 0.5) + mu
    spec = ReplicateSpec(ram, x, theta, free_rows, std_rows, ram.meanstructure, bool(ram.names.ov_x))
    try:
        if fiml:
            spec.fiml, spec.h1 = True, g
            info = result.information.information if result.information is not None else None
            spec.metric = np.linalg.inv(info) if info is not None and np.all(np.isfinite(info)) else None
        else:
            spec.metric = np.linalg.inv(expected_hessian(ram, theta))
    except np.linalg.LinAlgError:
        spec.metric = None
    seeds = list(indices) if indices is not None else np.random.SeedSequence(seed).spawn(n)
    own = executor is None
    ex = executor if executor is not None else get_executor(scheduler, workers)
    size = chunk_size or max(1, math.ceil(n / (4 * max(ex.workers, 1))))
    tasks = [(spec, list(r), [seeds[i] for i in r]) for r in chunks(n, size)]
    values = np.full((n, len(columns)), np.nan)
    chisq = np.full(n, np.nan)
    bar = _progress(n, progress)
    try:
        for part in ex.map(run_chunk, tasks):
            for b, vals, t, ok in part:
                if ok and vals is not None:
                    values[b] = vals
                    chisq[b] = t
            if bar is not None:
                bar.update(len(part))
        jack = None
        if ci == "bca" and not bollen_stine:
            m = x.shape[0]
            jtasks = [(spec, list(r)) for r in chunks(m, max(1, math.ceil(m / (4 * max(ex.workers, 1)))))]
            jvals = np.full((m, len(columns)), np.nan)
            for part in ex.map(run_jackknife, jtasks):
                for i, vals in part:
                    if vals is not None:
                        jvals[i] = vals
            jack = pd.DataFrame(jvals, columns=columns)
    finally:
        if bar is not None:
            bar.close()
        if own:
            ex.close()
    full = np.concatenate(
        [theta, result.partable.loc[defined, "est"].to_numpy(dtype=float), result._std_all_values[std_rows]]
    )
    return assemble(result, values, chisq, columns, full, names + def_names, std_rows, seed=seed, level=level,
                    bollen_stine=bollen_stine, jackknife=jack)
