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

Every matrix but Delta is block diagonal, so the traces are sums of block products (A_g = f_g Wm_g Delta_g,
B_g = Wmi_g Wc_g Wmi_g / f_g, E^-1 the (augmented) inverse of Delta' Wm Delta):

    V6:  k = sum_g f_g tr(B_g Wm_g) - tr(E^-1 sum_g A_g' B_g A_g)
    V3:  k = sum_g f_g^2 tr(Wm_g B_g Wm_g Gamma_g) - 2 tr(E^-1 sum_g A_g' Gamma_g f_g Wm_g B_g A_g)
             + tr(E^-1 M_B E^-1 M_Gamma),  M_X = sum_g A_g' X_g A_g

(the same numbers as the dense (G p*)^2 products, in O(G p*^2 q) instead of O((G p*)^3)).

Wc_g is lavaan's h1 information of its complete-data refit on the EM moments (``fit.tilde``, a lavaan()
call with its default fixed.x = TRUE): its rows of the model's exogenous covariates (``ov.x`` of the
parameter table) are zero also when the model was fitted with fixed.x = FALSE (:func:`_tilde_x`).
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
from survey.sem.syntax import variable_names


def _masked(mats, mask: np.ndarray):
    """fixed.x rows and columns set to zero (lavaan's h1 information under fixed.x)."""
    out = []
    for a in mats:
        a = a.copy()
        a[mask, :] = 0.0
        a[:, mask] = 0.0
        out.append(a)
    return tuple(out)


def _tilde_x(mg: MultiGroupModel, blocks) -> list[list[int]]:
    """Per block, the positions of the exogenous covariates of the model's parameter table (lavaan's
    ``lav_partable_vnames(, "ov.x")``: regressors only, not named in a user ~~ or ~1 row), which lavaan's
    fit.tilde treats as fixed.x whatever the fit's fixed.x (``lav_fit_fiml_corrected``)."""
    out = []
    for ram, b in zip(mg.models, blocks, strict=True):
        ov_x = set(variable_names(ram.partable).ov_x)
        out.append([i for i, name in enumerate(b.names) if name in ov_x])
    return out


def _block_pieces(blocks, version: str, tilde_x: list[list[int]] | None = None) -> list[dict]:
    """Per-block matrices that do not depend on the model: f_g Wm_g, f_g Jm_g, B_g, Gamma_g (V3) and the
    model-free trace of k (``tilde_x``: the covariates whose rows of Wc_g are zero, :func:`_tilde_x`)."""
    n = sum(b.n for b in blocks)
    out = []
    for g, b in enumerate(blocks):
        fg = b.n / n
        mask = x_mask(b.cov.shape[0], b.x_index, True)
        wm, jm = _masked(b.h1_information(True), mask)
        wmi = masked_inverse(wm, mask)
        exo = sorted(set(b.x_index) | set(tilde_x[g] if tilde_x else ()))
        wc = _masked((h1_information(b.cov, True),), x_mask(b.cov.shape[0], exo, True))[0]
        piece = {"f": fg, "mask": mask, "wm": fg * wm, "jm": fg * jm, "b": wmi @ wc @ wmi / fg}
        if version == "V3":
            piece["gamma"] = wmi @ jm @ wmi / fg
            wbw = piece["wm"] @ piece["b"] @ piece["wm"]
            piece["trace"] = float(np.sum(wbw * piece["gamma"].T))  # tr(f Wm B f Wm Gamma)
        else:
            piece["trace"] = float(np.sum(piece["b"] * piece["wm"].T))  # tr(B f Wm)
        out.append(piece)
    return out


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
    pieces = _block_pieces(blocks, version, _tilde_x(models[0][0], blocks))
    out = []
    we = None
    for j, (mg, theta, df, *jac) in enumerate(models):  # jac: the Jacobian of the active constraints
        full = mg.k @ theta
        t3 = 0.0
        for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
            t3 += b.n * objective(ram, b, mg.local(full, i))[0]
        delta = deltas(mg, theta)
        a = [p["wm"] @ d for p, d in zip(pieces, delta, strict=True)]  # blocks of Wm Delta
        kind = expected[j] if j < len(expected) else False
        if kind == "first.order":
            e = sum(d.T @ p["jm"] @ d for p, d in zip(pieces, delta, strict=True))
        elif kind:
            if we is None:
                we = [p["f"] * _masked((h1_expected_information(b.md, b.cov) / b.n,), p["mask"])[0]
                      for p, b in zip(pieces, blocks, strict=True)]
            e = sum(d.T @ w @ d for w, d in zip(we, delta, strict=True))
        else:
            e = sum(d.T @ ag for d, ag in zip(delta, a, strict=True))
        e_inv = augmented_inverse(e, jac[0]) if jac else np.linalg.inv(e)
        trace = sum(p["trace"] for p in pieces)
        m_b = sum(ag.T @ p["b"] @ ag for p, ag in zip(pieces, a, strict=True))
        if version == "V3":
            cross = sum(ag.T @ p["gamma"] @ p["wm"] @ p["b"] @ ag for p, ag in zip(pieces, a, strict=True))
            m_g = sum(ag.T @ p["gamma"] @ ag for p, ag in zip(pieces, a, strict=True))
            k = trace - 2.0 * float(np.sum(e_inv * cross.T)) + float(np.sum((e_inv @ m_b) * (e_inv @ m_g).T))
        else:
            k = trace - float(np.sum(e_inv * m_b.T))
        out.append((t3, k / df if df > 0 else float("nan")))
    return out
