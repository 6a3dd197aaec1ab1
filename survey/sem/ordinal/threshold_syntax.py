"""lavaan's threshold formulas ``item | t1 + t2`` for one group of ordered items.

lavaan syntax (lavaan tutorial, "Thresholds"): ``x1 | a*t1 + t2`` labels the first threshold of x1,
``x1 | 0*t1`` fixes it, ``start(v)*t1`` gives its starting value; thresholds (of several items) sharing a
label are one parameter, and so are those that a simple equality ``a == b`` of two threshold labels ties
(lavaan's equality constraint: the same estimates and df); ``:=`` rows using threshold labels are evaluated
over the RAM and threshold labels (:func:`defined_threshold_rows`). The ordinal parameter vector is
``[RAM parameters, thresholds]`` (:mod:`survey.sem.ordinal.objective`); the tied vector maps onto it
linearly, ``theta = K theta_free + c`` (fixed thresholds in c), so the implied statistics are those of
``theta`` and the Jacobian is ``Delta K`` (the chain rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.ordinal.objective import objective, weighted
from survey.sem.ordinal.optimise import minimise
from survey.sem.syntax.thresholds import ThresholdSpec, check_threshold_spec, split_thresholds

__all__ = ["ThresholdSpec", "TiedStructure", "TiedThresholds", "gauss_newton_tied", "split_thresholds",
           "threshold_rows"]


class TiedThresholds:
    """The map theta_free -> theta = K theta_free + c of thresholds labelled / fixed by ``specs``.

    ``items`` are the ordered items in the order of the thresholds, ``nth`` their numbers of thresholds,
    ``npar_ram`` the count of RAM parameters before them."""

    def __init__(self, specs: list[ThresholdSpec], items: list[str], nth: list[int], npar_ram: int):
        offset = dict(zip(items, np.concatenate([[0], np.cumsum(nth)])[:-1].tolist(), strict=True))
        count = dict(zip(items, nth, strict=True))
        total = npar_ram + int(sum(nth))
        column = list(range(total))  # full index -> key
        self.fixed: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self.labels: dict[int, str] = {}
        by_label: dict[str, int] = {}
        alias = _aliases(getattr(specs, "equalities", []))  # label == label: one parameter (lavaan's ceq)
        for s in (spec.in_group(0, 1) for spec in specs):  # c() vectors: lavaan's error (one group)
            check_threshold_spec(s, count)
            full = npar_ram + offset[s.item] + s.k - 1
            if s.fixed is not None:
                self.fixed[full] = s.fixed
            if s.start is not None:
                self.start[full] = s.start
            if s.label:
                self.labels[full] = s.label
                column[full] = by_label.setdefault(alias.get(s.label, s.label), full)
        keys = [k for i, k in enumerate(column) if i not in self.fixed]
        order = list(dict.fromkeys(keys))
        self.K = np.zeros((total, len(order)))
        for i, k in enumerate(column):
            if i not in self.fixed:
                self.K[i, order.index(k)] = 1.0
        self.c = np.zeros(total)
        for i, v in self.fixed.items():
            self.c[i] = v
        self.first = np.array([int(np.flatnonzero(self.K[:, j])[0]) for j in range(len(order))], dtype=int)

    def expand(self, t: np.ndarray) -> np.ndarray:
        return self.K @ t + self.c

    def reduce(self, theta: np.ndarray) -> np.ndarray:
        out = np.asarray(theta, dtype=float).copy()
        for i, v in self.start.items():
            out[i] = v
        return out[self.first]


def _aliases(equalities: list[tuple[str, str]]) -> dict[str, str]:
    """label -> the representative of its class under the equalities ``a == b`` (union-find)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in equalities:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
    return {x: root(x) for x in parent}


def defined_threshold_rows(structure, theta: np.ndarray, vcov: np.ndarray, table: pd.DataFrame,
                           definitions: list[tuple[str, str]]) -> pd.DataFrame:
    """lavaan's ``:=`` rows over the RAM and threshold labels (:func:`survey.sem.ordinal.estimates.
    defined_rows` with the threshold rows' labels): the expression at the estimates, the delta-method SE
    ``sqrt(J V J')`` with J by central differences in the full vector (V = K V_free K'), and the
    expression at the rows' ``std.lv`` / ``std.all``."""
    from survey.distributions import norm
    from survey.sem.ordinal._engine import DefinedFunction, numerical_jacobian

    ram, npar_ram = structure.ram, structure.npar_ram
    pt = ram.partable[ram.partable["op"] != ":="][["lhs", "op", "rhs", "label"]]
    th = table[table["op"] == "|"][["lhs", "op", "rhs", "label"]]
    ext = pd.concat([pt, th, pd.DataFrame({"lhs": [n for n, _ in definitions], "op": ":=",
                                           "rhs": [e for _, e in definitions], "label": ""})],
                    ignore_index=True).fillna({"label": ""})
    fn = DefinedFunction(ext)
    n_th = len(th)

    def at(t: np.ndarray) -> np.ndarray:
        return fn(np.concatenate([ram.parameter_values(t[:npar_ram]), t[npar_ram:npar_ram + n_th],
                                  np.zeros(len(definitions))]))

    est = at(theta)
    jac = numerical_jacobian(at, theta)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0, None))
    keyed = table.set_index(["lhs", "op", "rhs"])
    keys = list(zip(ext["lhs"], ext["op"], ext["rhs"], strict=True))
    std = {c: fn(np.array([keyed[c].get(k, np.nan) if k[1] != ":=" else 0.0 for k in keys], dtype=float))
           for c in ("std.lv", "std.all")}
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    rows = pd.DataFrame({"lhs": [n for n, _ in definitions], "op": ":=", "rhs": [e for _, e in definitions],
                         "label": [n for n, _ in definitions], "free": 0, "est": est, "se": se, "z": z,
                         "pvalue": 2 * norm.sf(np.abs(z)), "std.lv": std["std.lv"],
                         "std.all": std["std.all"]})
    return pd.concat([table, rows[[c for c in table.columns if c in rows.columns]]], ignore_index=True)


class TiedStructure:
    """An ordinal structure over the free parameters of :class:`TiedThresholds` (delegates the rest)."""

    def __init__(self, inner, tie: TiedThresholds):
        self.inner = inner
        self.tie = tie
        self.npar = tie.K.shape[1]

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def moments(self, t: np.ndarray):
        return self.inner.moments(self.tie.expand(t))

    def jacobian(self, t: np.ndarray) -> np.ndarray:
        return self.inner.jacobian(self.tie.expand(t)) @ self.tie.K


def gauss_newton_tied(structure: TiedStructure, s: np.ndarray, weight: np.ndarray, theta: np.ndarray,
                      ram_restart: np.ndarray) -> tuple[np.ndarray, bool]:
    """:func:`survey.sem.ordinal.fit._gauss_newton` over the free parameters of tied / fixed thresholds."""
    def f(t: np.ndarray) -> float:
        return objective(s - structure.moments(t).stats, weight)

    def pieces(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta = structure.jacobian(t)
        wd = weighted(weight, delta)
        return wd.T @ (s - structure.moments(t).stats), delta.T @ wd

    full = structure.tie.expand(theta)
    restart = structure.tie.reduce(np.concatenate([ram_restart, full[structure.npar_ram:]]))
    out = minimise(f, pieces, theta, restart)
    return out.theta, out.converged


def threshold_rows(table: pd.DataFrame, tie, npar_ram: int) -> pd.DataFrame:
    """Labels of the threshold rows; fixed thresholds without SE (lavaan: free 0, se 0)."""
    table = table.copy()
    rows = np.flatnonzero(table["op"].to_numpy() == "|")
    for q, r in enumerate(rows):
        full = npar_ram + q
        if full in tie.labels:
            table.iloc[r, table.columns.get_loc("label")] = tie.labels[full]
        if full in tie.fixed:
            for col in ("se", "z", "pvalue"):
                if col in table.columns:
                    table.iloc[r, table.columns.get_loc(col)] = 0.0 if col == "se" else np.nan
            for col in ("ci.lower", "ci.upper"):
                if col in table.columns:
                    table.iloc[r, table.columns.get_loc(col)] = tie.fixed[full]
            if "free" in table.columns:
                table.iloc[r, table.columns.get_loc("free")] = 0
    return table
