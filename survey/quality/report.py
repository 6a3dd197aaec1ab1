"""Per-respondent careless-responding indices and flags (the ``survey quality`` command)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyWarning
from survey.quality.config import ScreenConfig
from survey.quality.design import ScreenDesign
from survey.quality.screens import attention_failures, careless_indices

INDICES = ["longstring", "avgstr", "irv", "mahad", "evenodd", "psychsyn"]
FLAGS = ["longstring", "irv", "mahad", "evenodd", "psychsyn"]


def _num(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    if math.isnan(f):
        return None
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


@dataclass
class QualityReport:
    """``respondents``: one row per respondent (row, indices, ``<index>_flag``, attention failures);
    ``summary``: counts flagged and the thresholds used."""

    respondents: pd.DataFrame
    summary_: dict[str, Any]
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.respondents.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = [{k: _num(v) for k, v in r.items()} for r in self.respondents.to_dict(orient="records")]
        return {"respondents": rows, "summary": self.summary_, "warnings": [w.message for w in self.warnings]}

    def summary(self) -> str:
        s = self.summary_
        lines = [f"{s['n']} respondents, {s['n_items']} items"]
        for name in FLAGS:
            lines.append(f"  {name:<10} flagged {s['flagged'][name]:>6}   ({s['rules'][name]})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.respondents.head(50).to_html(index=False)


def quality_report(
    data: pd.DataFrame, design: ScreenDesign, config: ScreenConfig | None = None
) -> QualityReport:
    """Careless indices for every row of ``data`` (all rows form the reference sample)."""
    config = config or ScreenConfig()
    likert = [c for c in design.likert if c in data.columns]
    items = data[likert].apply(pd.to_numeric, errors="coerce").astype("float64")
    eligible = pd.Series(True, index=data.index)
    ind, flags, warns = careless_indices(items, design, config, eligible)
    out = pd.DataFrame({"row": range(1, len(data) + 1)}, index=data.index)
    if "respondent_id" in data.columns:
        out["respondent_id"] = data["respondent_id"].astype(str).to_numpy()
    for name in INDICES:
        out[name] = ind[name] if name in ind.columns else float("nan")
    for name in FLAGS:
        out[f"{name}_flag"] = flags[name].astype(bool)
    if design.attention:
        out["attention_failures"] = attention_failures(data, design.attention, config.attention_missing_fails)
    p = len(likert)
    rules = {
        "longstring": f"longest run >= {config.longstring_fraction} x {p} items",
        "irv": "not flagged" if config.irv_min is None else f"irv < {config.irv_min}",
        "mahad": f"D2 > chi-square({p}) quantile {config.mahad_confidence} = "
        f"{stats.chi2.ppf(config.mahad_confidence, p):.3f}"
        if p
        else "no items",
        "evenodd": f"evenodd > {config.evenodd_max}",
        "psychsyn": f"psychsyn < {config.psychsyn_min} (pairs with r > {config.psychsyn_critval})",
    }
    computed = p >= config.careless_min_items
    if not computed:
        reason = f"not computed: {p} items, fewer than the minimum of {config.careless_min_items}"
        rules = {name: reason for name in rules}
    summary = {
        "n": int(len(data)),
        "n_items": p,
        "indices_computed": computed,
        "min_items": config.careless_min_items,
        "items": likert,
        "flagged": {n: int(flags[n].sum()) for n in FLAGS},
        "rules": rules,
        "any_flag": int(flags[FLAGS].any(axis=1).sum()),
        "median": {n: _num(out[n].median()) for n in INDICES},
    }
    return QualityReport(out.reset_index(drop=True), summary, warns)
