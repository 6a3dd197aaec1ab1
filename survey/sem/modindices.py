"""Modification indices: univariate score tests for parameters not in the model (lavaan ``modindices()``).

Candidates as lavaan's ``lav_partable_full``: every loading of a factor on an observed variable that
is not in a regression, every residual covariance among indicators, every latent (co)variance, and
every regression among the variables of the structural part. Unlike lavaan, no candidates are listed
for fixed.x covariates as dependent variables (``x ~ ...``, ``x ~~ x``): their moments are fixed at the
sample values, so these score tests are not meaningful. For the
candidate j, with unit expected information I of the extended model (free parameters 2, candidates 1)
and the score s = d logL/N / d theta at the estimates (Sorbom 1989, J Econometrics 40):

    V    = I_11 - I_12 I_22^-1 I_21
    mi   = N s_j^2 / V_jj                  epc = s_j / V_jj
    sepc.lv, sepc.all = epc standardized with the fitted model's SDs (residual variances for ~~)

Candidates with V_jj < eps^(1/3) (equivalent to a free parameter) are dropped, as lavaan does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survey.sem.estimate import gradient_and_information
from survey.sem.model import RAMModel
from survey.sem.standardize import standardize

if TYPE_CHECKING:
    from survey.sem.result import SEMResult


def _lower_pairs(names: list[str]) -> list[tuple[str, str]]:
    return [(names[j], names[i]) for j in range(len(names)) for i in range(j, len(names))]


def candidates(model: RAMModel) -> pd.DataFrame:
    """Candidate parameters (lhs, op, rhs) in lavaan's order, before removing those in the model."""
    n = model.names
    eqs = list(dict.fromkeys(n.eqs_y + n.eqs_x))
    rows: list[tuple[str, str, str]] = []
    rows += [(f, "=~", x) for f in n.lv for x in n.ov_nox if x not in eqs]
    other = {v for v in n.ov if v not in n.ov_ind}
    rows += [(a, "~~", b) for a, b in _lower_pairs(n.ov_nox) if a not in other and b not in other]
    rows += [(a, "~~", b) for a, b in _lower_pairs(n.lv)]
    rows += [(y, "~", x) for y in eqs for x in eqs
             if x != y and not (y in n.ov_ind and x in n.lv) and y not in n.ov_x]
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs"])


def modification_indices(res: SEMResult) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` columns lhs op rhs mi epc sepc.lv sepc.all."""
    ram = res.ram
    pt = ram.partable
    cols = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"]
    if res.information is None or res.information.singular:
        return pd.DataFrame(columns=cols)
    model_rows = pt[pt["op"] != ":="].copy()
    present = {(r.lhs, r.op, r.rhs): k for k, r in enumerate(model_rows.itertuples(index=False))}
    cand = candidates(ram)
    ext = model_rows.copy()
    q = ram.npar
    theta = list(res.theta)
    values = ram.parameter_values(res.theta)
    keep = []
    new_rows = []
    for r in cand.itertuples(index=False):
        key = (r.lhs, r.op, r.rhs)
        rev = (r.rhs, r.op, r.lhs)
        k = present.get(key, present.get(rev) if r.op == "~~" else None)
        if k is not None:
            if model_rows.iloc[k]["exo"] != 1:
                continue
            ext.iloc[k, ext.columns.get_loc("free")] = q + len(keep) + 1
            theta.append(values[k])
        else:
            new_rows.append(dict(lhs=r.lhs, op=r.op, rhs=r.rhs, user=10, free=q + len(keep) + 1, ustart=0.0, exo=0,
                                 label=""))
            theta.append(0.0)
        keep.append(key)
    if not keep:
        return pd.DataFrame(columns=cols)
    ext = pd.concat([ext, pd.DataFrame(new_rows)], ignore_index=True) if new_rows else ext
    ext = ext.reset_index(drop=True)
    ext["exo"] = ext["exo"].fillna(0).astype(int)
    ext["ustart"] = ext["ustart"].astype(float)
    ext_model = RAMModel(ext, names=ram.names)
    ext_model.set_exogenous(res.group_stats.cov, res.group_stats.mean)
    theta_ext = np.asarray(theta, dtype=float)
    g, h = gradient_and_information(ext_model, res.group_stats, theta_ext)
    info = 0.5 * h
    score = -0.5 * g[q:]
    i11 = info[q:, q:]
    i12 = info[q:, :q]
    i22_inv = np.linalg.inv(info[:q, :q]) if q else np.zeros((0, 0))
    v = np.diag(i11 - i12 @ i22_inv @ i12.T).copy()
    ok = v >= np.finfo(float).eps ** (1 / 3)
    n = res.group_stats.n
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, n * score**2 / v, np.nan)
        epc = np.where(ok, score / v, np.nan)
    out = pd.DataFrame(keep, columns=["lhs", "op", "rhs"])
    out["mi"] = mi
    out["epc"] = epc
    sign = np.sign(epc)
    out["sepc.lv"] = sign * standardize(ram, res.theta, "std.lv", rows=out, values=np.abs(epc))
    out["sepc.all"] = sign * standardize(ram, res.theta, "std.all", rows=out, values=np.abs(epc))
    return out[ok].reset_index(drop=True)[cols]
