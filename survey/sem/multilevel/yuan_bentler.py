"""lavaan's ``test = "yuan.bentler"`` of a two-level ML or MLR fit (``lav_test_yuan_bentler`` with
``lav_test_yuan_bentler_trace``; Yuan & Bentler 2000): the scaling c = tr(U Gamma) / df with

    U = A1 - A1 Delta E^-1 Delta' A1,   E = Delta' A1 Delta,   Gamma = A1u^-1 B1u A1u^-1,

over the saturated two-level model's moments (:class:`.h1.SaturatedModel`, fixed.x moments left out):
A1 its observed information at the model-implied moments (lavaan's observed.information = "h1" with
h1.information = "structured" for the tests, so E is recomputed from it), Delta the Jacobian of the
implied moments, A1u / B1u the observed and first-order (cluster scores) information at the EM h1 moments
(lavaan's omega.information = "observed", omega.h1.information = "unstructured"). The scaled statistic
is chisq / c (NA when c < 0, as lavaan); scaling.factor.h1 = tr(B1u A1u^-1) / h1.ndat, scaling.factor.h0
= tr(B0 E^-1) / npar, B0 the model's cluster-score cross-product (``Delta' B1 Delta``).
"""

from __future__ import annotations

import numpy as np

from survey.sem.multilevel.estimate import numeric_hessian
from survey.sem.multilevel.robust import RobustPieces, _flatten, _free_h1, _jacobian, cluster_moment_scores


def _first_order(sm, m, st, keep: np.ndarray, theta1: np.ndarray) -> np.ndarray:
    """Cross-product of the saturated model's cluster scores at the moments ``m``."""
    jac1 = _jacobian(lambda t: _flatten(sm.moments(t)), theta1)[:, keep]
    s1 = -0.5 * cluster_moment_scores(m, st) @ jac1
    return s1.T @ s1


def yuan_bentler_pieces(tl, theta: np.ndarray, sat, x_within: list[str], x_between: list[str],
                        df: float, jacobian: np.ndarray | None = None,
                        expected: bool = False) -> RobustPieces:
    """The Yuan-Bentler scaling of a two-level fit at ``theta`` (``jacobian``: explicit constraints, E^-1
    then the augmented inverse as lavaan's; ``expected``: information = "expected", A1 and A1u the
    expected h1 information, lavaan's omega.information = "expected"). ``vcov`` of the result is not used
    (the SEs are the fit's)."""
    from survey.sem.inference.vcov import augmented_inverse
    from survey.sem.multilevel.h1 import SaturatedModel
    from survey.sem.multilevel.information import expected_information

    def info(t):
        return expected_information(sm.moments, st, t) if expected else 0.5 * numeric_hessian(sm.gradient, t)

    st = tl.st
    sm = SaturatedModel(st, tl.y_both)
    keep = _free_h1(sm, st, tl, x_within, x_between)
    theta_u = sm.pack(sat.moments)
    a1u = info(theta_u)[np.ix_(keep, keep)]
    b1u = _first_order(sm, sat.moments, st, keep, theta_u)
    a1u_inv = np.linalg.inv(a1u)
    gamma = a1u_inv @ b1u @ a1u_inv
    m0 = tl.moments(theta)[0]
    theta_s = sm.pack(m0)
    a1 = info(theta_s)[np.ix_(keep, keep)]
    delta = _jacobian(lambda t: sm.pack(tl.moments(t)[0]), theta)[keep]
    e = delta.T @ a1 @ delta
    e_inv = np.linalg.inv(e) if jacobian is None or not len(jacobian) else augmented_inverse(e, jacobian)
    ade = a1 @ delta
    u = a1 - ade @ e_inv @ ade.T
    trace = float(np.sum(u * gamma.T))
    b1 = _first_order(sm, m0, st, keep, theta_s)
    trace_h0 = float(np.sum((delta.T @ b1 @ delta) * e_inv.T))
    trace_h1 = float(np.sum(b1u * a1u_inv.T))
    scaling = trace / df if df > 0 else float("nan")
    if scaling < 0:  # lavaan: a negative scaling factor is NA
        scaling = float("nan")
    return RobustPieces(np.full((theta.size,) * 2, np.nan), scaling, trace_h1, trace_h0, int(keep.sum()))
