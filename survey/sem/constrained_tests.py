"""The test= options of a fit under explicit constraints (:mod:`survey.sem.constrained`), as lavaan 0.6.14
computes them there: every inverse information is the augmented one (``lav_model_information_augment_invert``,
:func:`survey.sem.inference.vcov.augmented_inverse` with J the Jacobian of the equality and active inequality
constraints).

- ML with a scaled test on FIML data (yuan.bentler, yuan.bentler.mplus): lavaan's observed.information = "h1"
  for the tests, E_h1 with the observed h1 weight (:mod:`survey.sem.inference.observed_sem`), augmented.
- A second test (MLR + satorra.bentler / yuan.bentler, MLM + scaled.shifted / mean.var.adjusted, MLM with
  information = "observed"): as :func:`survey.sem.inference.adjusted.second_test` with the augmented inverse.
- Browne's residual tests (``lav_test_browne``): Delta times K, a basis of the null space of the linear
  equality constraints' Jacobian (lavaan's ``eq.constraints.K``); inequality constraints do not enter;
  nonlinear equality constraints are refused with lavaan's own message; inequality and equality
  constraints together are refused (lavaan then sets ``eq.constraints`` FALSE and leaves the equalities
  out of Delta, a column per free row, which this engine's shared parameters do not reproduce).

Tests: tests/fixtures/language/make_constraints_tests.R.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from survey.errors import SurveyInputError
from survey.sem.inference.vcov import augmented_inverse


def requested_under_constraints(test: str, stat: float, df: float, result, theta: np.ndarray,
                                jacobian: np.ndarray, e_inv: np.ndarray, b0: np.ndarray | None):
    """ML's test= (survey.sem.inference.adjusted.requested_test) at the constrained estimate; ``e_inv`` the
    augmented inverse of the fit's information (complete data)."""
    from survey.sem.inference import information as infmod
    from survey.sem.inference.adjusted import requested_test

    mg, blocks = result.mg, result.stats.groups
    if b0 is None and test == "yuan.bentler.mplus":
        b0 = infmod.first_order(mg, blocks, theta)
    weight = None
    if result.missing != "listwise":  # lavaan's observed.information = "h1" for the tests (FIML)
        from survey.sem.inference.observed_sem import h1_structured_information, observed_h1_weight

        e_inv = augmented_inverse(h1_structured_information(mg, blocks, theta), jacobian)
        weight = observed_h1_weight
    d = infmod.deltas(mg, theta)
    return requested_test(test, stat, df, mg, blocks, theta, d, e_inv, b0, weight=weight)


def second_under_constraints(second: str, result, theta: np.ndarray, jacobian: np.ndarray,
                             equality: tuple[np.ndarray, bool, bool], df: float, stat: float,
                             observed_h1: bool) -> dict[str, float]:
    """lavaan's second entry of ``test`` at the constrained estimate (module notes); ``equality``: the
    Jacobian of the ``==`` constraints, whether they are all linear, and whether there are inequality
    constraints (Browne's tests)."""
    from survey.sem.inference.adjusted import BROWNE, as_dict, browne_test, requested_test
    from survey.sem.inference.information import deltas as all_deltas
    from survey.sem.inference.information import expected

    mg, blocks = result.mg, result.stats.groups
    d = all_deltas(mg, theta)
    if second in BROWNE:
        jac_eq, linear, inequality = equality
        pt = mg.partable
        shared = pt.loc[(pt["free"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="]), "free"].duplicated().any()
        if inequality and (shared or jac_eq.shape[0]):
            raise SurveyInputError(f"test={second!r} with inequality and equality constraints together is "
                                   "not available yet (lavaan 0.6.14 then leaves the equalities out of "
                                   "Browne's Delta; available: Browne's test with either kind alone, or the "
                                   "other test= options)", field="test", value=second)
        if jac_eq.shape[0] and not linear:
            raise SurveyInputError("Browne's test is not available (yet) when nonlinear equality "
                                   "constraints are involved (lavaan 0.6.14's reason; available: the other "
                                   "test= options)", field="test", value=second)
        if jac_eq.shape[0]:
            k = linalg.null_space(jac_eq)
            d = [dg @ k for dg in d]
        return browne_test(second, mg, blocks, theta, d, df, lineq=bool(jac_eq.shape[0]) or None)
    weight = None
    if observed_h1:
        from survey.sem.inference.observed_sem import h1_structured_information, observed_h1_weight

        info, weight = h1_structured_information(mg, blocks, theta), observed_h1_weight
    else:
        info = expected(mg, blocks, theta)
    e_inv = augmented_inverse(info, jacobian)
    return as_dict(requested_test(second, stat, df, mg, blocks, theta, d, e_inv, weight=weight))


def robust_sem_pieces(mg, blocks, theta: np.ndarray, jacobian: np.ndarray, a: np.ndarray, observed: bool):
    """robust.sem under constraints: (vcov x N, the Satorra-Bentler trace); ``observed``: lavaan's observed
    information and observed h1 weight (:func:`survey.sem.inference.observed_sem.robust_sem_observed`),
    the trace on E_h1 = sum_g f_g Delta_g' W_g Delta_g; else the expected information."""
    from survey.sem.inference import information as infmod
    from survey.sem.inference import vcov as vcmod

    n = sum(b.n for b in blocks)
    d = infmod.deltas(mg, theta)
    if observed:
        from survey.sem.inference.observed_sem import sem_pieces_observed

        e, middle, parts = sem_pieces_observed(mg, blocks, theta, d, a)
        e_test = sum(b.n / n * dg.T @ w @ dg for b, dg, (w, _) in zip(blocks, d, parts, strict=True))
    else:
        e, middle, parts = vcmod.sem_pieces(mg, blocks, theta, d)
        e_test = e
    e_inv = augmented_inverse(e, jacobian)
    e_inv_test = e_inv if e_test is e else augmented_inverse(e_test, jacobian)
    trace = float(sum(np.sum(w * gamma) for w, gamma in parts)) - float(np.sum(e_inv_test * middle.T))
    return e_inv @ middle @ e_inv, trace
