"""lavaan 0.6.14's print of ``summary(efaList)`` (``print.efaList.summary``): the header (estimator,
rotation and its arguments), the number of observations, the fit table ("Overview models:", or "Fit
measures:" for one fit; R's ``print(round(x, 3), right = TRUE)`` of a matrix: each column with the
decimals its values need, at most 7 significant digits) and the eigenvalues (R's ``format(x, digits =
3)``: the decimals that show each value to 3 significant digits, the widest of them)."""

from __future__ import annotations

import math

import numpy as np


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


def efa_summary_text(efa_list) -> str:
    """The print-out (module notes)."""
    first = next(iter(efa_list.fits.values()))
    lines = ["This is lavaan 0.6.14 -- running exploratory factor analysis", ""]
    if not all(bool(getattr(r, "converged", True)) for r in efa_list.fits.values()):
        lines.insert(1, "lavaan WARNING: not all models did converge!")
    lines += header_lines(efa_list) + [""]
    lines.append(f"  {'Number of observations':<33} {int(first.nobs):>18}")
    table = efa_list.fit_table()
    lines += ["", "Overview models:" if len(efa_list) > 1 else "Fit measures:"]
    lines += matrix_lines(list(table.index), list(table.columns), table.to_numpy())
    ev = efa_list.eigenvalues()
    lines += ["", "Eigenvalues correlation matrix:" if efa_list.rotation.std_ov
              else "Eigenvalues covariance matrix:", ""]
    lines += vector_lines(list(ev.index), ev.to_numpy())
    return "\n".join(lines) + "\n"
