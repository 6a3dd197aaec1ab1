"""Step 3: the asymptotic covariance Gamma of (thresholds, polychoric correlations), Muthen (1984).

Muthen (1984, Psychometrika 49) and Muthen & Satorra (1995), as lavaan's ``muthen1984``: stack the
casewise scores of the univariate threshold likelihoods (step 1) and of the pairs' likelihoods in rho
(step 2), ``SC = [SC_th | SC_rho]`` (N rows; 0 where a case is missing on the variable or pair), and

    INNER = SC' SC,     B = | A11   0  |,   A11 = the per-variable blocks of SC_th' SC_th,
                            | A21  A22 |    A22 = diag(SC_rho' SC_rho),
                                            A21[ij, tau] = sum_cases sc_rho,ij * d log pi_ij / d tau,

    Gamma = N B^-1 INNER B^-T

With sampling weights w (lavaan ``muthen1984`` with ``wt``): INNER = sum_i w_i^2 sc_i sc_i', the blocks of B
are the weighted sums ``sum_i w_i ...`` (A21 from the weighted cell counts), N the number of cases.

(the sandwich of the stacked estimating equations; ``lavInspect(fit, "gamma")``). ``d log pi / d tau``
uses ``d Phi2(a, b) / d a = phi(a) Phi((b - rho a) / sqrt(1 - rho^2))``. The statistics are ordered
as lavaan's ``WLS.obs``: all thresholds variable by variable, then :func:`pair_index` correlations.
"""

from __future__ import annotations

import numpy as np

from survey.sem.ordinal.bivariate import dpbinorm_da
from survey.sem.ordinal.polychoric import pair_index, pair_model, pair_tables
from survey.sem.ordinal.thresholds import OrdinalCodes, extended, threshold_scores


def _threshold_positions(taus: list[np.ndarray]) -> list[np.ndarray]:
    """Columns of each variable's thresholds in the stacked threshold vector."""
    out, start = [], 0
    for t in taus:
        out.append(np.arange(start, start + t.size))
        start += t.size
    return out


def _dtau_cells(lower: np.ndarray, upper: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """E[p, m, l] = d pi_{m-1,l}/d tau_m (first variable's threshold m, 1..K-1, cell column l); the
    cell below the threshold (row m) gets ``-E``. Shape (npairs, K+1, K)."""
    da = dpbinorm_da(lower[:, :, None], upper[:, None, :], rho[:, None, None])  # (npairs, K+1, K+1)
    return da[:, :, 1:] - da[:, :, :-1]


def gamma(codes: OrdinalCodes, taus: list[np.ndarray], rho: np.ndarray) -> np.ndarray:
    """Gamma (N times the asymptotic covariance) of ``[thresholds, correlations]`` (module docstring)."""
    n, p = codes.codes.shape
    kmax = int(codes.ncat.max())
    ext = extended(taus, kmax)
    ii, jj = pair_index(p)
    npairs = ii.size
    model = pair_model(ext, rho)
    occupied = model.prob > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_rho = np.where(occupied, model.dprob / model.prob, 0.0)  # d log pi / d rho per cell
    # casewise rho scores
    ci, cj = codes.codes[:, ii], codes.codes[:, jj]  # (N, npairs)
    both = (ci >= 0) & (cj >= 0)
    pairs = np.broadcast_to(np.arange(npairs), ci.shape)
    sc_rho = np.where(both, cell_rho[pairs, np.maximum(ci, 0), np.maximum(cj, 0)], 0.0)
    sc_th = threshold_scores(codes, taus)
    scores = np.hstack([sc_th, sc_rho])
    w = codes.w
    inner = scores.T @ (w[:, None] ** 2 * scores)
    hessian = inner if codes.weights is None else scores.T @ (w[:, None] * scores)  # B's blocks
    nth = sc_th.shape[1]
    # A11: per-variable blocks; A22: diagonal
    pos = _threshold_positions(taus)
    a11 = np.zeros((nth, nth))
    for cols in pos:
        a11[np.ix_(cols, cols)] = hessian[np.ix_(cols, cols)]
    a22 = np.diag(hessian)[nth:].copy()
    # A21 from the cell counts: sum_cells n_kl (d log pi / d rho)(d log pi / d tau)
    counts = pair_tables(codes, kmax)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(occupied, counts * cell_rho / model.prob, 0.0)  # (npairs, K, K)
    a21 = np.zeros((npairs, nth))
    e_first = _dtau_cells(model.lower, model.upper, rho)  # first variable's thresholds
    e_second = _dtau_cells(model.upper, model.lower, rho)  # second variable's (transposed tables)
    gt = g.transpose(0, 2, 1)
    for which, e, gg in ((ii, e_first, g), (jj, e_second, gt)):
        # d pi_kl / d tau_m = E[m, l] (k = m - 1) - E[m, l] (k = m), m = 1 .. K-1
        contrib = (e[:, 1:-1, :] * (gg[:, :-1, :] - gg[:, 1:, :])).sum(axis=2)  # (npairs, K-1)
        for q in range(npairs):
            cols = pos[which[q]]
            a21[q, cols] = contrib[q, : cols.size]
    a11_inv = np.linalg.inv(a11)
    with np.errstate(divide="ignore"):
        a22_inv = np.where(a22 > 0, 1.0 / a22, 0.0)
    b_inv = np.zeros((nth + npairs, nth + npairs))
    b_inv[:nth, :nth] = a11_inv
    b_inv[nth:, nth:] = np.diag(a22_inv)
    b_inv[nth:, :nth] = -(a22_inv[:, None] * a21) @ a11_inv
    return n * (b_inv @ inner @ b_inv.T)

