"""The model chi-square test (lavaan ``test="standard"`` for ML).

T = N * F_ML(theta_hat)       (lavaan uses N, not N - 1, for ML with likelihood="normal")
df = p* - npar,  p* = p(p+1)/2 [+ p with a mean structure] minus the moments of fixed.x covariates
p-value = P(chi2_df > T)
"""

from __future__ import annotations

from dataclasses import dataclass

from survey import distributions as sps


@dataclass
class ChiSquareTest:
    """The standard chi-square test of exact fit."""

    stat: float
    df: int
    pvalue: float


def n_moments(p: int, nx: int, meanstructure: bool) -> int:
    """Number of sample moments the model reproduces (fixed.x moments excluded, as lavaan)."""
    ndat = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if meanstructure:
        ndat += p - nx
    return ndat


def chisq_test(fml: float, n: int, df: int) -> ChiSquareTest:
    """T = N F_ML with its df and upper-tail p-value."""
    stat = float(n * fml)
    stat = max(stat, 0.0) if abs(stat) < 1e-10 else stat
    pvalue = float(sps.chi2.sf(stat, df)) if df > 0 else float("nan")
    return ChiSquareTest(stat, int(df), pvalue)
