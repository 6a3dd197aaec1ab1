"""efa() blocks with continuous least squares (GLS / ULS / DWLS / WLS; lavaan 0.6.14), standard and
robust.sem SEs.

:func:`survey.sem.ls_route.fit_least_squares` fits the unrotated (echelon) model; each block is rotated
as in :mod:`survey.sem.efa.rotated`, and the standard errors are bordered as
:mod:`survey.sem.ls_constrained` borders explicit constraints: vcov = the top-left block of
[[E, J'], [J, 0]]^-1 / (N - G), E = sum_g (N_g / N) Delta_g' W_g Delta_g at the rotated parameters, J the
Jacobian of the rotation conditions (and of the kept group.equal equalities, :mod:`survey.sem.efa.equal`).
se = "robust.sem" (ULSM, DWLS with robust SEs, ...): the sandwich E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g
Delta_g) E^-1 / (N - G) with E^-1 that bordered inverse (:func:`survey.sem.inference.ls_robust.robust_vcov`).
The tests (standard, scaled) and the fit measures are the unrotated model's (npar and df unchanged).
"""

from __future__ import annotations

import copy

import numpy as np

from survey.errors import SurveyInputError


def rotate_ls(result, opt):
    """The rotated :class:`survey.sem.results.ls_result.LSResult` of an unrotated least-squares fit."""
    from survey.sem.efa.equal import equality_rows, fix_rotated, split_efa_equalities
    from survey.sem.efa.rotated import border, efa_sets, freed_table, richardson_jacobian, rotated_values
    from survey.sem.estimate.ml import Estimation
    from survey.sem.estimate.wls import weight_matrix
    from survey.sem.inference.ls_robust import robust_vcov
    from survey.sem.inference.vcov import Information, augmented_inverse
    from survey.sem.model.blocks import MultiGroupModel
    from survey.sem.model.moments import moments_jacobian
    from survey.sem.results.values import values_at
    from survey.sem.syntax.checks import ram_table

    if opt.method == "none":
        return result
    se_kind = getattr(result, "se_options", ("standard",))[0]
    if se_kind not in ("standard", "robust.sem", "none"):
        raise SurveyInputError(f"efa() blocks with least squares and se={se_kind!r} are not available yet "
                               "(lavaan 0.6.14 fits them; available: se='standard', 'robust.sem', 'none')",
                               field="se")
    mg, pt = result.mg, result.mg.partable
    sets = efa_sets(pt)
    values, rotations = rotated_values(pt, values_at(mg, result.theta), sets, opt)
    pt2, pairs = split_efa_equalities(freed_table(pt))
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
    ms = mg2.meanstructure
    ns = np.array([b.n for b in blocks], float)
    info = np.zeros((mg2.npar, mg2.npar))
    for g, b in enumerate(blocks):
        w = weight_matrix(result.estimator, b, ms)
        local = mg2.local(mg2.k @ theta2, g)
        d = moments_jacobian(mg2.models[g], local, ms) @ mg2.k[mg2.index[g], :]
        info += ns[g] / ns.sum() * d.T @ w @ d
    e_inv = augmented_inverse(info, jac)
    if se_kind == "robust.sem":  # the sandwich around the bordered inverse (lavaan's robust.sem)
        vcov = robust_vcov(mg2, blocks, result.estimator, theta2, e_inv)
    else:
        vcov = e_inv / (ns.sum() - len(blocks))
    vcov = (vcov + vcov.T) / 2.0
    pieces = copy.copy(result.pieces)
    pieces.theta, pieces.info = theta2, Information(np.linalg.pinv(vcov) / result.nobs, vcov, False)
    est = result.estimation
    estimation = Estimation(theta2, est.fml, est.converged, est.iterations, est.max_gradient, est.method,
                            est.message)
    out = type(result)(model=result.model, estimator=result.estimator, missing=result.missing,
                       group=result.group or None, group_equal=result.group_equal,
                       group_partial=result.group_partial, mg=mg2, stats=result.stats, estimation=estimation,
                       pieces=pieces, baseline=result.baseline, warnings=list(result.warnings), start=None)
    out.ls_fit, out.se_options = result.ls_fit, result.se_options
    for name in ("scaled_test", "scaled_baseline", "browne_test", "e_inv"):  # the unrotated model's tests
        if hasattr(result, name):
            setattr(out, name, getattr(result, name))
    if se_kind == "none":
        out.pieces.info.vcov = np.full_like(vcov, np.nan)
    out.n_equality = int(np.linalg.matrix_rank(jac)) if jac.size else 0
    for name, rot in rotations.items():
        if not rot.converged:
            from survey.errors import SurveyWarning

            out.warnings.append(SurveyWarning("rotation_not_converged", f"efa block {name}: the GPA rotation "
                                              f"did not converge in {opt.max_iter} iterations", "sem"))
    out.rotation = opt
    return out
