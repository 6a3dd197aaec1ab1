"""The sample statistics of one group of ordered (and continuous) variables: thresholds, polychoric
correlations and their asymptotic covariance Gamma (lavaan ``WLS.obs`` and ``NACOV``; Muthen 1984)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SampleStatistics:
    """Thresholds, polychorics and Gamma of one group (lavaan ``WLS.obs`` and ``NACOV``)."""

    names: list[str]
    thresholds: list[np.ndarray]
    correlations: np.ndarray  # p x p
    gamma: np.ndarray
    nobs: int
    # continuous variables among them (:mod:`survey.sem.ordinal.mixed`): a mask over ``names``, and
    # their means and variances (divisor N)
    numeric: np.ndarray | None = None
    means: np.ndarray | None = None
    variances: np.ndarray | None = None
    # with observed covariates (lavaan conditional.x, :mod:`survey.sem.ordinal.conditional`): the slopes
    # (p, q) after the thresholds in ``wls_obs``, and the covariates' mean and covariance (lavaan's cov.x)
    slopes: np.ndarray | None = None
    x_mean: np.ndarray | None = None
    x_cov: np.ndarray | None = None
    # sampling weights under normalization "none": lavaan's N is their sum (lav_samplestats_from_data)
    weight_sum: float | None = None

    @property
    def mixed(self) -> bool:
        return self.numeric is not None and bool(np.any(self.numeric))

    @property
    def sd(self) -> np.ndarray:
        """SDs of the variables (1 for the ordered ones' latent responses)."""
        out = np.ones(len(self.names))
        if self.mixed:
            out[self.numeric] = np.sqrt(self.variances)
        return out

    @property
    def cov(self) -> np.ndarray:
        """The correlations in the covariance metric of the continuous variables (lavaan ``COV``)."""
        return self.correlations * np.outer(self.sd, self.sd)

    @property
    def wls_obs(self) -> np.ndarray:
        p = len(self.names)
        ii, jj = np.tril_indices(p, -1)
        order = np.lexsort((ii, jj))
        if not self.mixed:
            slopes = [] if self.slopes is None else [self.slopes.T.ravel()]
            return np.concatenate(self.thresholds + slopes + [self.correlations[ii[order], jj[order]]])
        uni, th, mu = [], iter(self.thresholds), iter(-self.means)
        for is_num in self.numeric:
            uni.append(np.array([next(mu)]) if is_num else next(th))
        slopes = [] if self.slopes is None else [self.slopes.T.ravel()]  # mixed items given x (mixed_cx)
        return np.concatenate(uni + slopes + [self.variances, self.cov[ii[order], jj[order]]])
