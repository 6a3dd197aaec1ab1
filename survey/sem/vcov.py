"""Standard errors: inverse of the expected information (lavaan's default for ML, complete data).

Unit (per-observation) expected information of the normal likelihood (Bollen 1989, eq. 4.80):

    I(theta)_kl = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l

    vcov(theta_hat) = I(theta_hat)^-1 / N        (lavaan: information="expected", se="standard")

A (near-)singular information matrix means the model is empirically under-identified; then the
standard errors are NaN and a warning is raised (see :mod:`survey.sem.diagnostics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.data import GroupStats
from survey.sem.estimate import gradient_and_information
from survey.sem.model import RAMModel


@dataclass
class Information:
    """Unit expected information, its inverse over N (vcov), and its condition."""

    information: np.ndarray
    vcov: np.ndarray
    singular: bool
    min_eigenvalue: float


def expected_information(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> np.ndarray:
    """Unit expected information matrix (npar x npar)."""
    _, h = gradient_and_information(model, stats, theta)
    return 0.5 * h


def vcov_expected(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> Information:
    """vcov = I^-1 / N, with a check for singularity (relative eigenvalue < 1e-10)."""
    info = expected_information(model, stats, theta)
    q = info.shape[0]
    if q == 0:
        return Information(info, np.zeros((0, 0)), False, np.inf)
    eig = np.linalg.eigvalsh(info)
    singular = bool(eig[0] <= 1e-10 * max(eig[-1], 1e-300))
    if singular:
        return Information(info, np.full((q, q), np.nan), True, float(eig[0]))
    inv = np.linalg.inv(info)
    return Information(info, (inv + inv.T) / 2.0 / stats.n, False, float(eig[0]))
