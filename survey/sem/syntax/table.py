"""lavaan model syntax -> parameter table (lavaan's ``lavaanify`` / ``lav_partable_flat``).

The parser is :mod:`survey.sem.syntax.parse`; this module builds the table. Defaults are lavaan 0.6's
``sem()`` / ``cfa()`` (``auto=TRUE``; Rosseel 2012, J Stat Softw 48(2)); ``growth()`` differs only in
``int_ov_free=False, int_lv_free=True`` and a mean structure. Options (lavaan's names with ``_``):

* ``auto_fix_first`` (default ``not std_lv``): first loading of every factor fixed to 1; ``std_lv``:
  latent variances fixed to 1 instead;
* ``auto_fix_single``: the residual variance of the only indicator of a factor fixed to 0;
* ``auto_var``: free (residual) variances of every variable (composites: fixed 0);
* ``auto_cov_lv_x``: covariances among exogenous latents; ``auto_cov_y``: among dependent variables;
  ``orthogonal``: latent covariances fixed to 0;
* ``meanstructure``, ``int_ov_free``, ``int_lv_free``: intercept rows and whether they are free;
* ``fixed_x``: exogenous observed covariates fixed at their sample moments (``exo = 1``);
* ``ngroups``, ``group_equal``, ``group_partial``: one block per group, cross-group equality labels;
  ``group: NAME`` blocks in the syntax (:mod:`survey.sem.syntax.blocks`; ``group_labels`` = the data's
  group labels, to match the names) give each group its own model;
* ``ceq_simple`` (default True): rows that share a label share one ``free`` number and no ``.pX. == .pY.``
  rows are added, and ``label1 == label2`` between two free labels is merged the same way (the project's
  engine convention, lavaan's ``ceq.simple=TRUE``); False gives lavaan's default table (every free row its
  own number, one ``==`` row (user 2) per extra row of a label).

Table order is lavaan's: user rows in syntax order, the default rows, replicated per group, then the
``:=`` / ``==`` / ``<`` / ``>`` rows in syntax order, then the label equalities.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.syntax.blocks import block_groups, split_blocks
from survey.sem.syntax.efa import efa_factors, mark_efa
from survey.sem.syntax.labels import auto_labels, equalities, simple_merge
from survey.sem.syntax.parse import CONSTRAINT_OPS, Formula, Modifiers, parse_syntax
from survey.sem.syntax.rows import check_constraints, check_model, reorder_covariances, unique_rows

__all__ = ["Formula", "Modifiers", "VariableNames", "build_partable", "lavaanify", "parse_syntax",
           "variable_names"]

MODEL_OPS = ("=~", "<~", "~", "~~", "~1")


@dataclass
class VariableNames:
    """lavaan's variable sets (``lav_partable_vnames``) for one block."""

    lv: list[str]
    ov: list[str]
    ov_ind: list[str]
    ov_x: list[str]
    ov_nox: list[str]
    ov_y: list[str]
    lv_x: list[str]
    lv_y: list[str]
    eqs_y: list[str]
    eqs_x: list[str]
    lv_f: list[str] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)


def _unique(seq) -> list[str]:
    return list(dict.fromkeys(seq))


def variable_names(rows: pd.DataFrame | list[Formula]) -> VariableNames:
    """lavaan's variable sets from model rows (latent, observed, exogenous, dependent, composite ...)."""
    if isinstance(rows, pd.DataFrame):
        items = list(zip(rows["lhs"], rows["op"], rows["rhs"], strict=True))
        is_user = list(rows["user"] == 1) if "user" in rows else [True] * len(items)
    else:
        items = [(f.lhs, f.op, f.rhs) for f in rows]
        is_user = [True] * len(items)
    keep = [it[1] in MODEL_OPS for it in items]
    items = [it for it, k in zip(items, keep, strict=True) if k]
    is_user = [u for u, k in zip(is_user, keep, strict=True) if k]
    lv = _unique(lhs for lhs, op, _ in items if op in ("=~", "<~"))
    lv_f = _unique(lhs for lhs, op, _ in items if op == "<~")
    v_ind = _unique(rhs for _, op, rhs in items if op == "=~")
    eqs_y = _unique(lhs for lhs, op, _ in items if op == "~")
    eqs_x = _unique(rhs for _, op, rhs in items if op in ("~", "<~"))
    ov_ind = [v for v in v_ind if v not in lv]
    ov_y0 = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y0]
    ov_cov = [lhs for lhs, op, _ in items if op == "~~" and lhs not in lv] + [
        rhs for _, op, rhs in items if op == "~~" and rhs not in lv
    ]
    ov_int = [lhs for lhs, op, _ in items if op == "~1" and lhs not in lv]
    ov_tmp = ov_ind + ov_y0 + ov_x
    ov = ov_tmp + [v for v in _unique(ov_cov + ov_int) if v not in ov_tmp]
    # exogenous covariates named in a user ~~ or ~1 formula become random (lavaan warns)
    user_items = [it for it, u in zip(items, is_user, strict=True) if u]
    user_named = {lhs for lhs, op, _ in user_items if op in ("~~", "~1")} | {
        rhs for _, op, rhs in user_items if op == "~~"
    }
    ov_x = [v for v in ov_x if v not in user_named]
    ov_nox = [v for v in ov if v not in ov_x]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    ov_y = [v for v in ov if v in eqs_y and v not in v_ind and v not in eqs_x and v not in lv]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    return VariableNames(lv=lv, ov=ov, ov_ind=ov_ind, ov_x=ov_x, ov_nox=ov_nox, ov_y=ov_y, lv_x=lv_x,
                         lv_y=lv_y, eqs_y=eqs_y, eqs_x=eqs_x, lv_f=lv_f)


def _efa_layout(rows) -> list[tuple[str, str, str]]:
    """A group block's efa() blocks as (block, factor, indicator) in syntax order ([] without efa())."""
    return [(f.mod.efa, f.lhs, f.rhs) for f in rows if f.op == "=~" and f.mod.efa]


def _default_rows(names: VariableNames, opt: dict) -> list[tuple[str, str, str]]:
    """lavaan's default elements (``lav_partable_flat``): variances, covariances, intercepts."""
    out = [(v, "~~", v) for v in names.ov_nox + names.lv]
    if opt["auto_cov_lv_x"]:
        out += [(a, "~~", b) for i, a in enumerate(names.lv_x) for b in names.lv_x[i + 1 :]]
    if opt["auto_cov_y"]:
        y = names.lv_y + names.ov_y
        out += [(a, "~~", b) for i, a in enumerate(y) for b in y[i + 1 :]]
    x = names.ov_x
    out += [(x[j], "~~", x[i]) for j in range(len(x)) for i in range(j, len(x))]
    if opt["meanstructure"]:
        out += [(v, "~1", "") for v in names.ov + names.lv]
    return out


def _flat(user: list[Formula], names: VariableNames, opt: dict) -> pd.DataFrame:
    """User rows then default rows, free/fixed by lavaan's auto rules (one group)."""
    seen = {(f.lhs, f.op, f.rhs) for f in user}
    rows = [dict(lhs=f.lhs, op=f.op, rhs=f.rhs, user=1, mod=k) for k, f in enumerate(user)]
    for a, op, b in _default_rows(names, opt):
        if (a, op, b) in seen or (op == "~~" and (b, op, a) in seen):
            continue
        rows.append(dict(lhs=a, op=op, rhs=b, user=0, mod=-1))
    pt = pd.DataFrame(rows)
    pt["free"], pt["ustart"], pt["exo"] = 1, np.nan, 0
    efa_lv = [lv for lvs in efa_factors(user).values() for lv in lvs]  # lavaan's auto.efa
    lhs, op, rhs, is_user = pt["lhs"], pt["op"], pt["rhs"], pt["user"] == 1
    var = (op == "~~") & (lhs == rhs)

    def fix(mask, value) -> None:
        pt.loc[mask, "free"] = 0
        pt.loc[mask, "ustart"] = value

    if not opt["auto_var"]:
        fix(var & ~is_user, 0.0)
    else:
        fix(var & ~is_user & lhs.isin(names.lv_f), 0.0)
    if opt["std_lv"]:
        fix(var & lhs.isin(names.lv), 1.0)
    fix(var & lhs.isin(efa_lv), 1.0)
    if opt["auto_fix_first"]:
        mm = pt.index[(op == "=~") & ~lhs.isin(efa_lv)]
        fix(mm[~pt.loc[mm, "lhs"].duplicated().to_numpy()], 1.0)
    if opt["auto_var"] and opt["auto_fix_single"]:
        mm = pt[op == "=~"]
        counts = mm["lhs"].value_counts()
        single_lv = set(counts.index[counts == 1])
        dup = mm["rhs"].duplicated(keep=False)
        single = set(mm.loc[mm["lhs"].isin(single_lv) & (mm["lhs"] != mm["rhs"]) & ~dup, "rhs"])
        fix(var & ~is_user & lhs.isin(single), 0.0)
    if opt["orthogonal"]:
        fix((op == "~~") & lhs.isin(names.lv) & rhs.isin(names.lv) & (lhs != rhs) & ~is_user, 0.0)
    if opt["orthogonal_efa"]:
        fix((op == "~~") & lhs.isin(efa_lv) & rhs.isin(efa_lv) & (lhs != rhs) & ~is_user, 0.0)
    if opt["meanstructure"]:
        if not opt["int_ov_free"]:
            fix((op == "~1") & lhs.isin(names.ov) & ~is_user, 0.0)
        if not opt["int_lv_free"]:
            fix((op == "~1") & lhs.isin(names.lv) & ~is_user, 0.0)
    if opt["fixed_x"] and names.ov_x:
        x = names.ov_x
        exo = ((op == "~~") & lhs.isin(x) & rhs.isin(x) | (op == "~1") & lhs.isin(x)) & ~is_user
        fix(exo, np.nan)
        pt.loc[exo, "exo"] = 1
    return pt


def _replicate(pt: pd.DataFrame, ngroups: int, names: VariableNames, opt: dict) -> pd.DataFrame:
    blocks = []
    for g in range(1, ngroups + 1):
        b = pt.copy()
        b["group"] = g
        if g > 1:
            ge = opt["group_equal"]
            if opt["meanstructure"] and not opt["int_lv_free"] and "intercepts" in ge and "means" not in ge:
                m = (b["op"] == "~1") & b["lhs"].isin(names.lv) & (b["user"] == 0)
                b.loc[m, "free"], b.loc[m, "ustart"] = 1, np.nan
            if opt["std_lv"] and "loadings" in ge and "lv.variances" not in ge:
                m = (b["op"] == "~~") & b["lhs"].isin(names.lv) & (b["lhs"] == b["rhs"]) & (b["user"] == 0)
                b.loc[m, "free"], b.loc[m, "ustart"] = 1, np.nan
        blocks.append(b)
    return pd.concat(blocks, ignore_index=True)


def _vector(values: list | None, n: int, what: str, f: Formula, ngroups: int) -> list | None:
    if values is None:
        return None
    if ngroups > 1 and len(values) == 1:
        return values * ngroups
    if len(values) != n:
        raise SurveyInputError(
            f"line {f.line}: wrong number of values in the {what} modifier of {f.lhs} {f.op} {f.rhs} "
            f"({len(values)} given, {n} group(s))",
            field="model",
        )
    return values


def _apply_modifiers(pt: pd.DataFrame, user: list[Formula], ngroups: int) -> bool:
    """Write fixed values, starts, labels and bounds into the table; True when a single label spans groups."""
    single_label = False
    pt["label"] = ""
    for k, f in enumerate(user):
        idx = pt.index[pt["mod"] == k]
        m, n = f.mod, len(idx)
        if ngroups > 1 and n > 1 and m.label is not None and len(m.label) == 1 and m.label[0]:
            single_label = True
        fixed = _vector(m.fixed, n, "fixed-value", f, ngroups)
        if fixed is not None:
            for i, v in zip(idx, fixed, strict=True):
                pt.loc[i, "free"] = 0 if v is not None else 1
                pt.loc[i, "ustart"] = np.nan if v is None else v
        start = _vector(m.start, n, "start()", f, ngroups)
        if start is not None:
            pt.loc[idx, "ustart"] = start
        for bound in ("lower", "upper"):
            vals = _vector(getattr(m, bound), n, f"{bound}()", f, ngroups)
            if vals is not None:
                if bound not in pt:
                    pt[bound] = -np.inf if bound == "lower" else np.inf
                pt.loc[idx, bound] = vals
        labels = _vector(m.label, n, "label", f, ngroups)
        if labels is not None:
            pt.loc[idx, "label"] = labels
    for bound in ("lower", "upper"):
        if bound in pt:
            fixed = pt["free"] == 0
            pt.loc[fixed, bound] = pt.loc[fixed, "ustart"]
    return single_label


def build_partable(formulas: list[Formula], **options) -> pd.DataFrame:
    """Parameter table from parsed formulas (see :func:`lavaanify` for the options)."""
    opt = _options(**options)
    formulas = reorder_covariances(formulas, variable_names(formulas))  # lavaan: a ~~ b in name order
    model_rows = [f for f in formulas if f.op in MODEL_OPS]
    if not model_rows:
        raise SurveyInputError("the model has no =~, <~, ~ or ~~ formula", field="model")
    if any(f.op == "~1" for f in model_rows):
        opt["meanstructure"] = True
    blocks = split_blocks(formulas)
    if blocks is None:
        user = unique_rows(model_rows)
        names = variable_names(user)
        check_model(user, names)
        ngroups = opt["ngroups"]
        pt = _replicate(_flat(user, names, opt), ngroups, names, opt)
        _apply_modifiers(pt, user, ngroups)
        sets = efa_factors(user)
        if sets:  # exploratory blocks: lavaan's echelon pattern (survey.sem.syntax.efa)
            pt = mark_efa(pt, user, sets, opt["orthogonal_efa"], opt["group_equal"])
    else:  # group: NAME blocks, each flattened on its own (lavaan 0.6.14)
        # lavaan 0.6.14 ignores group.equal / group.partial there (the engine warns: group_equal_ignored)
        opt["group_equal"], opt["group_partial"] = [], []
        numbers = block_groups([b[0] for b in blocks], opt["ngroups"] if "ngroups" in options else None,
                               opt["group_labels"])
        parts, user, efa_seen = [], [], []
        for g, (_, _, rows) in sorted(zip(numbers, blocks, strict=True), key=lambda item: item[0]):
            rows = unique_rows(rows)
            efa_seen.append(_efa_layout(rows))
            block_names = variable_names(rows)
            check_model(rows, block_names)
            part = _flat(rows, block_names, opt)
            _apply_modifiers(part, rows, 1)
            if efa_seen[-1]:  # each group's echelon pattern, as lavaan (rotated per group)
                part = mark_efa(part, rows, efa_factors(rows), opt["orthogonal_efa"], ())
            part["group"] = g
            part.loc[part["mod"] >= 0, "mod"] += len(user)
            parts.append(part)
            user += rows
        if any(efa_seen) and any(layout != efa_seen[0] for layout in efa_seen):
            raise SurveyInputError("efa() blocks that differ between 'group:' blocks are not available yet "
                                   "(available: the same efa() blocks, factors and indicators in every group "
                                   "block)", field="model")
        pt = pd.concat(parts, ignore_index=True)
        if "efa" in pt:
            pt["efa"] = pt["efa"].fillna("")
        names, ngroups = variable_names(user), len(blocks)
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    cons = [f for f in formulas if f.op in (":=",) + CONSTRAINT_OPS]
    check_constraints(pt, cons)
    alias: dict[str, str] = {}
    if opt["ceq_simple"]:
        alias, cons = simple_merge(pt, cons)
    label = [alias.get(lab, lab) for lab in auto_labels(pt, ngroups, names, opt)]
    eq_rows, eq_id = equalities(pt, label, opt["ceq_simple"])
    extra = [dict(lhs=f.lhs, op=f.op, rhs=f.rhs, user=1, label=f.lhs if f.op == ":=" else "") for f in cons]
    extra += [dict(r, label="") for r in eq_rows]
    free = pt["free"].to_numpy() > 0
    numbers = np.zeros(len(pt), dtype=int)
    numbers[free] = np.arange(1, free.sum() + 1)
    shared = eq_id >= 0
    if opt["ceq_simple"]:
        numbers[shared] = numbers[eq_id[shared]]
    pt["free"] = numbers
    pt.insert(4, "block", pt.pop("group"))
    pt.insert(5, "group", pt["block"])
    columns = ["id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label",
               "plabel"] + [b for b in ("lower", "upper", "efa") if b in pt]
    pt = pt[columns]
    if extra:
        tail = pd.DataFrame(extra)
        tail["id"] = np.arange(len(pt) + 1, len(pt) + len(tail) + 1)
        tail["block"], tail["group"], tail["free"], tail["exo"] = 0, 0, 0, 0
        tail["ustart"], tail["plabel"] = np.nan, ""
        for bound in ("lower", "upper"):
            if bound in pt:
                tail[bound] = np.nan
        if "efa" in pt:
            tail["efa"] = ""
        pt = pd.concat([pt, tail[columns]], ignore_index=True)
    return pt


def _options(
    *,
    meanstructure: bool = False,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    std_lv: bool = False,
    orthogonal: bool = False,
    fixed_x: bool = True,
    auto_fix_first: bool | None = None,
    auto_fix_single: bool = True,
    auto_var: bool = True,
    auto_cov_lv_x: bool = True,
    auto_cov_y: bool = True,
    ngroups: int = 1,
    group_equal: Iterable[str] = (),
    group_partial: Iterable[str] = (),
    ceq_simple: bool = True,
    model_type: str = "sem",
    group_labels: list | None = None,
    orthogonal_efa: bool = False,
) -> dict:
    if model_type not in ("sem", "cfa", "growth"):
        raise SurveyInputError(f"model_type={model_type!r} is not available (available: sem, cfa, growth)",
                               field="model_type")
    if model_type == "growth":
        int_ov_free, int_lv_free, meanstructure = False, True, True
    if int(ngroups) < 1:
        raise SurveyInputError("ngroups must be at least 1", field="ngroups", value=ngroups)
    return dict(meanstructure=bool(meanstructure), int_ov_free=bool(int_ov_free),
                int_lv_free=bool(int_lv_free), std_lv=bool(std_lv), orthogonal=bool(orthogonal),
                fixed_x=bool(fixed_x), auto_fix_first=(not std_lv) if auto_fix_first is None
                else bool(auto_fix_first), auto_fix_single=bool(auto_fix_single), auto_var=bool(auto_var),
                auto_cov_lv_x=bool(auto_cov_lv_x), auto_cov_y=bool(auto_cov_y), ngroups=int(ngroups),
                group_equal=[g.strip() for g in group_equal], group_partial=list(group_partial),
                ceq_simple=bool(ceq_simple), group_labels=group_labels, orthogonal_efa=bool(orthogonal_efa))


def lavaanify(model: str, **options) -> pd.DataFrame:
    """Model syntax -> parameter table (lavaan's ``lavaanify(model, auto=TRUE, fixed.x=TRUE)``).

    Keyword options (lavaan's names with ``_``): ``meanstructure, int_ov_free, int_lv_free, std_lv,
    orthogonal, fixed_x, auto_fix_first, auto_fix_single, auto_var, auto_cov_lv_x, auto_cov_y, ngroups,
    group_equal, group_partial, ceq_simple, model_type`` ("sem"/"cfa" or "growth"); see the module notes.
    """
    import inspect

    known = list(inspect.signature(_options).parameters)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SurveyInputError(f"unknown option {unknown[0]!r} (available: {', '.join(known)})",
                               field="options", value=unknown[0])
    return build_partable(parse_syntax(model), **options)
