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

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey.sem.multigroup import mg_gradient_information_full

if TYPE_CHECKING:
    from survey.sem.mgresult import MultiGroupResult


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

    With K the expansion of the constrained model (theta_full = K theta), releasing constraint r between
    the full parameters a and b gives K_r = [K with row b detached, e_b]; K_r spans the null space of
    R_(-r), so lavaan's [Z_r^+]_11 = K_r (K_r' I K_r)^+ K_r' (Rao's score test in the released model):

        T_r = N s' K_r (K_r' I K_r)^+ K_r' s
    """
    out = np.empty(len(cons))
    for pos, b in enumerate(cons["full_b"].to_numpy() - 1):
        kr = np.hstack([k, np.zeros((k.shape[0], 1))])
        kr[b, :] = 0.0
        kr[b, -1] = 1.0
        g = kr.T @ grad
        info_r = kr.T @ info @ kr
        out[pos] = float(
            n * g @ np.linalg.pinv(info_r, rcond=np.sqrt(np.finfo(float).eps), hermitian=True) @ g
        )
    return out


def equality_score_tests(result: MultiGroupResult) -> pd.DataFrame:
    """Univariate score tests of every equality constraint of a multi-group fit.

    Columns: ``lhs op rhs group.a group.b X2 df p.value source`` (``source``: ``group_equal`` for the
    constraints ``group_equal`` adds, which ``group_partial`` can release; ``label`` for shared user labels),
    sorted as the constraints (parameter order). Matches lavaan's ``lavTestScore(fit)$uni``.
    """
    mg, stats = result.mg, result.stats
    pt = mg.partable
    cons = equality_constraints(pt)
    cols = ["lhs", "op", "rhs", "group.a", "group.b", "X2", "df", "p.value", "source"]
    if cons.empty:
        return pd.DataFrame(columns=cols)
    grad, hess = mg_gradient_information_full(mg, stats, result.theta_full)
    s, info = 0.5 * grad, 0.5 * hess
    x2 = score_statistics(s, info, mg.k, cons, stats.ntotal)
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
