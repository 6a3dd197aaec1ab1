"""se = "bootstrap" with the continuous least-squares estimators (lavaan 0.6.14 ``estimator = "GLS" | "ULS" |
"WLS" | "DWLS", se = "bootstrap"``): ordinary case resampling of one group's complete rows, each replicate
refitted by :func:`survey.sem.estimate.wls.fit_ls` from the full-sample estimates with its own moments and
weight (S, and for WLS / DWLS the ADF Gamma, recomputed from the resampled rows), and

    vcov = sum_b (theta_b - mean)(theta_b - mean)' / B      (the converged replicates; lavaan's bootstrap
                                                            vcov, divisor B as survey.sem.bootstrap)

Replicate b draws rows ``default_rng(SeedSequence(seed).spawn(B)[b]).integers(0, N, N)``, the resampler of
:mod:`survey.sem.bootstrap` (tests/fixtures/ls_options/make_ls_bootstrap.R refits lavaan on the same rows).
One group, listwise, without fixed.x covariates, sampling weights or explicit constraints / bounds here
(the others are refused in one line by :func:`survey.sem.ls_route.check_ls_options`).
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyWarning


def resample_indices(n: int, b: int, seed: int | None) -> np.ndarray:
    """(b, n) 0-based row indices, one row per replicate (the seeded resampler of survey.sem.bootstrap)."""
    seeds = np.random.SeedSequence(seed).spawn(b)
    return np.vstack([np.random.default_rng(s).integers(0, n, size=n) for s in seeds])


def ls_bootstrap(mg, block, estimator: str, theta: np.ndarray, n_boot: int, seed: int | None,
                 indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list[SurveyWarning]]:
    """(vcov, the B x q replicate estimates with NaN rows for the failed ones, warnings)."""
    from survey.sem.data.blocks import complete_block
    from survey.sem.estimate.wls import fit_ls

    x = np.asarray(block.raw, float)
    idx = resample_indices(x.shape[0], int(n_boot), seed) if indices is None else np.asarray(indices)
    reps = np.full((idx.shape[0], len(theta)), np.nan)
    for b, rows in enumerate(idx):
        try:
            sub = complete_block(x[rows], list(block.names), [], block.label)
            fit = fit_ls(mg, [sub], estimator, theta)
        except Exception:  # a replicate that cannot be fitted counts as failed, never stops the run
            continue
        if fit.converged and np.all(np.isfinite(fit.theta)):
            reps[b] = fit.theta
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
    parameter, named as :func:`survey.sem.bootstrap.parameter_names`), so that ``estimates()`` shows
    lavaan's se="bootstrap" columns: the bootstrap SEs, z = est / se and the percentile limits
    (lavaan's default ``boot.ci.type = "perc"``)."""
    import pandas as pd

    from survey.sem.bootstrap import parameter_names
    from survey.sem.results.boot import BootstrapResult

    pt = result.partable
    names, _ = parameter_names(pt)
    free = pt["free"].to_numpy()
    rows = {name: [int(r) for r in np.flatnonzero(free == j + 1)] for j, name in enumerate(names)}
    frame = pd.DataFrame(reps, columns=names)
    n_failed = int((~np.all(np.isfinite(reps), axis=1)).sum())
    return BootstrapResult(frame, pd.Series(np.asarray(result.theta, float), index=names), len(reps),
                           n_failed, seed, rows=rows, warnings=list(warnings), partable=pt)
