"""lavaan's ``test=`` option with estimator ML: scaled, shifted, mean-and-variance adjusted and Browne's
residual-based tests, over group blocks (lavaan ``lav_test_satorra_bentler``, ``lav_test_browne``).

With f_g = N_g / N, W_g the normal h1 information at Sigma_g(theta) (fixed.x elements zeroed), Gamma_g the
ADF covariance of the block's moments, Delta = rbind(Delta_g) and E^-1 the inverse (augmented, under
explicit constraints) unit information of the fit:

    U = Wf - Wf Delta E^-1 Delta' Wf,  Wf = bdiag(f_g W_g),  Gf = bdiag(Gamma_g / f_g)
    satorra.bentler     c = tr(U Gf) / df,  T_sb = T / c            (Satorra & Bentler 1994)
    scaled.shifted      a = sqrt(df / tr((U Gf)^2)),  T_ss = a T + (df - a tr(U Gf))
                        (Asparouhov & Muthen 2010; lavaan reports 1/a as the scaling factor)
    mean.var.adjusted   df' = tr(U Gf)^2 / tr((U Gf)^2),  T_mv = T df' / tr(U Gf) on df'
                        (Satterthwaite 1941; Satorra & Bentler 1994)
    browne.residual.*   T_B = sum_g N_g r_g' (G_g^-1 - G_g^-1 D_g (D_g' G_g^-1 D_g)^-1 D_g' G_g^-1) r_g,
                        r_g = sample minus implied moments, G_g = Gamma_g (adf) or W_g(S_g)^-1 (nt)
                        (Browne 1984, eq. 2.20a)

Under conditional.x = TRUE the moments, W_g, Gamma_g and Delta_g are those of y given x
(:mod:`survey.sem.inference.conditional_sem`), as lavaan's.

``yuan.bentler`` with complete data is the Satorra-Bentler trace (lavaan: h1 Omega = Gamma), and
``yuan.bentler.mplus`` is :func:`survey.sem.inference.tests.yuan_bentler_mplus` with the fit's information.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.data.blocks import BlockStats, x_mask
from survey.sem.inference.conditional_sem import block_parts, is_conditional
from survey.sem.inference.tests import ScaledTest, _factor, pvalue, yuan_bentler_mplus
from survey.sem.inference.vcov import h1_weight
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.model.moments import block_gamma, gamma_adf_fixed_x, vech_index

SCALED = ("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus", "scaled.shifted", "mean.var.adjusted")
BROWNE = ("browne.residual.adf", "browne.residual.nt", "browne.residual.adf.model",
          "browne.residual.nt.model")
BOOTSTRAP = ("bollen.stine",)  # run by survey.sem.api (the Bollen-Stine bootstrap)
TESTS = ("standard",) + SCALED + BROWNE + BOOTSTRAP


def normalize_test(test: str) -> str:
    """lavaan's test names (case-insensitive; its "sb" and "yb" aliases; "mlm", "mlr", "mlmv", "mlmvs" are
    estimators, not test names, and lavaan 0.6.14 refuses them as ``test=``)."""
    name = str(test).strip().lower()
    name = {"sb": "satorra.bentler", "satorra-bentler": "satorra.bentler", "yb": "yuan.bentler",
            "browne.residual": "browne.residual.adf", "default": "standard",
            "none": "standard"}.get(name, name)
    if name not in TESTS:
        raise SurveyInputError(f"test={test!r} is not available (available: {', '.join(TESTS)})",
                               field="test", value=str(test))
    return name


def check_test(test: str, est: str, kind: str) -> None:
    """Refuse the combinations whose lavaan numbers this module does not reproduce yet: with missing data
    every test but yuan.bentler.mplus and yuan.bentler under ML or MLR (lavaan's "h1" observed information
    for the tests and its h1 Omega; the Satorra-Bentler style tests never get here with missing data: lavaan
    fits the complete cases then, :mod:`survey.sem.inference.listwise`)."""
    if test == "standard" or (est == "MLR" and test == "yuan.bentler.mplus"):
        return
    if kind != "listwise" and test in BROWNE[2:]:  # lavaan fits them with its FIML h1 Gamma: not checked
        raise SurveyInputError(f"test={test!r} with FIML is not available yet (available: listwise)",
                               field="test", value=test)
    if kind != "listwise" and test in BROWNE:  # lavaan 0.6.14 refuses them (lav_test_browne)
        raise SurveyInputError(f"test={test!r} with FIML: lavaan 0.6.14 refuses it (\"Browne's test is not "
                               "available when data is missing\")", field="test", value=test)
    if kind != "listwise" and not (est in ("ML", "MLR") and test in ("yuan.bentler.mplus", "yuan.bentler")):
        why = (" (lavaan drops to listwise)" if test in ("satorra.bentler", "scaled.shifted",
                                                          "mean.var.adjusted") else " yet")
        raise SurveyInputError(f"test={test!r} is not available with FIML{why}; available: "
                               "yuan.bentler(.mplus), MLR, listwise", field="test", value=test)
    if est == "MLR" and test not in (*SCALED, *BROWNE):
        raise SurveyInputError(f"test={test!r} is not available with estimator MLR yet (available: its own "
                               "yuan.bentler.mplus and a second satorra.bentler or yuan.bentler)",
                               field="test", value=test)


def check_information(information: str, est: str, kind: str, se_kind: str) -> None:
    """information= where lavaan's numbers are not reproduced yet: observed with robust.sem (MLM; lavaan's
    observed h1 weight). Expected with missing data is lavaan's missing-data expected information
    (:func:`survey.sem.inference.information.block_expected`; the Yuan-Bentler test's h1 part and the
    FIML-corrected robust measures follow it)."""


def _moments(b: BlockStats, meanstructure: bool) -> np.ndarray:
    rows, cols = vech_index(b.cov.shape[0])
    v = b.cov[rows, cols]
    return np.concatenate([b.mean, v]) if meanstructure else v


def ugamma(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, deltas: list[np.ndarray],
           e_inv: np.ndarray, weight=None, omega: bool = False) -> tuple[float, float]:
    """tr(U Gf) and tr((U Gf)^2) (module notes); ``weight(block, sigma, mu, meanstructure)``: W_g when it is
    not the normal h1 information (lavaan's observed h1 weight, :mod:`survey.sem.inference.observed_sem`)."""
    n = sum(b.n for b in blocks)
    full = mg.k @ theta
    wf, gf, deltas = [], [], list(deltas)
    for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
        f = b.n / n
        imp = ram.implied(mg.local(full, i))
        if is_conditional(b) and weight is None:  # y given x (survey.sem.inference.conditional_sem)
            c = block_parts(b, imp.sigma, imp.mean, deltas[i])
            deltas[i] = c["delta"]
            wf.append(f * c["weight"])
            gf.append(c["gamma"] / f)
            continue
        wf.append(f * (h1_weight(b, imp.sigma, ram.meanstructure) if weight is None
                       else weight(b, imp.sigma, imp.mean, ram.meanstructure)))
        if b.kind == "fiml":  # lavaan's h1 Omega (survey.sem.inference.observed_sem.h1_omega)
            from survey.sem.inference.observed_sem import h1_omega

            gf.append(h1_omega(b) / f)
        elif omega and getattr(b, "wt", None) is not None:  # yuan.bentler with weights: lavaan's h1 Omega
            from survey.sem.inference.observed_sem import h1_omega

            gf.append(h1_omega(b, ram.meanstructure) / f)
        else:
            gf.append(block_gamma(b, ram.meanstructure) / f)
    from scipy.linalg import block_diag  # imported when a scaled test is computed (start-up cost)

    w, g, d = block_diag(*wf), block_diag(*gf), np.vstack(deltas)
    wd = w @ d
    u = w - wd @ e_inv @ wd.T
    ug = u @ g
    return float(np.trace(ug)), float(np.sum(ug * ug.T))


def browne_residual(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray,
                    deltas: list[np.ndarray], adf: bool, lineq: bool | None = None,
                    model: bool = False) -> list[float]:
    """Browne's (1984) residual-based statistic, per block (module notes; the test is their sum).

    The projection is joint over the blocks: with W = bdiag(N_g / N Gamma_g^-1) and D the stacked
    Jacobians in the free parameters, T_B = N (r' W r - r' W D (D' W D)^+ D' W r) (Browne 1984, eq.
    2.20a; lavaan ``lav_test_browne``). Without equalities across groups D is block-diagonal and T_B is the
    sum of the per-group statistics; with them (``group.equal``) it is not. The per-block parts reported
    (lavaan's ``stat.group``) are N e_g' W_g e_g with e_g = r_g - D_g u the residuals left after the joint
    projection u = (D' W D)^+ D' W r, the per-group statistics when no parameter is shared; with equality
    constraints (``lineq``: shared labels, group.equal, explicit ``==``; default: whether the model has
    fewer parameters than free rows) lavaan reports the proxy T_B N_g / N instead. ``model``: Gamma_g at the
    implied moments (lavaan's ``.model`` variants, :mod:`survey.sem.inference.browne_model`)."""
    from survey.sem.inference.browne_model import gamma_adf_model, gamma_nt

    full = mg.k @ theta
    n_total = float(sum(b.n for b in blocks))
    res, gis, ds = [], [], []
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas, strict=True)):
        ms = ram.meanstructure
        imp = ram.implied(mg.local(full, i))
        if is_conditional(b):  # y given x: lavaan's residual statistics and their Gamma (conditional_sem)
            if model:
                raise SurveyInputError("test='browne.residual.{}.model' with conditional.x=TRUE is not "
                                       "available yet (available: browne.residual.adf, browne.residual.nt)"
                                       .format("adf" if adf else "nt"), field="test")
            c = block_parts(b, imp.sigma, imp.mean, d)
            res.append(c["residual"])
            ds.append(c["delta"])
            gis.append(np.linalg.inv(c["gamma"] if adf else c["gamma_nt"]) * (b.n / n_total))
            continue
        rows, cols = vech_index(b.cov.shape[0])
        est = imp.sigma[rows, cols]
        if ms:
            est = np.concatenate([imp.mean if imp.mean is not None else b.mean, est])
        r = _moments(b, ms) - est
        if not adf and ms and list(b.x_index or []):  # lavaan 33.368 vs 31.785 here (HS, one group): refused
            raise SurveyInputError(f"test='browne.residual.nt{'.model' if model else ''}' with estimator ML, "
                                   "fixed.x covariates and a mean structure is not available yet (available: "
                                   "browne.residual.adf, meanstructure=False, fixed.x=False or a "
                                   "least-squares estimator)", field="test")
        if adf:
            gamma = gamma_adf_model(b.raw, imp.mean, imp.sigma, ms, b.x_index) if model else \
                gamma_adf_fixed_x(b.raw, b.x_index, ms)
        else:
            gamma = gamma_nt(imp.sigma if model else b.cov, ms, list(b.x_index or []))
        keep = ~x_mask(b.cov.shape[0], b.x_index, ms)
        res.append(r[keep])
        ds.append(d[keep])
        gis.append(np.linalg.inv(gamma[np.ix_(keep, keep)]) * (b.n / n_total))
    a = sum(d.T @ gi @ d for d, gi in zip(ds, gis, strict=True))
    c = sum(d.T @ gi @ r for d, gi, r in zip(ds, gis, res, strict=True))
    u = np.linalg.pinv(a) @ c
    out = [n_total * float((r - d @ u) @ gi @ (r - d @ u)) for r, gi, d in zip(res, gis, ds, strict=True)]
    if sum(out) <= 0:
        return [0.0] * len(out)
    if mg.free_rows > mg.npar if lineq is None else lineq:
        return [sum(out) * b.n / n_total for b in blocks]
    return out


def requested_test(test: str, stat: float, df: float, mg: MultiGroupModel, blocks: list[BlockStats],
                   theta: np.ndarray, deltas: list[np.ndarray], a_inv: np.ndarray,
                   b0: np.ndarray | None = None, weight=None) -> ScaledTest | None:
    """The scaled test of ``test`` (None for standard and Browne's tests); scaled.shifted carries the
    Satorra-Bentler test its robust CFI/TLI/RMSEA are built on (lavaan)."""
    if test == "yuan.bentler.mplus":
        return yuan_bentler_mplus(stat, df, a_inv, b0, blocks, mg.meanstructure, mg.free_rows)
    if test == "standard" or test in BROWNE:
        return None
    tr, tr2 = ugamma(mg, blocks, theta, deltas, a_inv, weight, omega=test == "yuan.bentler")
    sb = ScaledTest(test if test == "yuan.bentler" else "satorra.bentler", stat, df, tr, _factor(tr, df),
                    trace2=tr2)
    complete = all(b.kind != "fiml" and getattr(b, "wt", None) is None for b in blocks)
    if test == "yuan.bentler" and complete:  # lavaan's h1 / h0 factors (lav_test_yuan_bentler_trace);
        # with FIML or sampling weights they are lavaan's h1 Omega pieces: not reported (not checked)
        return dataclasses.replace(sb, **_yb_factors(mg, blocks, theta, deltas, a_inv))
    if test in ("satorra.bentler", "yuan.bentler"):
        return sb
    if test == "scaled.shifted":
        a = np.sqrt(df / tr2) if df > 0 and tr2 > 0 else float("nan")
        return ScaledTest(test, stat, df, tr, 1.0 / a, shift=df - a * tr, trace2=tr2, robust=sb)
    dfm = tr**2 / tr2 if tr2 > 0 else float("nan")
    return ScaledTest(test, stat, df, tr, tr / dfm, df_scaled=dfm, trace2=tr2)


def _yb_factors(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, deltas: list[np.ndarray],
                e_inv: np.ndarray) -> dict[str, float]:
    """``scaling.factor.h1`` / ``.h0`` of test="yuan.bentler" (lavaan ``lav_test_yuan_bentler_trace``):
    sum_g tr(A1_g^-1 B1_g) / ndat and sum_g f_g tr(B1_g D_g E^-1 D_g') / (free rows), B1_g the first-order
    h1 information from the case scores at the implied moments (lavaan's structured h1 information), E^-1
    the inverted expected information of the fit."""
    from survey.sem.inference.tests import h1_trace

    trace_h1, ndat = h1_trace(blocks, mg.meanstructure, expected=True)
    n, full, trace_h0 = sum(b.n for b in blocks), mg.k @ theta, 0.0
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas, strict=True)):
        imp = ram.implied(mg.local(full, i))
        scores = b.case_scores(imp.sigma, imp.mean, ram.meanstructure)
        b1 = scores.T @ scores / b.n
        trace_h0 += b.n / n * float(np.sum(b1 * (d @ e_inv @ d.T)))
    return {"scaling_factor_h1": trace_h1 / max(ndat, 1),
            "scaling_factor_h0": trace_h0 / max(mg.free_rows, 1)}


def browne_test(test: str, mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray,
                deltas: list[np.ndarray], df: float, lineq: bool | None = None) -> dict[str, float]:
    """lavaan's ``lavInspect(fit, "test")$browne.residual.*`` entry."""
    groups = browne_residual(mg, blocks, theta, deltas, adf=".adf" in test, lineq=lineq,
                             model=test.endswith(".model"))
    stat = float(sum(groups))
    return {"test": test, "stat": stat, "stat.group": groups, "df": df, "pvalue": pvalue(stat, df)}


def as_dict(t: ScaledTest) -> dict[str, float]:
    """A scaled test as lavaan's ``lavInspect(fit, "test")`` entry."""
    out = {"test": t.method, "stat": t.stat_scaled, "df": t.dfs, "pvalue": t.pvalue_scaled,
           "scaling.factor": t.scaling_factor, "shift.parameter": t.shift, "trace.UGamma": t.trace,
           "trace.UGamma2": t.trace2}
    if np.isfinite(t.scaling_factor_h1) and np.isfinite(t.scaling_factor_h0):  # Yuan-Bentler (lavaan)
        out.update({"scaling.factor.h1": t.scaling_factor_h1, "scaling.factor.h0": t.scaling_factor_h0})
    return out


def second_test(test: str, mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray, df: float,
                stat: float, observed_h1: bool = False) -> dict[str, float]:
    """A test reported beside the fit's own one: Browne's residual test, or under MLM the shifted /
    mean-and-variance adjusted test on the expected information (lavaan's second entry of ``test``);
    ``observed_h1`` (MLR): on lavaan's observed.information = "h1", E_h1 and the observed h1 weight
    (:mod:`survey.sem.inference.observed_sem`)."""
    from survey.sem.inference.information import deltas as all_deltas
    from survey.sem.inference.information import expected
    from survey.sem.inference.observed_sem import h1_structured_information, observed_h1_weight
    from survey.sem.inference.vcov import symmetric_inverse

    d = all_deltas(mg, theta)
    if test in BROWNE:
        return browne_test(test, mg, blocks, theta, d, df)
    if observed_h1:
        e_inv = symmetric_inverse(h1_structured_information(mg, blocks, theta))
        return as_dict(requested_test(test, stat, df, mg, blocks, theta, d, e_inv, weight=observed_h1_weight))
    e_inv = symmetric_inverse(expected(mg, blocks, theta))
    return as_dict(requested_test(test, stat, df, mg, blocks, theta, d, e_inv))


def test_table(res) -> dict[str, dict]:
    """lavaan's ``lavInspect(fit, "test")``: the standard test, then the scaled or residual-based one."""
    pieces = res.pieces
    out = {"standard": {"test": "standard", "stat": float(pieces.stat), "df": float(pieces.df),
                        "pvalue": pvalue(pieces.stat, pieces.df)}}
    if pieces.scaled is not None:
        out[pieces.scaled.method] = as_dict(pieces.scaled)
    out.update(getattr(pieces, "extra_tests", {}))
    return out
