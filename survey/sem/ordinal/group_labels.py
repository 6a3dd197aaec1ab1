"""Labels of a multi-group ordinal model (:mod:`survey.sem.ordinal.multigroup`): simple equality
constraints ``a == b`` between labelled free parameters across groups, and defined parameters ``:=``.

lavaan 0.6.14 imposes ``a == b`` by an equality constraint on its free parameters; a linear constraint
between two free parameters gives the same estimates, SEs and df as one parameter for both rows (the
parameter table's ``free`` of both rows is one number, :func:`survey.sem.syntax.lavaanify`; here both labels
get one global key, :func:`label_aliases`). Other constraints (``a == 2*b``, ``a > 0``) are refused.

A defined parameter ``name := expression`` is evaluated at the estimates over the labels (the global
parameter of each label), with the delta-method SE ``sqrt(J V J')`` (J by central differences; lavaan
``lav_model_vcov_se`` via ``def.function``), and at the labelled rows' ``std.lv`` / ``std.all`` (lavaan's
``parameterEstimates(standardized = TRUE)`` evaluates the expression at the standardized values); its rows
have group 0, as lavaan's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.distributions import norm
from survey.errors import SurveyInputError
from survey.sem.ordinal._engine import DefinedFunction, lavaanify, numerical_jacobian


def full_table(model: str, levels) -> pd.DataFrame:
    """lavaan's multi-group table of ``model`` (simple ``==`` already merged into one ``free``)."""
    return lavaanify(model, meanstructure=True, ngroups=len(levels), group_labels=[str(v) for v in levels])


def label_aliases(full: pd.DataFrame, threshold_equalities=()) -> dict[str, str]:
    """label -> the first label of its parameter (rows sharing ``free`` in ``full``; threshold labels tied
    by ``a == b`` of threshold formulas too); other constraint rows are refused in one line."""
    other = full[full["op"].isin(["==", "<", ">"])]
    if len(other):
        r = other.iloc[0]
        raise SurveyInputError(f"the constraint '{r.lhs} {r.op} {r.rhs}' with ordered items and group= is "
                               "not available yet (available: label1 == label2 between free parameters)",
                               field="model")
    first: dict[int, str] = {}
    out: dict[str, str] = {}
    for free, label in zip(full["free"].to_numpy(dtype=int), full["label"], strict=True):
        if free > 0 and label:
            out[label] = first.setdefault(int(free), label)
    from survey.sem.ordinal.threshold_syntax import _aliases

    for label, root in _aliases(list(threshold_equalities)).items():
        out[label] = out.get(root, root)
    return out


def definitions(full: pd.DataFrame, thresholds) -> list[tuple[str, str]]:
    """The model's ``:=`` rows as (name, expression), in order (those of threshold formulas: all of them)."""
    moved = list(getattr(thresholds, "definitions", None) or [])
    if moved:
        return moved
    rows = full[full["op"] == ":="]
    return list(zip(rows["lhs"], rows["rhs"], strict=True))


def _function(labels: list[str], defs: list[tuple[str, str]]) -> DefinedFunction:
    """The definitions over a vector [one value per label, then one slot per definition]."""
    ext = pd.DataFrame({"lhs": labels + [n for n, _ in defs],
                        "op": ["lab"] * len(labels) + [":="] * len(defs),
                        "rhs": [""] * len(labels) + [e for _, e in defs], "label": labels + [""] * len(defs)})
    return DefinedFunction(ext)


def defined_rows(defs: list[tuple[str, str]], keys: dict, aliases: dict[str, str], theta: np.ndarray,
                 vcov: np.ndarray, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with lavaan's ``:=`` rows appended (module docstring)."""
    if not defs:
        return table
    labels = sorted({lab for lab in table["label"] if lab} | set(aliases))
    index = {}
    for lab in labels:
        key = ("label", aliases.get(lab, lab))
        if key in keys:
            index[lab] = keys[key]
    fn = _function(list(index), defs)
    pos = np.array(list(index.values()), dtype=int)
    pad = np.zeros(len(defs))

    def at(t: np.ndarray) -> np.ndarray:
        return fn(np.concatenate([t[pos], pad]))

    est = at(theta)
    jac = numerical_jacobian(at, theta)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0, None))
    first = table[table["label"] != ""].drop_duplicates("label").set_index("label")
    std = {c: fn(np.concatenate([first[c].reindex(list(index)).to_numpy(dtype=float), pad]))
           for c in ("std.lv", "std.all")}
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    rows = pd.DataFrame({"lhs": [n for n, _ in defs], "op": ":=", "rhs": [e for _, e in defs],
                         "label": [n for n, _ in defs], "group": 0, "free": 0, "est": est, "se": se, "z": z,
                         "pvalue": 2 * norm.sf(np.abs(z)), "std.lv": std["std.lv"],
                         "std.all": std["std.all"]})
    return pd.concat([table, rows[[c for c in table.columns if c in rows.columns]]], ignore_index=True)


def std_all_at(fit, theta: np.ndarray) -> np.ndarray:
    """``std.all`` of every row of a multi-group ordinal fit at ``theta``, its ``:=`` rows (the definitions
    at the labelled rows' ``std.all``, as lavaan's standardized solution) included."""
    from survey.sem.ordinal.group_estimates import group_estimates
    from survey.sem.ordinal.group_moments import _local

    table = group_estimates(fit.blocks, theta, fit.vcov_matrix, _local)
    std = table["std.all"].to_numpy(dtype=float)
    defs, _ = fit.defined
    if not defs:
        return std
    labels = fit.parameter_table["label"].to_numpy()[: len(table)]
    first = {}
    for pos, lab in enumerate(labels):
        if lab:
            first.setdefault(lab, pos)
    values = np.concatenate([std[list(first.values())], np.zeros(len(defs))])
    return np.concatenate([std, _function(list(first), defs)(values)])


def table_at(fit, theta: np.ndarray, vcov: np.ndarray) -> pd.DataFrame:
    """The rows of a multi-group ordinal fit at ``theta`` with SEs from ``vcov``: the threshold formulas'
    labels and the ``:=`` rows included (bootstrap replicates use it too)."""
    from survey.sem.ordinal.group_estimates import group_estimates
    from survey.sem.ordinal.group_moments import _local

    table = group_estimates(fit.blocks, theta, vcov, _local)
    if any(getattr(b, "threshold_labels", None) for b in fit.blocks):
        from survey.sem.ordinal.threshold_groups import label_rows

        table = label_rows(table, fit.blocks)
    defs, aliases = fit.defined
    return defined_rows(list(defs), fit.keys, aliases, theta, vcov, table)
