"""Model-implied (thresholds, correlations) of an ordinal model and the WLS-family objective.

The latent responses y* of the ordered items follow the continuous model (RAM matrices, implied
Sigma*). lavaan's two parameterizations (Muthen & Asparouhov 2002, Mplus Web Note 4; lavaan
``lav_model_implied`` / ``lav_model_wls``) map Sigma* and the free thresholds tau to the sample
statistics' scale (thresholds of standardized y*, polychoric correlations):

- ``delta`` (default): the scale factors Delta_i = 1 are fixed, the residual variances of the items
  are not free but ``theta_ii = 1 - [Lambda Psi Lambda']_ii``, so diag Sigma* = 1, and
  ``rho_ij = Sigma*_ij``, ``tau*_ik = tau_ik``;
- ``theta``: the residual variances are fixed to 1, Delta_i = 1 / sqrt(Sigma*_ii), and
  ``rho_ij = Delta_i Delta_j Sigma*_ij``, ``tau*_ik = Delta_i tau_ik``.

The parameter vector is ``[RAM parameters, thresholds]``. Objective (Muthen, du Toit & Spisic 1997):

    F(theta) = (s - m(theta))' W (s - m(theta)),

W = Gamma^-1 (WLS), diag(Gamma)^-1 (DWLS) or I (ULS); lavaan's ``fmin`` is (N - 1) / (2 N) F and the
test statistic 2 N fmin = (N - 1) F (``lav_model_objective``). The Jacobian ``Delta = dm/dtheta'``
follows from the RAM derivatives of Sigma* by the chain rule:
d rho_ij = Delta_i Delta_j dSigma_ij - rho_ij (dSigma_ii / 2 Sigma_ii + dSigma_jj / 2 Sigma_jj),
d tau*_ik = Delta_i d tau_ik - tau*_ik dSigma_ii / (2 Sigma_ii).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.sem.ordinal._engine import RAMModel
from survey.sem.ordinal.polychoric import pair_index

PARAMETERIZATIONS = ("delta", "theta")


@dataclass
class Moments:
    """Implied statistics and the pieces the results report."""

    stats: np.ndarray  # [tau* (nth), rho (npairs)]
    sigma: np.ndarray  # implied correlation matrix of y*
    scale: np.ndarray  # Delta_i


class OrdinalStructure:
    """The map theta -> (thresholds, correlations) for one group (see the module docstring)."""

    def __init__(self, partable: pd.DataFrame, nthresholds: list[int], parameterization: str = "delta"):
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
        self.parameterization = parameterization
        self.ram = RAMModel(partable)
        self.p = self.ram.p
        self.nth_per = list(nthresholds)
        self.nth = int(sum(nthresholds))
        self.npar_ram = self.ram.npar
        self.npar = self.npar_ram + self.nth
        self.ii, self.jj = pair_index(self.p)
        self.th_var = np.repeat(np.arange(self.p), self.nth_per)  # variable of each threshold
        self.nstat = self.nth + self.ii.size

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[: self.npar_ram], theta[self.npar_ram :]

    def moments(self, theta: np.ndarray) -> Moments:
        t_ram, tau = self.split(theta)
        sigma = self.ram.implied(t_ram).sigma
        if self.parameterization == "delta":
            scale = np.ones(self.p)
            sigma = sigma.copy()
            sigma[np.diag_indices(self.p)] = 1.0
        else:
            scale = 1.0 / np.sqrt(np.diag(sigma))
            sigma = sigma * np.outer(scale, scale)  # the implied correlation matrix of y*
        rho = sigma[self.ii, self.jj]
        return Moments(np.concatenate([tau * scale[self.th_var], rho]), sigma, scale)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Delta = d m / d theta', (nstat, npar)."""
        t_ram, tau = self.split(theta)
        imp = self.ram.implied(t_ram)
        d_sigma = self.ram.delta(t_ram, imp)  # (npar_ram, p, p)
        out = np.zeros((self.nstat, self.npar))
        if self.parameterization == "delta":
            out[: self.nth, self.npar_ram :] = np.eye(self.nth)
            out[self.nth :, : self.npar_ram] = d_sigma[:, self.ii, self.jj].T
            return out
        var = np.diag(imp.sigma)
        scale = 1.0 / np.sqrt(var)
        rho = imp.sigma[self.ii, self.jj] * scale[self.ii] * scale[self.jj]
        d_var = np.einsum("kii->ki", d_sigma)  # (npar_ram, p)
        half_rel = d_var / (2.0 * var)  # d log sqrt(Sigma_ii)
        d_rho = (d_sigma[:, self.ii, self.jj] * (scale[self.ii] * scale[self.jj])
                 - rho * (half_rel[:, self.ii] + half_rel[:, self.jj]))
        out[self.nth :, : self.npar_ram] = d_rho.T
        tau_star = tau * scale[self.th_var]
        out[: self.nth, : self.npar_ram] = (-tau_star * half_rel[:, self.th_var]).T
        out[: self.nth, self.npar_ram :] = np.diag(scale[self.th_var])
        return out


def objective(resid: np.ndarray, weight: np.ndarray) -> float:
    """F = r' W r for a diagonal (vector) or full weight matrix."""
    if weight.ndim == 1:
        return float(resid @ (weight * resid))
    return float(resid @ weight @ resid)


def weighted(weight: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """W M for a diagonal (vector) or full W."""
    return weight[:, None] * mat if weight.ndim == 1 else weight @ mat


def weight_matrix(gamma: np.ndarray, estimator: str) -> np.ndarray:
    """The estimator's W: Gamma^-1 (WLS, a full matrix), 1 / diag(Gamma) (DWLS) or ones (ULS), as vectors
    for the diagonal ones (lavaan ``lav_samplestats``: ``WLS.V`` / ``WLS.VD``)."""
    if estimator == "WLS":
        return np.linalg.inv(gamma)
    if estimator == "DWLS":
        return 1.0 / np.diag(gamma)
    if estimator == "ULS":
        return np.ones(gamma.shape[0])
    raise ValueError(f"unknown estimator {estimator!r}")
