"""Output views of a :class:`survey.sem.results.result.SEMResult`: the ``--json`` object, ``repr`` and
notebook HTML (the text summary of every fit: :mod:`survey.sem.results.summary`)."""

from __future__ import annotations

import html
import math
from typing import Any

from survey.sem.results import fit_line


def clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/inf -> None, numpy scalars -> Python."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_dict(res) -> dict[str, Any]:
    est = res.estimates()
    records = [{k: clean(v) for k, v in row.items()} for row in est.to_dict(orient="records")]
    out: dict[str, Any] = {
        "estimator": res.estimator,
        "converged": res.converged,
        "nobs": res.nobs,
    }
    if getattr(res, "design_options", None):  # weights / clusters: lavaan's estimator, se and test
        from survey.sem.results.summary import design_estimator

        out = {**design_estimator(res), **{k: v for k, v in out.items() if k != "estimator"}}
    if not res.single:
        out.update(
            {
                "group": res.group,
                "group_labels": res.group_labels,
                "nobs_groups": res.nobs_groups,
                "group_equal": res.group_equal,
                "group_partial": res.group_partial,
            }
        )
    r2 = res.r2()
    out.update(
        {
            "warnings": [w.message for w in res.warnings],
            "fit_measures": {k: clean(v) for k, v in res.fit_measures().items()},
            "estimates": records,
            "r2": (
                {k: clean(v) for k, v in r2.items()}
                if res.single
                else {g: {k: clean(v) for k, v in d.items()} for g, d in r2.items()}
            ),
        }
    )
    return out


def text_repr(res) -> str:
    """``<SEMResult ...>`` with lavaan's measure names; under a scaled test (MLR, MLM, ...) also the scaled
    chi-square, its scaling factor and the robust CFI / RMSEA (:mod:`survey.sem.results.fit_line`)."""
    f = res._fit
    state = "converged" if res.converged else "NOT converged"
    groups = "" if res.single else f", G={len(res.group_labels)}"
    robust = ""
    if _finite(f.get("chisq.scaled")):
        method = fit_line.test_method(res)
        robust = (f", {method}: chisq.scaled={f['chisq.scaled']:.3f}, "
                  f"chisq.scaling.factor={f.get('chisq.scaling.factor', float('nan')):.3f}, "
                  f"cfi.robust={f.get('cfi.robust', float('nan')):.3f}, "
                  f"rmsea.robust={f.get('rmsea.robust', float('nan')):.3f}")
    return (
        f"<SEMResult {res.estimator}{groups}, N={res.nobs}, {state}, chisq={f['chisq']:.3f}, "
        f"df={f['df']:.0f}, "
        f"cfi={f['cfi']:.3f}, rmsea={f['rmsea']:.3f}, srmr={f['srmr']:.3f}{robust}, "
        f"{len(res.warnings)} warning(s)>"
    )


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def html_repr(res) -> str:
    """Notebook view: the fit line (scaled chi-square and robust indices under a scaled test), the
    warnings, the estimates."""
    f = res._fit
    groups = "" if res.single else f", groups by {html.escape(res.group)}"
    head = (
        f"<p><b>SEM ({html.escape(res.estimator)})</b>{groups}, <i>N</i> = {res.nobs}, "
        f"{'converged' if res.converged else 'NOT converged'}; "
        f"{fit_line.fit_html(f, fit_line.test_method(res))}</p>"
    )
    warn = "".join(f"<li>{html.escape(w.message)}</li>" for w in res.warnings)
    warn = f"<ul>{warn}</ul>" if warn else ""
    return head + warn + res.estimates().to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
