"""Continuous least squares (GLS / ULS / DWLS / WLS) under explicit constraints (``a == b``, ``a > 0``,
``a + b < 1``, ``a == b^2``: lavaan's ``==`` / ``<`` / ``>`` rows), as lavaan 0.6.14 estimates them.

The least-squares function of :func:`survey.sem.estimate.wls.fit_ls`, F(theta) = sum_g (N_g / N)
(s_g - sigma_g)' W_g (s_g - sigma_g), with its gradient -2 sum_g (N_g / N) Delta_g' W_g (s_g - sigma_g), is
minimised under the constraints by SLSQP (:func:`survey.sem.constrained.minimize_constrained`; lavaan's
``nlminb.constr`` reaches the same KKT point). At the solution:

    chisq = sum_g (N_g - 1) e_g' W_g e_g   (lavaan's scale of these estimators),
    df    = p* - q + rank of the equality constraints' Jacobian,  npar = q - that rank,
    vcov  = the top-left block of [[E, J'], [J, 0]]^-1 / (N - G),  E = sum_g (N_g / N) Delta_g' W_g Delta_g,

J the Jacobian of the equality and the active inequality constraints (slack < 1e-6; lavaan
``lav_model_information_augment_invert``). That block is also the E^-1 of the robust sandwich and of U in
the scaled tests (:mod:`survey.sem.inference.ls_robust`, ``e_inv``). Checked against
tests/fixtures/lang3/lang3.json (ls_con_*, ls_ineq_dwls).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from survey.sem.constrained import ACTIVE, constraint_functions, minimize_constrained
from survey.sem.estimate.wls import LSFit, sample_moments, weight_matrix
from survey.sem.inference.vcov import augmented_inverse
from survey.sem.model.moments import moments_jacobian, vech_index
from survey.sem.standardize import numerical_jacobian


def fit_ls_constrained(mg, blocks, estimator: str, unconstrained: LSFit,
                       bounds: tuple[np.ndarray, np.ndarray] | None = None, observed: bool = False):
    """Re-estimate ``unconstrained`` (an :class:`~survey.sem.estimate.wls.LSFit` of the same model and
    blocks) under the table's constraints (module notes); ``observed`` (GLS information="observed"): the
    observed information (:func:`survey.sem.inference.ls_robust.observed_information`) in place of E.
    Returns the constrained LSFit (its baseline kept), E^-1 (the augmented inverse), the constraint rows'
    slack (lhs - rhs, as lavaan reports them) and the rank of the equality constraints."""
    from survey.sem.results.values import values_at

    ms = mg.meanstructure
    rows, cols = vech_index(len(mg.ov))
    ns = np.array([b.n for b in blocks], float)
    cw = ns / ns.sum()
    ss = [sample_moments(b, ms) for b in blocks]
    ws = [weight_matrix(estimator, b, ms) for b in blocks]

    def parts(theta):
        out = []
        for g in range(len(blocks)):
            ram, local = mg.models[g], mg.local(mg.k @ theta, g)
            imp = ram.implied(local)
            sigma = imp.sigma[rows, cols]
            e = ss[g] - (np.concatenate([imp.mean, sigma]) if ms else sigma)
            out.append((e, moments_jacobian(ram, local, ms) @ mg.k[mg.index[g], :]))
        return out

    def objective(theta):
        return float(sum(c * e @ w @ e for c, w, (e, _) in zip(cw, ws, parts(theta), strict=True)))

    def gradient(theta):
        return -2.0 * sum(c * d.T @ w @ e for c, w, (e, d) in zip(cw, ws, parts(theta), strict=True))

    eq, ineq, slack, table = constraint_functions(mg.partable, lambda t: values_at(mg, t))
    sol = minimize_constrained(objective, gradient, unconstrained.theta, eq, ineq, bounds=bounds)
    theta = sol.theta
    s = slack(theta)
    is_eq = (table["op"] == "==").to_numpy()
    jac = numerical_jacobian(slack, theta)
    active = is_eq | (np.abs(s) < ACTIVE)
    n_eq = int(np.linalg.matrix_rank(jac[is_eq])) if is_eq.any() else 0
    final = parts(theta)
    info = sum(c * d.T @ w @ d for c, w, (_, d) in zip(cw, ws, final, strict=True))
    if observed:  # GLS information="observed": lavaan's observed information in place of E
        from survey.sem.inference.ls_robust import observed_information

        info = observed_information(mg, blocks, estimator, theta)
    e_inv = augmented_inverse(info, jac[active])
    chisq = float(sum((n - 1) * e @ w @ e for n, w, (e, _) in zip(ns, ws, final, strict=True)))
    vcov = e_inv / (ns.sum() - len(blocks))  # lavaan: N - G
    fit = replace(unconstrained, theta=theta, chisq=chisq, df=unconstrained.df + n_eq,
                  fmin=chisq / (2 * ns.sum()), vcov=(vcov + vcov.T) / 2, converged=sol.converged,
                  iterations=unconstrained.iterations + sol.iterations)
    return fit, e_inv, s, n_eq
