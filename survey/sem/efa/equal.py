"""group.equal = "loadings" with efa() blocks (lavaan 0.6.14).

The unrotated model holds the block's loadings equal across groups (one free parameter per loading, the
later groups' factor variances and covariances free: :func:`survey.sem.syntax.efa.mark_efa`). lavaan then
rotates every group on its own (std.ov scales by each group's diag(Lambda Lambda' + Theta_g), so the
rotated loadings differ a little between groups), and its rotated model keeps the ``==`` rows of the
equalities beside the rotation conditions in the bordered information (``lav_model_information_augment_
invert``): the loadings get one free number per group and each equality a row e_i - e_j of the constraint
Jacobian (the later groups' echelon loadings too, lavaan's user 77 rows), so their standard errors come out
equal across groups, as lavaan prints them; the rotation conditions bordering the information are the
first group's only (the equalities pin the others; measured: this and only this reproduces lavaan's SEs
and npar, 1.3e-7, on tests/fixtures/efa case efa2_groups_loadings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def split_efa_equalities(pt: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """The table with every efa loading row its own free number (renumbered in row order) and the
    pairs (first row's, other row's) of 0-based free indices that group.equal made one parameter (and
    the later groups' echelon rows, freed by the rotation, paired with the first group's)."""
    out = pt.copy()
    free = out["free"].to_numpy().copy()
    efa = (out["op"] == "=~").to_numpy() & (out["efa"].fillna("") != "").to_numpy() if "efa" in out \
        else np.zeros(len(out), bool)
    shared: dict[int, list[int]] = {}
    for i in np.flatnonzero((free > 0) & efa):
        shared.setdefault(int(free[i]), []).append(int(i))
    groups = {k: rows for k, rows in shared.items() if len(rows) > 1}
    if not groups:
        return out, []
    numbers, seen, nxt = np.zeros(len(out), dtype=int), {}, 1
    for i in range(len(out)):
        if free[i] > 0:
            key = (int(free[i]), i) if int(free[i]) in groups else (int(free[i]), -1)
            if key not in seen:
                seen[key], nxt = nxt, nxt + 1
            numbers[i] = seen[key]
    out["free"] = numbers
    pairs = [(numbers[rows[0]] - 1, numbers[j] - 1) for rows in groups.values() for j in rows[1:]]
    # the echelon zeros of the later groups are the first group's (lavaan's user 77 rows), equal too
    echelon = (out["user"] == 7).to_numpy()
    group = out["group"].to_numpy()
    first = {(r.lhs, r.op, r.rhs): i for i, r in zip(np.flatnonzero(echelon),
                                                      out[echelon].itertuples(index=False), strict=True)
             if group[i] == group[echelon].min()}
    for i in np.flatnonzero(echelon & (group != group[echelon].min())):
        row = out.iloc[i]
        j = first.get((row["lhs"], row["op"], row["rhs"]))
        if j is not None:
            pairs.append((numbers[j] - 1, numbers[i] - 1))
    return out, pairs


def equality_rows(pairs: list[tuple[int, int]], npar: int) -> np.ndarray:
    """The constraint Jacobian rows e_i - e_j of the kept equalities."""
    jac = np.zeros((len(pairs), npar))
    for r, (i, j) in enumerate(pairs):
        jac[r, i], jac[r, j] = 1.0, -1.0
    return jac


def fix_rotated(pt: pd.DataFrame, values: np.ndarray) -> None:
    """Fixed rows take their rotated values (in place on the rotated table's ``ustart``): with groups the
    rotation of a later group moves its fixed factor (co)variances (orthogonal rotation: the covariance
    fixed at 0; lv.variances: the variances fixed at 1), as lavaan reports them."""
    fixed = (pt["free"].to_numpy() == 0) & pt["op"].isin(["=~", "~", "~~", "~1"]).to_numpy()
    start = pt["ustart"].to_numpy(dtype=float)
    moved = fixed & np.isfinite(start) & (np.abs(values - start) > 1e-12)
    pt.loc[moved, "ustart"] = values[moved]


def equality_counts(pt: pd.DataFrame) -> tuple[int, int, int] | None:
    """lavaan's summary counts of an unrotated table with group.equal equalities: (model parameters, one
    per free row; equality constraints, one per shared row and per later-group echelon row; their row
    rank), or None without equalities."""
    free = pt["free"].to_numpy()
    model = (free > 0) & (pt["op"] != ":=").to_numpy()
    n_full, n_par = int(model.sum()), len(np.unique(free[model]))
    if n_full == n_par:
        return None
    group = pt["group"].to_numpy()
    echelon = (pt["user"] == 7).to_numpy() & (group > group.min())
    return n_full, n_full - n_par + int(echelon.sum()), n_full - n_par
