"""The Results section in APA style, written from the numbers of the paper's tables.

One paragraph on the measurement model (fit beside the Hu & Bentler, 1999, cutoffs; loadings;
reliability; discriminant validity), one on the structural model's fit, one per hypothesis, one on the
indirect effects, and the estimation warnings stated in the text. Every number comes from a table's
``data`` (which comes from the stage that owns it), formatted by :mod:`survey.report.apa`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survey.report import apa
from survey.report.table import Table
from survey.report.tables import HU_BENTLER, meets_cutoff


def _label(instrument: Any, code: str) -> str:
    for construct in getattr(instrument, "constructs", []):
        if construct.code == code:
            return f"{construct.label.lower()} ({code})"
    item = next((i for i in getattr(instrument, "items", []) if i.id == code), None)
    if item is not None and getattr(item, "label", None):
        return f"{item.label[0].lower() + item.label[1:]} ({code})"
    return code


def fit_sentence(model: str, row: pd.Series | dict[str, Any], test: str | None = None) -> str:
    """``The CFA fit the data well, chi2(329) = 310.12, p = .766, CFI = .998 (cutoff >= .95), ...``.

    ``row`` holds the reported measures by generic key (:func:`survey.report.fitview.reported`). With a
    ``test`` (``"Yuan-Bentler"`` under MLR) the chi-square is named as that scaled statistic with its
    scaling factor ``scaling``, and CFI, TLI and RMSEA as the robust indices the cutoffs are applied to.
    """
    row = pd.Series(row)
    chisq = f"\u03c7\u00b2({apa.integer(row['df'])}) = {apa.num(row['chisq'])}"
    if test:
        chisq = f"{test} scaled {chisq}"
        if not pd.isna(row.get("scaling", np.nan)):
            chisq += f" (scaling factor c = {apa.num(row['scaling'], 3)})"
    parts = [f"{chisq}, {apa.p_text(row['pvalue'])}"]
    met, checked = [], []
    robust = "robust " if test else ""
    for key, name in (("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")):
        value = row.get(key, np.nan)
        if pd.isna(value):
            continue
        op, cut = HU_BENTLER[key]
        symbol = "\u2265" if op == ">=" else "\u2264"
        text = f"{robust if key != 'srmr' else ''}{name} = {apa.bounded(value, 3)}"
        if key == "rmsea" and not pd.isna(row.get("rmsea.ci.lower", np.nan)):
            interval = apa.ci(row["rmsea.ci.lower"], row["rmsea.ci.upper"], 3, bounded_values=True)
            text += f", 90% CI {interval}"
        parts.append(f"{text} (cutoff {symbol} {apa.bounded(cut)})")
        checked.append(name)
        met.append(meets_cutoff(key, float(value)))
    if not checked:
        verdict = "was estimated"
    elif all(met):
        verdict = "met every Hu and Bentler (1999) cutoff"
    else:
        missed = [n for n, ok in zip(checked, met, strict=True) if not ok]
        verdict = f"missed the Hu and Bentler (1999) cutoff for {', '.join(missed)}"
    return f"The {model} {verdict}, " + ", ".join(parts) + "."


def fit_row(fit: Table, index: int) -> tuple[dict[str, Any], str | None]:
    """The reported measures of the ``index``-th model of the fit table and the test's correction."""
    meta = fit.meta or {}
    if "reported" in meta:
        return meta["reported"][index], meta.get("test")
    return dict(fit.data.iloc[index]), None


def measurement_paragraph(measurement: Table, fit: Table, discriminant: Table | None) -> str:
    """Fit of the CFA, range of the standardized loadings, reliability and discriminant validity."""
    data = measurement.data
    text = [fit_sentence("measurement model (CFA)", *fit_row(fit, 0))]
    low, high = data["loading"].min(), data["loading"].max()
    text.append(f"Standardized loadings ranged from {apa.bounded(low)} to {apa.bounded(high)}.")
    weak = data.loc[data["loading"].abs() < 0.5, "item"].tolist()
    if weak:
        text.append(f"Items loading below .50: {', '.join(weak)}.")
    if "alpha" in data.columns:
        per = data.dropna(subset=["alpha"])
        def span(col: str) -> str:
            return f"{apa.bounded(per[col].min())} to {apa.bounded(per[col].max())}"

        text.append(f"Cronbach's \u03b1 ranged from {span('alpha')}, \u03c9 from {span('omega')} and "
                    f"composite reliability from {span('cr')}.")
        low_ave = per.loc[per["ave"] < 0.5, ["construct", "ave"]]
        if low_ave.empty:
            text.append("Every AVE reached .50.")
        else:
            listed = ", ".join(f"{r.construct} ({apa.bounded(r.ave, 3)})" for r in low_ave.itertuples())
            text.append(f"The AVE fell below .50 for {listed}, so convergent validity is limited for "
                        f"{'this construct' if len(low_ave) == 1 else 'these constructs'}.")
    if discriminant is not None:
        matrix = discriminant.data.set_index("construct")
        names = list(matrix.index)
        htmt_max, fl_fail = 0.0, []
        for i, f in enumerate(names):
            for j, g in enumerate(names):
                if j > i:
                    htmt_max = max(htmt_max, float(matrix.loc[f, g]))
                elif j < i:
                    r = abs(float(matrix.loc[f, g]))
                    if r >= min(float(matrix.loc[f, f]), float(matrix.loc[g, g])):
                        fl_fail.append(f"{g}-{f}")
        verdict = "below" if htmt_max < 0.85 else "above"
        sentence = (f"The largest HTMT was {apa.bounded(htmt_max)}, {verdict} the .85 threshold "
                    "(Henseler et al., 2015)")
        if fl_fail:
            sentence += f"; the Fornell-Larcker criterion failed for {', '.join(fl_fail)}."
        else:
            sentence += (", and every latent correlation was smaller than the square roots of the AVEs "
                         "involved (Fornell & Larcker, 1981).")
        text.append(sentence)
    return " ".join(text)


def hypothesis_paragraph(row: pd.Series, instrument: Any, sign: str, alpha: float) -> str:
    """One APA paragraph for one hypothesis."""
    predictor, outcome = (s.strip() for s in row["path"].split("\u2192"))
    direction = "positively" if sign == "positive" else "negatively"
    observed = "positive" if row["b"] > 0 else "negative"
    significant = row["pvalue"] < alpha
    interval = apa.ci(row["ci.lower"], row["ci.upper"])
    stats = (f"b = {apa.num(row['b'])}, SE = {apa.num(row['se'])}, 95% CI {interval}, "
             f"\u03b2 = {apa.bounded(row['beta'])}, {apa.p_text(row['pvalue'])}")
    head = (f"{row['hypothesis']} predicted that {_label(instrument, predictor)} would be {direction} "
            f"related to {_label(instrument, outcome)}.")
    if significant:
        body = f"The path was {observed} and statistically significant, {stats}"
    else:
        body = f"The path was {observed} but not statistically significant, {stats}"
    verdict = "supported" if row["supported"] == "yes" else "not supported"
    return f"{head} {body}; {row['hypothesis']} was {verdict}."


def indirect_paragraph(table: Table) -> str:
    """The indirect effects with their CIs, naming the CI method."""
    method = table.note.rsplit("Confidence intervals: ", 1)[-1].rstrip(".")
    rows = table.data.to_dict("records")
    parts = [f"{r['effect']} = {apa.num(r['est'], 3)}, 95% CI {apa.ci(r['ci.lower'], r['ci.upper'], 3)}"
             for r in rows]
    significant = [r["effect"] for r in rows if not (r["ci.lower"] <= 0 <= r["ci.upper"])]
    tail = (f"Confidence intervals excluding zero: {', '.join(significant)}." if significant
            else "Every confidence interval included zero.")
    head = f"Indirect effects on behaviour through follow intention ({method}): "
    return head + "; ".join(parts) + ". " + tail


def comparison_paragraph(comparison: Any, table_label: str = "") -> str:
    """Which driver matters most. States ONLY the orderings that the Holm-adjusted pairwise tests of the
    standardized paths support (``comparison.supported``, :func:`survey.sem.ranks.supported_orderings`),
    each written ``A > B`` with its difference and adjusted p; every other pair is reported as not
    distinguishable. The omnibus Wald (and likelihood-ratio) test, the drivers the tests cannot tell apart
    from the strongest (:func:`survey.sem.ranks.strongest_candidates`) and the sum of the importance
    weights (= R^2) complete it; no ordering of point estimates or weights is stated."""
    from survey.sem.ranks import strongest_candidates

    outcome = comparison.outcome
    alpha = comparison.alpha
    pairwise = comparison.pairwise_std if comparison.pairwise_std is not None else comparison.pairwise
    kind = "standardized" if comparison.pairwise_std is not None else "unstandardized"
    drivers = list(comparison.labels.index)
    omni = comparison.omnibus
    tests = f"Wald \u03c7\u00b2({omni.df}) = {apa.num(omni.stat)}, {apa.p_text(omni.pvalue)}"
    if comparison.lrt is not None:
        lrt = comparison.lrt
        tests += (f"; likelihood-ratio test of the equal-paths model, \u0394\u03c7\u00b2("
                  f"{apa.integer(lrt.df_diff)}) = {apa.num(lrt.chisq_diff)}, {apa.p_text(lrt.pvalue)}")
    verdict = "rejected" if omni.pvalue < alpha else "did not reject"
    text = [f"Which driver matters most? The omnibus test {verdict} equality of the {len(drivers)} "
            f"unstandardized paths to {outcome} ({tests})."]
    supported = comparison.supported
    m = len(pairwise)
    where = f"; {table_label}" if table_label else ""
    if supported.empty:
        text.append(f"None of the {m} Holm-adjusted pairwise comparisons of the {kind} paths was "
                    f"significant (\u03b1 = {apa.bounded(alpha)}{where}), so the data support no ordering of "
                    "the drivers.")
    else:
        claims = "; ".join(f"{r['statement']} (\u0394\u03b2 = {apa.bounded(r['diff'])}, Holm-adjusted "
                           f"{apa.p_text(r['pvalue.holm'])})" for r in supported.to_dict("records"))
        n = len(supported)
        text.append(f"Holm-adjusted pairwise tests of the {kind} paths ({m} comparisons, \u03b1 = "
                    f"{apa.bounded(alpha)}{where}) supported {n} ordering{'s' if n != 1 else ''}: {claims}. "
                    f"The other {m - n} difference{'s were' if m - n != 1 else ' was'} not significant; "
                    "the data do not order those pairs.")
    top = strongest_candidates(pairwise, alpha, drivers=drivers)
    if len(top) == 1:
        text.append(f"{top[0]} was the only driver that no other driver significantly exceeded.")
    elif len(top) < len(drivers):
        text.append(f"The tests cannot single out the strongest driver: none of {', '.join(top)} was "
                    "significantly weaker than another driver.")
    if comparison.ranks is not None:
        text.append(f"Rank intervals and the probability of ranking first come from "
                    f"{comparison.rank_source}.")
    if comparison.dominance is not None and comparison.relative_weights is not None:
        r2 = float(comparison.dominance.general.sum())
        text.append(f"General dominance weights and relative weights each sum to R\u00b2 = {apa.bounded(r2)} "
                    f"of {outcome}; they describe shares of explained variance and are not tests.")
    return " ".join(text)


def constraint_phrase(label: str) -> str:
    """A released equality constraint in words: ``PEER2~1`` -> "the intercept of PEER2"."""
    if "=~" in label:
        factor, item = label.split("=~", 1)
        return f"the loading of {item} on {factor}"
    if "~~" in label:
        return f"the residual variance of {label.split('~~', 1)[0]}"
    if label.endswith("~1"):
        return f"the intercept of {label[:-2]}"
    return label


def invariance_paragraph(table: Table) -> str:
    """The decision of each step of the invariance sequence per grouping column, and the released
    (non-invariant) constraints by name."""
    parts, released, clean = [], [], []
    for group, rows in table.data.groupby("group", sort=False):
        steps = []
        for r in rows.to_dict("records"):
            decision = "(reference)" if r["decision"] == "reference" else r["decision"]
            steps.append(f"{r['model']} {decision}")
        parts.append(f"Across {group}: " + "; ".join(steps) + ".")
        freed = [f for f in str(rows["freed"].iloc[-1]).split(", ") if f]
        if freed:
            tests = []
            if "released.X2" in rows:
                adjusted = "Holm-adjusted " if "Holm adjustment" in table.note else ""
                tests = [f"\u03c7\u00b2(1) = {apa.num(x)}, {adjusted}{apa.p_text(p)}"
                         for x, p in zip(rows["released.X2"], rows["released.p.adj"], strict=True)
                         if not pd.isna(x)]
            stat = f" (largest univariate score test {'; '.join(tests)})" if len(tests) == len(freed) else ""
            released.append(" and ".join(constraint_phrase(f) for f in freed) + f" across {group}{stat}")
        else:
            clean.append(str(group))
    local = " and Holm-adjusted score tests of the constraints" if "Holm adjustment" in table.note else ""
    sample = ("by full-information ML on every analytic respondent" if "full-information ML" in table.note
              else "on complete cases")
    text = (f"Measurement invariance of the CFA was tested step by step {sample} (Chen, 2007, "
            f"criteria{local}; {table.label}). " + " ".join(parts))
    if released:
        text += (" The non-invariant parameter" + ("s" if len(released) > 1 else "") + " released: "
                 + "; ".join(released) + ".")
    if clean:
        text += " No constraint was released across " + " or ".join(clean) + "."
    return text


def warnings_paragraph(warnings: list[str]) -> str:
    """The estimation and data warnings in one sentence: how many distinct warnings there were and what
    kind; each is listed once, in full, in the supplement at the end of the paper (not repeated here).
    The small-sample notes of the survey.sem diagnostics (fewer than five cases per free parameter,
    Bentler & Chou 1987) are counted separately."""
    if not warnings:
        return "Estimation produced no warnings."
    distinct = list(dict.fromkeys(w.rstrip(".") for w in warnings))
    small = [w for w in distinct if "Small sample:" in w]
    other = len(distinct) - len(small)
    parts = []
    if other:
        parts.append(f"{other} distinct estimation or data warning{'s' if other != 1 else ''}")
    if small:
        parts.append(f"{len(small)} small-sample note{'s' if len(small) != 1 else ''} (fewer than five "
                     "cases per free parameter, so those estimates and fit measures may be unstable)")
    return ("The analysis produced " + " and ".join(parts) + "; each is listed once in the supplement "
            "(estimation and data warnings) at the end.")


def results_section(paper: Any) -> list[str]:
    """The Results section as a list of paragraphs."""
    tables = {t.key: t for t in paper.tables}
    results = paper.results
    paragraphs = [measurement_paragraph(tables["measurement"], tables["fit"], tables.get("discriminant"))]
    paragraphs.append(fit_sentence("structural model", *fit_row(tables["fit"], 1)))
    signs = {h.id: h.sign for h in results.hypotheses}
    for row in tables["hypotheses"].data.to_dict("records"):
        paragraphs.append(hypothesis_paragraph(pd.Series(row), results.instrument, signs[row["hypothesis"]],
                                               results.config.alpha))
    if "hypotheses_ordinal" in tables:
        from survey.report.ordinal_tables import ordinal_paragraph

        paragraphs.append(ordinal_paragraph(tables["hypotheses_ordinal"]))
    if "indirect" in tables:
        paragraphs.append(indirect_paragraph(tables["indirect"]))
    if "invariance" in tables:
        paragraphs.append(invariance_paragraph(tables["invariance"]))
    if "path_comparison" in tables and getattr(results, "comparison", None) is not None:
        paragraphs.append(comparison_paragraph(results.comparison, tables["path_comparison"].label))
    paragraphs.append(warnings_paragraph(paper.warnings))
    return paragraphs
