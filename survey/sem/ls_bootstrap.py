"""se = "bootstrap" with the continuous least-squares estimators (lavaan 0.6.14 ``estimator = "GLS" | "ULS" |
"WLS" | "DWLS", se = "bootstrap"``): ordinary case resampling of each group's complete rows, each replicate
refitted by :func:`survey.sem.estimate.wls.fit_ls` from the full-sample estimates with its own moments and
weight (S, and for WLS / DWLS the ADF Gamma, recomputed from the resampled rows), and

    vcov = sum_b (theta_b - mean)(theta_b - mean)' / B      (the converged replicates; lavaan's bootstrap
                                                            vcov, divisor B as survey.sem.bootstrap)

Replicate b draws, with ``rng = default_rng(SeedSequence(seed).spawn(B)[b])``, ``rng.integers(0, N_g, N_g)``
group after group (within-group resampling as lavaan's ``lav_bootstrap_internal``), the resampler of
:mod:`survey.sem.bootstrap_blocks` (tests/fixtures/ls_options/make_ls_bootstrap.R and
tests/fixtures/ls_bootstrap_groups/make_ls_bootstrap_groups.R refit lavaan on the same rows). Listwise,
without fixed.x covariates, sampling weights or explicit constraints / bounds here (the others are refused
in one line by :func:`survey.sem.ls_route.check_ls_options`).
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyWarning


def resample_indices(n: int, b: int, seed: int | None) -> np.ndarray:
    """(b, n) 0-based row indices, one row per replicate (the seeded resampler of survey.sem.bootstrap)."""
    return group_resample_indices([n], b, seed)[0]


def group_resample_indices(sizes: list[int], b: int, seed: int | None) -> list[np.ndarray]:
    """Per group a (b, N_g) array of 0-based row indices within the group: replicate b's generator draws
    group after group (module notes)."""
    out = [np.empty((b, m), dtype=np.int64) for m in sizes]
    for r, s in enumerate(np.random.SeedSequence(seed).spawn(b)):
        rng = np.random.default_rng(s)
        for g, m in enumerate(sizes):
            out[g][r] = rng.integers(0, m, size=m)
    return out


def ls_bootstrap(mg, blocks, estimator: str, theta: np.ndarray, n_boot: int, seed: int | None,
                 indices: list[np.ndarray] | np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, list[SurveyWarning]]:
    """(vcov, the B x q replicate estimates with NaN rows for the failed ones, warnings); ``blocks``: the
    complete-data block of each group (or the one block), ``indices``: per group B x N_g rows."""
    from survey.sem.data.blocks import complete_block
    from survey.sem.estimate.wls import fit_ls

    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    xs = [np.asarray(b.raw, float) for b in blocks]
    if indices is None:
        idx = group_resample_indices([x.shape[0] for x in xs], int(n_boot), seed)
    else:
        idx = [np.asarray(indices)] if isinstance(indices, np.ndarray) else [np.asarray(i) for i in indices]
    reps = np.full((idx[0].shape[0], len(theta)), np.nan)
    for r in range(idx[0].shape[0]):
        try:
            subs = [complete_block(x[i[r]], list(b.names), [], b.label)
                    for x, i, b in zip(xs, idx, blocks, strict=True)]
            fit = fit_ls(mg, subs, estimator, theta)
        except Exception:  # a replicate that cannot be fitted counts as failed, never stops the run
            continue
        if fit.converged and np.all(np.isfinite(fit.theta)):
            reps[r] = fit.theta
    ok = np.all(np.isfinite(reps), axis=1)
    warnings = []
    if (~ok).any():
        warnings.append(SurveyWarning("bootstrap_failed", f"{int((~ok).sum())} bootstrap runs failed or did "
                                      "not converge (left out, as lavaan)", "sem"))
    good = reps[ok]
    c = good - good.mean(axis=0)
    return c.T @ c / max(len(good), 1), reps, warnings


def bootstrap_result(result, reps: np.ndarray, seed: int | None, warnings: list):
    """The :class:`survey.sem.results.boot.BootstrapResult` of the replicates (one column per free
    parameter, named as ``vcov()``: label, else ``lhs op rhs`` with ``.gG`` for groups g > 1), so that
    ``estimates()`` shows lavaan's se="bootstrap" columns: the bootstrap SEs, z = est / se and the
    percentile limits (lavaan's default ``boot.ci.type = "perc"``)."""
    import pandas as pd

    from survey.sem.results.boot import BootstrapResult

    pt = result.partable
    names = result._names()
    free = pt["free"].to_numpy()
    rows = {name: [int(r) for r in np.flatnonzero(free == j + 1)] for j, name in enumerate(names)}
    frame = pd.DataFrame(reps, columns=names)
    n_failed = int((~np.all(np.isfinite(reps), axis=1)).sum())
    return BootstrapResult(frame, pd.Series(np.asarray(result.theta, float), index=names), len(reps),
                           n_failed, seed, rows=rows, warnings=list(warnings), partable=pt)
