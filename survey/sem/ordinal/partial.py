"""Which equality constraint of a multi-group ordinal model to release first (partial invariance).

For a fitted multi-group DWLS model (:mod:`survey.sem.ordinal.multigroup`) with the statistic
``T(theta) = sum_g (N_g - 1) r_g' W_g r_g`` (r_g = s_g - m_g(theta)), releasing a constraint shared by the
groups gives each group after the first its own copy of the parameter (lavaan's ``group.partial``). With
the Jacobian extended by those copies, J_x, the gradient ``g = -2 sum_g (N_g - 1) J_x,g' W_g r_g`` and the
Gauss-Newton Hessian ``H = 2 sum_g (N_g - 1) J_x,g' W_g J_x,g``, the expected decrease of T when the copies
are freed and every other parameter re-estimated is the quadratic-model value

    mi = g' H^-1 g / 2

(the modification index of a least-squares fit: Sorbom 1989, Psychometrika 54, for ML; the same
quadratic approximation on the DWLS objective), with df = G - 1. Candidates are the constraints of the
step: thresholds (an item keeps at least one threshold equal across groups, so that its scale factor
stays identified: Wu & Estabrook 2016, Psychometrika 81) or loadings. The candidate with the largest
``mi`` is released and the model refitted exactly (:func:`fit_ordinal_groups` with ``group_partial``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.ordinal.multigroup import GroupFit, moments
from survey.sem.ordinal.objective import weighted

# the group.equal kind each invariance step adds (survey.sem.ordinal.invariance.STEPS)
STEP_KIND = {"thresholds": "|", "loadings": "=~"}


def _name(key: tuple) -> str:
    """lavaan's group.partial name of a shared key: ``A1|t2`` or ``F=~x2``."""
    if key[0] == "|":
        return f"{key[1]}|t{key[2] + 1}"
    return f"{key[1]}{key[0]}{key[2]}"


def _candidates(keys: dict, kind: str) -> list[tuple[tuple, int]]:
    shared = [(k, i) for k, i in keys.items() if isinstance(k[0], str) and k[0] == kind]
    if kind != "|":
        return shared
    per_item: dict[str, int] = {}
    for k, _ in shared:
        per_item[k[1]] = per_item.get(k[1], 0) + 1
    return [(k, i) for k, i in shared if per_item[k[1]] >= 2]  # one threshold stays equal


def release_candidates(fit: GroupFit, step: str) -> pd.DataFrame:
    """The step's shared constraints with their ``mi`` (module docstring), the largest first: columns
    ``name`` (lavaan's group.partial spelling), ``lhs op rhs``, ``mi``, ``df``."""
    kind = STEP_KIND[step]
    blocks, theta, weights = fit.blocks, fit.theta, fit.parts[1]
    parts = []
    for g, w in zip(blocks, weights, strict=True):
        stats, jac = moments(g, theta, jacobian=True)
        parts.append((g.nobs - 1, w, g.sample.wls_obs - stats, jac))
    rows = []
    for key, k in _candidates(fit.keys, kind):
        users = [q for q, g in enumerate(blocks) if k in g.index]
        if len(users) < 2:
            continue
        hess = np.zeros((theta.size + len(users) - 1,) * 2)
        grad = np.zeros(hess.shape[0])
        for q, (n1, w, resid, jac) in enumerate(parts):
            jx = np.hstack([jac, np.zeros((jac.shape[0], len(users) - 1))])
            if q in users[1:]:  # this group's own copy of the parameter
                jx[:, theta.size + users.index(q) - 1] = jac[:, k]
                jx[:, k] = 0.0
            wj = weighted(w, jx)
            hess += 2 * n1 * jx.T @ wj
            grad += -2 * n1 * wj.T @ resid
        try:
            step_ = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            continue
        mi = float(grad @ step_) / 2
        if not np.isfinite(mi) or np.linalg.cond(hess) > 1e12:  # not identified once released
            continue
        lhs, op, rhs = (key[1], "|", f"t{key[2] + 1}") if kind == "|" else (key[1], key[0], key[2])
        rows.append({"name": _name(key), "lhs": lhs, "op": op, "rhs": rhs, "mi": mi, "df": len(users) - 1})
    out = pd.DataFrame(rows, columns=["name", "lhs", "op", "rhs", "mi", "df"])
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)
