"""Reliability of ordinal (Likert) items: ordinal alpha, categorical omega, and AVE both ways.

Plain inputs (a polychoric matrix, an ordinal CFA's estimates and thresholds), so this stage needs
nothing from ``survey.sem``; the polychorics and the CFA come from :mod:`survey.sem.ordinal`.

- ordinal alpha (Zumbo, Gadermann & Zeisser 2007, J Mod Appl Stat Methods 6): Cronbach's alpha of the
  polychoric correlation matrix R of the k items, ``k / (k - 1) (1 - k / sum(R))`` (psych ``alpha(R)``'s
  ``raw_alpha`` on a correlation matrix);
- categorical omega (Green & Yang 2009, Psychometrika 74; semTools ``compRelSEM`` with ordered items):
  the reliability of the sum of the observed category scores,

      omega = sum_jj' sum_cc' [Phi2(tau_jc, tau_j'c', C_jj') - Phi(tau_jc) Phi(tau_j'c')]
              / sum_jj' sum_cc' [Phi2(tau_jc, tau_j'c', R_jj') - Phi(tau_jc) Phi(tau_j'c')],

  C = Lambda Psi Lambda' the common part of the latent responses' correlations, R their total
  correlations (the polychorics, semTools' ``obs.var = TRUE``, or the model-implied ones, ``FALSE``), with
  ``Phi2(a, b, 1) = Phi(min(a, b))`` on the diagonal;
- AVE as semTools ``AVE()`` (0.5-6): explained over total model-implied indicator variance,
  ``sum lambda^2 psi / sum (lambda^2 psi + theta)``; and Fornell & Larcker's (1981) mean squared
  completely standardized loading. With ordered items under the delta parameterization (var y* = 1)
  the two coincide; with continuous items they differ, so each table names the one it shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, owens_t


def ordinal_alpha(polychoric: pd.DataFrame | np.ndarray) -> float:
    """Ordinal alpha of the items whose polychoric correlation matrix is given."""
    r = np.asarray(polychoric, dtype=float)
    k = r.shape[0]
    return float(k / (k - 1) * (1 - k / r.sum()))


def _pbinorm(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """P(X < h, Y < k) on the grid of two items' finite thresholds, by Owen's (1956) T function:

        Phi2(h, k, rho) = [Phi(h) + Phi(k)] / 2 - T(h, a_h) - T(k, a_k) - beta,
        a_h = (k - rho h) / (h s), a_k = (h - rho k) / (k s), s = sqrt(1 - rho^2),
        beta = 1/2 if h k < 0 or (h k = 0 and h + k < 0), else 0;

    rho = 1 gives Phi(min(h, k)), h = k = 0 gives 1/4 + asin(rho) / (2 pi) (Sheppard)."""
    h, k = np.meshgrid(np.asarray(a, float), np.asarray(b, float), indexing="ij")
    if rho >= 1.0 - 1e-12:
        return ndtr(np.minimum(h, k))
    s = np.sqrt(1.0 - rho * rho)
    h0 = np.where(h == 0, 1e-300, h)
    k0 = np.where(k == 0, 1e-300, k)
    t = owens_t(h, (k - rho * h) / (h0 * s)) + owens_t(k, (h - rho * k) / (k0 * s))
    beta = np.where((h * k < 0) | ((h * k == 0) & (h + k < 0)), 0.5, 0.0)
    out = (ndtr(h) + ndtr(k)) / 2 - t - beta
    return np.where((h == 0) & (k == 0), 0.25 + np.arcsin(rho) / (2 * np.pi), out)


def _sum_score_covariance(thresholds: list[np.ndarray], cor: np.ndarray) -> float:
    """Var of the summed category scores implied by latent correlations ``cor`` (Green & Yang eq. 21)."""
    total = 0.0
    k = len(thresholds)
    for j in range(k):
        for jp in range(k):
            t1, t2 = np.asarray(thresholds[j]), np.asarray(thresholds[jp])
            joint = _pbinorm(t1, t2, float(cor[j, jp])).sum()
            total += joint - ndtr(t1).sum() * ndtr(t2).sum()
    return total


def categorical_omega(loadings: np.ndarray, psi: float, thresholds: list[np.ndarray],
                      total_cor: np.ndarray) -> float:
    """Green & Yang's (2009) categorical omega of one factor's ordered items (module docstring).

    ``loadings`` on the latent-response metric of a delta-parameterized ordinal CFA, ``psi`` the factor
    variance, ``thresholds`` the items' thresholds, ``total_cor`` the items' latent correlations.
    """
    lam = np.asarray(loadings, dtype=float)
    common = np.outer(lam, lam) * float(psi)
    np.fill_diagonal(common, lam**2 * float(psi))
    total = np.array(total_cor, dtype=float)
    np.fill_diagonal(total, 1.0)
    return float(_sum_score_covariance(thresholds, common) / _sum_score_covariance(thresholds, total))


def ave_semtools(loadings: np.ndarray, psi: float, residual_variances: np.ndarray) -> float:
    """semTools ``AVE()``: sum lambda^2 psi / sum (lambda^2 psi + theta) (model-implied variances)."""
    lam = np.asarray(loadings, dtype=float)
    explained = lam**2 * float(psi)
    return float(explained.sum() / (explained + np.asarray(residual_variances, dtype=float)).sum())


def ave_fornell_larcker(std_loadings: np.ndarray) -> float:
    """Fornell & Larcker (1981): the mean squared completely standardized loading."""
    return float(np.mean(np.asarray(std_loadings, dtype=float) ** 2))


def ordinal_reliability(estimates: pd.DataFrame, polychoric: pd.DataFrame, thresholds: dict[str, np.ndarray],
                        implied: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per factor of an ordinal CFA: ``n_items``, ``alpha_ordinal``, ``omega_categorical`` (total correlations
    = the polychorics, or ``implied`` when given), ``ave_semtools`` and ``ave_fornell_larcker``.

    ``estimates``: lavaan-named rows (``lhs op rhs est std.all``) of a delta-parameterized fit with one
    loading per item; ``polychoric``: the items' polychoric matrix (labelled); ``thresholds``: item -> its
    thresholds.
    """
    est = estimates.set_index(["lhs", "op", "rhs"])
    loads = estimates[estimates["op"] == "=~"]
    total = polychoric if implied is None else implied
    rows = {}
    for factor, block in loads.groupby("lhs", sort=False):
        items = list(block["rhs"])
        lam = block["est"].to_numpy(dtype=float)
        psi = float(est.loc[(factor, "~~", factor), "est"])
        theta = np.array([float(est.loc[(i, "~~", i), "est"]) for i in items])
        rows[factor] = {
            "n_items": len(items),
            "alpha_ordinal": ordinal_alpha(polychoric.loc[items, items]),
            "omega_categorical": categorical_omega(lam, psi, [thresholds[i] for i in items],
                                                   total.loc[items, items].to_numpy()),
            "ave_semtools": ave_semtools(lam, psi, theta),
            "ave_fornell_larcker": ave_fornell_larcker(block["std.all"].to_numpy(dtype=float)),
        }
    return pd.DataFrame(rows).T
