"""Test statistics of a fit over group blocks (lavaan ``lav_test``): ``standard``, ``satorra.bentler``
and ``yuan.bentler.mplus``.

    standard   T = N F(theta_hat) = sum_g 2 (logl_g,h1 - logl_g),  df = sum_g p*_g - q
               (p*_g the moments of block g without those of the fixed.x covariates)
    satorra.bentler      tr(U Gamma) = sum_g tr(W_g Gamma_g)
                                    - tr(E^-1 sum_g w_g Delta_g' W_g Gamma_g W_g Delta_g)
                         (Satorra & Bentler 1994; W_g at the model-implied moments, expected information)
    yuan.bentler.mplus   tr(U Gamma) = sum_g tr(A1_g^-1 B1_g) - tr(A^-1 B0)
                         (A1_g, B1_g the observed and first-order information of the saturated model
                         of block g,
                         fixed.x elements masked; A, B0 of the model; Yuan & Bentler 2000, the Mplus variant)
    c = tr(U Gamma) / df,  T_scaled = T / c
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.data.blocks import BlockStats, masked_inverse, x_mask
from survey.sem.data.missing_info import h1_expected_information


@dataclass
class ScaledTest:
    """A (scaled) chi-square test (lavaan ``lavInspect(fit, "test")``)."""

    method: str
    stat: float
    df: float
    trace: float
    scaling_factor: float
    scaling_factor_h1: float = float("nan")
    scaling_factor_h0: float = float("nan")
    shift: float = 0.0  # scaled.shifted: T / c + shift
    df_scaled: float | None = None  # mean.var.adjusted: the Satterthwaite df
    trace2: float = float("nan")  # tr((U Gamma)^2)
    robust: ScaledTest | None = None  # the test behind the .robust measures when it is not this one

    @property
    def stat_scaled(self) -> float:
        """T / c (+ shift); at df = 0 the unscaled T, no scaling factor (lavaan ``lav_test_scaled_na``)."""
        return self.stat if self.df <= 0 else self.stat / self.scaling_factor + self.shift

    @property
    def dfs(self) -> float:
        """The reference df of the scaled statistic."""
        return self.df if self.df_scaled is None else self.df_scaled

    @property
    def pvalue_scaled(self) -> float:
        return float(sps.chi2.sf(self.stat_scaled, self.dfs)) if self.df > 0 else float("nan")


def n_moments(p: int, nx: int, meanstructure: bool) -> int:
    """Sample moments a block's model reproduces (fixed.x moments excluded, as lavaan)."""
    ndat = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if meanstructure:
        ndat += p - nx
    return ndat


def pvalue(t: float, df: float) -> float:
    return float(sps.chi2.sf(t, df)) if df > 0 and np.isfinite(t) else float("nan")


def _factor(trace: float, df: float) -> float:
    c = trace / df if df > 0 else float("nan")
    return c if c > 0 else float("nan")


def satorra_bentler(stat: float, df: float, e: np.ndarray, middle: np.ndarray, parts) -> ScaledTest:
    """Satorra-Bentler scaled test from :func:`survey.sem.inference.vcov.sem_pieces`."""
    trace = float(sum(np.sum(w * gamma) for w, gamma in parts))
    if e.size:
        trace -= float(np.sum(np.linalg.inv(e) * middle.T))
    return ScaledTest("satorra.bentler", stat, df, trace, _factor(trace, df))


def h1_trace(blocks: list[BlockStats], meanstructure: bool, expected: bool = False) -> tuple[float, int]:
    """sum_g tr(A1_g^-1 B1_g) and the number of h1 moments it covers; ``expected``: A1_g of a FIML block is
    the missing-data expected information at the EM moments (lavaan, information="expected" with
    h1.information="unstructured": ``lav_mvnorm_missing_information_expected``)."""
    total, ndat = 0.0, 0
    for b in blocks:
        a1, b1 = b.h1_information(meanstructure)
        if expected and b.kind == "fiml":
            a1 = h1_expected_information(b.md, b.cov) / b.n
        mask = x_mask(b.cov.shape[0], b.x_index, meanstructure)
        total += float(np.sum(b1 * masked_inverse(a1, mask).T))
        ndat += int((~mask).sum())
    return total, ndat


def yuan_bentler_mplus(
    stat: float,
    df: float,
    a_inv: np.ndarray,
    b0: np.ndarray,
    blocks: list[BlockStats],
    meanstructure: bool,
    npar_full: int | None = None,
    expected: bool = False,
) -> ScaledTest:
    """Yuan-Bentler (Mplus) scaled test; A^-1 the inverse unit information of the model
    (``scaling.factor.h0`` divides by the free rows before equality constraints, as lavaan); ``expected``:
    the h1 information is expected too (:func:`h1_trace`)."""
    trace_h1, ndat = h1_trace(blocks, meanstructure, expected)
    trace_h0 = float(np.sum(b0 * a_inv.T)) if a_inv.size else 0.0
    trace = trace_h1 - trace_h0
    return ScaledTest(
        "yuan.bentler.mplus",
        stat,
        df,
        trace,
        _factor(trace, df),
        trace_h1 / max(ndat, 1),
        trace_h0 / max(npar_full or a_inv.shape[0], 1),
    )


SATORRA_2000_TESTS = ("scaled.shifted", "mean.var.adjusted")


def lr_difference_unavailable(result: Any) -> tuple[str, str] | None:
    """Why a chi-square difference (LR) test of ``result`` against a nested fit is not given here, as
    (field, reason), or None. Least-squares fits take the standard difference (GLS / ULS / DWLS / WLS) or,
    like ML fits, the Satorra-Bentler (2001) one or Satorra's (2000) for scaled-shifted / mean-and-variance
    adjusted tests (lavTestLRT's defaults; :mod:`survey.sem.results.difference`); refused: Satorra (2000)
    with missing data, sampling weights, clusters or inequality constraints (not available yet)."""
    tests = result.tests() if callable(getattr(result, "tests", None)) else {}
    if any(t in SATORRA_2000_TESTS for t in tests):
        if getattr(result, "parts", None) is not None and hasattr(result, "test_list"):
            return None  # an ordinal fit: survey.sem.ordinal.difftest
        if not hasattr(result, "mg") or not hasattr(result, "stats"):
            return "test", ("the LR test of these fits needs lavaan's satorra.2000 difference, not available "
                            "yet for them (available: continuous items)")
        return satorra_2000_unavailable(result)
    return None


def satorra_2000_unavailable(result: Any) -> tuple[str, str] | None:
    """Why the satorra.2000 difference (:mod:`survey.sem.results.difference`) of ``result`` is not given, as
    (field, reason), or None: it needs complete data (lavaan's Gamma), no sampling weights or clusters, no
    inequality constraints and the expected information (not available yet otherwise)."""
    blocks = list(result.stats.groups)
    if any(b.kind != "complete" or getattr(b, "wt", None) is not None or getattr(b, "cluster", None)
           is not None for b in blocks) or getattr(result, "missing", "listwise") != "listwise":
        return "test", ("the satorra.2000 difference test with missing data, sampling weights or clusters "
                        "is not available yet (available: complete data)")
    if result.mg.partable["op"].isin(["<", ">"]).any():
        return "test", ("the satorra.2000 difference test beside inequality constraints is not available "
                        "yet (available: equality constraints)")
    se_options = getattr(result, "se_options", None)
    if se_options and se_options[1] not in ("expected", None):
        return "information", (f"the satorra.2000 difference test with information={se_options[1]!r} is "
                               "not available yet (available: expected)")
    return None


def check_sb2001_difference(*results: Any) -> None:
    """Refuse an LR difference test that :func:`lr_difference_unavailable` rules out (one-line error)."""
    for r in results:
        why = lr_difference_unavailable(r)
        if why is not None:
            raise SurveyInputError(why[1], field=why[0])
