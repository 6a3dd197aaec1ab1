"""efa() blocks with ordered items (lavaan 0.6.14: WLSMV and the other categorical estimators, one group).

The ordinal engine (:mod:`survey.sem.ordinal`) fits the unrotated (echelon) model; each block is then
rotated as in :mod:`survey.sem.efa.rotated` (std.ov scales by diag(Lambda Lambda' + Theta), Theta the
items' residual variances: 1 - explained under the delta parameterization, 1 under theta). Standard
errors are bordered as lavaan's (``lav_model_vcov`` with the rotation conditions as equality
constraints): with Delta the Jacobian of the thresholds and polychorics at the rotated parameters, W the
estimator's weight and J the Jacobian of the rotation conditions (thresholds: zero columns),
E^-1 = [[Delta' W Delta, J'], [J, 0]]^-1 top-left and vcov = E^-1 Delta' W Gamma W Delta E^-1 / (N - 1)
(robust.sem, WLSMV's default) or E^-1 / (N - 1) (standard); tests and fit measures are the unrotated
model's (npar and df unchanged).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from survey.errors import SurveyInputError


def _row_values(structure, t_ram: np.ndarray) -> np.ndarray:
    """Every table row's value at the RAM parameters; the items' residual variances as lavaan reports
    them (delta: 1 - diag(Sigma*) of the model without them)."""
    pt = structure.ram.partable
    free = pt["free"].to_numpy()
    values = np.nan_to_num(pt["ustart"].to_numpy(dtype=float))
    values[free > 0] = t_ram[free[free > 0] - 1]
    if structure.parameterization == "delta":
        sigma = structure.conditional_sigma(t_ram)
        names = structure.ram.ov
        for i, r in enumerate(pt.itertuples(index=False)):
            if r.op == "~~" and r.lhs == r.rhs and r.lhs in names and free[i] == 0:
                k = names.index(r.lhs)
                if not structure.numeric[k]:
                    values[i] = 1.0 - sigma[k, k]
    return values


def rotate_ordinal(fit, opt, se: str = "default"):
    """The rotated :class:`survey.sem.ordinal.fit.OrdinalFit` of an unrotated ordinal fit with efa()
    blocks (module notes); ``opt``: :class:`survey.sem.efa.rotated.RotationOptions`."""
    from survey.sem.efa.rotated import border, efa_sets, freed_table, richardson_jacobian, rotated_values
    from survey.sem.inference.vcov import augmented_inverse
    from survey.sem.ordinal import choices
    from survey.sem.ordinal import test as tests
    from survey.sem.ordinal.estimates import estimates_table
    from survey.sem.ordinal.objective import OrdinalStructure, weight_matrix, weighted

    if opt.method == "none":
        return _lavaan_signs(fit)
    structure = fit.structure
    if type(structure) is not OrdinalStructure:
        raise SurveyInputError("efa() blocks with ordered items and observed covariates are not available "
                               "yet (available: efa() blocks with ordered items, one group, no covariates)",
                               field="model")
    pt = structure.ram.partable.copy()
    sets = efa_sets(pt)
    if opt.orthogonal:  # the block's covariances stay 0 (lavaan's orthogonal.efa, not echelon rows)
        cov = (pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & (pt["user"] == 7)
        pt.loc[cov, "user"] = 0
    structure = OrdinalStructure(pt, structure.nth_per, structure.parameterization, structure.numeric)
    t_ram, th = structure.split(fit.theta)
    values, rotations = rotated_values(pt, _row_values(structure, t_ram), sets, opt)
    pt2 = freed_table(pt)
    st2 = OrdinalStructure(pt2, structure.nth_per, structure.parameterization, structure.numeric)
    free = pt2["free"].to_numpy()
    t2 = np.zeros(st2.npar_ram)
    t2[free[free > 0] - 1] = values[free > 0]
    theta2 = np.concatenate([t2, th])
    jac = richardson_jacobian(lambda t: border(pt2, _row_values(st2, t[: st2.npar_ram]), sets, opt), theta2)
    choice = choices.resolve(fit.estimator, se, "default", None)
    weight = weight_matrix(fit.sample.gamma, choice.weight)
    delta = st2.jacobian(theta2)
    e_inv = augmented_inverse(tests.information(delta, weight), jac)
    n = fit.sample.nobs - 1  # as the ordinal engine's vcov (survey.sem.ordinal.fit)
    if choice.se == "robust.sem":
        wd = weighted(weight, delta)
        vcov = e_inv @ (wd.T @ fit.sample.gamma @ wd) @ e_inv / n
    else:
        vcov = e_inv / n
        if choice.se == "none":
            vcov = np.full_like(vcov, np.nan)
    vcov = (vcov + vcov.T) / 2.0
    table = estimates_table(st2, theta2, vcov, fit.sample)
    warnings = list(fit.warnings) + [f"efa block {name}: the GPA rotation did not converge in {opt.max_iter} "
                                     "iterations" for name, rot in rotations.items() if not rot.converged]
    out = dataclasses.replace(fit, parameter_table=table, vcov_matrix=vcov, structure=st2, theta=theta2,
                              warnings=warnings)
    out.rotation = opt
    return out


def _lavaan_signs(fit):
    """rotation = "none": the echelon solution with lavaan's signs (factor k loads positively on the
    block's k-th item, :func:`survey.sem.efa.rotated.lavaan_signs`), thresholds unchanged."""
    from survey.sem.efa.rotated import _block, efa_sets, transform
    from survey.sem.ordinal.estimates import estimates_table
    from survey.sem.ordinal.objective import OrdinalStructure

    structure = fit.structure
    if type(structure) is not OrdinalStructure:
        return fit
    pt = structure.ram.partable
    t_ram, th = structure.split(fit.theta)
    values = _row_values(structure, t_ram)
    free = pt["free"].to_numpy()
    flip = np.ones(fit.theta.size)
    for lvs, ovs in efa_sets(pt).values():
        lam, _, _ = _block(pt, values, lvs, ovs)
        signs = np.where(np.diag(lam[: len(lvs)]) < 0, -1.0, 1.0)
        if (signs > 0).all():
            continue
        factor = transform(pt, np.ones(len(pt)), lvs, np.diag(signs))
        flip[free[free > 0] - 1] *= factor[free > 0]
        values = transform(pt, values, lvs, np.diag(signs))
    if (flip > 0).all():
        return fit
    theta = fit.theta * flip
    vcov = fit.vcov_matrix * np.outer(flip, flip)
    table = estimates_table(structure, theta, vcov, fit.sample)
    return dataclasses.replace(fit, parameter_table=table, vcov_matrix=vcov, theta=theta)
