"""Text summary of a two-level fit laid out like lavaan's ``summary()``: the header with observations and
clusters, the model test, then the estimates under ``Level 1 [within]:`` / ``Level 2 [between]:``."""

from __future__ import annotations

import numpy as np

_SECTIONS = (("=~", "Latent Variables:"), ("~", "Regressions:"), ("~~c", "Covariances:"),
             ("~1", "Intercepts:"), ("~~v", "Variances:"))


def _num(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:9.3f}"


def summary_text(fit, fit_measures: bool = True, standardized: bool = True) -> str:
    fm = fit.fit_measures()
    lines = [f"lavaan-equal two-level fit ({'converged' if fit.converged else 'NOT converged'})", "",
             f"  Estimator                                    {fit.estimator:>10}",
             f"  Number of model parameters                   {int(fm['npar']):>10}", "",
             f"  Number of observations                       {fit.nobs:>10}",
             f"  Number of clusters [{fit.cluster}]{'':<{max(1, 24 - len(str(fit.cluster)))}}"
             f"{fit.nclusters:>10}", "", "Model Test User Model:", "",
             f"  Test statistic                               {fm['chisq']:>10.3f}",
             f"  Degrees of freedom                           {int(fm['df']):>10}",
             f"  P-value (Chi-square)                         {fm['pvalue']:>10.3f}"]
    if fit.robust is not None:
        label = {"yuan.bentler": "(Yuan-Bentler)      "}.get(getattr(fit, "scaled_test", ""),
                                                          "(Yuan-Bentler-Mplus)")
        lines += [f"  Scaled test statistic {label}   {fm['chisq.scaled']:>10.3f}",
                  f"  Scaling correction factor                    {fm['chisq.scaling.factor']:>10.3f}"]
    if fit_measures:
        lines += ["", "Fit measures:", ""]
        for key in ("cfi", "tli", "logl", "unrestricted.logl", "aic", "bic", "rmsea", "srmr_within",
                    "srmr_between"):
            lines.append(f"  {key:<44} {fm[key]:>10.3f}")
    lines += ["", "Parameter Estimates:", "", f"  Standard errors                    "
              f"{str(fit.se_kind).capitalize():>20}",
              f"  Information                              {fit.information_kind.capitalize():>14}"]
    est = fit.estimates().rename(columns={"std.lv": "std_lv", "std.all": "std_all"})
    head = f"{'':<20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}"
    if standardized:
        head += f"{'Std.lv':>9}{'Std.all':>9}"
    for b, label in ((1, fit.level_labels[0]), (2, fit.level_labels[1])):
        lines += ["", f"Level {b} [{label}]:"]
        rows = est[est["block"] == b]
        for op, title in _SECTIONS:
            if op == "~~c":
                sub = rows[(rows["op"] == "~~") & (rows["lhs"] != rows["rhs"])]
            elif op == "~~v":
                sub = rows[(rows["op"] == "~~") & (rows["lhs"] == rows["rhs"])]
            else:
                sub = rows[rows["op"] == op]
            if not len(sub):
                continue
            lines += ["", title, head]
            last = None
            for r in sub.itertuples():
                if op in ("=~", "~", "~~c") and r.lhs != last:
                    lines.append(f"  {r.lhs} {r.op.strip()}")
                    last = r.lhs
                name = r.rhs if op in ("=~", "~", "~~c") else r.lhs
                text = f"    {name:<16}{_num(r.est)}"
                if r.se > 0:
                    text += f"{_num(r.se)}{_num(r.z)}{_num(r.pvalue)}"
                else:
                    text += " " * 27
                if standardized:
                    text += f"{_num(r.std_lv)}{_num(r.std_all)}"
                lines.append(text.rstrip())
    return "\n".join(lines) + "\n"
