"""Step 1 of lavaan's three-stage estimator: ordinal codes and univariate thresholds.

An ordered variable's categories are its sorted distinct observed values (lavaan's ``ov.levels``: the
levels of ``ordered(x)``). Its thresholds are the probit cut points of the marginal proportions
(Olsson 1979, Psychometrika 44; lavaan ``lav_uvord_fit`` without covariates reaches the same closed form):

    tau_k = Phi^-1(P(y <= k)),  k = 1 .. K-1,

each from the cases observed on that variable. The casewise scores of the univariate log-likelihood
``log(Phi(tau_c) - Phi(tau_{c-1}))`` of a case in category c are

    d/d tau_c = phi(tau_c) / p_c,   d/d tau_{c-1} = -phi(tau_{c-1}) / p_c   (0 for a missing case),

the first block of Muthen's (1984) asymptotic covariance (:mod:`survey.sem.ordinal.acov`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from survey.errors import SurveyInputError

_SQRT_2PI = np.sqrt(2.0 * np.pi)


@dataclass
class OrdinalCodes:
    """Ordered variables as codes 0..K-1 (``-1`` missing), with the observed values behind each code."""

    names: list[str]
    codes: np.ndarray  # (N, p) int
    levels: list[np.ndarray]
    weights: np.ndarray | None = None  # sampling weights (lavaan ``sampling.weights``), None: unweighted

    @property
    def w(self) -> np.ndarray:
        """The case weights (ones when unweighted)."""
        return np.ones(self.n) if self.weights is None else self.weights

    @property
    def ncat(self) -> np.ndarray:
        return np.array([len(lv) for lv in self.levels], dtype=int)

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    def complete(self) -> OrdinalCodes:
        """The rows observed on every variable (listwise deletion), categories re-derived from them."""
        keep = (self.codes >= 0).all(axis=1)
        codes = self.codes[keep]
        levels = []
        out = np.empty_like(codes)
        for j, lv in enumerate(self.levels):
            used = np.unique(codes[:, j])
            levels.append(lv[used])
            out[:, j] = np.searchsorted(used, codes[:, j])
        return OrdinalCodes(self.names, out, levels, None if self.weights is None else self.weights[keep])

    def normalized(self, normalization: str = "total") -> OrdinalCodes:
        """Weights rescaled to sum to the number of cases (lavaan's ``sampling.weights.normalization``
        "total" and, for one group, "group"; "none" keeps them)."""
        if self.weights is None or normalization == "none":
            return self
        return OrdinalCodes(self.names, self.codes, self.levels, self.weights * self.n / self.weights.sum())


def encode(data: pd.DataFrame, columns: list[str]) -> OrdinalCodes:
    """Code the ``columns`` of ``data`` as ordered categories (sorted distinct numeric values).

    Raises :class:`SurveyInputError` naming the column for a missing or non-numeric column or one with
    fewer than two observed categories.
    """
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise SurveyInputError(f"ordered variable(s) not found in the data: {', '.join(missing)}",
                               column=missing[0])
    codes = np.full((len(data), len(columns)), -1, dtype=int)
    levels: list[np.ndarray] = []
    for j, name in enumerate(columns):
        col = pd.to_numeric(data[name], errors="coerce")
        bad = col.isna() & data[name].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SurveyInputError("an ordered item must hold numeric category codes", row=row + 1,
                                   column=name, value=str(data[name].iloc[row]))
        values = col.to_numpy(dtype=float)
        ok = np.isfinite(values)
        lv = np.unique(values[ok])
        if lv.size < 2:
            raise SurveyInputError("an ordered item needs at least two observed categories", column=name,
                                   value=int(lv.size))
        codes[ok, j] = np.searchsorted(lv, values[ok])
        levels.append(lv)
    return OrdinalCodes(list(columns), codes, levels)


def univariate_thresholds(codes: OrdinalCodes) -> list[np.ndarray]:
    """Thresholds of each variable from its observed cases: ``Phi^-1`` of the cumulative proportions
    (weighted proportions with sampling weights: the maximum of the weighted univariate likelihood)."""
    out = []
    w = codes.w
    for j, k in enumerate(codes.ncat):
        col = codes.codes[:, j]
        obs = col >= 0
        counts = np.bincount(col[obs], weights=w[obs], minlength=k).astype(float)
        out.append(ndtri(np.cumsum(counts)[:-1] / counts.sum()))
    return out


def extended(taus: list[np.ndarray], kmax: int | None = None) -> np.ndarray:
    """Thresholds padded to ``(p, kmax + 1)``: ``[-inf, tau_1 .. tau_{K-1}, +inf, +inf ...]``."""
    kmax = kmax if kmax is not None else max(len(t) + 1 for t in taus)
    out = np.full((len(taus), kmax + 1), np.inf)
    out[:, 0] = -np.inf
    for j, t in enumerate(taus):
        out[j, 1 : len(t) + 1] = t
    return out


def threshold_scores(codes: OrdinalCodes, taus: list[np.ndarray]) -> np.ndarray:
    """Casewise scores of the univariate log-likelihoods w.r.t. every threshold, (N, sum K_j - 1)."""
    blocks = []
    for j, tau in enumerate(taus):
        col = codes.codes[:, j]
        cdf = np.concatenate([[0.0], ndtr(tau), [1.0]])
        prob = np.diff(cdf)
        dens = np.exp(-tau**2 / 2) / _SQRT_2PI
        sc = np.zeros((col.size, tau.size))
        obs = col >= 0
        c = col[obs]
        p_c = prob[c]
        rows = np.flatnonzero(obs)
        up = c < tau.size  # the case's upper threshold tau_c exists
        sc[rows[up], c[up]] = dens[c[up]] / p_c[up]
        lo = c > 0
        sc[rows[lo], c[lo] - 1] = -dens[c[lo] - 1] / p_c[lo]
        blocks.append(sc)
    return np.hstack(blocks)

