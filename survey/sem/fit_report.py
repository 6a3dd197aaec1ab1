"""The extra tables of ``survey fit``: ``--modindices`` (lavaan's ``modindices()``) and ``--residuals TYPE``
(lavaan's ``residuals()``), as text and as JSON-ready records."""

from __future__ import annotations

import math
from typing import Any

from survey.errors import SurveyInputError

MI_MINIMUM = 3.84  # chi-square(1) 5% critical value, the usual cut-off for printing


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def extra_tables(result: Any, *, modindices: bool = False, residuals: str | None = None) -> dict[str, dict]:
    """``{"modindices": {...}, "residuals": {...}}`` with ``text`` and ``json`` for each asked table."""
    out: dict[str, dict] = {}
    if modindices:
        if not hasattr(result, "modindices"):  # every fit has them; a refusal of its own names the reason
            raise SurveyInputError("--modindices is not available for this fit", field="modindices")
        mi = result.modindices(minimum_value=MI_MINIMUM, sort=True)
        text = ["", f"Modification Indices (mi >= {MI_MINIMUM}, largest first):", ""]
        text.append(mi.to_string(index=False, float_format=lambda v: f"{v:.3f}") if len(mi) else "  (none)")
        records = [{k: _clean(v) for k, v in r.items()} for r in mi.to_dict(orient="records")]
        out["modindices"] = {"text": "\n".join(text), "json": records}
    if residuals:
        ordinal = hasattr(result, "test_list")  # an ordinal fit (survey.sem.ordinal.residuals)
        from survey.sem.results.residuals import TYPES, result_residuals

        kind = residuals.lower()
        if not ordinal and kind not in TYPES:
            raise SurveyInputError(f"--residuals {residuals!r} is not available (available: "
                                   f"{', '.join(TYPES)})", field="residuals")
        levels = getattr(result, "residual_levels", None)  # a two-level fit: one table per level
        if ordinal or levels is not None:
            groups = result.residuals(kind)
        elif getattr(result, "least_squares", False):  # GLS / ULS / DWLS / WLS: S with divisor N - 1
            from survey.sem.results.ls_residuals import ls_residuals

            groups = ls_residuals(result, kind)
        else:
            groups = result_residuals(result, kind)
        labels = ([str(v) for v in result.groups] if ordinal and getattr(result, "groups", None)
                  else levels() if levels is not None else getattr(result, "group_labels", None) or [""])
        text, records = ["", f"Residuals ({kind}):"], []
        for label, res in zip(labels, groups, strict=True):
            if label:
                text += ["", f"{'Level' if levels is not None else 'Group'} {label}:"]
            text += ["", res.cov.round(3).to_string()]
            if res.mean is not None:
                text += ["", "Means:", res.mean.round(3).to_string()]
            th = getattr(res, "th", None)  # ordered items: the thresholds' residuals
            if th is not None:
                text += ["", "Thresholds:", th.round(3).to_string()]
            slopes = getattr(res, "slopes", None)  # ordered items given covariates: the slopes' residuals
            if slopes is not None:
                text += ["", "Slopes:", slopes.round(3).to_string()]
            records.append({("level" if levels is not None else "group"): label or None,
                            "cov": {r: {c: _clean(float(v)) for c, v in row.items()} for r, row in
                                    res.cov.iterrows()},
                            "mean": None if res.mean is None else {k: _clean(float(v)) for k, v in
                                                                    res.mean.items()}})
            if th is not None:
                records[-1]["th"] = {k: _clean(float(v)) for k, v in th.items()}
            if slopes is not None:
                records[-1]["slopes"] = {r: {c: _clean(float(v)) for c, v in row.items()}
                                         for r, row in slopes.iterrows()}
        out["residuals"] = {"text": "\n".join(text), "json": {"type": kind, "groups": records}}
    return out


__all__ = ["MI_MINIMUM", "extra_tables"]
