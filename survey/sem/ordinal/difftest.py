"""Scaled (and shifted) chi-square difference test of nested multi-group ordinal fits (WLSMV).

lavaan's ``lavTestLRT`` for a scaled-shifted test uses Satorra's (2000) method (``method =
"satorra.2000"``, ``A.method = "delta"``; Asparouhov & Muthen 2006 for the mean-and-variance adjustment):
with the free model's Jacobians Delta_g, DWLS weights W_g, Gammas Gamma_g and group fractions f_g,

    H = Delta_1^+ Delta_0,   A' a basis of the orthogonal complement of H's columns (A H = 0),
    P = sum_g f_g Delta_g' W_g Delta_g,   M = P^-1 A' (A P^-1 A')^+ A P^-1,
    K = sum_g f_g (W_g Delta_g)' Gamma_g (W_g Delta_g),
    tr1 = tr(M K),  tr2 = tr((M K)^2),   m = df_0 - df_1,
    a = sqrt(m / tr2),  b = m - a tr1,   T_d = a (T_0 - T_1) + b  ~ chi-square(m),

T the models' standard (unscaled) statistics (lavaan ``lav_test_diff_Satorra2000``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from survey.distributions import chi2
from survey.errors import SurveyInputError
from survey.sem.ordinal.objective import weighted


@dataclass
class DiffTest:
    """One scaled difference test (lavaan ``lavTestLRT``'s ``Chisq diff``, ``Df diff``, ``Pr(>Chisq)``)."""

    stat: float
    df: int
    pvalue: float
    a: float
    b: float


def satorra_2000(free, restricted) -> DiffTest:
    """The scaled-shifted difference test of ``restricted`` (H0) within ``free`` (H1), both
    :class:`~survey.sem.ordinal.multigroup.GroupFit` of the same data (module docstring)."""
    t1, r1 = free.test_list[0].stat, free.test_list[0].df
    t0, r0 = restricted.test_list[0].stat, restricted.test_list[0].df
    m = int(r0 - r1)
    if m <= 0:
        raise SurveyInputError("the restricted model must have more degrees of freedom than the free one",
                               value=m, field="models")
    jacs, weights, gammas, fg = free.parts
    d1, d0 = np.vstack(jacs), np.vstack(restricted.parts[0])
    h = np.linalg.pinv(d1) @ d0
    a_mat = null_space(h.T).T  # rows orthogonal to H's columns
    p_inv = np.linalg.inv(sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True)))
    apa = a_mat @ p_inv @ a_mat.T
    m_mat = p_inv @ a_mat.T @ np.linalg.pinv(apa) @ a_mat @ p_inv
    k_all = sum(f * weighted(w, j).T @ g @ weighted(w, j)
                for f, w, j, g in zip(fg, weights, jacs, gammas, strict=True))
    mk = m_mat @ k_all
    tr1, tr2 = float(np.trace(mk)), float(np.sum(mk * mk.T))
    a = float(np.sqrt(m / tr2))
    b = m - a * tr1
    stat = (t0 - t1) * a + b
    return DiffTest(float(stat), m, float(chi2.sf(stat, m)), a, b)
