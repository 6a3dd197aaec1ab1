"""lavaan 0.6.14's print of ``summary(efaList)`` (``print.efaList.summary``): the header (estimator,
rotation and its arguments), the number of observations, the fit table ("Overview models:", or "Fit
measures:" for one fit; R's ``print(round(x, 3), right = TRUE)`` of a matrix: each column with the
decimals its values need, at most 7 significant digits) and the eigenvalues (R's ``format(x, digits =
3)``: the decimals that show each value to 3 significant digits, the widest of them); then per fit
(``lav_print_loadings``, ``lav_print_psi``) the standardized loadings, blank under |0.1|, "." under
|0.3| (cutoff, dot.cutoff), "*" where |est / se| > qnorm(0.995) (alpha.level 0.01, se of the
standardized solution; se < sqrt(eps) counts as 1), unique.var and communalities (1 - unique.var); the
sums of squares diag(Psi Lambda'Lambda) (decreasing with more than one factor, their proportions of the
total and of p, cumulated, a total column); the factor correlations (oblique, lower triangle)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z_CUT = 2.5758293035489004  # qnorm(1 - 0.01 / 2)


def _decimals(value: float, digits: int) -> int:
    """Decimals R shows for ``value`` at ``digits`` significant digits (trailing zeros dropped)."""
    if not np.isfinite(value) or value == 0:
        return 0
    top = digits - 1 - math.floor(math.log10(abs(value)))
    top = max(top, 0)
    for d in range(top + 1):
        if abs(round(value, d) - round(value, top)) < 0.5 * 10.0 ** (-top):
            return d
    return top


def _fmt(value: float, decimals: int) -> str:
    return "NA" if not np.isfinite(value) else f"{value:.{decimals}f}"


def matrix_lines(rows: list[str], columns: list[str], values: np.ndarray, shift: int = 2) -> list[str]:
    """R's print of ``round(matrix, 3)`` with lavaan's ``shift`` before the row names."""
    values = np.round(np.asarray(values, dtype=float), 3)
    cells = []
    for j, name in enumerate(columns):
        col = values[:, j]
        d = max(_decimals(v, 7) for v in col)
        texts = [_fmt(v, d) for v in col]
        width = max(len(name[:6]) if len(name) > 6 else len(name), *(len(t) for t in texts))
        cells.append([name.rjust(width)] + [t.rjust(width) for t in texts])
    labels = [" " * shift + r for r in rows]
    lw = max(len(s) for s in labels)
    out = [" " * lw + "".join(" " + c[0] for c in cells)]
    for i, label in enumerate(labels):
        out.append(label.ljust(lw) + "".join(" " + c[i + 1] for c in cells))
    return out


def vector_lines(names: list[str], values: np.ndarray, shift: int = 2, width: int = 80) -> list[str]:
    """lavaan's print of a lavaan.vector with ``shift``: format(digits = 3), shift before the first."""
    d = max(_decimals(v, 3) for v in values)
    texts = [_fmt(v, d) for v in values]
    texts[0] = " " * shift + texts[0]
    w = max(len(t) for t in texts + names)
    per = max(1, (width + 1) // (w + 1))
    out = []
    for start in range(0, len(texts), per):
        out.append(" ".join(n.rjust(w) for n in names[start:start + per]) + " ")
        out.append(" ".join(t.rjust(w) for t in texts[start:start + per]) + " ")
    return out


def header_lines(efa_list) -> list[str]:
    """The estimator and rotation block (lavaan's c1 width 33, c2 width 18 right-justified)."""
    opt = efa_list.rotation
    rows = [("Estimator", efa_list.estimator_label())]
    if opt.method == "none":
        rows.append(("Rotation method", "NONE"))
    else:
        kind = "ORTHOGONAL" if opt.orthogonal else "OBLIQUE"
        rows.append(("Rotation method", f"{opt.method.upper()} {kind}"))
        extra = {"geomin": ("Geomin epsilon", opt.geomin_epsilon),
                 "orthomax": ("Orthomax gamma", opt.orthomax_gamma),
                 "cf": ("Crawford-Ferguson gamma", opt.cf_gamma),
                 "oblimin": ("Oblimin gamma", opt.oblimin_gamma)}.get(opt.method)
        if extra:
            rows.append((extra[0], f"{extra[1]:g}"))
        rows += [("Rotation algorithm (rstarts)", f"GPA ({opt.rstarts})"),
                 ("Standardized metric", "TRUE" if opt.std_ov else "FALSE"),
                 ("Row weights", opt.weights[:1].upper() + opt.weights[1:])]
    return [f"  {a:<33} {b:>18}" for a, b in rows]


def observation_lines(res) -> list[str]:
    """lavaan's ``lav_data_print_short``: observations (used / total), missing patterns (FIML)."""
    from survey.sem.ordinal.results import OrdinalResult
    from survey.sem.results.summary import _header_info
    from survey.sem.results.summary_layout import data_lines

    info = {"nobs": int(res.nobs)} if isinstance(res, OrdinalResult) else _header_info(res)
    return data_lines(info)


def efa_summary_text(efa_list) -> str:
    """The print-out (module notes)."""
    first = next(iter(efa_list.fits.values()))
    lines = ["This is lavaan 0.6.14 -- running exploratory factor analysis", ""]
    if not all(bool(getattr(r, "converged", True)) for r in efa_list.fits.values()):
        lines.insert(1, "lavaan WARNING: not all models did converge!")
    lines += header_lines(efa_list) + [""]
    lines += observation_lines(first)
    table = efa_list.fit_table()
    lines += ["", "Overview models:" if len(efa_list) > 1 else "Fit measures:"]
    lines += matrix_lines(list(table.index), list(table.columns), table.to_numpy())
    ev = efa_list.eigenvalues()
    lines += ["", "Eigenvalues correlation matrix:" if efa_list.rotation.std_ov
              else "Eigenvalues covariance matrix:", ""]
    lines += vector_lines(list(ev.index), ev.to_numpy())
    for k, name in zip(efa_list.nfactors, efa_list.fits, strict=True):
        if len(efa_list) > 1:
            lines += [""] if k == efa_list.nfactors[0] else []
            lines.append(f"Number of factors:  {k} ")
        lines += model_lines(efa_list, name)
    return "\n".join(lines) + "\n"


def _char_matrix(rows: list[str], columns: list[str], cells: list[list[str]]) -> list[str]:
    """R's print(quote = FALSE) of a character matrix: left-justified columns, row names on the left."""
    widths = [max(len(c), *(len(r[j]) for r in cells)) for j, c in enumerate(columns)]
    lw = max(len(r) for r in rows)
    out = [" " * lw + "".join(" " + c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for r, row in zip(rows, cells, strict=True):
        out.append(r.ljust(lw) + "".join(" " + c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return out


def _format_common(values: np.ndarray, width: int) -> np.ndarray:
    """R's format(round(x, 3), width = w, justify = "right") of a matrix: one number of decimals."""
    values = np.round(np.asarray(values, dtype=float), 3)
    d = max(_decimals(v, 7) for v in values.ravel())
    return np.vectorize(lambda v: _fmt(v, d).rjust(width))(values)


def _stars(est: np.ndarray, se: np.ndarray) -> np.ndarray:
    se = np.where(np.isfinite(se) & (se >= np.sqrt(np.finfo(float).eps)), se, 1.0)
    return np.where(np.abs(est / se) > Z_CUT, "*", " ")


def _std_se(res, op: str) -> pd.DataFrame:
    std = res.standardized_solution()
    return std[std["op"] == op]


def model_lines(efa_list, name: str) -> list[str]:
    """One fit's block of the print-out (module notes)."""
    res = efa_list[name]
    lam = efa_list.loadings[name]
    theta = efa_list.uniquenesses[name].to_numpy()
    x = lam.to_numpy()
    se_rows = _std_se(res, "=~").pivot(index="rhs", columns="lhs", values="se")
    se = se_rows.reindex(index=lam.index, columns=lam.columns).to_numpy()
    cells = _format_common(x, 6)
    cells[(np.abs(x) < 0.3) & (np.abs(x) > 0.1)] = "     ."
    cells[np.abs(x) < 0.1] = "      "
    cells = np.char.add(cells.astype(str), _stars(x, se))
    res_cells = _format_common(np.column_stack([theta, 1 - theta]), 15)
    columns = [c.rjust(6) for c in lam.columns] + ["unique.var".rjust(15), "communalities".rjust(15)]
    rows = [list(a) + list(b) for a, b in zip(cells, res_cells, strict=True)]
    lines = ["", "Standardized loadings: (* = significant at 1% level)", ""]
    lines += _char_matrix(list(lam.index), columns, rows)
    m = x.shape[1]
    psi = _psi(res, list(lam.columns))
    sumsq = np.diag(psi @ (x.T @ x))
    order = np.argsort(-sumsq, kind="stable") if m > 1 else np.arange(1)
    sumsq = sumsq[order]
    table = np.vstack([sumsq, sumsq / sumsq.sum(), sumsq / x.shape[0], np.cumsum(sumsq / x.shape[0])])
    names = [str(lam.columns[j]) for j in order]
    if m > 1:
        table = np.column_stack([table, table.sum(axis=1)])
        table[3, -1] = table[2, -1]
        names.append("total")
    label = "Sum of squared loadings" if m == 1 else \
        "Sum of sq (ortho) loadings" if efa_list.rotation.orthogonal else "Sum of sq (obliq) loadings"
    lines += [""] + matrix_lines([label, "Proportion of total", "Proportion var", "Cumulative var"], names,
                                 table, shift=0)
    if not efa_list.rotation.orthogonal and m > 1:
        lines += ["", "Factor correlations: (* = significant at 1% level)", ""]
        lines += _psi_lines(res, list(lam.columns), psi)
    return lines + [""]


def _psi(res, lvs: list[str]) -> np.ndarray:
    """The standardized factor covariances (correlations) of the block."""
    est = res.estimates()
    rows = est[(est["op"] == "~~") & est["lhs"].isin(lvs) & est["rhs"].isin(lvs)]
    psi = np.eye(len(lvs))
    for lhs, rhs, value in zip(rows["lhs"], rows["rhs"], rows["std.all"], strict=True):
        i, j = lvs.index(lhs), lvs.index(rhs)
        psi[i, j] = psi[j, i] = value
    return psi


def _psi_lines(res, lvs: list[str], psi: np.ndarray) -> list[str]:
    std = _std_se(res, "~~")
    se = np.ones_like(psi)
    for r in std.itertuples(index=False):
        if r.lhs in lvs and r.rhs in lvs:
            i, j = lvs.index(r.lhs), lvs.index(r.rhs)
            se[i, j] = se[j, i] = r.se
    cells = np.char.add(_format_common(psi, 6).astype(str), _stars(psi, se))
    cells[np.triu_indices(len(lvs), 1)] = ""
    return _char_matrix(lvs, [c.rjust(6) for c in lvs], [list(r) for r in cells])
