"""residuals() of a continuous least-squares fit (GLS / ULS / DWLS / WLS), as lavaan 0.6.14 gives them
(tests/fixtures/language/make_ls_residuals.R).

lavaan's sample statistics for these estimators have divisor N - 1: with S that covariance matrix,

* ``raw``, ``cor`` (``cor.bollen``), ``cor.bentler``: as :mod:`survey.sem.results.residuals`, from S;
* ``normalized``: raw / sqrt(diag(Gamma) / N), Gamma the normal-theory Gamma of S under GLS and the ADF
  Gamma of the data under WLS (the estimator's own W^-1);
* ``standardized``: raw / sqrt(diag ACOV), ACOV = Q Gamma Q' / N with Q = I - Delta (Delta' W Delta)^-1
  Delta' W (Browne 1984); residuals with zero variance are 0.

Under ULS and DWLS lavaan refuses both of the last two ("could not invert h1 information matrix"): so do
we, with its reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.results import residuals as res_mod


def ls_residuals(result, kind: str) -> list:
    """``residuals(fit, type = kind)`` of an LSResult: one :class:`survey.sem.results.residuals.Residuals`."""
    from survey.sem.estimate.wls import gamma_adf, sample_cov, weight_matrix
    from survey.sem.results.ls_modindices import require_single_block

    require_single_block(result, "residuals")
    block = result.stats.groups[0]
    n = block.n
    ram = result.mg.models[0]
    imp = ram.implied(result.theta)
    s = sample_cov(block)  # divisor N - 1; weighted: lavaan's weighted S
    names = list(ram.ov)
    if kind == "raw":
        cov = res_mod.raw(s, imp.sigma)[0]
    elif kind in ("cor", "cor.bollen"):
        cov = res_mod.cor_bollen(s, imp.sigma)[0]
    elif kind == "cor.bentler":
        cov = res_mod.cor_bentler(s, imp.sigma)[0]
    else:
        if result.estimator in ("ULS", "DWLS"):
            raise SurveyInputError(f"{kind} residuals are not available with estimator {result.estimator}: "
                                   "lavaan 0.6.14 'could not invert h1 information matrix' (available: raw, "
                                   "cor, cor.bentler; or estimator GLS / WLS)", field="type", value=kind)
        p = s.shape[0]
        rows, cols = res_mod._vech_index(p)
        gamma = res_mod.gamma_nt(s, False) if result.estimator == "GLS" else gamma_adf(block.raw, False)
        e = (s - imp.sigma)[rows, cols]
        if kind == "normalized":
            var = np.diag(gamma) / n
        else:
            w = weight_matrix(result.estimator, block)
            d = ram.delta(result.theta, imp)[:, rows, cols].T
            q = np.eye(len(rows)) - d @ np.linalg.solve(d.T @ w @ d, d.T @ w)
            var = np.diag(q @ gamma @ q.T) / n
        scale = np.sqrt(np.abs(var))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(var > 1e-14, e / np.where(scale > 0, scale, 1.0), 0.0)
        cov = res_mod._unvech(z, p)
    return [res_mod.Residuals(pd.DataFrame(cov, index=names, columns=names), None)]
