"""Two-stage standard errors and test (lavaan ``se = "two.stage"`` / ``"robust.two.stage"``,
``lav_model_nvcov_two_stage``; Savalei & Bentler 2009 eq. 6, Savalei & Falk 2014 eq. 3).

Stage 2 is ML fitted to the EM moments s_g = (mu_g', vech(Sigma_g)')' of each group (sample statistics of
:class:`survey.sem.data.two_stage.TwoStageBlock`). With f_g = N_g / N, Delta_g = ds_g(theta)/dtheta',
W_g = the complete-data h1 information at the EM moments (lavaan forces ``h1.information = "unstructured"``;
its ``observed.information = "h1"``, so the observed and the expected information of stage 2 coincide):

    E     = sum_g f_g Delta_g' W_g Delta_g
    vcov  = E^-1 [sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g] E^-1 / N

with Gamma_g the stage-1 asymptotic covariance of the EM moments (unit):

    two.stage:         Gamma_g = A_g^-1                (A_g the missing-data h1 information at the EM
                                                         moments, observed by default, expected with
                                                         ``information = "expected"``)
    robust.two.stage:  Gamma_g = A_g^-1 B_g A_g^-1      (B_g = 1/N_g sum_i s_i s_i', the casewise scores of
                                                         the saturated missing-data likelihood)

The test (lavaan's only one for two-stage, ``satorra.bentler``) is N F_ML(theta) scaled by
c = tr(U Gamma) / df, U_g = W_g - W_g Delta_g E^-1 Delta_g' W_g f_g (Satorra & Bentler 1994;
:func:`survey.sem.inference.tests.satorra_bentler`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.data.missing_info import h1_case_scores, h1_expected_information, h1_observed_information
from survey.sem.estimate.objective import total_f
from survey.sem.inference import information as infmod
from survey.sem.inference import vcov as vcmod
from survey.sem.inference.tests import ScaledTest
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import h1_information, vech_index


def stage1_gamma(block, variant: str, information: str = "observed") -> np.ndarray:
    """Unit asymptotic covariance of a block's EM moments (mu', vech(Sigma)')' (module docstring; lavaan
    ``lav_mvnorm_missing_information_observed_samplestats`` / ``_expected`` and
    ``lav_mvnorm_missing_h1_omega_sw``)."""
    md, cov, mean, n = block.em_data, block.cov, block.mean, block.n
    if information == "expected":
        a = h1_expected_information(md, cov) / n
    else:
        a = h1_observed_information(md, cov, mean) / n
    a_inv = vcmod.symmetric_inverse(a)
    if variant == "two.stage":
        return a_inv
    s = h1_case_scores(md, cov, mean)
    if getattr(block, "clusters", None) is not None:  # lavaan: scores summed by cluster, x nC / (nC - 1)
        s = _cluster_sums(s, block.clusters)
        s = s * np.sqrt(s.shape[0] / (s.shape[0] - 1))
    g = a_inv @ (s.T @ s / n) @ a_inv
    return (g + g.T) / 2.0


def _cluster_sums(values: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Rows summed within each cluster (R ``rowsum``: a NaN in a cluster makes that cluster's sum NaN)."""
    _, index = np.unique(clusters, return_inverse=True)
    out = np.zeros((int(index.max()) + 1, values.shape[1]))
    np.add.at(out, np.asarray(index).ravel(), values)
    return out


def _adf(block) -> np.ndarray:
    """:func:`pairwise_adf_gamma` of a two-stage block's rows (empty rows included, as lavaan's data)."""
    raw = block.raw if getattr(block, "adf_raw", None) is None else block.adf_raw
    return pairwise_adf_gamma(raw, getattr(block, "adf_clusters", None) if raw is not block.raw
                              else getattr(block, "clusters", None))


def pairwise_adf_gamma(raw: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    """lavaan 0.6.14's Gamma of the two-stage baseline model (fitted with se = "none", so its
    Satorra-Bentler test falls back on ``lavGamma(lavdata)``): the ADF covariance of z_i = (y_i',
    vech((y_i - ybar)(y_i - ybar)')')' over the incomplete rows, each product summed over the rows where
    both values are observed and divided by the number of rows N (``lav_samplestats_Gamma`` with
    ``lav_matrix_crossprod``; means and centring by available cases; with ``clusters`` the centred rows are
    first summed within clusters, a NaN making the cluster's sum NaN, and Gamma is multiplied by
    nC / (nC - 1))."""
    y = np.asarray(raw, dtype=float)
    rows, cols = vech_index(y.shape[1])
    yc = y - np.nanmean(y, axis=0)
    z = np.hstack([y, yc[:, cols] * yc[:, rows]])
    zc = z - np.nanmean(z, axis=0)
    factor = 1.0
    if clusters is not None:  # lav_samplestats_Gamma with cluster.idx: rowsum(Zc, cluster.idx), nC / (nC - 1)
        zc = _cluster_sums(zc, clusters)
        factor = zc.shape[0] / (zc.shape[0] - 1)
    seen = np.isfinite(zc)
    zc = np.where(seen, zc, 0.0)
    return factor * (zc.T @ zc) / y.shape[0]


def two_stage_pieces(mg: MultiGroupModel, blocks, theta: np.ndarray, variant: str, information: str,
                     baseline: bool = False):
    """(E, the middle sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g, per-block (W_g, Gamma_g)); ``baseline``:
    lavaan's Gamma of the baseline model (:func:`pairwise_adf_gamma`)."""
    n = sum(b.n for b in blocks)
    e = np.zeros((mg.npar, mg.npar))
    middle = np.zeros_like(e)
    parts = []
    for b, d in zip(blocks, infmod.deltas(mg, theta), strict=True):
        f_g = b.n / n
        w = h1_information(b.cov, True)
        gamma = _adf(b) if baseline else stage1_gamma(b, variant, information)
        wd = w @ d
        e += f_g * d.T @ wd
        middle += f_g * wd.T @ gamma @ wd
        parts.append((w, gamma))
    return e, middle, parts


@dataclass(frozen=True)
class TwoStage:
    """What a two-stage fit asked for: the variant and whether the estimator was MLR."""

    kind: str  # "two.stage" | "robust.two.stage"
    mlr: bool = False
    mvs: bool = False  # MLMVS: lavaan's test list is (mean.var.adjusted, satorra.bentler)


def yuan_bentler_mplus_two_stage(stat: float, df: float, e_inv: np.ndarray, mg: MultiGroupModel, blocks,
                                 theta: np.ndarray) -> ScaledTest:
    """lavaan 0.6.14's Yuan-Bentler-Mplus test of an MLR two-stage fit: with h1.information "unstructured"
    its h1 first-order information is B1_g = W_g Gamma_g W_g, Gamma_g the pairwise ADF covariance of the
    incomplete rows (:func:`pairwise_adf_gamma`; ``lav_mvnorm_h1_information_firstorder`` without NACOV), so
    tr(U Gamma) = sum_g tr(W_g Gamma_g) - tr(E^-1 sum_g f_g Delta_g' B1_g Delta_g); scaling.factor.h1 =
    h1 trace / moments, .h0 = h0 trace / free parameters."""
    n = sum(b.n for b in blocks)
    middle = np.zeros_like(e_inv)
    h1_trace, ndat = 0.0, 0
    for b, d in zip(blocks, infmod.deltas(mg, theta), strict=True):
        w = h1_information(b.cov, True)
        b1 = w @ _adf(b) @ w
        middle += b.n / n * d.T @ b1 @ d
        h1_trace += float(np.sum(vcmod.symmetric_inverse(w) * b1.T))
        ndat += w.shape[0]
    h0_trace = float(np.sum(e_inv * middle.T))
    trace = h1_trace - h0_trace
    return ScaledTest("yuan.bentler.mplus", stat, df, trace, trace / df if df > 0 else float("nan"),
                      scaling_factor_h1=h1_trace / ndat, scaling_factor_h0=h0_trace / mg.npar)


def two_stage_inference(
    spec: TwoStage | str, mg: MultiGroupModel, blocks, theta: np.ndarray, df: float,
    information: str = "observed", baseline: bool = False, jacobian: np.ndarray | None = None,
) -> tuple[vcmod.Information, ScaledTest | None]:
    """The two-stage vcov and the Satorra-Bentler test at theta (module docstring); ``baseline``: the
    test of lavaan's baseline model (:func:`pairwise_adf_gamma`); ``jacobian``: of the equality and active
    inequality constraints, whose E^-1 is the augmented inverse (lavaan
    ``lav_model_information_augment_invert``) in the vcov and in U."""
    if mg.npar == 0:
        return vcmod.Information(np.zeros((0, 0)), np.zeros((0, 0)), False), None
    spec = spec if isinstance(spec, TwoStage) else TwoStage(spec)
    n = sum(b.n for b in blocks)
    e, middle, parts = two_stage_pieces(mg, blocks, theta, spec.kind, information, baseline)
    stat = n * total_f(mg, blocks, theta)
    singular, low = vcmod.is_singular(e)
    q = e.shape[0]
    constrained = jacobian is not None and jacobian.size > 0
    if singular and not constrained:
        return vcmod.Information(e, np.full((q, q), np.nan), True, low), None
    e_inv = vcmod.augmented_inverse(e, jacobian) if constrained else vcmod.symmetric_inverse(e)
    v = e_inv @ middle @ e_inv / n
    info = vcmod.Information(e, (v + v.T) / 2.0, False, low)
    if spec.mlr:  # lavaan's test list (yuan.bentler.mplus, satorra.bentler): the fit's test is YB-Mplus
        return info, yuan_bentler_mplus_two_stage(stat, df, e_inv, mg, blocks, theta)
    if spec.mvs:
        return info, mean_var_adjusted(stat, df, e_inv, parts, infmod.deltas(mg, theta), blocks)
    trace = float(sum(np.sum(w * gamma) for w, gamma in parts)) - float(np.sum(e_inv * middle.T))
    return info, ScaledTest("satorra.bentler", stat, df, trace, trace / df if df > 0 else float("nan"))


def mean_var_adjusted(stat: float, df: float, e_inv: np.ndarray, parts, deltas, blocks) -> ScaledTest:
    """The mean-and-variance adjusted test (Satterthwaite; lavaan ``lav_test_satorra_bentler`` with
    ``Satterthwaite = TRUE``) on the two-stage pieces: U = V - V Delta E^-1 Delta' V over all groups
    (V = blockdiag(f_g W_g), Gamma = blockdiag(Gamma_g / f_g)), tr(U Gamma), tr((U Gamma)^2),
    df* = tr^2 / tr2 and scaling factor tr / df*."""
    n = sum(b.n for b in blocks)
    f = [b.n / n for b in blocks]
    sizes = [w.shape[0] for w, _ in parts]
    m = sum(sizes)
    v_all, g_all = np.zeros((m, m)), np.zeros((m, m))
    start = 0
    for (w, gamma), f_g, k in zip(parts, f, sizes, strict=True):
        v_all[start:start + k, start:start + k] = f_g * w
        g_all[start:start + k, start:start + k] = gamma / f_g
        start += k
    d_all = np.vstack(deltas)
    vd = v_all @ d_all
    ug = (v_all - vd @ e_inv @ vd.T) @ g_all
    tr, tr2 = float(np.trace(ug)), float(np.sum(ug * ug.T))
    dfm = tr**2 / tr2 if tr2 > 0 else float("nan")
    return ScaledTest("mean.var.adjusted", stat, df, tr, tr / dfm, df_scaled=dfm, trace2=tr2)
