"""Plain-language warnings about a fit (non-fatal; they travel in ``SEMResult.warnings`` and JSON).

Codes: ``not_converged``, ``sample_not_pd``, ``implied_not_pd``, ``lv_cov_not_pd``, ``heywood``
(negative variance; Heywood 1931, Kolenikov & Bollen 2012), ``std_loading_gt1``, ``not_identified``
(singular information matrix: empirical under-identification, Kenny 1979), ``small_n`` (fewer than
5 cases per free parameter, Bentler & Chou 1987; or N < 100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyWarning

STAGE = "sem"


def _w(code: str, message: str) -> SurveyWarning:
    return SurveyWarning(code, message, STAGE)


def check_sample(cov: np.ndarray, names: list[str], n: int, npar: int) -> list[SurveyWarning]:
    """Sample covariance matrix not positive definite; small N for the number of parameters."""
    out = []
    eig = np.linalg.eigvalsh(cov)
    if eig[0] <= 1e-10 * max(eig[-1], 1e-300):
        const = [v for v, s in zip(names, np.diag(cov), strict=True) if s <= 1e-12]
        detail = (
            f" (no variance in: {', '.join(const)})"
            if const
            else " (some variables are linear combinations of others, or N is below the number of variables)"
        )
        out.append(
            _w(
                "sample_not_pd",
                "The sample covariance matrix is not positive definite"
                + detail
                + "; the chi-square test and fit measures cannot be trusted.",
            )
        )
    if npar > 0 and (n < 5 * npar or n < 100):
        out.append(
            _w(
                "small_n",
                f"Small sample: N = {n} for {npar} free parameters ({n / npar:.1f} cases per "
                "parameter); estimates, standard errors and fit measures may be unstable.",
            )
        )
    return out


def check_convergence(converged: bool, iterations: int, message: str = "") -> list[SurveyWarning]:
    """The optimiser did not reach a stationary point."""
    if converged:
        return []
    extra = f" ({message})" if message else ""
    return [
        _w(
            "not_converged",
            f"The model did not converge after {iterations} iterations{extra}; the results "
            "are not trustworthy. Check the model, starting values and data.",
        )
    ]


def check_implied(
    sigma: np.ndarray, sigma_all: np.ndarray, p: int, lv_names: list[str]
) -> list[SurveyWarning]:
    """Model-implied covariance of the observed (or latent) variables not positive definite."""
    out = []
    if np.linalg.eigvalsh(sigma)[0] <= 0:
        out.append(
            _w(
                "implied_not_pd",
                "The model-implied covariance matrix of the observed variables is not positive definite.",
            )
        )
    if lv_names:
        psi = sigma_all[p:, p:]
        if np.linalg.eigvalsh(psi)[0] <= 0:
            out.append(
                _w(
                    "lv_cov_not_pd",
                    "The covariance matrix of the latent variables is not positive definite "
                    "(e.g. a correlation above 1 between factors, or a negative variance).",
                )
            )
    return out


def check_variances(partable: pd.DataFrame) -> list[SurveyWarning]:
    """Negative variance estimates (Heywood cases)."""
    rows = partable[(partable["op"] == "~~") & (partable["lhs"] == partable["rhs"]) & (partable["est"] < 0)]
    return [
        _w(
            "heywood",
            f"Negative variance estimate for {r.lhs} ({r.est:.3f}): a Heywood case. The model may "
            "be misspecified, over-factored or the sample too small.",
        )
        for r in rows.itertuples(index=False)
    ]


def check_std_loadings(partable: pd.DataFrame, std_all: np.ndarray) -> list[SurveyWarning]:
    """Standardized loadings larger than 1 in absolute value."""
    out = []
    for r, v in zip(partable.itertuples(index=False), std_all, strict=True):
        if r.op == "=~" and np.isfinite(v) and abs(v) > 1:
            out.append(
                _w(
                    "std_loading_gt1",
                    f"Standardized loading of {r.rhs} on {r.lhs} is {v:.3f} (> 1 in absolute "
                    "value): an improper solution.",
                )
            )
    return out


def check_identification(singular: bool) -> list[SurveyWarning]:
    """Singular information matrix."""
    if not singular:
        return []
    return [
        _w(
            "not_identified",
            "The information matrix is singular: the model is (empirically) not identified, "
            "so standard errors cannot be computed. Fix a scale per factor, add indicators or constraints.",
        )
    ]
