"""Satorra's (2000) scaled (and shifted) chi-square difference of nested continuous fits: lavaan 0.6.14
``lavTestLRT(method = "satorra.2000")``, its default when the models' test is ``scaled.shifted`` or
``mean.var.adjusted`` (MLMV, MLMVS, WLSMV, ULSMV, WLSMVS, ULSMVS and ``test=``), ``lav_test_diff_Satorra2000``
with ``A.method = "delta"``, ``H1 = TRUE``, ``scaled.shifted = TRUE``.

With M1 the less restricted model (its estimate) and M0 the restricted one (its own estimate), per group g
f_g = N_g / N, Delta_g the Jacobian of the moments in the free parameters, W_g the fit's weight (ML: the
normal h1 information at the implied moments, covariates' rows zero; least squares: the estimator's W),
Gamma_g the sample ADF Gamma (lavaan's NACOV; fixed.x: its fixed.x Gamma), all of M1:

    P = sum_g f_g Delta_g' W_g Delta_g               (the unit expected information of M1)
    H = Delta_1^+ Delta_0,  A: rows spanning the left null space of H (A H = 0)
    M = P^-1 A' (A P^-1 A')^+ A P^-1,   K = sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g
    tr1 = tr(M K),  tr2 = tr((M K)^2),  m = df_0 - df_1
    a = sqrt(m / tr2),  b = m - a tr1,  T_d = a (T_0 - T_1) + b  ~  chi-square(m)

T the standard (unscaled) statistics (Satorra 2000; Asparouhov & Muthen 2006 for the shift). Both the
Jacobians and P are in each model's own parameters; equality labels (group.equal, shared labels) enter
through the map K of free rows to parameters, explicit linear equalities (``a == b``) through a basis of
their null space (lavaan's ``eq.constraints.K``): the test does not depend on that parametrisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from survey.errors import SurveyInputError

SATORRA_2000 = ("scaled.shifted", "mean.var.adjusted")


@dataclass
class Satorra2000:
    """One satorra.2000 difference: the statistic, its df, lavaan's scale ``a`` and shift ``b``."""

    stat: float
    df: float
    a: float
    b: float


def _deltas(result: Any, null_basis: Callable | None) -> list[np.ndarray]:
    """Delta_g of every group in the fit's parameters (times the null-space basis of ``==`` rows,
    ``null_basis(mg, theta)``: survey.sem.results.ls_browne.equality_null_space)."""
    from survey.sem.inference.information import deltas

    ds = deltas(result.mg, np.asarray(result.theta, float))
    if not result.mg.partable["op"].isin(["=="]).any():
        return ds
    if null_basis is None:
        raise SurveyInputError("the satorra.2000 difference test beside explicit equality constraints is not "
                               "available here yet (available: survey.sem.results.lrt.lav_test_lrt)",
                               field="test")
    k_eq = null_basis(result.mg, np.asarray(result.theta, float))
    return ds if k_eq is None else [d @ k_eq for d in ds]


Parts = list[tuple[float, np.ndarray, np.ndarray, np.ndarray]]


def _parts(result: Any, null_basis: Callable | None) -> Parts:
    """(f_g, Delta_g, W_g, Gamma_g) of M1 (module notes)."""
    from survey.sem.inference.ls_robust import _pieces
    from survey.sem.inference.vcov import h1_weight
    from survey.sem.model.moments import block_gamma

    mg, blocks, theta = result.mg, list(result.stats.groups), np.asarray(result.theta, float)
    ds = _deltas(result, null_basis)
    if getattr(result, "least_squares", False):
        return [(f, d, w, g) for (f, _, w, g), d in zip(_pieces(mg, blocks, result.estimator, theta), ds,
                                                        strict=True)]
    n = float(sum(b.n for b in blocks))
    full = mg.k @ theta
    out = []
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, ds, strict=True)):
        imp = ram.implied(mg.local(full, i))
        w = h1_weight(b, imp.sigma, ram.meanstructure)
        out.append((b.n / n, d, w, block_gamma(b, ram.meanstructure)))
    return out


def check_satorra_2000(result: Any) -> None:
    """One-line refusal of the fits this module does not compute
    (:func:`survey.sem.inference.tests.satorra_2000_unavailable`)."""
    from survey.sem.inference.tests import satorra_2000_unavailable

    why = satorra_2000_unavailable(result)
    if why is not None:
        raise SurveyInputError(why[1], field=why[0])


def satorra_2000(free: Any, restricted: Any, null_basis: Callable | None = None) -> Satorra2000:
    """The satorra.2000 difference of ``restricted`` (M0) within ``free`` (M1), fitted results of the same
    data and estimator (module notes); ``null_basis(mg, theta)``: the basis of explicit equalities."""
    for r in (free, restricted):
        check_satorra_2000(r)
    t1, r1 = float(free.pieces.stat), float(free.pieces.df)
    t0, r0 = float(restricted.pieces.stat), float(restricted.pieces.df)
    m = r0 - r1
    if m == 0:
        return Satorra2000(t0 - t1, 0.0, float("nan"), float("nan"))
    from scipy.linalg import null_space

    parts = _parts(free, null_basis)
    d1 = np.vstack([d for _, d, _, _ in parts])
    d0 = np.vstack(_deltas(restricted, null_basis))
    if d1.shape[0] != d0.shape[0]:
        raise SurveyInputError("the models are not nested: they fit different moments (other variables, "
                               "groups or mean structure)", field="models")
    h = np.linalg.pinv(d1) @ d0
    a_mat = null_space(h.T).T
    p = sum(f * d.T @ w @ d for f, d, w, _ in parts)
    p_inv = np.linalg.pinv(p, hermitian=True)
    apa = a_mat @ p_inv @ a_mat.T
    eps = np.finfo(float).eps ** 0.5  # lavaan drops the rows of A with an empty A P^-1 A'
    keep = ~((np.abs(apa.sum(axis=0)) < eps) & (np.abs(apa.sum(axis=1)) < eps))
    a_mat = a_mat[keep]
    m_mat = p_inv @ a_mat.T @ np.linalg.pinv(a_mat @ p_inv @ a_mat.T) @ a_mat @ p_inv
    k_all = sum(f * (w @ d).T @ g @ (w @ d) for f, d, w, g in parts)
    mk = m_mat @ k_all
    tr1, tr2 = float(np.trace(mk)), float(np.sum(mk * mk.T))
    a = float(np.sqrt(m / tr2))
    b = m - a * tr1
    return Satorra2000(float((t0 - t1) * a + b), m, a, float(b))


SCALED_TESTS = ("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus", "mean.var.adjusted",
                "scaled.shifted")


def scaled_test_of(result: Any) -> str | None:
    """The fit's scaled test (lavaan's second ``test`` entry of the Satorra-Bentler or Satorra (2000)
    kind), or None."""
    tests = result.tests() if callable(getattr(result, "tests", None)) else {}
    found = [t for t in tests if t in SCALED_TESTS]
    if not found and "chisq.scaling.factor" in result.fit_measures():  # e.g. a two-stage fit's own test
        return "satorra.bentler"
    return found[0] if found else None


def difference_method(results: list[Any]) -> str:
    """lavaan's ``lavTestLRT(method = "default")``: "standard" when no model has a scaled test,
    "satorra.bentler.2001" when the first model's is of the Satorra-Bentler kind (MLM, MLR, ULSM, WLSM),
    "satorra.2000" for scaled-shifted / mean-and-variance adjusted tests; a saturated model (df 0) may be
    unscaled. Mixed: lavaan's error."""
    scaled = [scaled_test_of(r) for r in results]
    dfs = [float(r.fit_measures()["df"]) for r in results]
    if not any(scaled):
        return "standard"
    if not all(s is not None or d == 0 for s, d in zip(scaled, dfs, strict=True)):
        raise SurveyInputError("lavTestLRT: some models (but not all) have scaled test statistics (lavaan "
                               "0.6.14 refuses it; available: the same estimator and test for all)",
                               field="estimator")
    first = scaled[0] or next(s for s in scaled if s)
    return "satorra.2000" if first in ("mean.var.adjusted", "scaled.shifted") else "satorra.bentler.2001"
