"""efa() blocks with ordered items in several groups (lavaan 0.6.14: WLSMV and the other categorical
estimators, configural groups: no group.equal), each group rotated on its own.

The multi-group ordinal engine (:mod:`survey.sem.ordinal.multigroup`) fits the unrotated (echelon) model;
each group's block is rotated as in :mod:`survey.sem.efa.ordinal` (std.ov: diag(Lambda Lambda' + Theta),
Theta = 1 - explained under delta) and the rotated model frees the echelon rows of every group. Standard
errors as lavaan's ``lav_model_vcov`` over groups with the rotation conditions bordering the information:
A = sum_g f_g Delta_g' W_g Delta_g (f_g = N_g / N), E^-1 the top-left block of [[A, J'], [J, 0]]^-1 (J the
stacked Jacobians of each group's rotation conditions), vcov = E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g
Delta_g) E^-1 / (N - G) (robust.sem) or E^-1 / (N - G) (standard). Tests and fit measures are the
unrotated model's (npar and df unchanged).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from survey.errors import SurveyInputError


def rotate_ordinal_groups(fit, opt, se: str = "default"):
    """The rotated :class:`survey.sem.ordinal.multigroup.GroupFit` (module notes)."""
    from survey.sem.efa.ordinal import _row_values
    from survey.sem.efa.rotated import border, efa_sets, freed_table, richardson_jacobian, rotated_values
    from survey.sem.inference.vcov import augmented_inverse
    from survey.sem.ordinal import choices
    from survey.sem.ordinal.group_estimates import group_estimates
    from survey.sem.ordinal.group_moments import Group, _local, moments
    from survey.sem.ordinal.objective import OrdinalStructure, weight_matrix, weighted

    if opt.method == "none":
        raise SurveyInputError("efa() blocks with ordered items, groups and rotation='none' are not "
                               "available yet (lavaan 0.6.14 fits them)", field="rotation")
    blocks = fit.blocks
    if any(type(g.layout) is not OrdinalStructure or g.theta_param or g.fixed for g in blocks):
        raise SurveyInputError("efa() blocks with ordered items and groups take the delta parameterization, "
                               "no covariates and no threshold formulas here (not available yet)",
                               field="model")
    if any(np.any(g.layout.numeric) for g in blocks if g.layout.numeric is not None):
        raise SurveyInputError("efa() blocks with ordered items and groups beside continuous items are not "
                               "available yet (lavaan 0.6.14 fits them; available: all items ordered)",
                               field="ordered")
    new_groups, pieces, warnings, offset = [], [], list(fit.warnings or []), 0
    theta_parts = []
    for g, grp in enumerate(blocks):
        layout = grp.layout
        pt = layout.ram.partable.copy()
        sets = efa_sets(pt)
        if opt.orthogonal:  # the block's covariances stay 0 (lavaan's orthogonal.efa)
            cov = (pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & (pt["user"] == 7)
            pt.loc[cov, "user"] = 0
        structure = OrdinalStructure(pt, layout.nth_per, "delta", layout.numeric)
        t_ram, th, _ = _local(grp, fit.theta)
        values, rotations = rotated_values(pt, _row_values(structure, t_ram), sets, opt)
        warnings += [f"efa block {name} (group {g + 1}): the GPA rotation did not converge in {opt.max_iter} "
                     "iterations" for name, rot in rotations.items() if not rot.converged]
        pt2 = freed_table(pt)
        st2 = OrdinalStructure(pt2, layout.nth_per, "delta", layout.numeric)
        free = pt2["free"].to_numpy()
        t2 = np.zeros(st2.npar_ram)
        t2[free[free > 0] - 1] = values[free > 0]
        local = np.concatenate([t2, th])
        index = np.concatenate([offset + np.arange(local.size), np.full(grp.ram.p, -1)])
        new_groups.append(Group(st2.ram, grp.sample, index.astype(int), grp.nobs, st2, False))
        pieces.append((pt2, sets, st2, offset, local.size))
        theta_parts.append(local)
        offset += local.size
    theta = np.concatenate(theta_parts)

    def conditions(t: np.ndarray) -> np.ndarray:
        return np.concatenate([border(pt2, _row_values(st2, t[off: off + st2.npar_ram]), sets, opt)
                               for pt2, sets, st2, off, _ in pieces])

    jac = richardson_jacobian(conditions, theta)
    choice = choices.resolve(fit.estimator, se, "default", None)
    weights = [weight_matrix(g.sample.gamma, choice.weight) for g in new_groups]
    n_tot = sum(g.nobs for g in new_groups)
    fg = [g.nobs / n_tot for g in new_groups]
    jacs = [moments(g, theta, jacobian=True)[1] for g in new_groups]
    a = sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True))
    e_inv = augmented_inverse(a, jac)
    if choice.se == "robust.sem":
        b = sum(f * weighted(w, j).T @ g.sample.gamma @ weighted(w, j)
                for g, f, w, j in zip(new_groups, fg, weights, jacs, strict=True))
        vcov = e_inv @ b @ e_inv / (n_tot - len(new_groups))
    else:
        vcov = e_inv / (n_tot - len(new_groups))
    if choice.se == "none":
        vcov = np.full_like(vcov, np.nan)
    vcov = (vcov + vcov.T) / 2.0
    table = group_estimates(new_groups, theta, vcov, _local)
    out = dataclasses.replace(fit, parameter_table=table, vcov_matrix=vcov, blocks=new_groups, theta=theta,
                              parts=(jacs, weights, [g.sample.gamma for g in new_groups], fg),
                              warnings=warnings)
    out.rotation = opt
    return out
