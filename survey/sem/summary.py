"""Text summary of a fit, laid out like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey.sem.result import SEMResult

_W = 54


def _line(label: str, value: object, width: int = _W) -> str:
    text = value if isinstance(value, str) else _num(value)
    return f"  {label:<{width - len(text)}}{text}"


def _num(v: object, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (int,)) or (isinstance(v, float) and float(v).is_integer() and abs(v) > 1e6):
        return str(int(v))
    return f"{float(v):.{digits}f}"


def _section_rows(est, op: str, standardized: bool) -> list[str]:
    rows = est[est["op"] == op]
    out: list[str] = []
    last = None
    for r in rows.itertuples(index=False):
        if op in ("=~", "~"):
            if r.lhs != last:
                out.append(f"  {r.lhs} {op}")
                last = r.lhs
            name = f"    {r.rhs}" + (f" ({r.label})" if r.label else "")
        elif op == "~~":
            if r.lhs == r.rhs:
                continue
            if r.lhs != last:
                out.append(f"  {r.lhs} ~~")
                last = r.lhs
            name = f"    {r.rhs}" + (f" ({r.label})" if r.label else "")
        else:
            name = f"    {r.lhs}"
        cells = [_num(r.est), _num(r.se) if r.se > 0 else "", _num(r.z), _num(r.pvalue)]
        if standardized:
            cells += [_num(r._10), _num(r._11)]
        out.append(f"{name:<20}" + "".join(f"{c:>9}" for c in cells))
    return out


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


def _correction(res: SEMResult) -> str:
    """lavaan's name of the test-statistic correction."""
    if res.estimator == "MLM":
        return "Satorra-Bentler correction"
    return "Yuan-Bentler correction (Mplus variant)"


def _test_lines(res: SEMResult, f: dict, two: bool, fit_measures: bool) -> list[str]:
    """Model tests, and with ``fit_measures`` the fit-measure blocks, in one column or Standard / Scaled."""
    sc = (lambda k: f.get(f"{k}.scaled")) if two else (lambda k: None)
    lines = ["", "Model Test User Model:"]
    if two:
        lines += [f"  {'':<{_W - 8}}{'Standard':>8}{'Scaled':>12}"]
    else:
        lines += [""]
    lines += [
        _line2("Test Statistic" if two else "Test statistic", f["chisq"], sc("chisq"), two),
        _line2("Degrees of freedom", str(int(f["df"])), _num(f.get("df.scaled"), 0) if two else "", two),
        _line2("P-value (Chi-square)", f["pvalue"], sc("pvalue"), two),
    ]
    if two:
        lines += [_line2("Scaling correction factor", "", f["chisq.scaling.factor"], True),
                  f"    {_correction(res)}"]
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
    if robust:
        lines += [
            "",
            _line2("Robust Comparative Fit Index (CFI)", *_robust(f, "cfi.robust", two)),
            _line2("Robust Tucker-Lewis Index (TLI)", *_robust(f, "tli.robust", two)),
        ]
    mlr = two and "scaling.factor.h0" in f
    lines += ["", "Loglikelihood and Information Criteria:", "",
              _line2("Loglikelihood user model (H0)", f["logl"], f["logl"], two)]
    if mlr:
        lines += [_line2("Scaling correction factor", "", f["scaling.factor.h0"], True),
                  "      for the MLR correction"]
    h1 = f["unrestricted.logl"]
    lines.append(_line2("Loglikelihood unrestricted model (H1)", h1, h1, two))
    if mlr:
        lines += [_line2("Scaling correction factor", "", f["scaling.factor.h1"], True),
                  "      for the MLR correction"]
    lines += [
        "",
        _line2("Akaike (AIC)", f["aic"], f["aic"], two),
        _line2("Bayesian (BIC)", f["bic"], f["bic"], two),
        _line2("Sample-size adjusted Bayesian (SABIC)", f["bic2"], f["bic2"], two),
        "",
        "Root Mean Square Error of Approximation:",
        "",
        _line2("RMSEA", f["rmsea"], sc("rmsea"), two),
        _line2("90 Percent confidence interval - lower", f["rmsea.ci.lower"], sc("rmsea.ci.lower"), two),
        _line2("90 Percent confidence interval - upper", f["rmsea.ci.upper"], sc("rmsea.ci.upper"), two),
        _line2("P-value H_0: RMSEA <= 0.050", f["rmsea.pvalue"], f.get("rmsea.pvalue.scaled"), two),
    ]
    if robust:
        rows = [("Robust RMSEA", "rmsea.robust"),
                ("90 Percent confidence interval - lower", "rmsea.ci.lower.robust"),
                ("90 Percent confidence interval - upper", "rmsea.ci.upper.robust"),
                ("P-value H_0: Robust RMSEA <= 0.050", "rmsea.pvalue.robust")]
        lines += [""] + [_line2(label, *_robust(f, key, two)) for label, key in rows]
    lines += ["", "Standardized Root Mean Square Residual:", "", _line2("SRMR", f["srmr"], f["srmr"], two)]
    return lines


def _se_lines(res: SEMResult) -> list[str]:
    """lavaan's description of the standard errors."""
    boot = getattr(res, "bootstrap", None)
    fiml = hasattr(res, "missing_data")
    if boot is not None:
        return [_line("Standard errors", "Bootstrap"),
                _line("Number of requested bootstrap draws", str(boot.n_requested)),
                _line("Number of successful bootstrap draws", str(boot.n_requested - boot.n_failed))]
    if res.estimator == "MLR":
        return [_line("Standard errors", "Sandwich"), _line("Information bread", "Observed"),
                _line("Observed information based on", "Hessian")]
    if fiml:
        return [_line("Standard errors", "Standard"), _line("Information", "Observed"),
                _line("Observed information based on", "Hessian")]
    se = "Robust.sem" if res.estimator == "MLM" else "Standard"
    return [_line("Standard errors", se), _line("Information", "Expected"),
            _line("Information saturated (h1) model", "Structured")]


def summary_text(
    res: SEMResult, *, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True
) -> str:
    """The summary as one string. With scaled statistics (MLR, MLM; FIML with MLR) the tests and fit
    measures get lavaan's second column "Scaled" (scaling correction factors included) and the robust
    CFI / TLI / RMSEA lines (Brosseau-Liard & Savalei 2012, 2014; Savalei 2018 for FIML)."""
    f = res.fit_measures()
    est = res.estimates()
    state = "ended normally" if res.converged else "did NOT end normally"
    lines = [
        f"survey.sem (lavaan-equal ML) {state} after {res.estimation.iterations} iterations",
        "",
        _line("Estimator", res.estimator),
        _line("Optimization method", res.estimation.method.upper()),
        _line("Number of model parameters", str(int(f["npar"]))),
        "",
        _line("Number of observations", str(res.nobs)),
    ]
    if hasattr(res, "missing_data"):
        lines.append(_line("Number of missing patterns", str(res.missing_data.n_patterns)))
    if res.stats.n_raw != res.nobs:
        lines.append(_line("Number of observations (before listwise deletion)", str(res.stats.n_raw)))
    lines += _test_lines(res, f, "chisq.scaled" in f, fit_measures)
    lines += ["", "Parameter Estimates:", ""] + _se_lines(res)
    header = f"{'':<20}" + "".join(f"{h:>9}" for h in ["Estimate", "Std.Err", "z-value", "P(>|z|)"])
    if standardized:
        header += f"{'Std.lv':>9}{'Std.all':>9}"
    est = est.rename(columns={"std.lv": "_10", "std.all": "_11"}) if standardized else est
    if not standardized:
        est = est.assign(_10=float("nan"), _11=float("nan"))
    variances = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    for title, op in (
        ("Latent Variables:", "=~"),
        ("Regressions:", "~"),
        ("Covariances:", "~~"),
        ("Intercepts:", "~1"),
        ("Variances:", "var"),
        ("Defined Parameters:", ":="),
    ):
        rows = (
            _section_rows(variances.assign(op="var"), "var", standardized)
            if op == "var"
            else _section_rows(est, op, standardized)
        )
        if op == "~~" and not rows:
            continue
        if rows:
            lines += ["", title, header] + rows
    if rsquare:
        r2 = res.r2()
        if r2:
            lines += ["", "R-Square:", f"{'':<20}{'Estimate':>9}"] + [
                f"    {k:<16}{v:>9.3f}" for k, v in r2.items()
            ]
    if res.warnings:
        lines += ["", "Warnings:"] + [f"  - {w.message}" for w in res.warnings]
    return "\n".join(lines) + "\n"
