"""Multi-group parameter table with equality constraints (lavaan group=, group.equal=, group.partial=).

The table is :func:`survey.sem.syntax.lavaanify` with ``ngroups=G`` (lavaan's ``lav_partable_flat``
replicated over the groups, with per-group modifier vectors ``c(a1, a2)*x``, ``c(1, NA)*x``), so:

- identification: the first loading of every factor is fixed to 1 in every group (marker variable), latent
  means (intercepts of latent variables) are fixed to 0 in every group, except that they are freed in
  groups 2..G when ``"intercepts"`` is in ``group_equal`` and ``"means"`` is not (lavaan 0.6 rule);
- equality: every row gets lavaan's equality label (``lav_partable_labels``): ``lhs op rhs`` in group 1,
  ``lhs op rhs .gG`` in group G; for each class in ``group_equal`` the rows of groups 2..G take the label
  of group 1; ``group_partial`` (``"x3~1"``, ``"visual=~x2"``, ``"x1~~x1"``) exempts rows; a user label
  (``a*x``) is one parameter in all groups (lavaan: a label given once applies to every group), while
  ``c(a1, a2)*x`` gives each group its own label.

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


def group_partable(
    model: str,
    n_groups: int,
    group_equal: Iterable[str] = (),
    group_partial: Iterable[str] = (),
    *,
    meanstructure: bool = True,
    group_labels: list | None = None,
    **partable_options,
) -> pd.DataFrame:
    """Multi-group parameter table (columns of lavaan's ``parTable()`` plus ``free_full`` and ``eqlabel``).

    Built by :func:`survey.sem.syntax.lavaanify` with ``ngroups=n_groups`` (lavaan's ``lav_partable_flat``
    over the groups, so per-group vectors ``c(a1, a2)*x``, ``c(1, NA)*x``, ``start(c(.5, NA))*x`` take one
    value per group) and ``ceq_simple=True`` (rows sharing an equality label share one ``free`` number).
    ``eqlabel`` is the equality label (lavaan's ``.p`` label of the first row of the class); rows with
    the same non-empty ``eqlabel`` and ``free > 0`` are one parameter. ``eqsource`` says where an equality
    comes from: ``"group_equal"`` (a constraint the invariance sequence may release through
    ``group_partial``), ``"label"`` (a user label) or ``""``. ``label`` holds the user's labels only.
    ``meanstructure`` and the other lavaan partable options (``fixed_x``, ``std_lv``, ...) are passed on.
    """
    if n_groups < 1:
        raise SurveyInputError("a multi-group model needs at least one group", field="group")
    ge = normalize_group_equal(group_equal) if n_groups > 1 else []
    partial = normalize_group_partial(group_partial)
    pt = lavaanify(model, meanstructure=meanstructure, ngroups=n_groups, group_equal=ge,
                   group_partial=partial, ceq_simple=True, group_labels=group_labels, **partable_options)
    _check_same_variables(pt)
    model_rows = pt["block"] > 0
    known = {f"{r.lhs}{r.op}{r.rhs}" for r in pt[model_rows].itertuples(index=False)}
    unknown = sorted(set(partial) - known)
    if unknown:
        raise SurveyInputError(
            "group_partial names a parameter that is not in the model "
            "(write it as lavaan does: 'x3~1', 'F=~x2', 'x1~~x1')",
            value=unknown[0],
            field="group_partial",
        )
    pt = pt.drop(columns=[c for c in ("lower", "upper") if c in pt])
    auto = pt["label"].str.fullmatch(r"\.p\d+\.") & model_rows
    user_label = pt["label"].where(~auto, "")
    free = pt["free"].to_numpy().astype(int)
    free_full = np.zeros(len(pt), dtype=int)
    free_full[free > 0] = np.arange(1, int((free > 0).sum()) + 1)
    # a shared parameter's equality label is the plabel of its first row; singletons have none
    counts = pd.Series(free[free > 0]).value_counts()
    first: dict[int, int] = {}
    labelled: set[int] = set()
    for i, f in enumerate(free):
        if f > 0:
            first.setdefault(f, i)
            if user_label.iat[i]:
                labelled.add(f)
    eqlabel, source = [], []
    for f in free:
        shared = f > 0 and counts[f] > 1
        eqlabel.append(pt.at[first[f], "plabel"] if shared else "")
        source.append(("label" if f in labelled else "group_equal") if shared else "")
    pt["label"] = user_label.where(model_rows, pt["label"])
    pt["eqsource"] = source
    pt["free_full"] = free_full
    pt["eqlabel"] = eqlabel
    return pt


def _check_same_variables(pt: pd.DataFrame) -> None:
    """Every group block must model the same observed variables in the same order (block syntax)."""
    groups = sorted(g for g in pt["group"].unique() if g > 0)
    first = variable_names(pt[pt["group"] == groups[0]]).ov
    for g in groups[1:]:
        ov = variable_names(pt[pt["group"] == g]).ov
        if ov != first:
            raise SurveyInputError(
                f"group {g}'s block models the observed variables {', '.join(ov)}; the first block "
                f"{', '.join(first)} (available: the same variables, in the same order, in every block)",
                field="model")


def expansion_matrix(pt: pd.DataFrame) -> np.ndarray:
    """K (q_full x q): theta_full = K theta, K[free_full - 1, free - 1] = 1 for every free row."""
    rows = pt[pt["free_full"] > 0]
    k = np.zeros((int(rows["free_full"].max() if len(rows) else 0), int(pt["free"].max() if len(pt) else 0)))
    k[rows["free_full"].to_numpy() - 1, rows["free"].to_numpy() - 1] = 1.0
    return k
