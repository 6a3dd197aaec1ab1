"""Labels and equalities of the parameter table (lavaan's ``lav_partable_labels`` and the equality part
of ``lavaanify``): every row's equality label (user label, else ``lhs op rhs`` with ``.gG`` in group G, tied
across groups by ``group_equal`` unless in ``group_partial``); rows sharing a label are one parameter
(fixed if one of them is fixed; else ``.pX. == .pY.`` rows, or one shared ``free`` number with
``ceq_simple``); ``label1 == label2`` between free labels merged under ``ceq_simple``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survey.sem.syntax.parse import Formula

if TYPE_CHECKING:
    from survey.sem.syntax.table import VariableNames


def auto_labels(pt: pd.DataFrame, ngroups: int, names: VariableNames, opt: dict) -> list[str]:
    """lavaan's ``lav_partable_labels``: user label, else ``lhs op rhs`` (+ ``.gG``), group.equal ties."""
    label = [f"{a}{o}{b}" for a, o, b in zip(pt["lhs"], pt["op"], pt["rhs"], strict=True)]
    group = pt["group"].to_numpy()
    label = [lab if g == 1 else f"{lab}.g{g}" for lab, g in zip(label, group, strict=True)]
    ge = set(opt["group_equal"])
    if ngroups > 1 and ge:
        op, lhs, rhs = pt["op"], pt["lhs"], pt["rhs"]
        g1 = pt["group"] == 1
        flag = pd.Series(False, index=pt.index)
        nox, lv = names.ov_nox, names.lv
        var = lhs == rhs
        rules = {
            "loadings": op == "=~",
            "composite.loadings": op == "<~",
            "intercepts": (op == "~1") & lhs.isin(nox),
            "means": (op == "~1") & lhs.isin(lv),
            "regressions": op == "~",
            "residuals": (op == "~~") & lhs.isin(nox) & var,
            "residual.covariances": (op == "~~") & lhs.isin(nox) & ~var,
            "lv.variances": (op == "~~") & lhs.isin(lv) & var,
            "lv.covariances": (op == "~~") & lhs.isin(lv) & ~var,
        }
        for key, mask in rules.items():
            if key in ge:
                flag |= mask & g1
        partial = {p.replace(" ", "") for p in opt["group_partial"]}
        flag &= ~pd.Series([lab in partial for lab in label], index=pt.index)
        keys = list(zip(lhs, op, rhs, strict=True))
        first = {keys[i]: i for i in pt.index[flag]}
        for i in pt.index[~g1]:
            ref = first.get(keys[i])
            if ref is not None:
                label[i] = label[ref]
    return [u if u else a for u, a in zip(pt["label"], label, strict=True)]


def equalities(pt: pd.DataFrame, label: list[str], ceq_simple: bool) -> tuple[list[dict], np.ndarray]:
    """Rows sharing a LABEL are equal: fixed if one of them is fixed, else ``==`` rows or one free number."""
    eq_id = np.full(len(pt), -1)
    rows: list[dict] = []
    groups: dict[str, list[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(lab, []).append(i)
    for idx in (v for v in groups.values() if len(v) > 1):
        ref = idx[0]
        for bound, pick in (("lower", min), ("upper", max)):
            if bound in pt:
                finite = [pt.at[i, bound] for i in idx if np.isfinite(pt.at[i, bound])]
                if finite:
                    pt.loc[idx, bound] = pick(finite)
        fixed = [i for i in idx if pt.at[i, "free"] == 0]
        if fixed:
            pt.loc[idx, "ustart"] = pt.at[fixed[0], "ustart"]
            pt.loc[idx, "free"] = 0
            continue
        eq_id[idx] = ref
        for i in idx:
            if not pt.at[i, "label"]:
                pt.at[i, "label"] = pt.at[ref, "plabel"]
        if ceq_simple:
            pt.loc[idx[1:], "free"] = 0
        else:
            rows += [dict(lhs=pt.at[ref, "plabel"], op="==", rhs=pt.at[o, "plabel"], user=2) for o in idx[1:]]
    return rows, eq_id


def simple_merge(pt: pd.DataFrame, cons: list[Formula]) -> tuple[dict[str, str], list[Formula]]:
    """ceq_simple: ``label1 == label2`` between two free labels ties them into one parameter (an alias
    label2 -> label1 of the equality labels; the table's labels stay as written)."""
    alias: dict[str, str] = {}
    rest = []
    labels = set(pt["label"]) - {""}

    def root(lab: str) -> str:
        while lab in alias:
            lab = alias[lab]
        return lab

    for f in cons:
        if f.op == "==" and f.lhs in labels and f.rhs in labels:
            a, b = root(f.lhs), root(f.rhs)
            free_a = (pt.loc[pt["label"] == f.lhs, "free"] > 0).all()
            free_b = (pt.loc[pt["label"] == f.rhs, "free"] > 0).all()
            if free_a and free_b:
                if a != b:
                    alias[b] = a
                continue
        rest.append(f)
    return {lab: root(lab) for lab in alias}, rest
