"""Rotated efa() blocks of a fitted model and their bordered-information standard errors (lavaan 0.6.14:
``lav_model_efa_rotate_x``, ``lav_model_efa_rotate_border_x``, and step 16 of ``lavaan()``).

The engine fits the unrotated (echelon) model (:mod:`survey.sem.syntax.efa`). Each block's loadings A
(p x m) are rotated (:func:`survey.sem.efa.rotation.rotate`, on the rows scaled by the model-implied
standard deviations diag(A A' + Theta)^1/2 as lavaan's std.ov = TRUE). With T the rotation (reflected and
ordered), the latent variables of the block change as eta_new = T' eta, so in RAM form (v = A v + a + u,
Cov(u) = S) with D = I except D_bb = T': A_new = D A D^-1, S_new = D S D', a_new = D a (lavaan: Lambda
T^-T, Psi -> T' Psi T, Beta -> T' Beta T^-T, alpha -> T' alpha); the implied moments do not change.

Standard errors, rotation.se = "bordered" (Jennrich 1974, Psychometrika 39; Archer & Jennrich 1973;
lavaan's default): the rotated model frees the echelon rows (user 7) and adds, per block, the
stationarity conditions of the rotation criterion as equality constraints on all free parameters: with
L the rotated loadings scaled as above (lavaan scales by diag(L L' + Theta), without Psi) and weighted,
G = dQ/dL and Z = L'G, the off-diagonal elements of Z - Z' (orthogonal, m(m-1)/2) or of Z - Psi diag(Z)
(oblique: both triangles, m(m-1)). vcov = the top-left block of the inverse of the information bordered
by their Jacobian (:func:`survey.sem.constrained.constrained_inference`, lavaan's
``lav_model_information_augment_invert``); npar and df stay those of the unrotated model.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.efa.options import RotationOptions, pop_rotation  # noqa: F401 (their home before)
from survey.sem.efa.rotation import criterion, rotate, row_weights

DELTA_STEP = 0.005  # lavaan's rotation.se = "delta": numDeriv method "simple", eps = 0.005


def efa_sets(pt: pd.DataFrame) -> dict[str, tuple[list[str], list[str]]]:
    """Block name -> (its factors, its indicators), in table order (lavaan's lv.efa.idx / ov.efa.idx)."""
    if "efa" not in pt:
        return {}
    rows = pt[(pt["op"] == "=~") & (pt["efa"].fillna("") != "")]
    out = {}
    for name in pd.unique(rows["efa"]):
        r = rows[rows["efa"] == name]
        out[str(name)] = (list(pd.unique(r["lhs"])), list(pd.unique(r["rhs"])))
    return out


def _block(pt: pd.DataFrame, values: np.ndarray, lvs: list[str], ovs: list[str]):
    """(loadings p x m, residual variances p, factor covariances m x m) of a block from row values."""
    lam, theta, psi = np.zeros((len(ovs), len(lvs))), np.zeros(len(ovs)), np.zeros((len(lvs), len(lvs)))
    for i, r in enumerate(pt.itertuples(index=False)):
        if r.op == "=~" and r.lhs in lvs and r.rhs in ovs:
            lam[ovs.index(r.rhs), lvs.index(r.lhs)] = values[i]
        elif r.op == "~~" and r.lhs == r.rhs and r.lhs in ovs:
            theta[ovs.index(r.lhs)] = values[i]
        elif r.op == "~~" and r.lhs in lvs and r.rhs in lvs:
            psi[lvs.index(r.lhs), lvs.index(r.rhs)] = psi[lvs.index(r.rhs), lvs.index(r.lhs)] = values[i]
    return lam, theta, psi


def transform(pt: pd.DataFrame, values: np.ndarray, lvs: list[str], rot: np.ndarray) -> np.ndarray:
    """Row values after eta_new = T' eta for the block's factors (RAM: A -> D A D^-1, S -> D S D', a -> D a).
    Refuses when the change would need a row the table does not have."""
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])]
    names = list(dict.fromkeys(list(rows["lhs"]) + [v for v in rows["rhs"] if v]))
    k = len(names)
    a, s, mean = np.zeros((k, k)), np.zeros((k, k)), np.zeros(k)
    has_a, has_s, has_m = np.zeros((k, k), bool), np.zeros((k, k), bool), np.zeros(k, bool)
    where = []
    for i, r in enumerate(pt.itertuples(index=False)):
        if r.op == "=~":
            j, c = names.index(r.rhs), names.index(r.lhs)
            a[j, c], has_a[j, c] = values[i], True
            where.append(("a", j, c))
        elif r.op == "~":
            j, c = names.index(r.lhs), names.index(r.rhs)
            a[j, c], has_a[j, c] = values[i], True
            where.append(("a", j, c))
        elif r.op == "~~":
            j, c = names.index(r.lhs), names.index(r.rhs)
            s[j, c] = s[c, j] = values[i]
            has_s[j, c] = has_s[c, j] = True
            where.append(("s", j, c))
        elif r.op == "~1":
            j = names.index(r.lhs)
            mean[j], has_m[j] = values[i], True
            where.append(("m", j, 0))
        else:
            where.append(None)
    idx = [names.index(v) for v in lvs]
    d, d_inv = np.eye(k), np.eye(k)
    d[np.ix_(idx, idx)] = rot.T
    d_inv[np.ix_(idx, idx)] = np.linalg.inv(rot.T)
    a, s, mean = d @ a @ d_inv, d @ s @ d.T, d @ mean
    scale = max(1.0, float(np.abs(values[np.isfinite(values)]).max(initial=0.0)))
    if (np.abs(a[~has_a]) > 1e-9 * scale).any() or (np.abs(s[~has_s]) > 1e-9 * scale).any() \
            or (np.abs(mean[~has_m]) > 1e-9 * scale).any():
        raise SurveyInputError("the rotated efa() block needs a parameter the model does not have (every "
                               "variable related to one factor of a block must relate to all of them, as the "
                               "rotation mixes them)", field="model")
    out = np.array(values, dtype=float)
    for i, w in enumerate(where):
        if w is not None:
            kind, j, c = w
            out[i] = a[j, c] if kind == "a" else (s[j, c] if kind == "s" else mean[j])
    return out


def lavaan_signs(pt: pd.DataFrame, theta: np.ndarray, vcov: np.ndarray, sets,
                 mg) -> tuple[np.ndarray, np.ndarray]:
    """The unrotated solution with lavaan's signs: factor k of a block has a positive loading on the
    block's k-th indicator (lavaan starts from its corner ML extraction, ``lav_efa_extraction(corner =
    TRUE)``, whose head is lower triangular with a positive diagonal). The rotated solution does not
    depend on it; the forward differences of lavaan's standardized SEs do (:mod:`survey.sem.efa.result`)."""
    from survey.sem.results.values import values_at

    values = values_at(mg, theta)
    free = pt["free"].to_numpy()
    flip = np.ones(len(theta))
    for idx in group_rows(pt):
        sub = pt.iloc[idx]
        for lvs, ovs in sets.values():
            lam, _, _ = _block(sub, values[idx], lvs, ovs)
            signs = np.where(np.diag(lam[: len(lvs)]) < 0, -1.0, 1.0)
            if (signs > 0).all():
                continue
            factor = transform(sub, np.ones(len(idx)), lvs, np.diag(signs))
            for k, i in enumerate(idx):
                if free[i] > 0:
                    flip[free[i] - 1] = factor[k]
            values[idx] = transform(sub, values[idx], lvs, np.diag(signs))
    return theta * flip, vcov * np.outer(flip, flip)


def unrotated_signs(mg, theta: np.ndarray) -> np.ndarray:
    """rotation = "none": the echelon solution with lavaan's signs (:func:`lavaan_signs`; lavaan reports
    the unrotated solution as its corner extraction starts it, no reflection of negative column sums)."""
    pt = mg.partable
    return lavaan_signs(pt, theta, np.zeros((len(theta), len(theta))), efa_sets(pt), mg)[0]


def rotated_values(pt: pd.DataFrame, values: np.ndarray, sets, opt: RotationOptions,
                   starts: dict | None = None) -> tuple[np.ndarray, dict]:
    """Every row's value with each block rotated (``starts``: block -> the rotation to start GPA from, one
    run, as lavaan's init.rot; default: ``opt.rstarts`` random starts); and each block's rotation."""
    rotations = {}
    values = np.array(values, dtype=float)
    for g, idx in enumerate(group_rows(pt), start=1):
        sub = pt.iloc[idx]
        for name, (lvs, ovs) in sets.items():
            if len(lvs) < 2:
                continue
            lam, theta, _ = _block(sub, values[idx], lvs, ovs)
            ov_var = np.sum(lam * lam, axis=1) + theta if opt.std_ov else None
            key = name if g == 1 else f"{name} (group {g})"
            rot = rotate(lam, opt.method, opt.orthogonal, ov_var=ov_var, weights=opt.weights,
                         rstarts=opt.rstarts, seed=opt.seed + g - 1, tol=opt.gpa_tol, max_iter=opt.max_iter,
                         start=None if starts is None else starts[key], **opt.criterion_args)
            rotations[key] = rot
            values[idx] = transform(sub, values[idx], lvs, rot.rot)
    return values, rotations


def freed_table(pt: pd.DataFrame) -> pd.DataFrame:
    """The rotated model's table: the echelon rows (user 7) free, free numbers renumbered in row order."""
    out = pt.copy()
    free = out["free"].to_numpy().copy()
    echelon = (out["user"] == 7).to_numpy()
    numbers, seen, nxt = np.zeros(len(out), dtype=int), {}, 1
    for i in range(len(out)):
        if free[i] > 0 or echelon[i]:
            key = int(free[i]) if free[i] > 0 else -(i + 1)
            if key not in seen:
                seen[key], nxt = nxt, nxt + 1
            numbers[i] = seen[key]
    out["free"] = numbers
    out.loc[echelon, "ustart"] = np.nan
    if "free_full" in out:  # one number per free row (the expansion K maps them on the shared ones)
        full = np.zeros(len(out), dtype=int)
        model = (numbers > 0) & (out["op"] != ":=").to_numpy()
        full[model] = np.arange(1, model.sum() + 1)
        out["free_full"] = full
    return out


def group_rows(pt: pd.DataFrame) -> list[np.ndarray]:
    """Positions of each group's rows (lavaan rotates every group on its own)."""
    group = pt["group"].to_numpy()
    return [np.flatnonzero(group == g) for g in sorted(set(group[group > 0]))]


def border(pt: pd.DataFrame, values: np.ndarray, sets, opt: RotationOptions,
           first_only: bool = False) -> np.ndarray:
    """The rotation criterion's stationarity conditions at the row values (lavaan's border_x); the first
    group's only with group.equal loadings (:mod:`survey.sem.efa.equal`)."""
    res = []
    for idx in group_rows(pt)[:1] if first_only else group_rows(pt):
        res += _border_group(pt.iloc[idx], values[idx], sets, opt)
    return np.concatenate(res) if res else np.zeros(0)


def _border_group(pt: pd.DataFrame, values: np.ndarray, sets, opt: RotationOptions) -> list[np.ndarray]:
    res = []
    for lvs, ovs in sets.values():
        if len(lvs) < 2:
            continue
        lam, theta, psi = _block(pt, values, lvs, ovs)
        if opt.std_ov:
            lam = lam / np.sqrt(np.sum(lam * lam, axis=1) + theta)[:, None]  # lavaan: tcrossprod(A) + THETA
        lam = lam * row_weights(lam, opt.weights)[:, None]
        _, grad = criterion(opt.method, lam, **opt.criterion_args)
        z = lam.T @ grad
        low = np.tril_indices(len(lvs), -1)
        if opt.orthogonal:
            res.append((z - z.T)[low])
        else:
            tmp = z - psi * np.diag(z)[:, None]
            res += [tmp[low], tmp.T[low]]
    return res


def richardson_jacobian(fun, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Jacobian by Richardson extrapolation of central differences (numDeriv's method="Richardson", as
    lavaan computes the border's Jacobian)."""
    f0 = np.asarray(fun(x))
    jac = np.empty((f0.size, x.size))
    for j in range(x.size):
        step = h * max(1.0, abs(x[j]))
        e = np.zeros_like(x)
        e[j] = 1.0

        def d(t, j=j, e=e):
            return (np.asarray(fun(x + t * e)) - np.asarray(fun(x - t * e))) / (2 * t)

        d1, d2 = d(step), d(step / 2)
        jac[:, j] = (4 * d2 - d1) / 3
    return jac


def rotate_fit(result, opt: RotationOptions, information: str, se_kind: str, test: str):
    """The rotated result of an engine fit with efa() blocks (single group): rotated estimates, bordered
    standard errors, the unrotated fit's test and fit measures (npar, df unchanged)."""
    from survey.sem.constrained import _constrained_result_class, constrained_inference  # noqa: I001
    from survey.sem.estimate.ml import Estimation
    from survey.sem.model.blocks import MultiGroupModel
    from survey.sem.results.values import values_at
    from survey.sem.syntax.checks import ram_table

    if opt.method == "none":
        return result
    mg, pt = result.mg, result.mg.partable
    sets = efa_sets(pt)
    theta_u, vcov_u = lavaan_signs(pt, result.theta, result._vcov, sets, mg)
    values, rotations = rotated_values(pt, values_at(mg, theta_u), sets, opt)
    warnings = list(result.warnings)
    for name, rot in rotations.items():
        if not rot.converged:
            from survey.errors import SurveyWarning

            warnings.append(SurveyWarning("rotation_not_converged", f"efa block {name}: the GPA rotation "
                                          f"did not converge in {opt.max_iter} iterations", "sem"))
    from survey.sem.efa.equal import equality_rows, fix_rotated, split_efa_equalities

    pt2, pairs = split_efa_equalities(freed_table(pt))  # group.equal loadings (survey.sem.efa.equal)
    fix_rotated(pt2, values)
    mg2 = MultiGroupModel.from_partable(ram_table(pt2), copy.copy(mg.models[0].names))
    blocks = result.stats.groups
    for ram, b in zip(mg2.models, blocks, strict=True):
        ram.set_exogenous(b.cov, b.mean)
    free = pt2["free"].to_numpy()
    theta2 = np.zeros(mg2.npar)
    theta2[free[free > 0] - 1] = values[free > 0]
    jac = richardson_jacobian(lambda t: border(pt2, values_at(mg2, t), sets, opt, bool(pairs)), theta2)
    jac = np.vstack([equality_rows(pairs, mg2.npar), jac]) if pairs else jac
    n_eq = int(np.linalg.matrix_rank(jac)) if jac.size else 0
    pieces = copy.copy(result.pieces)
    shell = SimpleNamespace(mg=mg2, stats=result.stats, estimator=result.estimator, missing=result.missing)
    info, _ = constrained_inference(shell, theta2, jac, pieces.df, information, se_kind, test)
    pieces.theta, pieces.info = theta2, info
    pieces.constraint_jacobian = (jac,)
    start2 = np.zeros(mg2.npar)
    if result.start is not None:
        old = pt["free"].to_numpy()
        start2[free[old > 0] - 1] = np.asarray(result.start)[old[old > 0] - 1]
    est = result.estimation
    estimation = Estimation(theta2, est.fml, est.converged, est.iterations, est.max_gradient, est.method,
                            est.message)
    from survey.sem.efa.result import rotated_result_class

    out = rotated_result_class(_constrained_result_class())(
        model=result.model, estimator=result.estimator, missing=result.missing, group=result.group or None,
        group_equal=result.group_equal, group_partial=result.group_partial, mg=mg2, stats=result.stats,
        estimation=estimation, pieces=pieces, baseline=result.baseline, warnings=[], start=start2,
        n_equality=n_eq)
    if opt.se == "delta":
        out.unrotated_mg = mg
        delta_se(out, pt, sets, opt, theta_u, vcov_u, {k: r.rot for k, r in rotations.items()})
    fresh = {w.message for w in warnings}
    out.warnings = warnings + [w for w in out.warnings if w.message not in fresh]
    out.rotation = opt
    starts = {k: r.rot for k, r in rotations.items()}

    def rotated_theta(x: np.ndarray) -> np.ndarray:
        rows = rotated_values(pt, values_at(mg, x), sets, opt, starts)[0]
        out_theta = np.zeros(mg2.npar)
        out_theta[free[free > 0] - 1] = rows[free > 0]
        return out_theta

    out.unrotated = SimpleNamespace(mg=mg, theta=theta_u, vcov=vcov_u, sets=sets, starts=starts, table=pt2,
                                    rotated_theta=rotated_theta)
    return out


def delta_se(out, pt: pd.DataFrame, sets, opt: RotationOptions, theta: np.ndarray, vcov: np.ndarray,
             starts: dict) -> None:
    """lavaan's rotation.se = "delta": se of every model row from J V J', J the forward-difference Jacobian
    (step 0.005) of the rotated rows with respect to the unrotated free parameters (each evaluation one GPA
    run from the final rotation), V the unrotated vcov; in place on ``out.partable`` (vcov() stays the
    bordered one, as lavaan's vcov() is not the delta one either)."""
    from survey.sem.results.values import values_at

    mg = out.unrotated_mg

    def rows(x):
        return rotated_values(pt, values_at(mg, x), sets, opt, starts)[0]

    f0 = rows(theta)
    jac = np.empty((f0.size, theta.size))
    for k in range(theta.size):
        x = theta.copy()
        x[k] += DELTA_STEP
        jac[:, k] = (rows(x) - f0) / DELTA_STEP
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    with np.errstate(invalid="ignore"):
        se = np.where(var < 0, np.nan, np.sqrt(np.clip(var, 0, None)))
    se[se < np.finfo(float).eps ** (1 / 3)] = 0.0
    model = pt["op"].isin(["=~", "~", "~~", "~1"]).to_numpy()
    out.partable.loc[model, "se"] = se[model]
