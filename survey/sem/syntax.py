"""lavaan model syntax -> parameter table, with the defaults of lavaan's ``sem()``.

Operators: ``=~`` (measured by), ``~`` (regressed on), ``~~`` (variance/covariance), ``~1``
(intercept), ``:=`` (defined parameter) and ``==`` between two labels (equality). Modifiers:
``a*x`` (label), ``1*x`` (fixed value), ``NA*x`` (free a parameter that a default would fix).
Parameters sharing a label are one parameter (equality constraint).

Defaults (lavaan 0.6 ``sem()``, Rosseel 2012, J Stat Softw 48(2); ``lav_partable_flat``): the first
loading of every factor fixed to 1 (marker variable), free residual variances of every observed
non-exogenous variable and free variances of every latent variable, free covariances among exogenous
latent variables and among purely dependent variables, and observed exogenous covariates treated as
fixed (``fixed.x=TRUE``: their variances and covariances fixed to the sample values).

The table keeps lavaan's parTable order: user rows in syntax order, then the default rows (residual
variances of observed variables, latent variances, exogenous-latent covariances, dependent covariances,
exogenous covariate block), then ``:=`` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

OPERATORS = ("=~", "~~", ":=", "==", "<", ">", "~")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class Formula:
    """One parsed formula element: ``lhs op rhs`` with its modifier (label / fixed value / NA)."""

    lhs: str
    op: str
    rhs: str
    label: str = ""
    fixed: float | None = None
    free_na: bool = False
    line: int = 0


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
    extra: dict[str, list[str]] = field(default_factory=dict)


def _strip_comments(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0].strip()
        for part in line.split(";"):
            if part.strip():
                lines.append((number, part.strip()))
    # join continuation lines: a line ending in an operator or '+', or a line starting with '+'
    joined: list[tuple[int, str]] = []
    for number, line in lines:
        if joined and (
            joined[-1][1].endswith(("+", "*", "=~", "~~", "~", ":=", "==")) or line.startswith("+")
        ):
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + line)
        else:
            joined.append((number, line))
    return joined


def _split_operator(line: str, number: int) -> tuple[str, str, str]:
    for op in OPERATORS:
        pos = line.find(op)
        if pos > 0:
            if op == "~" and (line[pos : pos + 2] in ("~~",) or line[pos - 1] == "="):
                continue
            return line[:pos].strip(), op, line[pos + len(op) :].strip()
    raise SurveyInputError(f"line {number}: no lavaan operator (=~, ~, ~~, :=) in {line!r}", field="model")


def _parse_term(term: str, number: int) -> tuple[str, str, float | None, bool]:
    parts = [p.strip() for p in term.split("*")]
    name = parts[-1]
    label, fixed, free_na = "", None, False
    for mod in parts[:-1]:
        if mod in ("NA", "na"):
            free_na = True
        elif _NUMBER.match(mod):
            fixed = float(mod)
        elif _NAME.match(mod):
            label = mod
        else:
            raise SurveyInputError(
                f"line {number}: modifier {mod!r} is not available yet (use a label, a number or NA)",
                field="model",
                value=term,
            )
    return name, label, fixed, free_na


def parse_syntax(text: str) -> list[Formula]:
    """Parse lavaan model syntax into a list of :class:`Formula` elements, in syntax order."""
    if not isinstance(text, str) or not text.strip():
        raise SurveyInputError("the model syntax is empty", field="model")
    out: list[Formula] = []
    for number, line in _strip_comments(text):
        lhs_text, op, rhs_text = _split_operator(line, number)
        if op == ":=":
            if not _NAME.match(lhs_text):
                raise SurveyInputError(
                    f"line {number}: bad name for a defined parameter", value=lhs_text, field="model"
                )
            out.append(Formula(lhs_text, op, rhs_text.replace(" ", ""), label=lhs_text, line=number))
            continue
        if op in ("==", "<", ">"):
            if op != "==" or not (_NAME.match(lhs_text) and _NAME.match(rhs_text)):
                raise SurveyInputError(
                    f"line {number}: constraint {line!r} is not available yet "
                    "(only 'label1 == label2' equality)",
                    field="model",
                )
            out.append(Formula(lhs_text, op, rhs_text, line=number))
            continue
        if not rhs_text:
            raise SurveyInputError(
                f"line {number}: nothing on the right of {op!r}", field="model", value=line
            )
        lhs_names = [s.strip() for s in lhs_text.split("+")]
        for lhs in lhs_names:
            if not _NAME.match(lhs):
                raise SurveyInputError(f"line {number}: bad variable name", value=lhs, field="model")
        for term in rhs_text.split("+"):
            term = term.strip()
            if not term:
                raise SurveyInputError(f"line {number}: empty term", field="model", value=line)
            name, label, fixed, free_na = _parse_term(term, number)
            this_op = op
            if op == "~" and name == "1":
                this_op, name = "~1", ""
            elif not _NAME.match(name):
                raise SurveyInputError(f"line {number}: bad variable name", value=name, field="model")
            for lhs in lhs_names:
                out.append(Formula(lhs, this_op, name, label, fixed, free_na, number))
    return out


def _unique(seq) -> list[str]:
    return list(dict.fromkeys(seq))


def variable_names(rows: pd.DataFrame | list[Formula]) -> VariableNames:
    """lavaan's variable sets from user formulas (latent, observed, exogenous, dependent, ...)."""
    if isinstance(rows, pd.DataFrame):
        items = list(zip(rows["lhs"], rows["op"], rows["rhs"], strict=True))
        is_user = list(rows["user"] == 1) if "user" in rows else [True] * len(items)
    else:
        items = [(f.lhs, f.op, f.rhs) for f in rows]
        is_user = [True] * len(items)
    lv = _unique(lhs for lhs, op, _ in items if op == "=~")
    v_ind = _unique(rhs for _, op, rhs in items if op == "=~")
    eqs_y = _unique(lhs for lhs, op, _ in items if op == "~")
    eqs_x = _unique(rhs for _, op, rhs in items if op == "~")
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
    return VariableNames(
        lv=lv,
        ov=ov,
        ov_ind=ov_ind,
        ov_x=ov_x,
        ov_nox=ov_nox,
        ov_y=ov_y,
        lv_x=lv_x,
        lv_y=lv_y,
        eqs_y=eqs_y,
        eqs_x=eqs_x,
    )


def build_partable(
    formulas: list[Formula], *, fixed_x: bool = True, meanstructure: bool = False
) -> pd.DataFrame:
    """Parameter table with lavaan ``sem()`` defaults (columns as lavaan's ``parTable()``).

    Columns: ``id lhs op rhs user block group free ustart exo label plabel``. ``free`` numbers the free
    parameters 1..npar; rows sharing a label share the number (one parameter). ``ustart`` holds the
    fixed value (NaN for free rows and for ``fixed.x`` rows, whose value is the sample moment).
    """
    model_rows = [f for f in formulas if f.op not in (":=", "==")]
    if not model_rows:
        raise SurveyInputError("the model has no =~, ~ or ~~ formula", field="model")
    names = variable_names(model_rows)
    # duplicated user elements: keep the first, as lavaan does
    seen: set[tuple[str, str, str]] = set()
    user: list[Formula] = []
    for f in model_rows:
        key = (f.lhs, f.op, f.rhs)
        if f.op == "~~":
            rev = (f.rhs, f.op, f.lhs)
            if rev in seen:
                key = rev
        if key in seen:
            continue
        seen.add(key)
        user.append(f)
    meanstructure = meanstructure or any(f.op == "~1" for f in user)

    lhs_d: list[str] = list(names.ov_nox) + list(names.lv)
    rhs_d: list[str] = list(names.ov_nox) + list(names.lv)
    for i, a in enumerate(names.lv_x):
        for b in names.lv_x[i + 1 :]:
            lhs_d.append(a)
            rhs_d.append(b)
    lvov_y = names.lv_y + names.ov_y
    for i, a in enumerate(lvov_y):
        for b in lvov_y[i + 1 :]:
            lhs_d.append(a)
            rhs_d.append(b)
    for j, b in enumerate(names.ov_x):
        for a in names.ov_x[j:]:
            lhs_d.append(b)
            rhs_d.append(a)
    ops_d = ["~~"] * len(lhs_d)
    if meanstructure:
        for v in names.ov + names.lv:
            lhs_d.append(v)
            rhs_d.append("")
            ops_d.append("~1")

    rows = []
    for f in user:
        rows.append(dict(lhs=f.lhs, op=f.op, rhs=f.rhs, user=1, label=f.label, fixed=f.fixed, na=f.free_na))
    for a, op, b in zip(lhs_d, ops_d, rhs_d, strict=True):
        if (a, op, b) in seen or (op == "~~" and (b, op, a) in seen):
            continue
        rows.append(dict(lhs=a, op=op, rhs=b, user=0, label="", fixed=None, na=False))

    first_loading: set[str] = set()
    table = []
    for r in rows:
        free = True
        ustart = np.nan
        exo = 0
        if r["op"] == "=~" and r["lhs"] not in first_loading:
            first_loading.add(r["lhs"])
            if not r["na"]:
                free, ustart = False, 1.0
        if r["user"] == 0 and r["op"] == "~1" and r["lhs"] in names.lv:
            free, ustart = False, 0.0
        if (
            r["user"] == 0
            and fixed_x
            and r["lhs"] in names.ov_x
            and r["op"] in ("~~", "~1")
            and (r["op"] == "~1" or r["rhs"] in names.ov_x)
        ):
            free, ustart, exo = False, np.nan, 1
        if r["fixed"] is not None:
            free, ustart = False, float(r["fixed"])
        table.append(
            dict(
                lhs=r["lhs"],
                op=r["op"],
                rhs=r["rhs"],
                user=r["user"],
                free=free,
                ustart=ustart,
                exo=exo,
                label=r["label"],
            )
        )
    pt = pd.DataFrame(table)

    # equality between labels: merge label groups
    alias: dict[str, str] = {}
    for f in formulas:
        if f.op == "==":
            for lab in (f.lhs, f.rhs):
                if lab not in set(pt["label"]):
                    raise SurveyInputError(
                        f"line {f.line}: unknown label in equality constraint", value=lab, field="model"
                    )
            a, b = alias.get(f.lhs, f.lhs), alias.get(f.rhs, f.rhs)
            for k, v in list(alias.items()):
                if v == b:
                    alias[k] = a
            alias[b] = a
    free_idx = np.zeros(len(pt), dtype=int)
    by_label: dict[str, int] = {}
    n = 0
    for i, row in enumerate(pt.itertuples(index=False)):
        if not row.free:
            continue
        key = alias.get(row.label, row.label)
        if key and key in by_label:
            free_idx[i] = by_label[key]
            continue
        n += 1
        free_idx[i] = n
        if key:
            by_label[key] = n
    pt["free"] = free_idx
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt.insert(4, "block", 1)
    pt.insert(5, "group", 1)
    pt["plabel"] = [f".p{i}." for i in pt["id"]]

    defined = [f for f in formulas if f.op == ":="]
    if defined:
        start = len(pt)
        extra = pd.DataFrame(
            dict(
                id=np.arange(start + 1, start + len(defined) + 1),
                lhs=[f.lhs for f in defined],
                op=":=",
                rhs=[f.rhs for f in defined],
                block=0,
                group=0,
                user=1,
                free=0,
                ustart=np.nan,
                exo=0,
                label=[f.lhs for f in defined],
                plabel="",
            )
        )
        pt = pd.concat([pt, extra], ignore_index=True)
    _check_table(pt, names)
    return pt


def _check_table(pt: pd.DataFrame, names: VariableNames) -> None:
    lv = set(names.lv)
    ops, lhs, rhs = list(pt["op"]), list(pt["lhs"]), list(pt["rhs"])
    for op, a, b in zip(ops, lhs, rhs, strict=True):
        if op == "=~" and a == b:
            raise SurveyInputError("a latent variable cannot be its own indicator", value=a, field="model")
    labels = {lab for lab, op in zip(pt["label"], ops, strict=True) if op != ":=" and lab}
    for op, a in zip(ops, lhs, strict=True):
        if op == ":=" and (a in labels or a in lv):
            raise SurveyInputError(
                "a defined parameter reuses the name of a label or variable", value=a, field="model"
            )


def lavaanify(model: str, *, fixed_x: bool = True, meanstructure: bool = False) -> pd.DataFrame:
    """Model syntax -> parameter table (the analogue of lavaan's ``lavaanify``)."""
    return build_partable(parse_syntax(model), fixed_x=fixed_x, meanstructure=meanstructure)
