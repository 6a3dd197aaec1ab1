"""``vcov()`` and ``vcov_std()`` of a multi-group ordinal fit (:mod:`survey.sem.ordinal.multigroup`), as
lavaan 0.6.14's ``vcov(fit)`` and ``lavInspect(fit, "vcov.std.all")``.

lavaan keeps one free parameter per free row of its table (``ceq.simple = FALSE``) and ties the shared
ones (``group.equal``, a label in several groups, ``a == b``) by equality constraints; its ``vcov()`` has a
row for every free row, in the table's order (group 1's rows, then group 2's, ...): the row's label, else
``lhs op rhs`` with ``.gG`` for groups g > 1, and for rows that ``group.equal`` ties lavaan's parameter
label ``.pK.`` (K: lavaan's table row of the first of them). lavaan's table has each group's user rows first,
the threshold formulas' terms among them (after the other user rows, as the formulas follow the model's
lines here), then the other thresholds (:func:`lavaan_order`). Our fit estimates the shared parameters once,
theta_full = K theta, so this covariance is ``K V K'`` (the constrained covariance of the full vector,
its rows of tied parameters equal), and ``vcov.std.all`` is ``J K V K' J'`` with J the central-difference
Jacobian of each free row's ``std.all`` (Rao 1973, 6a.2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def lavaan_order(fit) -> np.ndarray:
    """The rows of ``fit.parameter_table`` in lavaan's table order: per group the rows before its first
    threshold (the user rows), the threshold formulas' terms in their order, the other rows as they are."""
    pt = fit.parameter_table
    terms = {term: k for k, term in enumerate(getattr(fit, "user_thresholds", None) or [])}
    ops, groups = pt["op"].to_numpy(), pt["group"].to_numpy(dtype=int)
    keys = []
    for r in range(len(pt)):
        g = groups[r] if ops[r] != ":=" else 10**9
        before = not ((groups == g) & (ops == "|"))[:r].any() and ops[r] != "|"
        term = terms.get((pt["lhs"].iat[r], pt["rhs"].iat[r])) if ops[r] == "|" else None
        keys.append((g, 0 if before else 1 if term is not None else 2, term if term is not None else r))
    return np.array(sorted(range(len(pt)), key=keys.__getitem__), dtype=int)


def free_rows(fit) -> tuple[np.ndarray, list[str]]:
    """Positions in ``fit.parameter_table`` of its free rows (lavaan's order) and lavaan's ``vcov()``
    names for them."""
    pt = fit.parameter_table
    free = pt["free"].to_numpy(dtype=int)
    order = lavaan_order(fit)
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    rows = np.array([r for r in order if free[r] > 0 and pt["op"].iat[r] != ":="], dtype=int)
    first: dict[int, int] = {}
    count: dict[int, int] = {}
    for r in rows:
        first.setdefault(int(free[r]), int(rank[r]))
        count[int(free[r])] = count.get(int(free[r]), 0) + 1
    names = []
    for r in rows:
        row = pt.iloc[r]
        group = int(row["group"])
        if row["label"]:
            names.append(str(row["label"]))
        elif count[int(free[r])] > 1:  # tied by group.equal: lavaan's parameter label of the first row
            names.append(f".p{first[int(free[r])] + 1}.")
        else:
            names.append(f"{row['lhs']}{row['op']}{row['rhs']}" + (f".g{group}" if group > 1 else ""))
    return rows, names


def group_vcov(fit) -> pd.DataFrame:
    """lavaan's ``vcov(fit)`` of a multi-group ordinal fit (module docstring)."""
    rows, names = free_rows(fit)
    at = fit.parameter_table["free"].to_numpy(dtype=int)[rows] - 1
    return pd.DataFrame(fit.vcov_matrix[np.ix_(at, at)], index=names, columns=names)


def group_vcov_std(fit) -> pd.DataFrame:
    """lavaan's ``lavInspect(fit, "vcov.std.all")`` of a multi-group ordinal fit (module docstring)."""
    from survey.sem.ordinal._engine import numerical_jacobian

    rows, names = free_rows(fit)
    jac = numerical_jacobian(lambda t: fit._std_all_at(t)[rows], fit.theta)
    out = jac @ fit.vcov_matrix @ jac.T
    return pd.DataFrame((out + out.T) / 2.0, index=names, columns=names)
