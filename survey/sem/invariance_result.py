"""The result of the measurement invariance sequence (:func:`survey.sem.invariance.invariance`): one
step per fitted model, and the table, JSON, summary and HTML views of the sequence."""


from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyWarning
from survey.sem.invariance_groups import latent_means
from survey.sem.invariance_rules import (
    COLUMNS,
    DELTA_COLUMNS,
    MLR_NAMES,
    SCORE_COLUMNS,
    _op_lhs,
    _step_class,
    lr_test,
    reported_measures,
    robust_fit,
    rules_for,
)
from survey.sem.mgresult import MultiGroupResult


@dataclass
class InvarianceStep:
    """One fitted model of the sequence, compared with the accepted model of the previous step."""

    model: str
    step: str
    fit: MultiGroupResult
    freed: list[str] = field(default_factory=list)
    reference: MultiGroupResult | None = None
    passed: bool | None = None
    final: bool = True
    score_tests: pd.DataFrame | None = None
    global_passed: bool | None = None

    def row(self) -> dict[str, Any]:
        f = reported_measures(self.fit)
        extra = {k: f.pop(k) for k in ("chisq.ml", "chisq.scaling.factor") if k in f}
        if not self.fit.converged:  # no numbers from an optimizer that did not finish
            f = dict.fromkeys(f)
            extra = dict.fromkeys(extra)
        out: dict[str, Any] = {"model": self.model, **f}
        if not self.fit.converged or (self.reference is not None and not self.reference.converged):
            out.update(dict.fromkeys(DELTA_COLUMNS))
            out["decision"] = self.decision
        elif self.reference is None:
            out.update(
                {
                    "delta.cfi": None,
                    "delta.rmsea": None,
                    "delta.srmr": None,
                    "lrt.chisq": None,
                    "lrt.df": None,
                    "lrt.pvalue": None,
                    "decision": "reference",
                }
            )
        else:
            r = reported_measures(self.reference)
            stat, ddf, p = lr_test(self.fit, self.reference)
            out.update(
                {
                    "delta.cfi": f["cfi"] - r["cfi"],
                    "delta.rmsea": f["rmsea"] - r["rmsea"],
                    "delta.srmr": f["srmr"] - r["srmr"],
                    "lrt.chisq": stat,
                    "lrt.df": ddf,
                    "lrt.pvalue": p,
                    "decision": self.decision,
                }
            )
        out["freed"] = list(self.freed)
        out.update(extra)
        return out

    @property
    def decision(self) -> str:
        if not self.fit.converged:
            return "not converged"
        if self.reference is None:
            return "reference"
        own = [f for f in self.freed if _step_class(*_op_lhs(f), self.step, set(self.fit.mg.models[0].lv))]
        if self.passed:
            return f"partially invariant (freed: {', '.join(own)})" if own else "invariant"
        if own:
            return f"not invariant (freed: {', '.join(own)})"
        return "not invariant (score test)" if self.global_passed and self.score_tests is not None else (
            "not invariant"
        )


class InvarianceResult:
    """Result of :func:`invariance`: one row per fitted model (``to_frame()``), the fits, the freed items."""

    def __init__(
        self,
        steps: list[InvarianceStep],
        group: str,
        estimator: str,
        warnings: list[SurveyWarning],
        criterion: str = "chen",
        alpha: float = 0.05,
        adjust: str | None = None,
    ) -> None:
        self.steps = steps
        self.group = group
        self.estimator = estimator
        self.warnings = warnings
        self.criterion = criterion
        self.alpha = alpha
        self.adjust = adjust
        self.rules = rules_for(criterion, alpha, adjust)

    def score_tests(self, flagged_only: bool = False) -> pd.DataFrame:
        """Univariate score tests of the constraints each fitted step adds (still constrained ones), with
        the ``adjust``-ed p-value ``p.adj`` and ``flagged`` (p.adj < alpha), largest first per model; empty
        when the sequence ran without ``adjust`` (then only models that led to a release carry tests)."""
        frames = []
        for s in self.steps:
            if s.score_tests is None or s.score_tests.empty:
                continue
            frame = s.score_tests.copy()
            if "flagged" not in frame:
                frame["flagged"] = False
            frame.insert(0, "model", s.model)
            frame.insert(0, "step", s.step)
            frames.append(frame.reindex(columns=SCORE_COLUMNS))
        if not frames:
            return pd.DataFrame(columns=SCORE_COLUMNS)
        out = pd.concat(frames, ignore_index=True)
        if flagged_only:
            out = out[out["flagged"].astype(bool)].reset_index(drop=True)
        return out

    def latent_means(self) -> pd.DataFrame:
        """Latent mean differences (groups 2..G vs group 1) from the accepted scalar (or strict) model, once
        (partial) scalar invariance holds; empty otherwise."""
        for s in reversed(self.steps):
            if s.final and s.step in ("scalar", "strict") and s.passed and s.fit.converged:
                return latent_means(s.fit)
        return pd.DataFrame(columns=["lhs", "group", "reference", "group.label", "est", "se", "z", "pvalue",
                                     "ci.lower", "ci.upper", "d"])

    @property
    def fits(self) -> dict[str, MultiGroupResult]:
        """The accepted (final) fit of every step, by step name."""
        return {s.step: s.fit for s in self.steps if s.final}

    @property
    def freed(self) -> dict[str, list[str]]:
        """Constraints released (``group_partial``) in the final model of every step."""
        return {s.step: list(s.freed) for s in self.steps if s.final}

    def to_frame(self) -> pd.DataFrame:
        """One row per fitted model: chisq df cfi tli rmsea srmr aic bic, deltas, LRT, decision, freed."""
        rows = [s.row() for s in self.steps]
        frame = pd.DataFrame(rows, columns=COLUMNS + ["freed"])
        for col in COLUMNS[1:-1]:
            frame[col] = frame[col].astype(float)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The ``survey invariance --json`` object (DESIGN.md): {"steps": [...]} plus rules and warnings."""

        def clean(v: Any) -> Any:
            if isinstance(v, (float, np.floating)):
                return None if not math.isfinite(float(v)) else float(v)
            return v

        steps = [{k: clean(v) for k, v in s.row().items()} for s in self.steps]
        return {
            "steps": steps,
            "group": self.group,
            "estimator": self.estimator,
            "group_labels": self.steps[0].fit.group_labels if self.steps else [],
            "rules": self.rules,
            "criterion": self.criterion,
            "alpha": self.alpha,
            "adjust": self.adjust,
            "flagged": [
                {k: clean(v) for k, v in r.items()}
                for r in self.score_tests(flagged_only=True).to_dict(orient="records")
            ],
            "measures": self.measures,
            "latent_means": [{k: clean(v) for k, v in r.items()}
                             for r in self.latent_means().to_dict(orient="records")],
            "warnings": [w.message for w in self.warnings],
        }

    @property
    def measures(self) -> dict[str, str]:
        """Which lavaan fit measure each reported column holds (robust versions under MLR)."""
        names = {k: k for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}
        # MLR / MLM, and two.stage fits (lavaan's satorra.bentler test)
        if self.estimator in ("MLR", "MLM") or (self.steps and robust_fit(self.steps[0].fit)):
            names.update(MLR_NAMES)
            names["lrt.chisq"] = "Satorra-Bentler (2001) scaled chi-square difference"
        else:
            names["lrt.chisq"] = "chi-square difference"
        return names

    def summary(self) -> str:
        """Text table of the sequence with the decision rules."""
        frame = self.to_frame().drop(columns="freed")
        lines = [
            f"Measurement invariance across {self.group!r} ({self.estimator}); groups: "
            + ", ".join(self.steps[0].fit.group_labels if self.steps else []),
            "",
            frame.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""),
            "",
            "Measures: " + ", ".join(f"{k} = {v}" for k, v in self.measures.items() if k != v),
            f"Decision rules ({'Chen 2007' if self.criterion == 'chen' else self.criterion}):",
        ] + [f"  {k}: {v}" for k, v in self.rules.items()]
        flagged = self.score_tests(flagged_only=True)
        if self.adjust is not None and not flagged.empty:
            head = f"Score tests significant after {self.adjust} adjustment (localized non-invariance):"
            lines += ["", head]
            lines += [
                f"  {r['model']}: {r['lhs']}{r['op']}{r['rhs']} (groups {r['group.a']} vs {r['group.b']}), "
                f"X2 = {r['X2']:.2f}, p.adj = {r['p.adj']:.3g}"
                for r in flagged.to_dict(orient="records")
            ]
        freed = {k: v for k, v in self.freed.items() if v}
        if freed:
            lines += ["", "Released equality constraints (partial invariance, largest score test first):"]
            lines += [f"  {k}: {', '.join(v)}" for k, v in freed.items()]
        means = self.latent_means()
        if len(means):
            lines += ["", f"Latent mean differences (vs group {means['reference'].iloc[0]}, scalar model):",
                      means.drop(columns=["reference"]).to_string(index=False,
                                                                  float_format=lambda v: f"{v:.3f}")]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w.message}" for w in self.warnings]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return (
            f"<InvarianceResult {len(self.steps)} models: "
            + ", ".join(f"{s.model}={s.decision}" for s in self.steps)
            + ">"
        )

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        frame["freed"] = frame["freed"].map(", ".join)
        rules = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in self.rules.items())
        return (
            f"<p><b>Measurement invariance</b> across {html.escape(self.group)}</p>"
            + frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
            + f"<ul>{rules}</ul>"
        )
