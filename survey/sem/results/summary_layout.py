"""lavaan's printed layout of ``summary()``, driven by a parameter-estimates DataFrame and a header dict.

A re-implementation of lavaan 0.6.14's ``print.lavaan.parameterEstimates`` (lav_print.R) and of the R
pieces it relies on, so the text equals lavaan's character for character:

* R's ``abbreviate()`` (``stripchars`` in R's character.c: drop lower-case vowels from the right, then
  lower-case letters, then any character; ``strict=FALSE`` lengthens until the names are unique);
* lavaan's ``.makeNames`` (names in 14 characters, a label as `` (lab)`` abbreviated to 4) and
  ``.makeConNames`` (``a - (b)`` for ``a > b`` / ``a == b``, ``b - (a)`` for ``a < b``);
* R's ``print()`` of a character matrix (left-justified columns, one space apart, wrapped into blocks of
  columns narrower than 80 characters).

Sections per group (block): Latent Variables, Composites, Regressions, Covariances, Intercepts,
Thresholds, Variances, Scales y*, R-Square; then Defined Parameters and Constraints (``|Slack|``).
Residual (co)variances and intercepts of dependent variables carry lavaan's ``.`` prefix; fixed.x rows
(``exo == 1``) are not printed; fixed parameters (se 0) show no Std.Err / z / p.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from survey.sem.syntax import variable_names

WIDTH = 80  # R's getOption("width")
GSECTIONS = ("Latent Variables", "Composites", "Regressions", "Covariances", "Intercepts", "Thresholds",
             "Variances", "Scales y*", "R-Square")
NAMES = {"est": "Estimate", "se": "Std.Err", "z": "z-value", "pvalue": "P(>|z|)", "std.lv": "Std.lv",
         "std.all": "Std.all", "std.nox": "Std.nox", "fmi": "FMI"}
_DROP = ("op", "group", "rhs", "label", "exo", "block", "level", "efa", "lower", "upper")


# ---------------------------------------------------------------------------- R's abbreviate()
def _strip(text: str, minlen: int) -> str:
    """R's ``stripchars`` (use.classes=TRUE) on one string."""
    b = list(text.lstrip())
    if len(b) < minlen:
        return "".join(b)

    def done() -> bool:
        return len(b) - sum(1 for ch in b[1:] if ch.isspace()) <= minlen

    def first(i: int) -> bool:
        return b[i - 1].isspace()

    def last(i: int) -> bool:
        return not b[i - 1].isspace() and (i + 1 >= len(b) or b[i + 1].isspace())

    while len(b) > 1 and b[-1].isspace():  # trailing blanks
        b.pop()
    passes = (
        lambda i: b[i] in "aeiou" and last(i),
        lambda i: b[i] in "aeiou" and not first(i),
        lambda i: b[i].islower() and last(i),
        lambda i: b[i].islower() and not first(i),
        lambda i: not first(i) and not b[i].isspace(),
    )
    if not done():
        for rule in passes:
            for i in range(len(b) - 1, 0, -1):
                if i < len(b) and rule(i):
                    del b[i]
                if done():
                    break
            if done():
                break
    if len(b) > minlen:
        b = [b[0]] + [ch for ch in b[1:] if not ch.isspace()]
    return "".join(b)


def r_abbreviate(names: list[str], minlength: int, strict: bool = False) -> list[str]:
    """R's ``abbreviate(names, minlength, strict=)`` (method "left.kept")."""
    out = [_strip(n, minlength) if n else n for n in names]
    if strict:
        return out
    while True:
        dup = pd.Series(out).duplicated(keep=False).to_numpy() & np.array([bool(n) for n in names])
        if not dup.any():
            return out
        minlength += 1
        out = [_strip(n, minlength) if d else o for n, d, o in zip(names, dup, out, strict=True)]
        if minlength > max(len(n) for n in names):
            return out


# ---------------------------------------------------------------------------- lavaan's name columns
def make_names(names: list[str], labels: list[str], prefix: list[str] | None = None) -> list[str]:
    """lavaan's ``.makeNames``: ``%3s%-14s`` of prefix and (abbreviated) name [+ `` (label)``]."""
    w = 14
    prefix = prefix if prefix is not None else [""] * len(names)
    multibyte = any(not n.isascii() for n in list(names) + list(labels))
    if any(labels):
        if not multibyte:
            labs = r_abbreviate(list(labels), 4)
            labs = [f" ({lab})" if lab else "" for lab in labs]
            max_l = max(len(lab) for lab in labs)
            names = r_abbreviate(list(names), w - max_l, strict=True)
        else:
            labs, max_l = list(labels), 4
        names = [f"{n:<{w - max_l}}{lab:>{max_l}}" for n, lab in zip(names, labs, strict=True)]
    else:
        names = [f"{n:<{w}}" for n in names] if multibyte else r_abbreviate(list(names), w, strict=True)
    return [f"{p:>3}{n:<{w}}" for p, n in zip(prefix, names, strict=True)]


def make_con_names(lhs: list[str], op: list[str], rhs: list[str], nd: int = 3) -> list[str]:
    """lavaan's ``.makeConNames``: the slack expression of each constraint, in 41 characters."""
    w = 41 + (max(nd, 3) - 3) * 3
    out = []
    for a, o, b in zip(lhs, op, rhs, strict=True):
        if o == "<":
            text = f"{b} - ({a})"
        elif b == "0":
            text = f"{a} - 0"
        else:
            text = f"{a} - ({b})"
        out.append(f"   {r_abbreviate([text], w, strict=True)[0]:<{w}}")
    return out


# ---------------------------------------------------------------------------- R's print of a matrix
def print_matrix(colnames: list[str], rows: list[list[str]], width: int = WIDTH) -> list[str]:
    """R's ``print(M, quote=FALSE)`` of a character matrix with empty row names."""
    ncol = len(colnames)
    widths = [max([len(colnames[j])] + [len(r[j]) for r in rows]) for j in range(ncol)]
    lines: list[str] = []
    start = 0
    while start < ncol:
        end, total = start, 0
        while end < ncol and (end == start or total + 1 + widths[end] < width):
            total += 1 + widths[end]
            end += 1
        cols = range(start, end)
        lines.append("".join(" " + colnames[j].ljust(widths[j]) for j in cols))
        lines += ["".join(" " + r[j].ljust(widths[j]) for j in cols) for r in rows]
        start = end
    return lines


# ---------------------------------------------------------------------------- the estimates sections
def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "      NA"
    if isinstance(value, float) and math.isinf(value):
        return f"{'Inf' if value > 0 else '-Inf':>8}"
    return f"{float(value):8.{digits}f}"


def _cells(pe: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    """Formatted cells (lavaan: %8.3f, blank se/z/p for fixed rows, blank z/p when se is NA)."""
    table = []
    se = pe["se"].to_numpy(dtype=float) if "se" in pe else None
    for k, row in enumerate(pe[columns].itertuples(index=False)):
        cells = [""] + [_fmt(v) for v in row[1:]]
        if se is not None:
            blank = ("se", "z", "pvalue") if se[k] == 0 else ("z", "pvalue") if np.isnan(se[k]) else ()
            for name in blank:
                if name in columns:
                    cells[columns.index(name)] = ""
        table.append(cells)
    widths = [max(len(r[j]) for r in table) if table else 0 for j in range(len(columns))]
    return [[c.rjust(widths[j]) if j and c else c for j, c in enumerate(r)] for r in table]


def _at_bound(pe: pd.DataFrame) -> np.ndarray:
    """Rows on their lower() / upper() bound (lavaan's ``print.lavaan.parameterEstimates``: |bound - est| <
    sqrt(eps) with a non-zero SE, NA allowed for lower); their label gets "lb" / "ub" (``+lb`` after a
    label), in place."""
    hit_any = np.zeros(len(pe), dtype=bool)
    if "se" not in pe or "pvalue" not in pe:
        return hit_any
    se = pe["se"].to_numpy(dtype=float)
    est = pe["est"].to_numpy(dtype=float)
    nonzero = np.isfinite(se) & (se != 0)
    for col, tag, ok in (("lower", "lb", np.isnan(se) | nonzero), ("upper", "ub", nonzero)):
        if col not in pe:
            continue
        with np.errstate(invalid="ignore"):
            hit = (np.abs(pe[col].to_numpy(dtype=float) - est) < np.sqrt(np.finfo(float).eps)) & ok
        pe.loc[hit, "label"] = [f"{lab}+{tag}" if lab else tag for lab in pe.loc[hit, "label"]]
        hit_any |= hit
    return hit_any


def estimate_sections(pe: pd.DataFrame, group_labels: list[str] | None = None) -> list[str]:
    """The group sections and the Defined Parameters / Constraints sections, as lavaan prints them.

    ``pe`` has lavaan's ``parameterEstimates()`` columns (``lhs op rhs label exo est se z pvalue`` and
    optionally ``std.lv std.all std.nox``, ``block``/``group``); R-square rows have op ``"r2"``."""
    pe = pe.reset_index(drop=True).copy()
    for col, default in (("label", ""), ("exo", 0), ("block", 1)):
        if col not in pe:
            pe[col] = default
    pe["label"] = pe["label"].fillna("").astype(str)
    pe["exo"] = pe["exo"].fillna(0).astype(int)
    at_bound = _at_bound(pe)
    columns = [c for c in pe.columns if c not in _DROP]
    if "std.all" in columns and "std.nox" in columns:
        columns.remove("std.nox")
    colnames = [""] + [f"{NAMES.get(c, c):>8}" for c in columns[1:]]
    cells = _cells(pe, columns)
    if "pvalue" in columns:  # lavaan blanks the p-value of an estimate on its bound
        for k in np.flatnonzero(at_bound):
            cells[k][columns.index("pvalue")] = ""
    model_rows = pe[pe["op"].isin(["=~", "<~", "~", "~~", "~1"])]
    names = variable_names(model_rows)
    lv_ind = [v for v in names.lv if v in set(model_rows.loc[model_rows["op"] == "=~", "rhs"])]
    y_names = set(names.eqs_y) | set(names.ov_ind) | set(lv_ind)
    blocks = list(dict.fromkeys(pe.loc[pe["block"] > 0, "block"])) if (pe["block"] > 0).any() else [1]
    lines: list[str] = []
    op, lhs, rhs, exo, label = pe["op"], pe["lhs"], pe["rhs"], pe["exo"] == 1, pe["label"]
    for g, b in enumerate(blocks):
        if len(blocks) > 1:
            name = group_labels[g] if group_labels else str(b)
            lines += ["", "", f"Group {g + 1} [{name}]:"]
        in_b = pe["block"] == b
        block_ov = set(variable_names(model_rows[model_rows["block"] == b]).ov)
        selections = {
            "Latent Variables": (op == "=~") & ~lhs.isin(block_ov),
            "Composites": op == "<~",
            "Regressions": op == "~",
            "Covariances": (op == "~~") & (lhs != rhs) & ~exo,
            "Intercepts": (op == "~1") & ~exo,
            "Thresholds": op == "|",
            "Variances": (op == "~~") & (lhs == rhs) & ~exo,
            "Scales y*": op == "~*~",
            "R-Square": op == "r2",
        }
        for section in GSECTIONS:
            idx = np.flatnonzero((selections[section] & in_b).to_numpy())
            if not len(idx):
                continue
            who = lhs if section == "Intercepts" else rhs
            if section == "Thresholds":
                who = lhs + "|" + rhs
            prefix = ["  ." if section in ("Covariances", "Intercepts", "Variances") and who[i] in y_names
                      else "" for i in idx]
            first = make_names([who[i] for i in idx], [label[i] for i in idx], prefix)
            rows = [[first[k]] + cells[i][1:] for k, i in enumerate(idx)]
            if section == "R-Square":
                lines += ["", f"{section}:"] + print_matrix(colnames[:2], [r[:2] for r in rows])
                continue
            if section in ("Latent Variables", "Composites", "Regressions", "Covariances"):
                out_rows, previous = [], None
                for k, i in enumerate(idx):
                    head = f"{lhs[i]} {op[i]}"
                    if head != previous:
                        pre = "." if section == "Covariances" and lhs[i] in y_names else ""
                        out_rows.append([f"{pre:>1}{head:<15}"] + [""] * (len(columns) - 1))
                    previous = head
                    out_rows.append(rows[k])
                rows = out_rows
            lines += ["", f"{section}:"] + print_matrix(colnames, rows)
    defined = np.flatnonzero((op == ":=").to_numpy())
    if len(defined):
        first = make_names([lhs[i] for i in defined], [""] * len(defined))
        rows = [[first[k]] + cells[i][1:] for k, i in enumerate(defined)]
        lines += ["", "Defined Parameters:"] + print_matrix(colnames, rows)
    cons = np.flatnonzero(op.isin(["==", "<", ">"]).to_numpy())
    if len(cons):
        first = make_con_names([lhs[i] for i in cons], [op[i] for i in cons], [rhs[i] for i in cons])
        rows = [[first[k], _fmt(abs(float(pe.at[i, "est"])))] for k, i in enumerate(cons)]
        lines += ["", "Constraints:"] + print_matrix(["", f"{'|Slack|':>8}"], rows)
    return lines + [""]


# ---------------------------------------------------------------------------- header blocks
def _pair(label: str, value: str, width: int = 38, right: int = 13) -> str:
    return f"  {label:<{width}} {value:>{right}}"


def parameter_header(info: dict) -> list[str]:
    """lavaan's "Parameter Estimates:" block. ``info``: ``se`` ("standard", "sandwich", "bootstrap",
    "robust.sem"), ``information``, ``observed_information``, ``h1_information`` (lavaan's words)."""
    se = info.get("se", "standard")
    pairs = [("Standard errors", se.capitalize())]
    if se != "bootstrap":
        pairs.append(("Information bread" if se == "sandwich" else "Information",
                      info.get("information", "expected").capitalize()))
        if info.get("information") == "observed":
            pairs.append(("Observed information based on",
                          info.get("observed_information", "hessian").capitalize()))
        if info.get("information", "expected") in ("expected", "first.order"):
            pairs.append(("Information saturated (h1) model",
                          info.get("h1_information", "structured").capitalize()))
    else:
        pairs += [("Number of requested bootstrap draws", str(info["bootstrap"])),
                  ("Number of successful bootstrap draws", str(info["bootstrap_successful"]))]
    return ["", "Parameter Estimates:", ""] + [_pair(a, b) for a, b in pairs]


def summary_header(info: dict) -> list[str]:
    """lavaan's opening block: convergence, estimator (``ML`` under MLR/MLM, as lavaan prints it),
    optimizer, parameters, equality / inequality constraints, observations (per group; used/total)."""
    est = str(info.get("estimator", "ML")).upper()
    shown = "ML" if est in ("MLR", "MLM", "MLMV", "MLMVS", "MLF") else est
    state = "ended normally" if info.get("converged", True) else "did NOT end normally"
    lines = [f"{info.get('program', 'survey.sem')} {state} after {info.get('iterations', 0)} iterations", "",
             _line("Estimator", shown), _line("Optimization method", str(info.get("optimizer", "")).upper()),
             _line("Number of model parameters", str(info["npar"]))]
    if info.get("n_equality"):
        lines.append(_line("Number of equality constraints", str(info["n_equality"])))
    if info.get("n_inequality"):
        lines.append(_line("Number of inequality constraints", str(info["n_inequality"])))
    return lines + [""] + data_lines(info)


def data_lines(info: dict) -> list[str]:
    """lavaan 0.6.14's ``lav_data_print_short``: observations (per group; Used / Total), clusters
    ``[name]``, missing patterns, the sampling-weights variable, as a character matrix of columns
    ``format(c1, width=43)``, ``format(c2, width=8, justify="right")`` (and c3 of width 11).

    ``info``: ``nobs``, ``nobs_total``, ``groups`` {label: n} (or ``groups_total``), ``cluster`` (name)
    with ``clusters`` (int, or {label: int}), ``patterns`` (int, or {label: int}), ``sampling_weights``."""
    groups = info.get("groups")
    three = bool(info.get("nobs_total")) and (
        info["nobs_total"] != info["nobs"] if not groups else info.get("groups_total", groups) != groups)
    rows: list[tuple[str, str, str]] = []
    if not groups:
        if three:
            rows.append(("", "Used", "Total"))
        rows.append(("Number of observations", str(info["nobs"]), str(info["nobs_total"]) if three else ""))
    else:
        total = info.get("groups_total", groups)
        rows.append(("Number of observations per group:", "Used" if three else "", "Total" if three else ""))
        rows += [(f"  {str(g):<40}", str(n), str(total[g]) if three else "") for g, n in groups.items()]
    for key, title in (("clusters", f"Number of clusters [{info.get('cluster')}]"),
                       ("patterns", "Number of missing patterns")):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, dict):
            rows.append((title + (":" if key == "clusters" else " per group:"), "", ""))
            rows += [(f"  {str(g):<40}", str(v), "") for g, v in value.items()]
        else:
            rows.append((title, str(value), ""))
    if info.get("sampling_weights"):
        rows.append(("Sampling weights variable", str(info["sampling_weights"]), ""))
    w1 = max([43] + [len(r[0]) for r in rows])
    w2 = max([8] + [len(r[1]) for r in rows])
    w3 = max([11] + [len(r[2]) for r in rows])
    return [f"  {a:<{w1}} {b:>{w2}}" + (f" {c:>{w3}}" if three else "") for a, b, c in rows]


def _line(label: str, value: str) -> str:
    return f"  {label:<{52 - len(value)}}{value}"


def count_parameters(partable: pd.DataFrame) -> dict[str, int]:
    """lavaan's header counts: free rows (each labelled copy counted), the equality constraints when some
    are linear (label sharing: one per extra row, as lavaan's ``.pX. == .pY.``; plus the ``==`` rows) and
    the inequality constraints."""
    model = partable[partable["op"].isin(["=~", "<~", "~", "~~", "~1"])]
    free = model["free"].to_numpy()
    free = free[free > 0]
    shared = len(free) - len(set(free))
    eq_rows = partable[partable["op"] == "=="]
    simple = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$|^[-+]?[0-9.]+$")
    linear = shared + sum(bool(simple.match(a)) and bool(simple.match(b))
                          for a, b in zip(eq_rows["lhs"], eq_rows["rhs"], strict=True))
    return {"npar": int(len(free)), "n_equality": int(shared + len(eq_rows)) if linear else 0,
            "n_inequality": int(partable["op"].isin(["<", ">"]).sum())}
