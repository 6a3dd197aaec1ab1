"""Text summary of a fit, laid out like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survey.sem.results.summary_layout import count_parameters, estimate_sections, summary_header

if TYPE_CHECKING:
    from survey.sem.result import SEMResult

_W = 52  # lavaan's label + value column: 2 + 52 characters


def _line(label: str, value: object, width: int = _W) -> str:
    text = value if isinstance(value, str) else _num(value)
    return f"  {label:<{width - len(text)}}{text}"


def _num(v: object, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (int,)) or (isinstance(v, float) and float(v).is_integer() and abs(v) > 1e6):
        return str(int(v))
    return f"{float(v):.{digits}f}"


def _line2(label: str, value: object, scaled: object, two: bool) -> str:
    """A fit line with lavaan's Standard / Scaled columns (``scaled`` only when ``two``)."""
    if not two:
        return _line(label, value)
    text = value if isinstance(value, str) else _num(value)
    other = scaled if isinstance(scaled, str) else _num(scaled)
    return _line(label, text) + f"{other:>12}"


def _robust(f: dict, key: str, two: bool) -> tuple[object, object, bool]:
    """A robust measure: in the Scaled column beside scaled statistics, else in the only column."""
    return ("" if two else f[key]), f[key], two


CORRECTIONS = {"satorra.bentler": "Satorra-Bentler correction", "yuan.bentler": "Yuan-Bentler correction",
               "yuan.bentler.mplus": "Yuan-Bentler correction (Mplus variant)",
               "scaled.shifted": "simple second-order correction",
               "mean.var.adjusted": "mean and variance adjusted correction"}


def _correction(res: SEMResult) -> str:
    """lavaan's name of the test-statistic correction."""
    test = getattr(res, "scaled_test", None)
    if test is not None and test.method in CORRECTIONS:
        return CORRECTIONS[test.method]
    return CORRECTIONS["satorra.bentler" if res.estimator == "MLM" else "yuan.bentler.mplus"]


def _test_lines(res: SEMResult, f: dict, two: bool, fit_measures: bool) -> list[str]:
    """Model tests, and with ``fit_measures`` the fit-measure blocks, in one column or Standard / Scaled."""
    sc = (lambda k: f.get(f"{k}.scaled")) if two else (lambda k: None)
    lines = ["", "Model Test User Model:"]
    if two:
        lines += [f"  {'':<{_W - 8}}{'Standard':>8}{'Scaled':>12}"]
    else:
        lines += [" " * (_W + 2)]
    lines += [
        _line2("Test Statistic" if two else "Test statistic", f["chisq"], sc("chisq"), two),
        _line2("Degrees of freedom", str(int(f["df"])), _df(f.get("df.scaled")) if two else "", two),
        _line2("P-value (Chi-square)", f["pvalue"], sc("pvalue"), two),
    ]
    test = getattr(res, "scaled_test", None)
    shift = test.shift if two and test is not None else 0.0
    if two:
        lines.append(_line2("Scaling correction factor", "", f["chisq.scaling.factor"], True))
        if test is not None and test.method == "scaled.shifted":
            lines.append(_line2("Shift parameter", "", shift, True))
        lines.append(f"    {_correction(res)}".ljust(_W + 14))
        if h1_test_information(res) or _mlr_bollen_stine(res):  # lavaan: clusters under ML, or MLR with
            # test "bollen.stine": observed.information = "h1" for the tests
            lines.append(_line2("Observed information based on", "H1", "", True))
    if not res.single:  # lavaan: the statistic of each group, scaled beside it
        c = f.get("chisq.scaling.factor", float("nan")) if two else float("nan")
        lines.append("  Test statistic for each group:")
        stats = group_statistics(res)
        for (name, t), w in zip(stats.items(), _group_weights(res), strict=True):
            scaled = f"{_num(t / c + w * shift):>12}" if two else ""  # scaled.shifted: its share of the shift
            lines.append(f"    {name:<{50 - len(_num(t))}}{_num(t)}" + scaled)
    lines += _residual_test_lines(res, f)
    if not fit_measures:
        return lines
    base_df = str(int(f["baseline.df"]))
    lines += [
        "",
        "Model Test Baseline Model:",
        "",
        _line2("Test statistic", f["baseline.chisq"], f.get("baseline.chisq.scaled"), two),
        _line2("Degrees of freedom", base_df, base_df, two),
        _line2("P-value", f["baseline.pvalue"], f.get("baseline.pvalue.scaled"), two),
    ]
    if two:
        lines.append(_line2("Scaling correction factor", "", f["baseline.chisq.scaling.factor"], True))
    lines += [
        "",
        "User Model versus Baseline Model:",
        "",
        _line2("Comparative Fit Index (CFI)", f["cfi"], sc("cfi"), two),
        _line2("Tucker-Lewis Index (TLI)", f["tli"], sc("tli"), two),
    ]
    robust = "cfi.robust" in f
    pad = " " * (_W + 2 + (12 if two else 0))  # lavaan: a blank row inside a block is padded to its width
    if robust:
        lines += [
            pad,
            _line2("Robust Comparative Fit Index (CFI)", *_robust(f, "cfi.robust", two)),
            _line2("Robust Tucker-Lewis Index (TLI)", *_robust(f, "tli.robust", two)),
        ]
    if "logl" in f:  # lavaan: no likelihood for the least-squares estimators (GLS/ULS/DWLS/WLS)
        mlr = two and "scaling.factor.h0" in f
        lines += ["", "Loglikelihood and Information Criteria:", "",
                  _line2("Loglikelihood user model (H0)", f["logl"], f["logl"], two)]
        if mlr:
            lines += [_line2("Scaling correction factor", "", f["scaling.factor.h0"], True),
                      "      for the MLR correction".ljust(_W + 14)]
        h1 = f["unrestricted.logl"]
        lines.append(_line2("Loglikelihood unrestricted model (H1)", h1, h1, two))
        if mlr:
            lines += [_line2("Scaling correction factor", "", f["scaling.factor.h1"], True),
                      "      for the MLR correction".ljust(_W + 14)]
        lines += [
            pad,
            _line2("Akaike (AIC)", f["aic"], f["aic"], two),
            _line2("Bayesian (BIC)", f["bic"], f["bic"], two),
            _line2("Sample-size adjusted Bayesian (SABIC)", f["bic2"], f["bic2"], two),
        ]
    lines += [
        "",
        "Root Mean Square Error of Approximation:",
        "",
        _line2("RMSEA", f["rmsea"], sc("rmsea"), two),
        _line2("90 Percent confidence interval - lower", f["rmsea.ci.lower"], sc("rmsea.ci.lower"), two),
        _line2("90 Percent confidence interval - upper", f["rmsea.ci.upper"], sc("rmsea.ci.upper"), two),
        _line2("P-value H_0: RMSEA <= 0.050", f["rmsea.pvalue"], f.get("rmsea.pvalue.scaled"), two),
        _line2("P-value H_0: RMSEA >= 0.080", f.get("rmsea.notclose.pvalue"),
               f.get("rmsea.notclose.pvalue.scaled"), two),
    ]
    if robust:
        rows = [("Robust RMSEA", "rmsea.robust"),
                ("90 Percent confidence interval - lower", "rmsea.ci.lower.robust"),
                ("90 Percent confidence interval - upper", "rmsea.ci.upper.robust"),
                ("P-value H_0: Robust RMSEA <= 0.050", "rmsea.pvalue.robust"),
                ("P-value H_0: Robust RMSEA >= 0.080", "rmsea.notclose.pvalue.robust")]
        lines += [pad] + [_line2(label, *_robust(f, key, two)) for label, key in rows if key in f]
    lines += ["", "Standardized Root Mean Square Residual:", "", _line2("SRMR", f["srmr"], f["srmr"], two)]
    return lines


def _df(value: object) -> str:
    """A scaled df as lavaan prints it: integer, or three decimals (mean.var.adjusted)."""
    if value is None or not math.isfinite(float(value)):
        return ""
    return str(int(value)) if float(value).is_integer() else f"{float(value):.3f}"


def _group_weights(res: SEMResult) -> list[float]:
    n = sum(b.n for b in res.stats.groups)
    return [b.n / n for b in res.stats.groups]


def _residual_test_lines(res: SEMResult, f: dict) -> list[str]:
    """lavaan's second test block: Browne's residual-based test, the Bollen-Stine bootstrap p-value, or
    under MLM the shifted / mean-and-variance adjusted test beside the standard one."""
    out = []
    for name, t in getattr(res.pieces, "extra_tests", {}).items():
        if name == "bollen.stine":  # lavaan: the statistic again, with the bootstrap p-value
            out += [" " * (_W + 2), _line("Test statistic", t["stat"]),
                    _line("Degrees of freedom", str(int(t["df"]))),
                    _line("P-value (Bollen-Stine bootstrap)", t["pvalue"])]
            if _mlr_bollen_stine(res):
                out.append(_line("Observed information based on", "H1"))
            if not res.single:  # lavaan: the standard statistic of each group again
                out.append("  Test statistic for each group:")
                out += _group_rows({k: _num(v) for k, v in group_statistics(res).items()})
            continue
        if name in CORRECTIONS:  # a scaled test: Standard / Scaled columns
            out += [" " * (_W + 14), _line2("Test Statistic", f["chisq"], t["stat"], True),
                    _line2("Degrees of freedom", str(int(f["df"])), _df(t["df"]), True),
                    _line2("P-value (Chi-square)", f["pvalue"], t["pvalue"], True),
                    _line2("Scaling correction factor", "", t["scaling.factor"], True)]
            if name == "scaled.shifted":
                out.append(_line2("Shift parameter", "", t["shift.parameter"], True))
            out.append(f"    {CORRECTIONS[name]}".ljust(_W + 14))
            continue
        kind = "ADF" if ".adf" in name else "NT"  # lavaan 0.6.14's titles
        title = f"Browne's residual ({kind} model-based) test" if name.endswith(".model") else \
            f"Browne's residual-based ({kind}) test"
        out += [" " * (_W + 2), f"  {title}".ljust(_W + 2), _line("Test statistic", t["stat"]),
                _line("Degrees of freedom", str(int(t["df"]))), _line("P-value (Chi-square)", t["pvalue"])]
        if not res.single:
            out.append("  Test statistic for each group:")
            out += _group_rows({label: _num(v) for label, v in zip(res.group_labels, t["stat.group"],
                                                                   strict=True)})
    return out


def _se_lines(res: SEMResult) -> list[str]:
    """lavaan's description of the standard errors."""
    boot = getattr(res, "bootstrap", None)
    fiml = hasattr(res, "missing_data")
    if boot is not None:
        return [_line("Standard errors", "Bootstrap"),
                _line("Number of requested bootstrap draws", str(boot.n_requested)),
                _line("Number of successful bootstrap draws", str(boot.n_requested - boot.n_failed))]
    se, info = getattr(res, "se_options", None) or (
        {"MLR": "robust.huber.white", "MLM": "robust.sem"}.get(res.estimator, "standard"),
        "observed" if res.estimator == "MLR" or fiml else "expected")
    names = {"standard": "Standard", "robust.huber.white": "Sandwich", "robust.sem": "Robust.sem",
             "first.order": "First.order", "none": "None"}
    if se in ("robust.huber.white", "robust.sem") and design_of(res).get("cluster"):
        # lavaan: the cluster-robust sandwich, "Information" (no "bread"); MLM: robust.cluster.sem
        se = "robust.cluster" if se == "robust.huber.white" else "robust.cluster.sem"
    pairs = [("Standard errors", names.get(se, se.capitalize())),
             ("Information bread" if se == "robust.huber.white" else "Information", info.capitalize())]
    if getattr(res, "two_stage", None):  # lavaan: observed.information "h1", h1.information "unstructured"
        pairs += [("Observed information based on", "H1")] if info == "observed" else []
        return _pairs(pairs + [("Information saturated (h1) model", "Unstructured")])
    pairs.append(("Observed information based on", "Hessian") if info == "observed"
                 else ("Information saturated (h1) model", "Structured"))
    return _pairs(pairs)


def _pairs(pairs: list[tuple[str, str]]) -> list[str]:
    """lavaan's print of the "Parameter Estimates:" pairs (lav_print.R): ``format(c1, width = 38)``,
    ``format(c2, width = 13, justify = "right")`` - a longer value (``Robust.cluster``) widens them all."""
    w1 = max([38] + [len(a) for a, _ in pairs])
    w2 = max([13] + [len(b) for _, b in pairs])
    return [f"  {a:<{w1}} {b:>{w2}}" for a, b in pairs]


def estimates_table(res: SEMResult, standardized: bool = True, rsquare: bool = True) -> pd.DataFrame:
    """The table lavaan's summary() prints (``summary(fit)$pe``): estimates with ``exo``, and R-square
    rows (op ``r2``) at the end."""
    est = res.estimates()
    std = ["std.lv", "std.all"] if standardized else []
    cols = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue"] + std
    pe = est[cols].copy()
    pe.insert(4, "exo", res.partable["exo"].to_numpy()[: len(pe)])
    if rsquare:
        r2 = res.r2()
        extra = pd.DataFrame({"lhs": list(r2), "op": "r2", "rhs": list(r2), "label": "", "exo": 0,
                              "est": list(r2.values())})
        pe = pd.concat([pe, extra], ignore_index=True)
    return pe


def _header_info(res: SEMResult) -> dict:
    counts = count_parameters(res.partable)
    info = {"converged": res.converged, "iterations": res.estimation.iterations, "estimator": res.estimator,
            "optimizer": res.estimation.method, "nobs": res.nobs, "nobs_total": res.stats.n_raw, **counts}
    if not res.single:
        info["groups"] = dict(res.nobs_groups)
    per_group = (lambda values: values[0]) if res.single else (
        lambda values: dict(zip(res.group_labels, values, strict=True)))
    if hasattr(res, "missing_data"):
        info["patterns"] = per_group([b.md.n_patterns for b in res.stats.groups] if not res.single
                                     else [res.missing_data.n_patterns])
    elif getattr(res, "two_stage", None):  # the EM's missing-data patterns (lavaan prints them too)
        info["patterns"] = per_group([b.em_data.n_patterns for b in res.stats.groups])
    design = design_of(res)
    if design.get("cluster"):  # lavaan: the clusters of the rows used, per group
        info["cluster"] = design["cluster"]
        info["clusters"] = per_group([len(np.unique(b.cluster)) for b in res.stats.groups])
    if design.get("sampling_weights"):
        info["sampling_weights"] = design["sampling_weights"]
    return info


def requested_ml(res: SEMResult) -> bool:
    """Estimator ML asked for with weights or clusters, run with robust SEs and test (as lavaan does)."""
    return any(w.code == "weights_robust" for w in res.warnings)


def _mlr_bollen_stine(res: SEMResult) -> bool:
    """MLR with lavaan's test = "bollen.stine" (two tests: observed.information "h1" for both)."""
    return res.estimator == "MLR" and "bollen.stine" in (getattr(res.pieces, "extra_tests", None) or {})


def h1_test_information(res: SEMResult) -> bool:
    """lavaan's ``observed.information = "h1"`` for the scaled test: clusters, no weights, estimator ML
    (:func:`survey.sem.inference.cluster.resolve`)."""
    design = design_of(res)
    return bool(design.get("cluster")) and not design.get("sampling_weights") and requested_ml(res)


def design_estimator(res: SEMResult) -> dict:
    """lavaan's ``lavInspect(fit, "options")`` estimator / se / test of a weighted or clustered fit (empty
    without a design): estimator as asked ("ML" runs with lavaan's MLR SEs and test), se
    ``robust.cluster`` with clusters, test ``standard`` + ``yuan.bentler.mplus`` with clusters under ML."""
    if not design_of(res):
        return {}
    se = (getattr(res, "se_options", None) or ("robust.huber.white",))[0]
    if se in ("robust.huber.white", "robust.sem") and design_of(res).get("cluster"):
        se = "robust.cluster" if se == "robust.huber.white" else "robust.cluster.sem"  # MLM: lavaan's name
    scaled = getattr(res, "scaled_test", None)
    test = [scaled.method] if scaled is not None else ["standard"]
    test += [t for t in (getattr(res.pieces, "extra_tests", None) or {}) if t not in test]  # test=[...]
    if h1_test_information(res):
        test = ["standard", *test]
    return {"estimator": "ML" if requested_ml(res) else res.estimator, "se": se, "test": test}


def design_of(res: SEMResult) -> dict:
    """The fit's ``sampling_weights`` / ``cluster`` column names (empty without a design)."""
    return dict(getattr(res, "design_options", None) or {})


def _group_rows(values: dict[str, str]) -> list[str]:
    return [f"    {name:<{50 - len(v)}}{v}" for name, v in values.items()]


def group_statistics(res: SEMResult) -> dict[str, float]:
    """lavaan's ``stat.group``: 2 (logl_h1,g - logl_g) of every group at the estimate (fixed.x parts
    cancel)."""
    mg = res.mg
    out = {}
    for i, (ram, b) in enumerate(zip(mg.models, res.stats.groups, strict=True)):
        imp = ram.implied(mg.local(res.theta_full, i))
        mean = imp.mean if imp.mean is not None else b.mean
        out[b.label] = 2.0 * (float(b.h1_logl) - float(b.loglik(imp.sigma, mean)))
    return out


def summary_text(
    res: SEMResult, *, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True
) -> str:
    """The summary as one string, in lavaan's layout (:mod:`survey.sem.results.summary_layout`). With scaled
    statistics (MLR, MLM; FIML with MLR) the tests and fit measures get lavaan's second column "Scaled"
    (scaling correction factors included) and the robust CFI / TLI / RMSEA lines (Brosseau-Liard &
    Savalei 2012, 2014; Savalei 2018 for FIML)."""
    f = res.fit_measures()
    lines = summary_header(_header_info(res))
    multi = not res.single
    lines += _test_lines(res, f, "chisq.scaled" in f, fit_measures)
    lines += ["", "Parameter Estimates:", ""] + _se_lines(res)
    if multi:
        lines += multigroup_estimate_sections(res, standardized, rsquare)
    else:
        lines += estimate_sections(with_bounds(res, estimates_table(res, standardized, rsquare)))
    if res.warnings:
        lines += ["Warnings:"] + [f"  - {w.message}" for w in res.warnings]
    return "\n".join(lines) + "\n"


def multigroup_estimates_table(res, standardized: bool = True, rsquare: bool = True) -> pd.DataFrame:
    """lavaan's summary table of a multi-group result: one block per group, the equality label of tied
    rows (``.p2.``) as lavaan prints it, R-square rows per group."""
    est = res.estimates(standardized=standardized)
    pt = res.partable
    label = [lab if lab else (eq if isinstance(eq, str) else "")
             for lab, eq in zip(pt["label"], pt.get("eqlabel", pt["label"]), strict=True)]
    cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue"]
    cols += ["std.lv", "std.all"] if standardized else []
    pe = est.assign(label=label)[cols].copy()
    pe.insert(3, "block", pe["group"])
    pe.insert(6, "exo", pt["exo"].to_numpy())
    if rsquare:
        for g, values in enumerate(res.r2().values(), start=1):
            extra = pd.DataFrame({"lhs": list(values), "op": "r2", "rhs": list(values), "block": g,
                                  "group": g, "label": "", "exo": 0, "est": list(values.values())})
            pe = pd.concat([pe, extra], ignore_index=True)
    order = np.argsort(np.where(pe["block"] > 0, pe["block"], len(pe)), kind="stable")
    return pe.iloc[order].reset_index(drop=True)


def multigroup_estimate_sections(res, standardized: bool = True, rsquare: bool = True) -> list[str]:
    """The estimate sections of a multi-group fit in lavaan's layout (``Group 1 [label]:`` ...); the
    integrator wires them into the multi-group summary."""
    return estimate_sections(with_bounds(res, multigroup_estimates_table(res, standardized, rsquare)),
                             list(res.group_labels))


def with_bounds(res, pe: pd.DataFrame) -> pd.DataFrame:
    """``pe`` with lavaan's ``lower`` / ``upper`` columns when the syntax has lower()/upper() (summary()
    marks an estimate on its bound "lb" / "ub" and blanks its p-value, lavaan's print)."""
    from survey.sem.syntax.bounds import model_bounds

    model = getattr(res, "model", None)
    bounds = model_bounds(model, res.mg) if isinstance(model, str) else None
    if bounds is None:
        return pe
    pt = res.mg.partable
    rows = pt[(pt["free"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="])]
    free = rows["free"].to_numpy(dtype=int) - 1
    key = pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
                        "rhs": rows["rhs"].to_numpy(), "group": rows["group"].to_numpy(dtype=int),
                        "lower": bounds[0][free], "upper": bounds[1][free]})
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in pe else [])
    if "group" not in pe:
        key = key.drop(columns="group")
    out = pe.merge(key.drop_duplicates(on), on=on, how="left")
    out.index = pe.index
    return out
