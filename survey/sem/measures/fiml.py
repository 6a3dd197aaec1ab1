"""FIML-corrected test statistics for the robust CFI/TLI/RMSEA with missing data, over group blocks.

Savalei (2018, Psychological Methods 23), Zhang & Savalei (2023, SEM 30); lavaan 0.6.14
``lav_fit_fiml_corrected``: with f_g = N_g/N, Wm_g the unit observed h1 information with missing data at the
EM moments, Jm_g its first-order counterpart, Wc_g the complete-data information at the EM moments,

    T3 = sum_g N_g F_ML,g(theta_hat; EM moments as complete data),
    Wm = bdiag(f_g Wm_g),  Wmi = bdiag(Wm_g^-1 / f_g),  Wc = bdiag(f_g Wc_g),  Delta = rbind(Delta_g),
    U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm,
    V6 (ML):  k = tr(Wc Wmi U Wmi);
    V3 (MLR): k = tr(U Wmi Wc Wmi U Gamma), Gamma = bdiag(Wm_g^-1 Jm_g Wm_g^-1 / f_g)
    c3 = k / df.
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.blocks import masked_inverse, x_mask
from survey.sem.data.missing_info import h1_expected_information
from survey.sem.estimate.ml import objective
from survey.sem.inference.information import deltas
from survey.sem.inference.vcov import augmented_inverse
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import h1_information


def _masked(mats, mask: np.ndarray):
    """fixed.x rows and columns set to zero (lavaan's h1 information under fixed.x)."""
    out = []
    for a in mats:
        a = a.copy()
        a[mask, :] = 0.0
        a[:, mask] = 0.0
        out.append(a)
    return tuple(out)


def fiml_corrected(models: list[tuple[MultiGroupModel, np.ndarray, float]], blocks, version: str,
                   expected: tuple[bool | str, ...] = ()):
    """(T3, c3) for each (model, theta, df[, constraint Jacobian]): under explicit constraints
    (Delta' Wm Delta)^-1 is the augmented inverse (lavaan ``lav_model_information_augment_invert``).
    ``expected[i]`` ("expected" or True): model i was fitted with information="expected", so
    E = Delta' We Delta with We the missing-data expected h1 information at the EM moments (lavaan's
    ``inverted.information`` under h1.information="unstructured"); ``expected[i] == "first.order"``
    (estimator MLF): E = Delta' Jm Delta with Jm = bdiag(f_g Jm_g), the first-order h1 information at the
    EM moments (lavaan's ``inverted.information`` of a first-order fit under h1.information="unstructured",
    for the model and the baseline alike)."""
    from scipy.linalg import block_diag  # imported when robust FIML measures are computed

    n = sum(b.n for b in blocks)
    f = np.array([b.n / n for b in blocks])
    masks = [x_mask(b.cov.shape[0], b.x_index, True) for b in blocks]
    wm_g, jm_g = zip(
        *(_masked(b.h1_information(True), m) for b, m in zip(blocks, masks, strict=True)), strict=True
    )
    wmi_g = [masked_inverse(w, m) for w, m in zip(wm_g, masks, strict=True)]
    wm = block_diag(*[fg * w for fg, w in zip(f, wm_g, strict=True)])
    wmi = block_diag(*[w / fg for fg, w in zip(f, wmi_g, strict=True)])
    wc = block_diag(
        *[
            fg * _masked((h1_information(b.cov, True),), m)[0]
            for fg, b, m in zip(f, blocks, masks, strict=True)
        ]
    )
    gamma = None
    if version == "V3":
        gamma = block_diag(*[wi @ j @ wi / fg for fg, wi, j in zip(f, wmi_g, jm_g, strict=True)])
    out = []
    we = None
    for j, (mg, theta, df, *jac) in enumerate(models):  # jac: the Jacobian of the active constraints
        full = mg.k @ theta
        t3 = 0.0
        for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
            t3 += b.n * objective(ram, b, mg.local(full, i))[0]
        delta = np.vstack(deltas(mg, theta))
        kind = expected[j] if j < len(expected) else False
        if kind == "first.order":
            e = delta.T @ block_diag(*[fg * jg for fg, jg in zip(f, jm_g, strict=True)]) @ delta
        elif kind:
            if we is None:
                we = block_diag(*[fg * _masked((h1_expected_information(b.md, b.cov) / b.n,), m)[0]
                                  for fg, b, m in zip(f, blocks, masks, strict=True)])
            e = delta.T @ we @ delta
        else:
            e = delta.T @ wm @ delta
        e_inv = augmented_inverse(e, jac[0]) if jac else np.linalg.inv(e)
        u = wm - wm @ delta @ e_inv @ delta.T @ wm
        if version == "V3":
            k = float(np.trace(u @ wmi @ wc @ wmi @ u @ gamma))
        else:
            k = float(np.trace(wc @ wmi @ u @ wmi))
        out.append((t3, k / df if df > 0 else float("nan")))
    return out
