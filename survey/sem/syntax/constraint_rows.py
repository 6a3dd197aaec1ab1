"""The constraint rows of a parameter table (``==``, ``<``, ``>``) as functions of the parameters: lavaan's
``ceq.function`` h(theta) = lhs - rhs and ``cin.function`` g(theta) >= 0 (``lav_partable_constraints_ceq``,
``lav_partable_constraints_ciq``), evaluated through the table's labels and ``:=`` rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from survey.sem.syntax.defined import DefinedFunction


def constraint_functions(partable: pd.DataFrame, values_of: Callable[[np.ndarray], np.ndarray]):
    """h(theta) (``==``) and g(theta) >= 0 (``>``, ``<``) of the table's constraint rows, and the rows."""
    rows = partable[partable["op"].isin(["==", "<", ">"])]
    exprs = []
    for r in rows.itertuples(index=False):
        exprs.append(f"({r.rhs})-({r.lhs})" if r.op == "<" else f"({r.lhs})-({r.rhs})")
    table = partable[partable["op"] != ":="].copy()
    extra = pd.DataFrame({"lhs": [f".con{i}." for i in range(len(exprs))], "op": ":=", "rhs": exprs,
                          "label": "", "free": 0})
    defined = partable[partable["op"] == ":="]
    func = DefinedFunction(pd.concat([table[["lhs", "op", "rhs", "label", "free"]],
                                      defined[["lhs", "op", "rhs", "label", "free"]], extra],
                                     ignore_index=True))
    n_model, n_def = len(table), len(defined)
    is_eq = (rows["op"] == "==").to_numpy()

    def slack(theta: np.ndarray) -> np.ndarray:
        values = np.concatenate([values_of(theta)[:n_model], np.zeros(n_def + len(exprs))])
        return func(values)[n_def:]

    eq = (lambda t: slack(t)[is_eq]) if is_eq.any() else None
    ineq = (lambda t: slack(t)[~is_eq]) if (~is_eq).any() else None
    return eq, ineq, slack, rows
