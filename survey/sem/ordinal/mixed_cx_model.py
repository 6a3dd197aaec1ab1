"""The model side of ordered and continuous items given observed covariates x (lavaan ``conditional.x``
with mixed items; lavaan ``lav_model_implied`` / ``lav_model_wls``).

With the RAM moments (mu, Sigma) of (y*, x) — x's (co)variances fixed at their sample values, x's means
at 0 — the implied statistics given x are

    Pi = Sigma_yx Sigma_xx^-1,   Sigma_y|x = Sigma_yy - Pi Sigma_xy,   nu_y|x = mu_y - Pi mu_x,

and the statistics m(theta) = [per item its thresholds (ordered) or ``-nu_y|x`` (continuous), vec(Pi), the
continuous items' ``[Sigma_y|x]_ii``, vech(Delta Sigma_y|x Delta, diagonal = FALSE)] in the layout of
:mod:`survey.sem.ordinal.mixed_cx`. Delta_i = 1 for a continuous item; for an ordered item Delta_i = 1 under
the delta parameterization (its residual variance is then ``1 - explained``) and ``1 / sqrt([Sigma_y|x]_ii)``
under theta, which scales its thresholds and slopes too. The Jacobian follows from the RAM derivatives:
``dPi = (dSigma_yx - Pi dSigma_xx) Sigma_xx^-1``, ``dSigma_y|x = dSigma_yy - dSigma_yx Pi' - Pi dSigma_xy +
Pi dSigma_xx Pi'``, ``dnu = dmu_y - dPi mu_x - Pi dmu_x`` and the chain rule through Delta
(:mod:`survey.sem.ordinal.objective`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.ordinal._engine import RAMModel
from survey.sem.ordinal.objective import Moments, OrdinalStructure
from survey.sem.ordinal.polychoric import pair_index


class MixedConditionalStructure(OrdinalStructure):
    """theta -> the conditional statistics of mixed items (module docstring)."""

    cx_mixed = True

    def __init__(self, partable: pd.DataFrame, nthresholds: list[int], covariates: list[str],
                 numeric: list[str], parameterization: str = "delta"):
        ov = list(RAMModel(partable).ov)
        not_ordered = np.isin(ov, list(covariates) + list(numeric))
        super().__init__(partable, nthresholds, parameterization, not_ordered)
        self.x_idx = np.array([ov.index(v) for v in covariates], dtype=int)
        self.y_idx = np.array([k for k, v in enumerate(ov) if v not in set(covariates)], dtype=int)
        self.q, self.p = self.x_idx.size, self.y_idx.size
        self.numeric = np.isin([ov[k] for k in self.y_idx], list(numeric))
        self.mixed = True
        self.ii, self.jj = pair_index(self.p)
        ordinal = np.flatnonzero(~self.numeric)
        self.th_var = np.repeat(ordinal, self.nth_per)
        sizes = np.ones(self.p, dtype=int)
        sizes[ordinal] = self.nth_per
        start = np.concatenate([[0], np.cumsum(sizes)])
        self.th_slot = np.concatenate([start[v] + np.arange(k)
                                       for v, k in zip(ordinal, self.nth_per, strict=True)]).astype(int)
        self.num_idx = np.flatnonzero(self.numeric)
        self.mean_slot = start[self.num_idx]
        self.nslots = int(start[-1])
        self.nslopes = self.p * self.q
        self.var_slot = self.nslots + self.nslopes + np.arange(self.num_idx.size)
        self.nuni = self.nslots + self.nslopes + self.num_idx.size
        self.nstat = self.nuni + self.ii.size

    def _parts(self, imp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, x = self.y_idx, self.x_idx
        sigma = imp.sigma
        pi = np.linalg.solve(sigma[np.ix_(x, x)], sigma[np.ix_(x, y)]).T  # (p, q)
        cond = sigma[np.ix_(y, y)] - pi @ sigma[np.ix_(x, y)]
        return pi, cond, imp.mean[y] - pi @ imp.mean[x]

    def conditional_sigma(self, t_ram: np.ndarray) -> np.ndarray:
        return self._parts(self.ram.implied(t_ram))[1]

    def _scale(self, cond: np.ndarray) -> np.ndarray:
        scale = np.ones(self.p)
        if self.parameterization == "theta":
            ordinal = ~self.numeric
            scale[ordinal] = 1.0 / np.sqrt(np.diag(cond)[ordinal])
        return scale

    def moments(self, theta: np.ndarray) -> Moments:
        t_ram, tau = self.split(theta)
        pi, cond, nu = self._parts(self.ram.implied(t_ram))
        scale = self._scale(cond)
        var = np.diag(cond)[self.num_idx]
        cond = cond * np.outer(scale, scale)
        if self.parameterization == "delta":
            ordinal = np.flatnonzero(~self.numeric)
            cond[ordinal, ordinal] = 1.0
        uni = np.zeros(self.nslots)
        uni[self.th_slot] = tau * scale[self.th_var]
        uni[self.mean_slot] = -nu[self.num_idx]
        stats = np.concatenate([uni, (pi * scale[:, None]).T.ravel(), var, cond[self.ii, self.jj]])
        return Moments(stats, cond, scale)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        t_ram, tau = self.split(theta)
        imp = self.ram.implied(t_ram)
        d_sigma = self.ram.delta(t_ram, imp)  # (npar_ram, P, P)
        d_mean = self.ram.delta_mean(t_ram, imp)  # (npar_ram, P)
        y, x = self.y_idx, self.x_idx
        pi, cond, _ = self._parts(imp)
        sxx_inv = np.linalg.inv(imp.sigma[np.ix_(x, x)])
        d_yx, d_xx, d_yy = d_sigma[:, y][:, :, x], d_sigma[:, x][:, :, x], d_sigma[:, y][:, :, y]
        d_pi = (d_yx - pi @ d_xx) @ sxx_inv  # (npar_ram, p, q)
        d_cond = d_yy - d_yx @ pi.T - pi @ d_yx.transpose(0, 2, 1) + pi @ d_xx @ pi.T
        d_nu = d_mean[:, y] - d_pi @ imp.mean[x] - d_mean[:, x] @ pi.T
        scale = self._scale(cond)
        half_rel = np.einsum("kii->ki", d_cond) / (2.0 * np.diag(cond))  # d log sqrt(cond_ii)
        if self.parameterization == "delta":
            half_rel = np.zeros_like(half_rel)
        half_rel[:, self.numeric] = 0.0
        r = self.npar_ram
        out = np.zeros((self.nstat, self.npar))
        tau_star = tau * scale[self.th_var]
        out[self.th_slot, :r] = (-tau_star * half_rel[:, self.th_var]).T
        out[self.th_slot, r + np.arange(self.nth)] = scale[self.th_var]
        out[self.mean_slot, :r] = -d_nu[:, self.num_idx].T
        pi_star = pi * scale[:, None]
        d_pi = d_pi * scale[None, :, None] - pi_star[None] * half_rel[:, :, None]
        out[self.nslots : self.nslots + self.nslopes, :r] = d_pi.transpose(0, 2, 1).reshape(r, -1).T
        out[self.var_slot, :r] = d_cond[:, self.num_idx, self.num_idx].T
        rho = cond[self.ii, self.jj] * scale[self.ii] * scale[self.jj]
        out[self.nuni :, :r] = (d_cond[:, self.ii, self.jj] * (scale[self.ii] * scale[self.jj])
                                - rho * (half_rel[:, self.ii] + half_rel[:, self.jj])).T
        return out
