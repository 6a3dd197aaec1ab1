"""Measurement invariance of ordered items across groups (``survey invariance --ordered``).

The sequence follows Wu & Estabrook (2016, Psychometrika 81): thresholds are constrained before
loadings, because with ordered items the loadings are not identified apart from the thresholds'
scale. Steps, each nested in the one before (lavaan ``group.equal``; delta parameterization, WLSMV):

- ``configural``: the same pattern in every group, thresholds and loadings free;
- ``thresholds``: equal thresholds (the scale factors and latent means of groups 2+ become free);
- ``loadings``: equal thresholds and loadings.

Each row reports the scaled statistics (``chisq.scaled``, ``cfi.scaled``, ``tli.scaled``,
``rmsea.scaled``) and ``srmr`` of the step, their changes from the step before, lavaan's scaled-shifted
difference test (:func:`survey.sem.ordinal.difftest.satorra_2000`, = ``lavTestLRT``), and Chen's (2007)
change-in-fit decision (``delta.cfi >= -.010`` and ``delta.rmsea <= .015`` or ``delta.srmr <= .010``
for thresholds, ``.030`` for loadings), as the continuous sequence of :mod:`survey.sem.invariance`.
AIC/BIC do not exist for these estimators (null).

Partial invariance (Byrne, Shavelson & Muthen 1989; for ordered items Wu & Estabrook 2016): when a step
fails, the constraint of that step with the largest expected decrease of the chi-square
(:func:`survey.sem.ordinal.partial.release_candidates`) is released (``group_partial``, free in every group
as lavaan's ``group.partial``), the model refitted and judged again against the step before, up to
``max_free`` releases per step; released constraints stay released in later steps, and no later step is
fitted after a step that fails even partially (as the continuous sequence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.ordinal.difftest import satorra_2000
from survey.sem.ordinal.multigroup import fit_ordinal_groups
from survey.sem.ordinal.partial import release_candidates

STEPS = {"configural": (), "thresholds": ("thresholds",), "loadings": ("thresholds", "loadings")}
CUTOFFS = {"thresholds": (-0.010, 0.015, 0.010), "loadings": (-0.010, 0.015, 0.030)}  # Chen (2007)
RULES = {step: f"pass if delta.cfi >= {c:.3f} and (delta.rmsea <= {r:.3f} or delta.srmr <= {s:.3f}) "
               "(Chen 2007; scaled CFI and RMSEA)" for step, (c, r, s) in CUTOFFS.items()}


@dataclass
class OrdinalInvariance:
    """Rows of the sequence (``steps``, each with the constraints released so far in ``freed``) and the
    fits behind them (by row ``model``)."""

    group: str
    steps: list[dict[str, Any]]
    fits: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def freed(self) -> dict[str, list[str]]:
        """Constraints released in the last model of every step."""
        out: dict[str, list[str]] = {}
        for row in self.steps:
            out[row["model"].split(" (")[0]] = list(row["freed"])
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``survey invariance --json`` object (DESIGN.md's ``steps``)."""

        def clean(v: Any) -> Any:
            if isinstance(v, (float, np.floating)):
                return None if not math.isfinite(float(v)) else float(v)
            return v

        first = next(iter(self.fits.values()))
        return {"steps": [{k: clean(v) for k, v in s.items()} for s in self.steps], "group": self.group,
                "estimator": "WLSMV", "group_labels": list(first.groups), "rules": RULES,
                "criterion": "chen", "order": "Wu & Estabrook (2016)", "warnings": list(self.warnings)}

    def summary(self) -> str:
        """One line per step."""
        lines = [f"Measurement invariance across {self.group} (ordered items, WLSMV; Wu & Estabrook 2016)",
                 f"{'model':<24}{'chisq':>10}{'df':>5}{'cfi':>8}{'rmsea':>8}{'srmr':>8}{'d.cfi':>8}"
                 f"{'X2 diff':>9}{'df':>4}{'p':>8}  decision"]
        for s in self.steps:
            def f(key: str, width: int, digits: int = 3, s: dict = s) -> str:
                v = s[key]
                return " " * width if v is None else f"{v:{width}.{digits}f}"
            lines.append(f"{s['model']:<24}{s['chisq']:10.3f}{int(s['df']):5d}{f('cfi', 8)}{f('rmsea', 8)}"
                         f"{f('srmr', 8)}{f('delta.cfi', 8)}{f('lrt.chisq', 9)}"
                         f"{'' if s['lrt.df'] is None else int(s['lrt.df']):>4}{f('lrt.pvalue', 8)}  "
                         f"{s['decision']}")
        lines += [f"Released ({step}): {', '.join(names)}" for step, names in self.freed.items() if names]
        return "\n".join(lines + [f"Warning: {w}" for w in self.warnings])


def ordinal_invariance(model: str, data, group: str, steps=("configural", "thresholds", "loadings"),
                       missing: str = "listwise", partial: bool = True, max_free: int = 3,
                       groups=None, parameterization: str = "delta") -> OrdinalInvariance:
    """Fit the steps (module docstring) in order; a failed step is released partially (``partial``, at
    most ``max_free`` constraints per step); a step after a failed one is not fitted. ``groups``: the
    group values compared, in this order; ``parameterization``: lavaan's delta or theta (each step the
    same model, identified by the items' residual variances instead of their scale factors)."""
    steps = list(steps)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SurveyInputError(f"unknown invariance step for ordered items (available: {', '.join(STEPS)})",
                               value=unknown[0], field="steps")
    order = list(STEPS)
    if steps != sorted(steps, key=order.index) or steps[0] != "configural":
        raise SurveyInputError("the steps must start with configural and follow configural, thresholds, "
                               "loadings", value=",".join(steps), field="steps")
    rows: list[dict[str, Any]] = []
    fits: dict[str, Any] = {}
    warnings: list[str] = []
    previous = None
    freed: list[str] = []

    def refit(name: str, step: str):
        fit = fit_ordinal_groups(model, data, group, group_equal=STEPS[step], missing=missing,
                                 group_partial=tuple(freed), groups=groups, parameterization=parameterization)
        fits[name] = fit
        warnings.extend(f"{name}: {w}" for w in fit.warnings or [])
        row = _row(step, fit, previous, name)
        row["freed"] = list(freed)
        return fit, row

    for step in steps:
        fit, row = refit(step, step)
        n_freed = 0
        while row["decision"] == "not invariant" and partial and n_freed < max_free:
            cand = release_candidates(fit, step)
            if cand.empty:
                break
            rows.append(row)
            freed.append(str(cand["name"].iloc[0]))
            n_freed += 1
            fit, row = refit(f"{step} (partial {n_freed})", step)
        rows.append(row)
        if row["decision"] == "not invariant":
            if step != steps[-1]:
                warnings.append(f"The {row['model']} model is not tenable (even after partial release), so "
                                f"the sequence stopped there: {', '.join(steps[steps.index(step) + 1:])} "
                                "not fitted")
            break
        previous = (step, fit)
    return OrdinalInvariance(group, rows, fits, warnings)


def _row(step: str, fit, previous, name: str | None = None) -> dict[str, Any]:
    m = fit.fit_measures()
    out: dict[str, Any] = {"model": name or step, "chisq": m["chisq.scaled"], "df": m["df"],
                           "cfi": m["cfi.scaled"], "tli": m["tli.scaled"], "rmsea": m["rmsea.scaled"],
                           "srmr": m["srmr"], "aic": None, "bic": None}
    if previous is None:
        out.update(dict.fromkeys(("delta.cfi", "delta.rmsea", "delta.srmr", "lrt.chisq", "lrt.df",
                                  "lrt.pvalue")))
        out["decision"] = "reference"
        return out
    ref = previous[1].fit_measures()
    d_cfi, d_rmsea = out["cfi"] - ref["cfi.scaled"], out["rmsea"] - ref["rmsea.scaled"]
    d_srmr = out["srmr"] - ref["srmr"]
    test = satorra_2000(previous[1], fit)
    c, r, s = CUTOFFS[step]
    eps = 1e-12
    passed = d_cfi >= c - eps and (d_rmsea <= r + eps or d_srmr <= s + eps)
    out.update({"delta.cfi": d_cfi, "delta.rmsea": d_rmsea, "delta.srmr": d_srmr, "lrt.chisq": test.stat,
                "lrt.df": test.df, "lrt.pvalue": test.pvalue,
                "decision": "invariant" if passed else "not invariant"})
    return out
