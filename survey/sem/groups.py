"""Multi-group parameter table with equality constraints (lavaan group=, group.equal=, group.partial=).

The single-group table of :func:`survey.sem.syntax.lavaanify` (with a mean structure) is replicated once
per group, as lavaan's ``lav_partable_flat`` does, and then:

- identification: the first loading of every factor is fixed to 1 in every group (marker variable), latent
  means (intercepts of latent variables) are fixed to 0 in every group, except that they are freed in
  groups 2..G when ``"intercepts"`` is in ``group_equal`` and ``"means"`` is not (lavaan 0.6 rule);
- equality: every row gets lavaan's equality label (``lav_partable_labels``): ``lhs op rhs`` in group 1,
  ``lhs op rhs .gG`` in group G; for each class in ``group_equal`` the rows of groups 2..G take the label
  of group 1; ``group_partial`` (``"x3~1"``, ``"visual=~x2"``, ``"x1~~x1"``) exempts rows; a user label
  (``a*x``) is one parameter in all groups (lavaan: a label given once applies to every group).

Classes of ``group_equal`` (lavaan's names): ``loadings`` (=~), ``intercepts`` (~1 of observed non-exogenous
variables), ``means`` (~1 of latent variables), ``regressions`` (~), ``residuals`` (observed variances),
``residual.covariances`` (observed covariances), ``lv.variances``, ``lv.covariances``.

Two numberings of the free parameters are kept: ``free`` (1..q, rows with one equality label share one
number: the estimated parameters) and ``free_full`` (1..q_full, one number per free row: the unconstrained
parameters in which lavaan's score tests of the equality constraints are computed).

Reference: Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1-36.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.syntax import lavaanify, variable_names

GROUP_EQUAL = (
    "loadings",
    "intercepts",
    "means",
    "regressions",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)


def normalize_group_equal(group_equal: Iterable[str] | str | None) -> list[str]:
    """``"loadings,intercepts"`` or a list -> checked list of lavaan class names, in input order."""
    if group_equal is None:
        return []
    items = group_equal.split(",") if isinstance(group_equal, str) else list(group_equal)
    out: list[str] = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        if name not in GROUP_EQUAL:
            raise SurveyInputError(
                f"unknown group_equal class (use {', '.join(GROUP_EQUAL)})", value=name, field="group_equal"
            )
        if name not in out:
            out.append(name)
    return out


def normalize_group_partial(group_partial: Iterable[str] | str | None) -> list[str]:
    """``"x3~1, visual=~x2"`` or a list -> lavaan labels without spaces (``x3~1``, ``visual=~x2``)."""
    if group_partial is None:
        return []
    items = group_partial.split(",") if isinstance(group_partial, str) else list(group_partial)
    out = []
    for item in items:
        name = "".join(str(item).split())
        if name and name not in out:
            out.append(name)
    return out


def _equal_flag(row, ge: set[str], names) -> bool:
    """Does ``group_equal`` make this row equal across groups (lavaan ``lav_partable_labels``)?"""
    op, lhs, rhs = row.op, row.lhs, row.rhs
    if op == "=~":
        return "loadings" in ge
    if op == "~":
        return "regressions" in ge
    if op == "~1":
        if lhs in names.lv:
            return "means" in ge
        return "intercepts" in ge and lhs in names.ov_nox
    if op == "~~":
        if lhs in names.ov_nox:
            return ("residuals" if lhs == rhs else "residual.covariances") in ge
        if lhs in names.lv:
            return ("lv.variances" if lhs == rhs else "lv.covariances") in ge
    return False


def group_partable(
    model: str,
    n_groups: int,
    group_equal: Iterable[str] = (),
    group_partial: Iterable[str] = (),
    *,
    meanstructure: bool = True,
    **partable_options,
) -> pd.DataFrame:
    """Multi-group parameter table (columns of lavaan's ``parTable()`` plus ``free_full`` and ``eqlabel``).

    ``eqlabel`` is the equality label (lavaan's ``.p`` label of the first row of the class); rows with
    the same non-empty ``eqlabel`` and ``free > 0`` are one parameter. ``eqsource`` says where an equality
    comes from: ``"group_equal"`` (a constraint the invariance sequence may release through
    ``group_partial``), ``"label"`` (a user label) or ``""``. ``meanstructure`` and the other lavaan
    partable options (``fixed_x``, ``std_lv``, ...) are passed to :func:`survey.sem.syntax.lavaanify`.
    """
    if n_groups < 1:
        raise SurveyInputError("a multi-group model needs at least one group", field="group")
    ge = set(normalize_group_equal(group_equal))
    partial = set(normalize_group_partial(group_partial))
    base = lavaanify(model, meanstructure=meanstructure, **partable_options)
    defined = base[base["op"] == ":="]
    base = base[base["op"] != ":="].reset_index(drop=True)
    names = variable_names(base)
    known = {f"{r.lhs}{r.op}{r.rhs}" for r in base.itertuples(index=False)}
    unknown = sorted(partial - known)
    if unknown:
        raise SurveyInputError(
            "group_partial names a parameter that is not in the model "
            "(write it as lavaan does: 'x3~1', 'F=~x2', 'x1~~x1')",
            value=unknown[0],
            field="group_partial",
        )
    # rows sharing a label (or tied by 'a == b') share the single-group free number
    labelled_free = {int(f) for f, lab in zip(base["free"], base["label"], strict=True) if lab and f > 0}
    rows = []
    for g in range(1, n_groups + 1):
        for r in base.itertuples(index=False):
            free, ustart = int(r.free), r.ustart
            if (
                g > 1
                and r.op == "~1"
                and r.lhs in names.lv
                and r.user == 0
                and "intercepts" in ge
                and "means" not in ge
            ):
                free, ustart = 1, np.nan
            plain = f"{r.lhs}{r.op}{r.rhs}"
            if free > 0 and int(r.free) in labelled_free:
                key, source = f"label:{int(r.free)}", "label"
            elif _equal_flag(r, ge, names) and plain not in partial and n_groups > 1:
                key, source = plain, "group_equal"
            else:
                key, source = plain + (f".g{g}" if g > 1 else ""), ""
            rows.append(
                dict(
                    lhs=r.lhs,
                    op=r.op,
                    rhs=r.rhs,
                    user=int(r.user),
                    block=g,
                    group=g,
                    free=free,
                    ustart=ustart,
                    exo=int(r.exo),
                    label=r.label,
                    key=key,
                    eqsource=source,
                )
            )
    pt = pd.DataFrame(rows)
    free_full = np.zeros(len(pt), dtype=int)
    free_shared = np.zeros(len(pt), dtype=int)
    by_key: dict[str, int] = {}
    first_row: dict[str, int] = {}
    n_full = n_shared = 0
    for i, (free, key) in enumerate(zip(pt["free"], pt["key"], strict=True)):
        if not free:
            continue
        n_full += 1
        free_full[i] = n_full
        if key in by_key:
            free_shared[i] = by_key[key]
        else:
            n_shared += 1
            by_key[key] = free_shared[i] = n_shared
            first_row[key] = i
    pt["free"] = free_shared
    pt["free_full"] = free_full
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    # a shared parameter's equality label is the plabel of its first row; singletons have none
    counts = pt.loc[pt["free"] > 0, "free"].value_counts()
    eq = []
    for free, key in zip(pt["free"], pt["key"], strict=True):
        eq.append(pt.at[first_row[key], "plabel"] if free and counts[free] > 1 else "")
    pt["eqlabel"] = eq
    pt.loc[pt["eqlabel"] == "", "eqsource"] = ""
    pt = pt.drop(columns="key")
    if len(defined):
        start = len(pt)
        extra = pd.DataFrame(
            dict(
                id=np.arange(start + 1, start + len(defined) + 1),
                lhs=defined["lhs"].to_numpy(),
                op=":=",
                rhs=defined["rhs"].to_numpy(),
                user=1,
                block=0,
                group=0,
                free=0,
                ustart=np.nan,
                exo=0,
                label=defined["lhs"].to_numpy(),
                eqsource="",
                free_full=0,
                plabel="",
                eqlabel="",
            )
        )
        pt = pd.concat([pt, extra], ignore_index=True)
    return pt


def expansion_matrix(pt: pd.DataFrame) -> np.ndarray:
    """K (q_full x q): theta_full = K theta, K[free_full - 1, free - 1] = 1 for every free row."""
    rows = pt[pt["free_full"] > 0]
    k = np.zeros((int(rows["free_full"].max() if len(rows) else 0), int(pt["free"].max() if len(pt) else 0)))
    k[rows["free_full"].to_numpy() - 1, rows["free"].to_numpy() - 1] = 1.0
    return k
