"""Likelihood-ratio test of equal paths: the model refitted with the paths sharing one label and the
(Satorra-Bentler 2001 scaled) chi-square difference (lavaan ``lavTestLRT``); part of
:mod:`survey.sem.compare` (see its docstring for the references)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.compare_wald import _NAME, _NUMBER, _STAGE
from survey.sem.inference.tests import check_sb2001_difference


# ----------------------------------------------------------------------------------------------------
# likelihood-ratio test of equal paths (refit with shared labels)
# ----------------------------------------------------------------------------------------------------
def _join_continued(lines: list[str]) -> list[str]:
    """Join lavaan formula lines continued by a trailing or leading operator (``+``, ``*``)."""
    out: list[str] = []
    for line in lines:
        s = line.strip()
        if out and (out[-1].rstrip().endswith(("+", "*")) or s.startswith(("+", "*"))):
            out[-1] = out[-1].rstrip() + " " + s
        else:
            out.append(line)
    return out


def _strip_comment(line: str) -> str:
    return re.split(r"[#!]", line, maxsplit=1)[0]


def _vector_length(statements: list[str], regression) -> int | None:
    """The length of the c(...) modifiers on the outcome's paths (None without any)."""
    lengths = {len(m.split(",")) for stmt in statements if regression.match(stmt) and "=~" not in stmt
               for m in re.findall(r"\bc\(([^)]*)\)", stmt)}
    if len(lengths) > 1:
        raise SurveyInputError("c(...) modifiers of different lengths on the outcome's paths",
                               value=str(sorted(lengths)), field="model")
    return lengths.pop() if lengths else None


def equal_paths_model(
    syntax: str, outcome: str, predictors: Iterable[str] | None = None, label: str = "b_equal"
) -> str:
    """Rewrite lavaan syntax so the paths ``outcome ~ predictor`` share one label (are equal).

    Each term ``[modifier*]predictor`` of a regression of ``outcome`` becomes ``label*predictor``.
    Old labels of those paths are replaced by ``label`` everywhere else too (defined parameters such as
    ``ind_SHI := b_SHI*c_FOL`` and constraints stay valid). Comments are dropped; all other lines are
    kept verbatim. ``predictors`` defaults to every predictor of ``outcome``. In lavaan (and semopy) a
    label shared by several parameters constrains them to be equal, so the refitted model has
    ``k - 1`` more degrees of freedom. With per-group modifiers ``c(a1, a2)*x`` (a multi-group model)
    the paths become equal within each group, ``c(label_g1, label_g2)*x`` (G (k - 1) more degrees of
    freedom; lavaan ``lavTestLRT`` of the two fits: tests/fixtures/lang3/lrt_groups.json).
    """
    if not re.fullmatch(_NAME, outcome):
        raise SurveyInputError("outcome is not a variable name", value=outcome, field="outcome")
    if not re.fullmatch(_NAME, label):
        raise SurveyInputError("label is not a valid name", value=label, field="label")
    statements: list[str] = []
    for raw in syntax.splitlines():
        statements.extend(_strip_comment(raw).split(";"))
    statements = [s for s in _join_continued(statements) if s.strip()]
    wanted = None if predictors is None else list(predictors)
    found: list[str] = []
    old_labels: dict[str, str] = {}
    rewritten: list[str] = []
    regression = re.compile(rf"^\s*{re.escape(outcome)}\s*~(?![~*])(.*)$")
    groups = _vector_length(statements, regression)  # c(...) modifiers: one equal label per group
    shared = label if groups is None else "c(" + ", ".join(f"{label}_g{g + 1}" for g in range(groups)) + ")"
    for stmt in statements:
        m = regression.match(stmt)
        if not m or "=~" in stmt:
            rewritten.append(stmt.rstrip())
            continue
        terms = [t.strip() for t in m.group(1).split("+")]
        new_terms = []
        for term in terms:
            if not term:
                raise SurveyInputError(
                    "malformed regression in model syntax", value=stmt.strip(), field="model"
                )
            parts = [p.strip() for p in term.split("*")]
            var = parts[-1]
            if wanted is not None and var not in wanted:
                new_terms.append(term)
                continue
            if re.fullmatch(_NUMBER, var):  # an intercept, `FOL ~ 1`
                new_terms.append(term)
                continue
            for mod in parts[:-1]:
                if mod == "NA" or mod.startswith(("start(", "equal(")):
                    continue
                if re.fullmatch(_NUMBER, mod):
                    raise SurveyInputError(
                        "path is fixed to a value and cannot be freed as equal",
                        value=f"{outcome} ~ {term}",
                        field="model",
                    )
                if mod.startswith("c("):  # per-group labels / values: the paths equal within each group
                    for g, item in enumerate(i.strip().strip("\"'") for i in mod[2:-1].split(",")):
                        if re.fullmatch(_NUMBER, item):
                            raise SurveyInputError("path is fixed to a value in a group and cannot be "
                                                   "freed as equal", value=f"{outcome} ~ {term}",
                                                   field="model")
                        if item != "NA" and re.fullmatch(_NAME, item):
                            old_labels[item] = f"{label}_g{g + 1}"
                    continue
                if mod.startswith("label("):
                    old_labels[mod[6:-1].strip("\"' ")] = label
                elif re.fullmatch(_NAME, mod):
                    old_labels[mod] = label
                else:
                    raise SurveyInputError(
                        "cannot parse modifier in model syntax", value=f"{outcome} ~ {term}", field="model"
                    )
            found.append(var)
            new_terms.append(f"{shared}*{var}")
        rewritten.append(f"{outcome} ~ " + " + ".join(new_terms))
    if wanted is not None:
        missing = [p for p in wanted if p not in found]
        if missing:
            raise SurveyInputError(
                f"no path {outcome} ~ {missing[0]} in the model", value=missing[0], field="predictors"
            )
    if len(set(found)) < 2:
        raise SurveyInputError(
            "need at least two paths of the outcome to constrain equal", value=outcome, field="outcome"
        )
    out = []
    for stmt in rewritten:
        if not regression.match(stmt) or "=~" in stmt:
            for old in old_labels:
                stmt = re.sub(rf"(?<![A-Za-z0-9_.]){re.escape(old)}(?![A-Za-z0-9_.])", old_labels[old],
                              stmt)
        out.append(stmt)
    return "\n".join(out) + "\n"


def scaled_chisq_difference(
    t0: float, df0: int, c0: float, t1: float, df1: int, c1: float
) -> tuple[float, float]:
    """Satorra-Bentler (2001) scaled chi-square difference of nested models (0 = restricted).

    ``cd = (df0 c0 - df1 c1) / (df0 - df1)``, ``T = (T0 - T1) / cd`` with the unscaled (ML) statistics
    ``T`` and scaling factors ``c`` (lavaan ``chisq.scaling.factor``); df = ``df0 - df1``. lavaan's
    ``lavTestLRT(method = "satorra.bentler.2001")``. Returns (statistic, df).
    """
    ddf = df0 - df1
    if ddf <= 0:
        raise SurveyInputError(
            "the restricted model must have more degrees of freedom", value=ddf, field="df"
        )
    # a saturated model (df 0) has no scaling factor (NaN here): lavaan takes it as 1, its term is 0
    cd = (df0 * c0 - (df1 * c1 if df1 > 0 else 0.0)) / ddf
    if not cd > 0:
        raise SurveyInputError(
            "negative scaling correction of the chi-square difference "
            "(Satorra-Bentler 2001); use the strictly positive version",
            value=cd,
            field="chisq.scaling.factor",
        )
    return (t0 - t1) / cd, float(ddf)


@dataclass
class LRTResult:
    """Chi-square difference test of the model with equal paths (restricted) against the free model."""

    chisq_diff: float
    df_diff: float
    pvalue: float
    chisq_free: float
    df_free: float
    chisq_equal: float
    df_equal: float
    method: str
    model_equal: str
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chisq.diff": self.chisq_diff,
            "df.diff": self.df_diff,
            "pvalue": self.pvalue,
            "chisq.free": self.chisq_free,
            "df.free": self.df_free,
            "chisq.equal": self.chisq_equal,
            "df.equal": self.df_equal,
            "method": self.method,
            "warnings": [w.message for w in self.warnings],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "chisq": [self.chisq_free, self.chisq_equal],
                "df": [self.df_free, self.df_equal],
                "chisq.diff": [np.nan, self.chisq_diff],
                "df.diff": [np.nan, self.df_diff],
                "pvalue": [np.nan, self.pvalue],
            },
            index=["free", "equal paths"],
        )

    def summary(self) -> str:
        lines = [
            f"Likelihood-ratio test of equal paths ({self.method})",
            f"  chisq diff = {self.chisq_diff:.3f}, df = {self.df_diff:g}, p = {self.pvalue:.4g}",
        ]
        lines += [f"  warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.summary().splitlines()[0])}</b></p>" + self.to_frame().to_html(
            float_format="%.4g", na_rep=""
        )

    def __str__(self) -> str:
        return self.summary()


def _fit_stat(result: Any, name: str) -> float:
    measures = result.fit_measures() if callable(getattr(result, "fit_measures", None)) else result
    try:
        return float(measures[name])
    except (KeyError, TypeError) as exc:
        raise SurveyInputError(
            "the fit function's result has no fit measure", value=name, field="fit_measures"
        ) from exc


def _table_difference(free: Any, equal: Any) -> tuple[float | None, float | None, str]:
    """lavTestLRT's difference of two fitted results where it is not a function of the fit measures:
    Satorra (2000) for scaled-shifted / mean-and-variance adjusted tests, and the least-squares fits'
    standard difference (as :func:`survey.sem.results.lrt.lav_test_lrt`); (None, None, "") otherwise."""
    if not (callable(getattr(free, "tests", None)) and hasattr(free, "mg") and hasattr(equal, "mg")):
        return None, None, ""
    from survey.sem.results.difference import difference_method, satorra_2000

    method = difference_method([free, equal])
    if method == "satorra.2000":
        d = satorra_2000(free, equal)
        return d.stat, d.df, method
    if method == "standard" and getattr(free, "least_squares", False):
        return float(equal.pieces.stat - free.pieces.stat), float(equal.pieces.df - free.pieces.df), method
    return None, None, ""


def lr_equal_paths(
    fit_fn: Callable[..., Any],
    syntax: str,
    data: pd.DataFrame,
    outcome: str,
    predictors: Iterable[str] | None = None,
    *,
    scaled: bool | None = None,
    **fit_kwargs: Any,
) -> LRTResult:
    """Likelihood-ratio (chi-square difference) test that the paths to ``outcome`` are all equal.

    Calls ``fit_fn(model, data, **fit_kwargs)`` twice -- on ``syntax`` and on
    :func:`equal_paths_model` (shared label) -- and reads lavaan-named fit measures from
    ``result.fit_measures()`` (``chisq``, ``df``, and for robust estimators ``chisq.scaling.factor``).
    ``T = chisq_equal - chisq_free`` ~ chi-square(``df_equal - df_free``) (ML); with ``scaled`` (default:
    when both fits report a scaling factor) the Satorra-Bentler (2001) scaled difference
    (:func:`scaled_chisq_difference`), as lavaan's ``lavTestLRT``.
    """
    model_eq = equal_paths_model(syntax, outcome, predictors)
    free = fit_fn(syntax, data, **fit_kwargs)
    equal = fit_fn(model_eq, data, **fit_kwargs)
    check_sb2001_difference(free, equal)
    warnings: list[SurveyWarning] = []
    for res in (free, equal):
        for w in getattr(res, "warnings", []) or []:
            warnings.append(w if isinstance(w, SurveyWarning) else SurveyWarning("fit", str(w), _STAGE))
        if getattr(res, "converged", True) is False:
            warnings.append(
                SurveyWarning("lrt_not_converged", "a model of the LR test did not converge", _STAGE)
            )
    t1, d1 = _fit_stat(free, "chisq"), _fit_stat(free, "df")
    t0, d0 = _fit_stat(equal, "chisq"), _fit_stat(equal, "df")
    stat, ddf, method = _table_difference(free, equal) if scaled is None else (None, None, "")
    if stat is None and scaled is None:
        try:
            c1, c0 = _fit_stat(free, "chisq.scaling.factor"), _fit_stat(equal, "chisq.scaling.factor")
            scaled = bool(np.isfinite(c1) and np.isfinite(c0))
        except SurveyInputError:
            scaled = False
    if stat is None and scaled:
        c1, c0 = _fit_stat(free, "chisq.scaling.factor"), _fit_stat(equal, "chisq.scaling.factor")
        stat, ddf = scaled_chisq_difference(t0, int(d0), c0, t1, int(d1), c1)
        method = "satorra.bentler.2001"
    elif stat is None:
        stat, ddf = t0 - t1, d0 - d1
        method = "standard"
    if ddf <= 0:
        raise SurveyInputError(
            "the equal-paths model has no more degrees of freedom than the free model", value=ddf, field="df"
        )
    if stat < 0:
        warnings.append(
            SurveyWarning("lrt_negative", f"negative chi-square difference ({stat:.4g}) set to 0", _STAGE)
        )
        stat = 0.0
    return LRTResult(
        chisq_diff=float(stat),
        df_diff=float(ddf),
        pvalue=float(stats.chi2.sf(stat, ddf)),
        chisq_free=t1,
        df_free=d1,
        chisq_equal=t0,
        df_equal=d0,
        method=method,
        model_equal=model_eq,
        warnings=warnings,
    )
