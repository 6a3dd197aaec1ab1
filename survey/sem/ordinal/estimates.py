"""The estimates of an ordinal fit as lavaan's ``parameterEstimates(fit, remove.nonfree = FALSE)``.

Rows: the model's user rows, the thresholds (``lhs | t1``, ``t2`` ...), the default rows, the scale
factors (``x ~*~ x``) and the fixed intercepts / latent means (``~1``, 0). Under the delta
parameterization an item's residual variance is not free: it is reported as ``1 - [Lambda Psi Lambda']_ii``
(se 0), its scale factor is 1; under theta the residual variance is 1 and the scale factor
``1 / sqrt(Sigma*_ii)``. ``std.all`` (lavaan ``standardizedSolution``) divides by the model-implied SDs of
y* and the latent variables: ``lambda sd_f / sd_x``, ``b sd_x / sd_y``, ``psi / sd^2``,
``psi_ab / sqrt(psi_a psi_b)``, ``tau / sd_x``; ``std.lv`` (lavaan ``standardizedSolution(type =
"std.lv")``) divides by the SDs of the latent variables only (:func:`std_lv`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.distributions import norm
from survey.sem.ordinal._engine import DefinedFunction, numerical_jacobian
from survey.sem.ordinal.objective import OrdinalStructure


def _full_moments(structure: OrdinalStructure, t_ram: np.ndarray) -> tuple[np.ndarray, ...]:
    """The RAM values of every row with the delta map's residual variances filled in, and the SDs of
    all variables; also the items' reported residual variances."""
    ram = structure.ram
    a, s, _ = ram.matrices(t_ram)
    p = structure.p
    if structure.parameterization == "delta":
        sigma0 = structure.conditional_sigma(t_ram)
        resid = np.where(structure.numeric, np.diag(s)[:p], 1.0 - np.diag(sigma0))
        s = s.copy()
        s[np.arange(p), np.arange(p)] = resid
    else:
        resid = np.diag(s)[:p].copy()
    t = np.linalg.inv(np.eye(ram.nvar) - a)
    sigma_all = t @ s @ t.T
    return s, np.sqrt(np.diag(sigma_all)), resid


def std_lv(op: str, lhs: str, rhs: str, est: float, sd_of) -> float:
    """lavaan's ``std.lv`` of one row: latent variables standardized, observed ones (and thresholds,
    scale factors) as estimated; ``sd_of(name)`` is a latent variable's model-implied SD, 1 otherwise."""
    if op == "=~":
        return est * sd_of(lhs)
    if op == "~":
        return est * sd_of(rhs) / sd_of(lhs)
    if op == "~~":
        return est / (sd_of(lhs) * sd_of(rhs))
    if op == "~1":
        return est / sd_of(lhs)
    return est


def latent_sd(ram, sd: np.ndarray):
    """``sd_of`` for :func:`std_lv`: the SD of a latent variable of ``ram``, 1 for anything else."""
    lv = {v: float(sd[ram.index[v]]) for v in ram.lv}
    return lambda name: lv.get(name, 1.0)


def defined_rows(structure: OrdinalStructure, theta: np.ndarray, vcov: np.ndarray,
                 table: pd.DataFrame) -> pd.DataFrame | None:
    """The ``:=`` rows (lavaan's defined parameters): the expression at the estimates, its delta-method
    SE ``sqrt(J V J')`` (J by central differences in theta), and the expression evaluated at the rows'
    ``std.lv`` / ``std.all`` values (as lavaan's standardized solution)."""
    pt = structure.ram.partable
    if not (pt["op"] == ":=").any():
        return None
    fn = DefinedFunction(pt)
    ram = structure.ram

    def at(t: np.ndarray) -> np.ndarray:
        return fn(ram.parameter_values(t[: structure.npar_ram]))

    est = at(theta)
    jac = numerical_jacobian(at, theta)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0, None))
    keyed = table.set_index(["lhs", "op", "rhs"])
    keys = list(zip(pt["lhs"], pt["op"], pt["rhs"], strict=True))
    std = {c: fn(np.array([keyed[c].get(k, np.nan) for k in keys], dtype=float))
           for c in ("std.lv", "std.all")}
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    rows = pt[pt["op"] == ":="]
    return pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": ":=", "rhs": rows["rhs"].to_numpy(),
                         "label": rows["lhs"].to_numpy(), "free": 0, "est": est, "se": se, "z": z,
                         "pvalue": 2 * norm.sf(np.abs(z)), "std.lv": std["std.lv"],
                         "std.all": std["std.all"]})


def estimates_table(structure: OrdinalStructure, theta: np.ndarray, vcov: np.ndarray, sample,
                    defined: bool = True) -> pd.DataFrame:
    """lavaan-named estimates with se, z, pvalue, std.lv and std.all (module docstring); the ``:=`` rows
    last (:func:`defined_rows`) unless ``defined`` is false."""
    ram = structure.ram
    pt = ram.partable
    t_ram, tau = structure.split(theta)
    values = ram.parameter_values(t_ram)
    s_full, sd, resid = _full_moments(structure, t_ram)
    ses = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    idx = ram.index
    scale = structure.moments(theta).scale
    rows: list[dict] = []
    for k, r in enumerate(pt.itertuples(index=False)):
        if r.op not in ("=~", "~", "~~", "~1"):
            continue
        free = int(r.free)
        est = float(values[k])
        if (r.op == "~~" and r.lhs == r.rhs and r.lhs in idx and idx[r.lhs] < structure.p
                and not structure.numeric[idx[r.lhs]]):
            est = float(resid[idx[r.lhs]])
        se = float(ses[free - 1]) if free > 0 else 0.0
        if r.op == "=~":
            std = est * sd[idx[r.lhs]] / sd[idx[r.rhs]]
        elif r.op == "~":
            std = est * sd[idx[r.rhs]] / sd[idx[r.lhs]]
        elif r.op == "~~" and r.lhs == r.rhs:
            std = est / sd[idx[r.lhs]] ** 2
        elif r.op == "~~":
            i, j = idx[r.lhs], idx[r.rhs]
            std = est / np.sqrt(abs(s_full[i, i] * s_full[j, j]))
        elif r.op == "~1":
            std = est / sd[idx[r.lhs]]
        else:
            std = 0.0
        rows.append(dict(lhs=r.lhs, op=r.op, rhs=r.rhs, label=r.label, free=free, est=est, se=se,
                         std_all=std, user=int(r.user)))
    user = [r for r in rows if r["user"] == 1]
    rest = [r for r in rows if r["user"] != 1 and r["op"] != "~1"]
    ordinal = [v for v, num in zip(sample.names, structure.numeric, strict=True) if not num]
    th_rows = []
    for q, (var, value) in enumerate(zip(np.repeat(ordinal, structure.nth_per), tau, strict=True)):
        count = q - int(np.sum(structure.nth_per[: ordinal.index(var)]))
        free = structure.npar_ram + q + 1
        th_rows.append(dict(lhs=var, op="|", rhs=f"t{count + 1}", label="", free=free, est=float(value),
                            se=float(ses[free - 1]), std_all=float(value) / sd[idx[var]], user=0))
    extra = [dict(lhs=v, op="~*~", rhs=v, label="", free=0, est=float(scale[i]), se=0.0, std_all=1.0, user=0)
             for i, v in enumerate(sample.names) if not structure.numeric[i]]
    means = [r for r in rows if r["user"] != 1 and r["op"] == "~1"]
    if not means:
        means = [dict(lhs=v, op="~1", rhs="", label="", free=0, est=0.0, se=0.0, std_all=0.0, user=0)
                 for v in ram.variables]
    table = pd.DataFrame(user + th_rows + rest + extra + means)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(table["se"] > 0, table["est"] / table["se"], np.nan)
    table["z"] = z
    table["pvalue"] = 2 * norm.sf(np.abs(z))
    sd_of = latent_sd(ram, sd)
    table["std.lv"] = [std_lv(o, lh, rh, e, sd_of) for o, lh, rh, e in
                       zip(table["op"], table["lhs"], table["rhs"], table["est"], strict=True)]
    # lavaan: a covariance of two latent variables is standardized by their residual variances (endogenous
    # ones: the disturbances), as std.all does for such a row
    lv_cov = (table["op"] == "~~") & (table["lhs"] != table["rhs"]) & table["lhs"].isin(ram.lv) & table[
        "rhs"].isin(ram.lv)
    table.loc[lv_cov, "std.lv"] = table.loc[lv_cov, "std_all"]
    table = table.rename(columns={"std_all": "std.all"}).drop(columns="user")
    extra = defined_rows(structure, theta, vcov, table) if defined else None
    if extra is not None:
        table = pd.concat([table, extra], ignore_index=True)
    return table[["lhs", "op", "rhs", "label", "free", "est", "se", "z", "pvalue", "std.lv", "std.all"]]
