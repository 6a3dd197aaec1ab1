"""The one-line fit report of a result's ``repr`` and notebook HTML: under a scaled test the scaled
chi-square with its scaling factor, named by its correction, and the robust CFI / TLI / RMSEA.

Which numbers: lavaan's ``fitMeasures()`` names. With a scaled test (MLR: Yuan-Bentler, Mplus variant,
Yuan & Bentler 2000; MLM: Satorra-Bentler 1994; WLSMV/ULSMV: scaled-shifted, Asparouhov & Muthen 2010;
mean and variance adjusted: Satterthwaite) the line reports ``chisq.scaled``, ``df.scaled``,
``pvalue.scaled`` and ``chisq.scaling.factor`` beside the standard ``chisq``, and the robust indices
``cfi.robust``, ``tli.robust``, ``rmsea.robust`` with ``rmsea.ci.lower.robust`` /
``rmsea.ci.upper.robust`` (Brosseau-Liard & Savalei 2014; Brosseau-Liard, Savalei & Li 2012), as the
fit table of ``survey paper`` does (:mod:`survey.report.fitview`). A robust index lavaan leaves NA is
replaced by the scaled one (``cfi.scaled`` ...) and labelled so; SRMR does not depend on the test.
Without a scaled test the line is the standard chi-square, CFI, TLI, RMSEA and SRMR.
"""

from __future__ import annotations

import html
import math
from typing import Any

# lavaan's test names -> the correction's name in a report
CORRECTION = {
    "satorra.bentler": "Satorra-Bentler scaled",
    "yuan.bentler": "Yuan-Bentler scaled",
    "yuan.bentler.mplus": "Yuan-Bentler (Mplus variant) scaled",
    "scaled.shifted": "scaled-shifted",
    "mean.var.adjusted": "mean- and variance-adjusted",
}


def test_method(res: Any) -> str | None:
    """lavaan's name of the result's scaled test (``None``: the standard test only)."""
    scaled = getattr(res, "scaled_test", None)
    if scaled is not None and getattr(scaled, "method", None):
        return str(scaled.method)
    for t in getattr(res, "test_list", None) or ():
        if getattr(t, "name", "standard") != "standard":
            return str(t.name)
    return {"MLM": "satorra.bentler", "MLR": "yuan.bentler.mplus"}.get(str(getattr(res, "estimator", "")))


def _finite(f: dict, key: str) -> float | None:
    v = f.get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _index(f: dict, name: str, scaled: bool) -> tuple[str, float | None, str]:
    """(label, value, key) of CFI/TLI/RMSEA: robust under a scaled test, else standard."""
    if scaled:
        for kind in ("robust", "scaled"):
            v = _finite(f, f"{name}.{kind}")
            if v is not None:
                return f"{kind} {name.upper()}", v, f"{name}.{kind}"
    return name.upper(), _finite(f, name), name


def _num(v: float | None, digits: int = 3) -> str:
    return "NA" if v is None else f"{v:.{digits}f}"


def fit_parts(f: dict, method: str | None) -> list[tuple[str, str]]:
    """The line as ``(text, symbol)`` pieces: ``symbol`` (``"\u03c7\u00b2"``, ``"p"``, ``"c"`` or ``""``)
    is set in italic before ``text``."""
    chisq, df, p = _finite(f, "chisq"), _finite(f, "df"), _finite(f, "pvalue")
    scaled = _finite(f, "chisq.scaled") is not None
    parts: list[tuple[str, str]] = []
    if scaled:
        name = CORRECTION.get(method or "", f"{method or ''} scaled".strip())
        dfs = _finite(f, "df.scaled")
        dfs_text = "NA" if dfs is None else (f"{dfs:.0f}" if float(dfs).is_integer() else f"{dfs:.3f}")
        parts += [(f"{name} ", ""),
                  (f"({dfs_text}) = {_num(_finite(f, 'chisq.scaled'))}, ", "\u03c7\u00b2"),
                  (f" = {_num(_finite(f, 'pvalue.scaled'))} (scaling factor ", "p"),
                  (f" = {_num(_finite(f, 'chisq.scaling.factor'))}; standard ", "c"),
                  (f"({_num(df, 0)}) = {_num(chisq)}, ", "\u03c7\u00b2"), (f" = {_num(p)}); ", "p")]
    else:
        parts += [(f"({_num(df, 0)}) = {_num(chisq)}, ", "\u03c7\u00b2"), (f" = {_num(p)}, ", "p")]
    cells = []
    for name in ("cfi", "tli"):
        label, value, _ = _index(f, name, scaled)
        cells.append(f"{label} = {_num(value)}")
    label, value, key = _index(f, "rmsea", scaled)
    lo = _finite(f, key.replace("rmsea", "rmsea.ci.lower", 1))
    hi = _finite(f, key.replace("rmsea", "rmsea.ci.upper", 1))
    cells.append(f"{label} = {_num(value)} [{_num(lo)}, {_num(hi)}]")
    cells.append(f"SRMR = {_num(_finite(f, 'srmr'))}")
    parts.append((", ".join(cells), ""))
    return parts


def fit_text(f: dict, method: str | None) -> str:
    """The line as plain text: ``Yuan-Bentler (Mplus variant) scaled chi2(24) = ...``."""
    return "".join((sym.replace("\u03c7\u00b2", "chi2") + text) for text, sym in fit_parts(f, method))


def fit_html(f: dict, method: str | None) -> str:
    """The line as HTML, statistical symbols in italic (APA 7, 6.45)."""
    out = []
    for text, sym in fit_parts(f, method):
        if sym:
            out.append(f"<i>{html.escape(sym)}</i>")
        out.append(html.escape(text))
    return "".join(out)
