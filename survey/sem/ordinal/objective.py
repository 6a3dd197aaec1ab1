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

With continuous variables among them (``numeric``; lavaan's mixed ``WLS.obs``, :mod:`mixed`) the
statistics are [per variable its thresholds or ``-mu_i``, the continuous variances ``Sigma_ii``,
``vech(Delta Sigma Delta, diagonal = FALSE)``], Delta_i = 1 for a continuous variable (its residual
variance and intercept are free parameters) and ``d(-mu) = -F T dm`` (:meth:`RAMModel.delta_mean`).
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

    q = 0  # observed covariates (lavaan conditional.x; :mod:`survey.sem.ordinal.conditional`)

    def __init__(self, partable: pd.DataFrame, nthresholds: list[int], parameterization: str = "delta",
                 numeric: np.ndarray | None = None):
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
        self.parameterization = parameterization
        self.ram = RAMModel(partable)
        self.p = self.ram.p
        self.nth_per = list(nthresholds)  # per ordered variable
        self.nth = int(sum(nthresholds))
        self.npar_ram = self.ram.npar
        self.npar = self.npar_ram + self.nth
        self.ii, self.jj = pair_index(self.p)
        self.numeric = np.zeros(self.p, bool) if numeric is None else np.asarray(numeric, bool)
        self.mixed = bool(self.numeric.any())
        ordinal = np.flatnonzero(~self.numeric)
        self.th_var = np.repeat(ordinal, self.nth_per)  # variable of each threshold
        # univariate statistics: thresholds / -means (one slot per continuous variable), then variances
        sizes = np.ones(self.p, dtype=int)
        sizes[ordinal] = self.nth_per
        slot_start = np.concatenate([[0], np.cumsum(sizes)])[:-1]
        self.th_slot = np.concatenate([slot_start[v] + np.arange(k) for v, k in zip(ordinal, self.nth_per,
                                                                                   strict=True)]
                                      ).astype(int) if ordinal.size else np.zeros(0, int)
        self.num_idx = np.flatnonzero(self.numeric)
        self.mean_slot = slot_start[self.num_idx]
        self.nslots = int(sizes.sum())
        self.nuni = self.nslots + self.num_idx.size
        self.nstat = self.nuni + self.ii.size

    def conditional_sigma(self, t_ram: np.ndarray) -> np.ndarray:
        """The covariance of the items' latent responses whose diagonal the delta map fixes at 1 (the
        implied Sigma*; given the covariates in :mod:`survey.sem.ordinal.conditional`)."""
        return self.ram.implied(t_ram).sigma

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[: self.npar_ram], theta[self.npar_ram :]

    def moments(self, theta: np.ndarray) -> Moments:
        if self.mixed:
            return self._mixed_moments(theta)
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

    def _scales(self, sigma: np.ndarray) -> np.ndarray:
        scale = np.ones(self.p)
        if self.parameterization == "theta":
            ordinal = ~self.numeric
            scale[ordinal] = 1.0 / np.sqrt(np.diag(sigma)[ordinal])
        return scale

    def _mixed_moments(self, theta: np.ndarray) -> Moments:
        t_ram, tau = self.split(theta)
        imp = self.ram.implied(t_ram)
        scale = self._scales(imp.sigma)
        sigma = imp.sigma * np.outer(scale, scale)
        if self.parameterization == "delta":
            ordinal = np.flatnonzero(~self.numeric)
            sigma[ordinal, ordinal] = 1.0
        uni = np.zeros(self.nuni)
        uni[self.th_slot] = tau * scale[self.th_var]
        uni[self.mean_slot] = -imp.mean[self.num_idx]
        uni[self.nslots :] = np.diag(sigma)[self.num_idx]
        return Moments(np.concatenate([uni, sigma[self.ii, self.jj]]), sigma, scale)

    def _mixed_jacobian(self, theta: np.ndarray) -> np.ndarray:
        t_ram, tau = self.split(theta)
        imp = self.ram.implied(t_ram)
        d_sigma = self.ram.delta(t_ram, imp)  # (npar_ram, p, p)
        d_mean = self.ram.delta_mean(t_ram, imp)  # (npar_ram, p)
        scale = self._scales(imp.sigma)
        var = np.diag(imp.sigma)
        half_rel = np.einsum("kii->ki", d_sigma) / (2.0 * var)
        if self.parameterization == "delta":
            half_rel = np.zeros_like(half_rel)
        half_rel[:, self.numeric] = 0.0
        rho = imp.sigma[self.ii, self.jj] * scale[self.ii] * scale[self.jj]
        out = np.zeros((self.nstat, self.npar))
        out[self.nuni :, : self.npar_ram] = (d_sigma[:, self.ii, self.jj] * (scale[self.ii] * scale[self.jj])
                                             - rho * (half_rel[:, self.ii] + half_rel[:, self.jj])).T
        out[self.nslots : self.nuni, : self.npar_ram] = d_sigma[:, self.num_idx, self.num_idx].T
        out[self.mean_slot, : self.npar_ram] = -d_mean[:, self.num_idx].T
        tau_star = tau * scale[self.th_var]
        out[self.th_slot, : self.npar_ram] = (-tau_star * half_rel[:, self.th_var]).T
        out[self.th_slot, self.npar_ram + np.arange(self.nth)] = scale[self.th_var]
        return out

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Delta = d m / d theta', (nstat, npar)."""
        if self.mixed:
            return self._mixed_jacobian(theta)
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
