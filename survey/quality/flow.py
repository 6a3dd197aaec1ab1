"""The exclusion flow: a CONSORT-style table from raw responses to the analytic sample.

Screens run in a fixed order. A respondent is counted at the first step that excludes them
(``n_excluded``), so the remaining count falls step by step and n_raw = n_analytic + n_excluded; the
exclusions table lists, for each excluded respondent, every reason that applies (Schulz, Altman &
Moher, 2010, CONSORT statement, for the flow-diagram idea).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.quality.screens import STEPS


@dataclass
class ExclusionFlow:
    """``flow`` (step, description, n_excluded, n_remaining), ``exclusions`` (one row per excluded
    respondent, all reasons), ``excluded`` (boolean mask on the input rows)."""

    flow: pd.DataFrame
    exclusions: pd.DataFrame
    excluded: pd.Series
    by_reason: dict[str, int] | None = None

    @property
    def n_raw(self) -> int:
        return int(self.flow["n_remaining"].iloc[0])

    @property
    def n_analytic(self) -> int:
        return int(self.flow["n_remaining"].iloc[-1])

    @property
    def n_excluded(self) -> int:
        return int(self.excluded.sum())

    def excluded_by_reason(self) -> dict[str, int]:
        """Respondents excluded for each reason (a respondent counts under every reason that applies)."""
        if self.by_reason is not None:
            return dict(self.by_reason)
        counts: dict[str, int] = {}
        for reasons in self.exclusions["reasons"]:
            for r in reasons.split(";"):
                counts[r] = counts.get(r, 0) + 1
        order = [r for _, _, rs in STEPS for r in rs]
        return {r: counts[r] for r in sorted(counts, key=lambda r: (order.index(r) if r in order else 99, r))}

    def to_frame(self) -> pd.DataFrame:
        return self.flow.copy()

    def to_dict(self) -> dict:
        return {
            "flow": self.flow.to_dict(orient="records"),
            "n_raw": self.n_raw,
            "n_analytic": self.n_analytic,
            "n_excluded": self.n_excluded,
            "excluded_by_reason": self.excluded_by_reason(),
        }

    def summary(self) -> str:
        width = max(len(d) for d in self.flow["description"])
        lines = [f"{'step':<{width}}  excluded  remaining"]
        for _, r in self.flow.iterrows():
            lines.append(f"{r['description']:<{width}}  {r['n_excluded']:>8}  {r['n_remaining']:>9}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.flow.to_html(index=False)


def exclusion_flow(flags: pd.DataFrame, info: pd.DataFrame | None = None) -> ExclusionFlow:
    """Build the flow from boolean reason ``flags`` (columns = reason codes of
    :data:`survey.quality.screens.STEPS`); ``info`` adds identifying columns to the exclusions table."""
    n = len(flags)
    remaining = n
    taken = np.zeros(n, dtype=bool)
    rows = [{"step": "raw", "description": "Raw responses", "n_excluded": 0, "n_remaining": n}]
    first_step = np.full(n, "", dtype=object)
    for step, description, reasons in STEPS:
        cols = [r for r in reasons if r in flags.columns]
        hit = flags[cols].to_numpy(dtype=bool).any(axis=1) if cols else np.zeros(n, dtype=bool)
        new = hit & ~taken
        first_step[new] = step
        taken |= hit
        remaining -= int(new.sum())
        rows.append(
            {"step": step, "description": description, "n_excluded": int(new.sum()), "n_remaining": remaining}
        )
    rows.append(
        {
            "step": "analytic",
            "description": "Analytic sample",
            "n_excluded": int(taken.sum()),
            "n_remaining": remaining,
        }
    )
    flow = pd.DataFrame(rows, columns=["step", "description", "n_excluded", "n_remaining"])
    ordered = [r for _, _, rs in STEPS for r in rs if r in flags.columns]
    sub = flags.loc[taken, ordered].to_numpy(dtype=bool)
    names = np.array(ordered, dtype=object)
    if len(sub):
        # one label per combination of reasons (few), not per respondent
        codes = sub.astype(np.uint64) @ np.left_shift(np.uint64(1), np.arange(sub.shape[1], dtype=np.uint64))
        uniq, group = np.unique(codes, return_inverse=True)
        labels = np.array([";".join(names[sub[np.argmax(codes == u)]]) for u in uniq], dtype=object)
        reasons = labels[np.asarray(group).ravel()]
    else:
        reasons = np.array([], dtype=object)
    excl = pd.DataFrame({"row": np.flatnonzero(taken) + 1}, index=flags.index[taken])
    if info is not None:
        for col in info.columns:
            excl[col] = info.loc[taken, col].to_numpy()
    excl["first_step"] = first_step[taken]
    excl["reasons"] = reasons
    excl = excl.reset_index(drop=True)
    totals = sub.sum(axis=0) if len(sub) else np.zeros(len(ordered), dtype=int)
    by_reason = {r: int(t) for r, t in zip(ordered, totals, strict=True) if t}
    return ExclusionFlow(flow, excl, pd.Series(taken, index=flags.index, name="excluded"), by_reason)
