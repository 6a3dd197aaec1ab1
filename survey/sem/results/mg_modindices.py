"""Modification indices of a multi-group fit (lavaan 0.6.14 ``modindices()``; fixtures
tests/fixtures/mg_modindices/make_mg_modindices.R).

Every group g gets lavaan's extended model of one block (:func:`survey.sem.results.modindices.
extended_model`: its fixed rows freed, the ``lav_partable_full`` candidates added), with the unit score
s_g = -1/2 dF_g/dtheta and the unit expected information I_g of that block (for a FIML block the
missing-data expected information; :func:`survey.sem.inference.information.block_expected`). With
w_g = N_g / N and M_g = L_g K (the group's free rows in the estimated parameters theta, equality
constraints of ``group_equal`` and shared labels included), the information of the extended model is

    I_22 = sum_g w_g M_g' I_g,mm M_g      I_12(g) = w_g I_g,cm M_g      I_11(g) = w_g I_g,cc

(candidates of different groups do not interact), and for candidate j of group g (Sorbom 1989;
lavaan ``modindices``: the constrained model's inverted expected information as I_22^-1)

    V_jj = I_11,jj - I_12,j I_22^-1 I_21,j      mi = N (w_g s_g,j)^2 / V_jj      epc = w_g s_g,j / V_jj

sepc.lv / sepc.all / sepc.nox standardize the epc with group g's fitted model, as the single-group table.
Candidates with V_jj < eps^(1/3) (not identified when freed) are dropped, as lavaan does; under fixed.x
without a mean structure (or under FIML) so are the regressions of a covariate on a factor (lavaan lists
none; their mi is ~1e-20 here); complete data with a mean structure: lavaan scores them (mi > 0 through
the means), and so do we.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.estimate.objective import block_gradient, weights
from survey.sem.inference.information import block_expected
from survey.sem.model.moments import h1_information, moments_jacobian
from survey.sem.results.modindices import extended_model
from survey.sem.results.std_nox import nox_adjust
from survey.sem.standardize import standardize

COLS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def ml_score_information(ext, block, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit score -1/2 dF_g/dtheta and unit expected information of one block (ML, MLR; FIML blocks:
    the missing-data expected information, lavaan's default for ``modindices``). A complete-data block
    with a mean structure takes the one-group score and information, whose mean part has lavaan's fixed.x
    rows zeroed (:func:`survey.sem.results.modindices.score_and_information`)."""
    if block.kind != "fiml" and ext.meanstructure and len(getattr(block, "x_index", [])):
        from survey.sem.results.modindices import score_and_information

        return score_and_information(ext, block, theta, list(block.x_index))
    return -0.5 * block_gradient(ext, block, theta), block_expected(ext, block, theta)


def unstructured_score_information(ext, block, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """missing = "two.stage": the information weighted at the block's (EM) moments S, Delta' W(S) Delta
    (lavaan's h1.information "unstructured" for two-stage fits); the score as :func:`ml_score_information`."""
    ms = ext.meanstructure
    d = moments_jacobian(ext, theta, ms)
    return -0.5 * block_gradient(ext, block, theta), d.T @ h1_information(np.asarray(block.cov), ms) @ d


def _group_pieces(res, score_information, cov_of=None, exo: bool = False):
    """Per group: (candidate rows, unit score of the candidates, I_cc diag, I_cm M_g, M_g' I_mm M_g).
    ``cov_of(block)``: the covariance matrix the fixed.x moments take (default the block's, divisor N)."""
    mg, blocks = res.mg, res.stats.groups
    out = []
    for i, (ram, block) in enumerate(zip(mg.models, blocks, strict=True)):
        theta_g = mg.local(res.theta_full, i)
        q_g = len(theta_g)
        cov = block.cov if cov_of is None else cov_of(block)
        ext, theta_ext, keep = extended_model(ram, theta_g, cov, block.mean, exo=exo)
        score, info = score_information(ext, block, theta_ext)
        m = mg.k[mg.index[i], :]
        out.append((keep, score[q_g:], np.diag(info[q_g:, q_g:]), info[q_g:, :q_g] @ m,
                    m.T @ info[:q_g, :q_g] @ m))
    return out


def _standardized(ram, theta_g: np.ndarray, rows: pd.DataFrame, epc: np.ndarray, cov: np.ndarray) -> None:
    """sepc.lv, sepc.all, sepc.nox of ``rows`` (in place) with group g's fitted model."""
    sign, size = np.sign(epc), np.abs(epc)
    rows["sepc.lv"] = sign * standardize(ram, theta_g, "std.lv", rows=rows, values=size)
    rows["sepc.all"] = sign * standardize(ram, theta_g, "std.all", rows=rows, values=size)
    sd_x = {v: float(np.sqrt(cov[ram.ov.index(v), ram.ov.index(v)])) for v in ram.names.ov_x}
    rows["sepc.nox"] = nox_adjust(rows, epc, rows["sepc.all"].to_numpy(), list(ram.names.ov_x), sd_x)
    # lavaan: a variance candidate whose epc is ~0 standardizes to 0
    tiny = (rows["op"] == "~~") & (rows["lhs"] == rows["rhs"]) & (size < np.sqrt(np.finfo(float).eps))
    rows.loc[tiny, ["sepc.lv", "sepc.all", "sepc.nox"]] = 0.0


def group_modification_indices(res, score_information=None, cov_of=None, exo: bool = False) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` of a multi-group :class:`~survey.sem.results.result.SEMResult`:
    ``lhs op rhs group mi epc sepc.lv sepc.all sepc.nox``, groups numbered from 1 (module notes).
    ``score_information(extended model, block, theta)``: the unit score and information of one block
    (another estimator's: :func:`survey.sem.results.ls_modindices.ls_group_modification_indices`);
    ``cov_of(block)``: the covariance matrix of the fixed.x moments and of sepc.nox's SDs (default the
    block's); ``exo``: the fixed.x moments and the covariates' regressions are candidates too (ULS)."""
    if res.information is None or res.information.singular:
        return pd.DataFrame(columns=COLS)
    mg, blocks = res.mg, res.stats.groups
    if score_information is None:
        two_stage = getattr(res, "two_stage", None) is not None
        score_information = unstructured_score_information if two_stage else ml_score_information
    pieces = _group_pieces(res, score_information, cov_of, exo)
    w = weights(blocks)
    i22 = sum(wg * p[4] for wg, p in zip(w, pieces, strict=True))
    i22_inv = np.linalg.inv(i22) if mg.npar else np.zeros((0, 0))
    jac = getattr(res.pieces, "constraint_jacobian", None)
    if jac is not None and mg.npar:  # explicit ==, active <, >: lavaan's augmented (bordered) inverse
        from survey.sem.inference.vcov import augmented_inverse

        i22_inv = augmented_inverse(i22, np.vstack(jac))
    n = float(sum(b.n for b in blocks))
    tables = []
    for g, (wg, (keep, s_c, i11, i12, _)) in enumerate(zip(w, pieces, strict=True)):
        if not keep:
            continue
        i12 = wg * i12
        v = wg * i11 - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
        s = wg * s_c
        ok = v >= np.finfo(float).eps ** (1 / 3)
        # fixed.x: lavaan scores no regression of a covariate (but under ULS, exo)
        means = mg.models[g].meanstructure and blocks[g].kind != "fiml"  # complete data with means
        if len(getattr(blocks[g], "x_index", [])) and not exo and not means:
            x = set(mg.models[g].names.ov_x)
            ok &= np.array([not (op == "~" and lhs in x) for lhs, op, _ in keep], dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            mi = np.where(ok, n * s**2 / v, np.nan)
            epc = np.where(ok, s / v, np.nan)
        rows = pd.DataFrame(keep, columns=["lhs", "op", "rhs"])
        rows["group"] = g + 1
        rows["mi"], rows["epc"] = mi, epc
        cov = blocks[g].cov if cov_of is None else cov_of(blocks[g])
        _standardized(mg.models[g], mg.local(res.theta_full, g), rows, epc, cov)
        tables.append(rows[ok])
    if not tables:
        return pd.DataFrame(columns=COLS)
    return pd.concat(tables, ignore_index=True)[COLS]
