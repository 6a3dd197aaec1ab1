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


def summary_text(
    res: SEMResult, *, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True
) -> str:
    """The summary as one string."""
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
    if res.stats.n_raw != res.nobs:
        lines.append(_line("Number of observations (before listwise deletion)", str(res.stats.n_raw)))
    lines += [
        "",
        "Model Test User Model:",
        "",
        _line("Test statistic", f["chisq"]),
        _line("Degrees of freedom", str(int(f["df"]))),
        _line("P-value (Chi-square)", f["pvalue"]),
    ]
    if fit_measures:
        lines += [
            "",
            "Model Test Baseline Model:",
            "",
            _line("Test statistic", f["baseline.chisq"]),
            _line("Degrees of freedom", str(int(f["baseline.df"]))),
            _line("P-value", f["baseline.pvalue"]),
            "",
            "User Model versus Baseline Model:",
            "",
            _line("Comparative Fit Index (CFI)", f["cfi"]),
            _line("Tucker-Lewis Index (TLI)", f["tli"]),
            "",
            "Loglikelihood and Information Criteria:",
            "",
            _line("Loglikelihood user model (H0)", f["logl"]),
            _line("Loglikelihood unrestricted model (H1)", f["unrestricted.logl"]),
            "",
            _line("Akaike (AIC)", f["aic"]),
            _line("Bayesian (BIC)", f["bic"]),
            _line("Sample-size adjusted Bayesian (SABIC)", f["bic2"]),
            "",
            "Root Mean Square Error of Approximation:",
            "",
            _line("RMSEA", f["rmsea"]),
            _line("90 Percent confidence interval - lower", f["rmsea.ci.lower"]),
            _line("90 Percent confidence interval - upper", f["rmsea.ci.upper"]),
            _line("P-value H_0: RMSEA <= 0.050", f["rmsea.pvalue"]),
            "",
            "Standardized Root Mean Square Residual:",
            "",
            _line("SRMR", f["srmr"]),
        ]
    lines += [
        "",
        "Parameter Estimates:",
        "",
        _line("Standard errors", "Standard"),
        _line("Information", "Expected"),
        _line("Information saturated (h1) model", "Structured"),
    ]
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
