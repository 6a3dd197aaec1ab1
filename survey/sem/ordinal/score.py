"""Score tests of the equality constraints of an ordinal fit (lavaan 0.6.14 ``lavTestScore(fit)``).

lavaan scores an ordinal (DWLS / WLS / ULS) fit in the parameterization with one parameter per free row
(theta_full = K theta; a shared label, or ``group.equal``, ties rows by the constraints R theta_full = 0,
one row ``theta_full[a] - theta_full[b]`` per tie: the first row of a shared parameter against each other
row, as lavaan's ``.p2. == .p97.``). With J_g the Jacobian of group g's statistics in theta_full, W_g the
estimator's weight, r_g = s_g - m_g, N = sum_g N_g (lavaan ``lav_model_gradient`` with its group weights
(N_g - 1) / N for these estimators, ``lav_model_information_expected`` with N_g / N):

    s = -sum_g (N_g - 1) / N J_g' W_g r_g,       I = sum_g N_g / N J_g' W_g J_g,

the total test (every constraint released) ``N s' I^+ s`` on as many df as constraints, and the
univariate test of constraint r (Satorra 1989; lavaan ``lavTestScore``, Z^+ the Moore-Penrose inverse):

    Z_r = [[I, R_(-r)'], [R_(-r), 0]],   T_r = N s' [Z_r^+]_(1:q, 1:q) s  ~  chi2(1).

lavaan computes this ordinary (not robust) score test also when ``se`` is robust (WLSMV's "robust.sem"),
with the warning "se is not `standard'; not implemented yet; falling back to ordinary score test": the
same numbers, and that warning in the result's warnings and the table's ``attrs["warnings"]``.

References: Satorra, A. (1989). Alternative test criteria in covariance structure analysis: A unified
approach. *Psychometrika, 54*, 131-151. Rosseel (2012), lavaan, *J Stat Softw 48*(2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.distributions import chi2
from survey.errors import SurveyInputError
from survey.sem.ordinal._engine import score_statistics
from survey.sem.ordinal.objective import weighted

COLUMNS = ["lhs", "op", "rhs", "group.a", "group.b", "X2", "df", "p.value"]
FALLBACK = ("lavaan WARNING: se is not `standard'; not implemented yet; falling back to ordinary score "
            "test")


def _statistics(score: np.ndarray, info: np.ndarray, index: np.ndarray, ties: list[tuple[int, int]],
                n: float):
    """(total statistic, univariate statistics) of the ties (module docstring); the univariate ones by the
    partitioned inverse of :func:`survey.sem.score.score_statistics` (lavaan's [Z_r^+]_11 in one inverse)."""
    k = np.zeros((index.size, int(index.max()) + 1))
    k[np.arange(index.size), index] = 1.0
    cons = pd.DataFrame({"full_a": [a + 1 for a, _ in ties], "full_b": [b + 1 for _, b in ties]})
    total = float(n * score @ np.linalg.pinv(info, hermitian=True) @ score)
    return total, score_statistics(score, info, k, cons, n)


def _single(fit):
    """One group: the structure rebuilt with one RAM parameter per free row (labels not shared)."""
    from survey.sem.ordinal import conditional as cx
    from survey.sem.ordinal.mixed_cx_model import MixedConditionalStructure
    from survey.sem.ordinal.objective import OrdinalStructure

    st = fit.structure
    pt = st.ram.partable.copy()
    rows = np.flatnonzero(pt["free"].to_numpy() > 0)
    shared = pt["free"].to_numpy()[rows].astype(int) - 1
    pt.loc[pt.index[rows], "free"] = np.arange(1, rows.size + 1)
    pt.loc[pt.index[rows], "label"] = ""  # the RAM model would share labelled rows again
    ov = list(st.ram.ov)
    if getattr(st, "cx_mixed", False):
        cov = [ov[k] for k in st.x_idx]
        num = [ov[k] for k in st.y_idx[st.numeric]]
        full = MixedConditionalStructure(pt, st.nth_per, cov, num, st.parameterization)
    elif st.q:
        full = cx.ConditionalStructure(pt, st.nth_per, [ov[k] for k in st.x_idx], st.parameterization)
    else:
        full = OrdinalStructure(pt, st.nth_per, st.parameterization, st.numeric)
    index = np.concatenate([shared, st.npar_ram + np.arange(st.nth)])
    theta_full = fit.theta[index]
    jac = full.jacobian(theta_full)
    resid = fit.sample.wls_obs - full.moments(theta_full).stats
    weight = _weight(fit, fit.sample.gamma)
    wj = weighted(weight, jac)
    n = float(fit.sample.nobs)
    score = -(n - 1) / n * (wj.T @ resid)
    keys = [(r.lhs, r.op, r.rhs, 1) for r in pt.iloc[rows].itertuples(index=False)]
    th = fit.parameter_table[fit.parameter_table["op"] == "|"]
    keys += [(r.lhs, "|", r.rhs, 1) for r in th.itertuples(index=False)]
    tie = getattr(fit, "threshold_tie", None)
    if tie is not None:  # threshold formulas: fixed thresholds are no parameters, shared labels tie rows
        keep = [q for q in range(st.nth) if st.npar_ram + q not in tie.fixed]
        ids = [int(tie.first[np.argmax(tie.K[st.npar_ram + q])]) for q in keep]
        cols = np.concatenate([np.arange(rows.size), rows.size + np.asarray(keep, dtype=int)])
        jac, wj = jac[:, cols], wj[:, cols]
        score, index = score[cols], np.concatenate([shared, ids]).astype(int)
        keys = [keys[c] for c in cols]
    return score, jac.T @ wj, index, keys, n


def _weight(fit, gamma: np.ndarray) -> np.ndarray:
    from survey.sem.ordinal.choices import ESTIMATORS
    from survey.sem.ordinal.objective import weight_matrix

    return weight_matrix(gamma, ESTIMATORS[str(fit.estimator).upper()][0])


def _groups(fit):
    """Several groups: every group's free local parameters get their own position in theta_full."""
    from dataclasses import replace

    from survey.sem.ordinal.group_moments import moments

    _, weights, _, _ = fit.parts
    index, blocks, keys = [], [], []
    for g, block in enumerate(fit.blocks):
        local = block.index.copy()
        free = np.flatnonzero(local >= 0)
        index += list(local[free])
        local[free] = len(index) - free.size + np.arange(free.size)
        blocks.append(replace(block, index=local))
        keys += _local_keys(block, g + 1)
    index = np.asarray(index, dtype=int)
    theta_full = fit.theta[index]
    n = float(sum(b.nobs for b in fit.blocks))
    score = np.zeros(index.size)
    info = np.zeros((index.size, index.size))
    for block, w in zip(blocks, weights, strict=True):
        stats, jac = moments(block, theta_full, jacobian=True)
        wj = weighted(w, jac)
        score -= (block.nobs - 1) / n * (wj.T @ (block.sample.wls_obs - stats))
        info += block.nobs / n * (jac.T @ wj)
    return score, info, index, keys, n


def _local_keys(block, group: int) -> list[tuple]:
    """(lhs, op, rhs, group) of a group's free local parameters, in the order of ``block.index``."""
    pt = block.ram.partable
    n_ram = block.ram.npar
    ram = {}
    for r in pt[pt["free"] > 0].itertuples(index=False):
        ram.setdefault(int(r.free) - 1, (r.lhs, r.op, r.rhs, group))
    items = list(block.ram.ov)
    sample = block.sample
    numeric = np.asarray(sample.numeric, bool) if sample.mixed else np.zeros(len(sample.names), bool)
    ordinal = [v for v, num in zip(sample.names, numeric, strict=True) if not num]  # items with thresholds
    th = [(v, "|", f"t{k + 1}", group) for v, t in zip(ordinal, block.sample.thresholds, strict=True)
          for k in range(t.size)]
    scale = [(v, "~*~", v, group) for v in items]
    every = [ram[k] for k in range(n_ram)] + th + scale
    return [key for key, idx in zip(every, block.index, strict=False) if idx >= 0]


def ordinal_score_tests(fit) -> pd.DataFrame:
    """lavaan's ``lavTestScore(fit)$uni`` of an ordinal fit (module docstring): one row per equality
    constraint (``lhs op rhs`` of the tied parameter, the groups of its two rows), sorted as lavaan's;
    ``attrs["total"]`` the total test (lavaan's ``$test``), ``attrs["warnings"]`` lavaan's warning."""
    if not fit.converged:
        raise SurveyInputError("lavTestScore: the model did not converge", field="score_tests")
    score, info, index, keys, n = _single(fit) if fit.single else _groups(fit)
    first: dict[int, int] = {}
    ties = []
    for pos, idx in enumerate(index):
        if idx in first:
            ties.append((first[idx], pos))
        else:
            first[idx] = pos
    if not ties:  # lavaan: "no equality constraints found in model."
        raise SurveyInputError("no equality constraints found in the model (lavTestScore needs shared "
                               "labels or group_equal)", field="score_tests")
    total, uni = _statistics(score, info, index, ties, n)
    pt = fit.parameter_table
    groups = pt["group"].astype(int) if "group" in pt else pd.Series(1, index=pt.index)
    order = {k: i for i, k in enumerate(zip(pt["lhs"], pt["op"], pt["rhs"], groups, strict=True))}
    out = pd.DataFrame([dict(lhs=keys[a][0], op=keys[a][1], rhs=keys[a][2], **{"group.a": keys[a][3],
                             "group.b": keys[b][3]}, X2=x2, df=1, p_row=order.get(keys[a], 0),
                             p_other=order.get(keys[b], 0))
                        for (a, b), x2 in zip(ties, uni, strict=True)])
    out = out.sort_values(["p_row", "p_other"], kind="stable").drop(columns=["p_row", "p_other"])
    out["p.value"] = chi2.sf(out["X2"].to_numpy(), 1)
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs["total"] = {"test": "score", "X2": total, "df": len(ties), "p.value": float(chi2.sf(total,
                                                                                                   len(ties)))}
    warnings = []
    if _se(fit) != "standard":
        warnings.append(FALLBACK)
        if isinstance(getattr(fit, "warnings", None), list) and FALLBACK not in fit.warnings:
            fit.warnings.append(FALLBACK)
    out.attrs["warnings"] = warnings
    return out


def _se(fit) -> str:
    """The fit's ``se`` (lavaan's): "standard" or "robust.sem" (WLSMV, ULSMV, ...)."""
    se = getattr(fit, "se", None)
    if se:
        return str(se)
    from survey.sem.ordinal.choices import ESTIMATORS

    return ESTIMATORS[str(fit.estimator).upper()][1]
