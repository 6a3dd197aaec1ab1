"""Modification indices of a two-level fit (lavaan 0.6.14 ``modindices()`` on a ``level:`` model; fixtures
tests/fixtures/multilevel/make_multilevel_results.R).

As lavaan (``lav_object_extended(all.free = TRUE)`` with ``lav_partable_full`` per block): every fixed row
of the model (marker loadings, the level-1 intercepts of the variables at both levels, latent means, the
fixed.x moments of the covariates) is freed at its value, and the ``lav_partable_full`` candidates of each
level (:func:`survey.sem.results.modindices.candidates`) are added at 0. With theta the estimates (shared
labels one parameter: theta_full = K theta), the extended parameters (theta, c), s = d logl / d c the
score of the two-level likelihood (:mod:`.loglik`) and I the expected (Fisher) information of the extended
two-level model (:func:`survey.sem.multilevel.information.expected_information`, lavaan's default
``information = "expected"`` of ``modindices``; with missing = "ml" s is the FIML score and I, as lavaan's,
the complete-data expected information over the clusters' sizes), for each candidate j (Sorbom 1989,
J Econometrics 40)

    V_jj = I_cc,jj - I_c. I_..^-1 I_.c          mi = s_j^2 / V_jj          epc = s_j / V_jj

(lavaan writes the same with the unit information over J clusters: mi = J (s_j / J)^2 / (V_jj / J)).
Candidates with V_jj / J < eps^(1/3) (equivalent to a free parameter or not identified, e.g. the freed
marker loadings and level-1 intercepts) are dropped, as lavaan. sepc.lv, sepc.all, sepc.nox standardize
|epc| with the fitted model of the candidate's level (``cov.std``: covariances by the residual SDs; a
fixed variance from its fixed value, as lavaan); as lavaan a variance candidate with |epc| < sqrt(eps)
standardizes to 0, and a covariance of two covariates
(whose fixed.x variances are such candidates) has sepc.all NA.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.multilevel.estimate import build_model
from survey.sem.multilevel.information import expected_information
from survey.sem.results.modindices import candidates
from survey.sem.results.std_nox import nox_adjust
from survey.sem.standardize import standardize

COLS = ["lhs", "op", "rhs", "block", "group", "level", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]
_MODEL_OPS = ("=~", "~", "~~", "~1")


def extended_partable(res, theta: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The extended table (model rows, fixed ones freed, then each level's new candidates), its vector
    (``theta``, default the estimates; the freed rows' values; zeros) and the table rows of the candidates."""
    pt = res.partable
    model = pt[(pt["block"] > 0) & pt["op"].isin(_MODEL_OPS)].reset_index(drop=True).copy()
    q = res.mg.npar
    theta = list(res.theta if theta is None else theta)
    free = model["free"].to_numpy().copy()
    cand = []
    for k in np.flatnonzero(free == 0):
        theta.append(float(model.at[k, "est"]))
        free[k] = len(theta)
        cand.append(k)
    model["free"] = free
    model["ustart"] = model["est"].astype(float)
    new_rows = []
    for g, mod in enumerate(res.mg.models):
        block = g + 1
        present = {(r.lhs, r.op, r.rhs) for r in model[model["block"] == block].itertuples(index=False)}
        for r in candidates(mod).itertuples(index=False):
            if (r.lhs, r.op, r.rhs) in present or (r.op == "~~" and (r.rhs, r.op, r.lhs) in present):
                continue
            theta.append(0.0)
            new_rows.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "block": block, "group": block,
                             "level": block, "free": len(theta), "ustart": 0.0, "exo": 0, "label": "",
                             "user": 10, "est": 0.0})
    if new_rows:
        model = pd.concat([model, pd.DataFrame(new_rows)], ignore_index=True)
        cand += list(range(len(model) - len(new_rows), len(model)))
    model["exo"] = model["exo"].fillna(0).astype(int)
    assert len(theta) == q + len(cand)
    return model, np.asarray(theta, dtype=float), np.asarray(cand, dtype=int)


def twolevel_modindices(res, theta: np.ndarray | None = None) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` of a :class:`survey.sem.multilevel.result.TwoLevelFit`: ``lhs op rhs
    block group level mi epc sepc.lv sepc.all sepc.nox`` (module notes), rows in lavaan's order; at ``theta``
    (default the estimates; e.g. lavaan's estimates, to check the formulas apart from the optimiser)."""
    theta_est = res.theta if theta is None else np.asarray(theta, dtype=float)
    full = res.mg.k @ theta_est
    ext, theta, cand = extended_partable(res, theta_est)
    if not len(cand):
        return pd.DataFrame(columns=COLS)
    st = res.tl.st
    tl = build_model(ext, st)
    q = res.mg.npar
    info = expected_information(lambda t: tl.moments(t)[0], cluster_layout(st), theta)
    score = -0.5 * tl.gradient(theta)[q:]
    i22 = info[:q, :q]
    i12 = info[q:, :q]
    try:
        if q and np.linalg.cond(i22) > 1.0 / np.finfo(float).eps:
            raise np.linalg.LinAlgError
        i22_inv = np.linalg.inv(i22)
    except np.linalg.LinAlgError:
        raise SurveyInputError("could not compute modification indices; information matrix is singular "
                               "(lavaan's reason too)", field="model") from None
    v = np.diag(info[q:, q:]) - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    ok = v / st.nclusters >= np.finfo(float).eps ** (1 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, score**2 / v, np.nan)
        epc = np.where(ok, score / v, np.nan)
    rows = ext.loc[cand, ["lhs", "op", "rhs", "block", "exo", "ustart"]].reset_index(drop=True)
    rows["group"] = 1  # lavaan prints block, group and level (one group with level: blocks)
    rows["level"] = [res.level_labels[b - 1] for b in rows["block"]]
    rows["mi"], rows["epc"] = mi, epc
    for col in ("sepc.lv", "sepc.all", "sepc.nox"):
        rows[col] = np.nan
    for g, mod in enumerate(res.mg.models):
        at = (rows["block"] == g + 1).to_numpy()
        if at.any():
            rows.loc[at, ["sepc.lv", "sepc.all", "sepc.nox"]] = _standardized(
                mod, res.mg.local(full, g), rows[at].reset_index(drop=True), epc[at])
    return rows[ok].reset_index(drop=True)[COLS]


def cluster_layout(st):
    """The cluster sizes the expected information is taken over: the data's; with incomplete rows
    (:class:`survey.sem.multilevel.missing.MissingStats`) those of every used row, as lavaan's ``Lp``
    (lavaan's expected information of a two-level model ignores the missing values)."""
    if not hasattr(st, "parts"):
        return st
    sizes = [len(np.unique(p.row)) for p in st.parts]
    if st.complete is not None:
        sizes += list(st.complete.cluster_size)
    values, counts = np.unique(np.asarray(sizes, dtype=float), return_counts=True)
    return SimpleNamespace(n=st.n, nclusters=st.nclusters, sizes=values, counts=counts.astype(float))


def _standardized(mod, theta_g: np.ndarray, rows: pd.DataFrame, epc: np.ndarray) -> np.ndarray:
    """sepc.lv, sepc.all, sepc.nox of one level's candidate rows (lavaan's ``cov.std = TRUE`` rules: a
    variance candidate that is not a fixed.x moment is standardized from its current (fixed) value)."""
    var = ((rows["op"] == "~~") & (rows["lhs"] == rows["rhs"])).to_numpy()
    own = var & (rows["exo"] != 1).to_numpy()
    sign = np.sign(epc)
    size = np.where(own, np.abs(rows["ustart"].to_numpy(dtype=float)), np.abs(epc))
    lv = sign * standardize(mod, theta_g, "std.lv", rows=rows, values=size)
    std_all = sign * standardize(mod, theta_g, "std.all", rows=rows, values=size)
    imp = mod.implied(theta_g)
    x = list(mod.names.ov_x)
    sd_x = {v: float(np.sqrt(imp.sigma_all[mod.index[v], mod.index[v]])) for v in x}
    nox = nox_adjust(rows, epc, std_all, x, sd_x)
    # lavaan: a variance candidate whose value above is ~0 standardizes to 0; a covariance standardized by
    # such a (fixed.x covariate) variance candidate is NA in sepc.all
    tiny = var & (size < np.sqrt(np.finfo(float).eps))
    lv[tiny], std_all[tiny], nox[tiny] = 0.0, 0.0, 0.0
    exo_var = set(rows.loc[var & (rows["exo"] == 1).to_numpy(), "lhs"])
    cov = ((rows["op"] == "~~") & (rows["lhs"] != rows["rhs"])).to_numpy()
    na = cov & (rows["lhs"].isin(exo_var) | rows["rhs"].isin(exo_var)).to_numpy()
    std_all[na] = np.nan
    return np.column_stack([lv, std_all, nox])
