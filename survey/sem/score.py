"""Score (Lagrange multiplier) tests of equality constraints (lavaan's ``lavTestScore()``, univariate part).

The constrained fit is re-expressed in the unconstrained parameters theta_full (one per free row of every
group), with the equality constraints R theta_full = 0, R (m x q_full) holding one row
``theta_full[a] - theta_full[b]`` per constraint (the first row of a shared parameter against each other
row, as lavaan's ``.p2. == .p38.``). With s the gradient of lavaan's fmin = F/2 at the constrained
estimate and I the unit expected information, both in theta_full, the statistic for releasing constraint r
while keeping the others is (Satorra 1989; Rosseel 2012):

    Z_r = [[I, R_(-r)'], [R_(-r), 0]],   T_r = N s' [Z_r^+]_(1:q_full, 1:q_full) s  ~  chi2(1)

(Z^+ the Moore-Penrose inverse, as lavaan's ``MASS::ginv``).

References: Satorra, A. (1989). Alternative test criteria in covariance structure analysis: A unified
approach. *Psychometrika, 54*, 131-151. Rosseel (2012), lavaan, *J Stat Softw 48*(2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.inference.information import full_space_information

if TYPE_CHECKING:
    from survey.sem.results.result import SEMResult as MultiGroupResult


@dataclass
class ScoreTest:
    """lavTestScore: the total test, the univariate tests and the expected parameter changes."""

    total: dict[str, float]
    uni: pd.DataFrame
    epc: np.ndarray


def score_test(score: np.ndarray, information: np.ndarray, r: np.ndarray, n: int) -> ScoreTest:
    """Total and univariate score tests of ``R theta = 0`` (pure: unit score and information)."""
    q, m = len(score), r.shape[0]

    def stat(rr: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.block([[information, rr.T], [rr, np.zeros((rr.shape[0], rr.shape[0]))]])
        p11 = np.linalg.pinv(z)[:q, :q]
        return float(n * score @ p11 @ score), p11

    total, p11 = stat(np.zeros((0, q)))  # all constraints released: Z = I
    df = int(np.linalg.matrix_rank(r))
    uni = []
    for k in range(m):
        t, _ = stat(np.delete(r, k, axis=0))
        uni.append({"X2": t, "df": 1, "p.value": float(sps.chi2.sf(t, 1))})
    return ScoreTest({"X2": total, "df": df, "p.value": float(sps.chi2.sf(total, df))}, pd.DataFrame(uni),
                     -(p11 @ score))


def equality_constraints(pt: pd.DataFrame) -> pd.DataFrame:
    """One row per equality constraint: the two parameter-table rows it ties (``row.a`` first)."""
    rows = pt[(pt["free_full"] > 0) & (pt["op"] != ":=")]
    out = []
    for _, part in rows.groupby("free", sort=True):
        if len(part) < 2:
            continue
        first = part.index[0]
        for other in part.index[1:]:
            out.append(
                dict(
                    row_a=int(first),
                    row_b=int(other),
                    full_a=int(pt.at[first, "free_full"]),
                    full_b=int(pt.at[other, "free_full"]),
                )
            )
    return pd.DataFrame(out, columns=["row_a", "row_b", "full_a", "full_b"])


def score_statistics(
    grad: np.ndarray, info: np.ndarray, k: np.ndarray, cons: pd.DataFrame, n: int
) -> np.ndarray:
    """T_r for every constraint r, computed in the parameterization that releases r.

    Releasing constraint r between the full parameters a and b adds the direction e_b to the constrained
    model's parameterization K: [K, e_b] spans the null space of R_(-r), so lavaan's
    [Z_r^+]_11 = [K, e_b] (M)^-1 [K, e_b]' with M = [[A, c], [c', d]], A = K' I K, c = K' I e_b,
    d = I_bb. By the partitioned inverse (one inverse of A for all constraints), with g0 = K' s,
    v = A^-1 c and the Schur complement h = d - c' v:

        T_r = N (g0' A^-1 g0 + (s_b - g0' v)^2 / h)

    (g0 = 0 at the exact constrained optimum, so T_r = N s_b^2 / h, the form of a modification index).
    When releasing r leaves the model not identified (h ~ 0), lavaan 0.6.14's own route:
    T_r = N s' [Z_r^+]_11 s with Z_r = [[I, R_(-r)'], [R_(-r), 0]] and Z^+ its Moore-Penrose inverse
    (MASS::ginv, tolerance sqrt(eps) times the largest singular value), R's rows e_a - e_b (``cons`` then
    needs ``full_a``).
    """
    a = k.T @ info @ k
    a_inv = np.linalg.pinv(a, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
    g0 = k.T @ grad
    base = float(g0 @ a_inv @ g0)
    out = np.empty(len(cons))
    for pos, b in enumerate(cons["full_b"].to_numpy() - 1):
        c = k.T @ info[:, b]
        v = a_inv @ c
        schur = float(info[b, b] - c @ v)
        if schur <= 1e-10 * max(float(info[b, b]), 1e-300):  # releasing r: not identified (docstring)
            out[pos] = _bordered(grad, info, cons, pos, n)
            continue
        out[pos] = n * (base + (grad[b] - float(g0 @ v)) ** 2 / schur)
    return out


def _bordered(grad: np.ndarray, info: np.ndarray, cons: pd.DataFrame, r: int, n: float) -> float:
    """lavaan's ``N s' [Z_r^+]_11 s`` with the bordered information (:func:`score_statistics`)."""
    if "full_a" not in cons:
        return float("nan")
    q = info.shape[0]
    keep = [j for j in range(len(cons)) if j != r]
    rmat = np.zeros((len(keep), q))
    for row, j in enumerate(keep):
        rmat[row, int(cons["full_a"].iloc[j]) - 1] += 1.0
        rmat[row, int(cons["full_b"].iloc[j]) - 1] -= 1.0
    z = np.block([[info, rmat.T], [rmat, np.zeros((len(keep), len(keep)))]])
    z_plus = np.linalg.pinv(z, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)[:q, :q]
    return float(n * grad @ z_plus @ grad)


def unshared_single_block(mg, block, theta: np.ndarray):
    """The single-block model with one parameter per free row (lavaan's parameterization before its
    ``==`` rows): (that model, theta_full, K with theta_full = K theta, the constraints in its numbering).
    The engine's single-block model shares a label's rows in one parameter (K = I there)."""
    from survey.sem.model.blocks import MultiGroupModel

    pt = mg.partable.copy()
    rows = (pt["free"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="])
    shared = pt.loc[rows, "free"].to_numpy().astype(int)
    pt.loc[rows, "free"] = np.arange(1, int(rows.sum()) + 1)
    pt.loc[rows, "free_full"] = pt.loc[rows, "free"]
    pt.loc[rows, "label"] = ""  # the RAM model would share labelled rows again
    full_mg = MultiGroupModel.from_partable(pt, mg.models[0].names)
    full_mg.models[0].set_exogenous(block.cov, block.mean)
    k = np.zeros((len(shared), mg.npar))
    k[np.arange(len(shared)), shared - 1] = 1.0
    cons = equality_constraints(mg.partable.assign(free_full=pt["free_full"]))
    return full_mg, k @ theta, k, cons


def _unstructured_full(mg, blocks, theta_full: np.ndarray) -> np.ndarray:
    """missing = "two.stage": the expected information in theta_full weighted at the blocks' (EM) moments,
    sum_g w_g L_g' Delta_g' W(S_g) Delta_g L_g (lavaan's h1.information "unstructured" of two-stage fits, as
    :func:`survey.sem.results.mg_modindices.unstructured_score_information`)."""
    from survey.sem.inference.information import _summed
    from survey.sem.model.moments import h1_information, moments_jacobian

    def block_information(ram, block, theta):
        d = moments_jacobian(ram, theta, mg.meanstructure)
        return d.T @ h1_information(np.asarray(block.cov), mg.meanstructure) @ d

    return _summed(block_information, mg, blocks, theta_full)


def equality_score_tests(result: MultiGroupResult, information: str = "expected") -> pd.DataFrame:
    """Univariate score tests of every equality constraint of a multi-group fit, with the unit
    ``information`` "expected" (lavaan ``lavTestScore``'s default, also with missing data: the
    missing-data expected information) or "observed".

    Columns: ``lhs op rhs group.a group.b X2 df p.value source`` (``source``: ``group_equal`` for the
    constraints ``group_equal`` adds, which ``group_partial`` can release; ``label`` for shared user labels),
    sorted as the constraints (parameter order). Matches lavaan's ``lavTestScore(fit)$uni``.
    """
    mg, stats = result.mg, result.stats
    pt = mg.partable
    cons = equality_constraints(pt)
    cols = ["lhs", "op", "rhs", "group.a", "group.b", "X2", "df", "p.value", "source"]
    if (pt["op"] == "==").any():  # explicit (possibly nonlinear) constraints: lavaan's con.jac route
        return constraint_score_test(result, information)[1]
    if cons.empty:
        return pd.DataFrame(columns=cols)
    if information not in ("expected", "observed"):
        raise SurveyInputError("information must be 'expected' or 'observed'", value=information,
                               field="information")
    if len(mg.models) == 1:  # one block shares a label's rows in one parameter: take them apart
        full_mg, theta_full, k, cons = unshared_single_block(mg, stats.groups[0], result.theta)
    else:
        full_mg, theta_full, k = mg, result.theta_full, mg.k
    s, info = full_space_information(full_mg, stats.groups, theta_full, information == "observed")
    if getattr(result, "two_stage", None) is not None and information == "expected":
        info = _unstructured_full(full_mg, stats.groups, theta_full)
    x2 = score_statistics(s, info, k, cons, stats.ntotal)
    a = pt.loc[cons["row_a"]]
    b = pt.loc[cons["row_b"]]
    return pd.DataFrame(
        {
            "lhs": a["lhs"].to_numpy(),
            "op": a["op"].to_numpy(),
            "rhs": a["rhs"].to_numpy(),
            "group.a": a["group"].to_numpy().astype(int),
            "group.b": b["group"].to_numpy().astype(int),
            "X2": x2,
            "df": 1,
            "p.value": sps.chi2.sf(x2, 1),
            "source": b["eqsource"].to_numpy(),
        }
    )


def _full_space(result):
    """(the model with one parameter per free row, theta_full, K with theta_full = K theta, the label
    constraints) of a fit (:func:`unshared_single_block` for one block)."""
    mg, stats = result.mg, result.stats
    if len(mg.models) == 1:
        return unshared_single_block(mg, stats.groups[0], result.theta)
    return mg, result.theta_full, mg.k, equality_constraints(mg.partable)


def explicit_equalities(result, k: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``==`` rows of the table and their Jacobian in theta_full (lavaan's ``con.jac`` rows): h(theta)
    is evaluated through the labels, each label being its first row's parameter (lavaan's ``.pN.``)."""
    from survey.sem.results.values import values_at
    from survey.sem.standardize import numerical_jacobian
    from survey.sem.syntax.constraint_rows import constraint_functions

    mg = result.mg
    rows = mg.partable[mg.partable["op"] == "=="]
    out = np.zeros((len(rows), k.shape[0]))
    if rows.empty:
        return rows, out
    eq, _, _, _ = constraint_functions(mg.partable, lambda t: values_at(mg, t))
    jac = numerical_jacobian(eq, np.asarray(result.theta, dtype=float))
    out[:, np.argmax(k > 0.5, axis=0)] = jac
    return rows, out


def constraint_score_test(result, information: str = "expected"):
    """lavaan's ``lavTestScore(fit)`` with every equality constraint, explicit (``a == b^2``, ``a == 2*b -
    0.5``) and shared labels / group_equal (``.pX. == .pY.``): R stacks the constraints' Jacobian rows in
    theta_full (explicit rows first, as lavaan lists them), the total test N s' [Z^+]_11 s with Z = I (every
    constraint released) on rank(R) df and the univariate test of each constraint with the others kept,
    N s' [Z_r^+]_11 s, Z_r = [[I, R_-r'], [R_-r, 0]] (Satorra 1989; lavaan ``lav_test_score``, MASS::ginv).
    Returns (:class:`survey.sem.results.lrt.ScoreTest`, the univariate table of
    :func:`equality_score_tests`)."""
    if information not in ("expected", "observed"):
        raise SurveyInputError("information must be 'expected' or 'observed'", value=information,
                               field="information")
    full_mg, theta_full, k, cons = _full_space(result)
    rows, explicit = explicit_equalities(result, k)
    labels = np.zeros((len(cons), k.shape[0]))
    for pos, (a, b) in enumerate(zip(cons["full_a"], cons["full_b"], strict=True)):
        labels[pos, int(a) - 1], labels[pos, int(b) - 1] = 1.0, -1.0
    s, info = full_space_information(full_mg, result.stats.groups, theta_full, information == "observed")
    test = score_test(s, info, np.vstack([explicit, labels]), result.stats.ntotal)
    pt = result.mg.partable
    a, b = pt.loc[cons["row_a"]], pt.loc[cons["row_b"]]
    plabel = pt["plabel"] if "plabel" in pt else pd.Series([f".p{i + 1}." for i in range(len(pt))], pt.index)
    table = pd.DataFrame({
        "lhs": [*rows["lhs"], *a["lhs"]], "op": "==", "rhs": [*rows["rhs"], *a["rhs"]],
        "group.a": [0] * len(rows) + list(a["group"].astype(int)),
        "group.b": [0] * len(rows) + list(b["group"].astype(int)),
        "X2": test.uni["X2"].to_numpy(), "df": 1, "p.value": test.uni["p.value"].to_numpy(),
        "source": ["constraint"] * len(rows) + list(b["eqsource"])})
    table.loc[len(rows):, "op"] = a["op"].to_numpy()
    test.uni.insert(0, "lhs", [*rows["lhs"], *plabel.loc[cons["row_a"]]])
    test.uni.insert(1, "op", "==")
    test.uni.insert(2, "rhs", [*rows["rhs"], *plabel.loc[cons["row_b"]]])
    return test, table
