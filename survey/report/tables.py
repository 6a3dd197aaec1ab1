"""The paper's tables, each built from the result object of the stage that owns its numbers.

Builders only select, order, label and format: no statistic is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survey.report import apa, fitview
from survey.report.analysis import Hypothesis
from survey.report.table import Table

# Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure analysis.
# Structural Equation Modeling, 6(1), 1-55.
HU_BENTLER = {"cfi": (">=", 0.95), "tli": (">=", 0.95), "rmsea": ("<=", 0.06), "srmr": ("<=", 0.08)}


def _format(frame: pd.DataFrame, kinds: dict[str, str], headers: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame({headers.get(c, c): [apa.format_value(v, kinds.get(c, "text")) for v in frame[c]]
                        for c in frame.columns})
    return out


def _rows(estimates: pd.DataFrame, op: str) -> pd.DataFrame:
    frame = estimates[estimates["op"] == op]
    if "group" in frame.columns and frame["group"].nunique() > 1:
        frame = frame[frame["group"] == frame["group"].min()]
    return frame


def _std_column(estimates: pd.DataFrame) -> str:
    return "std.all" if "std.all" in estimates.columns else "std.lv"


# ------------------------------------------------------------------------------------ measurement model


def measurement_table(cfa: Any, instrument: Any, reliability: pd.DataFrame | None) -> Table:
    """Table: items, standardized loadings (CFA ``std.all``) and, per construct, alpha, omega, CR and AVE.

    ``reliability`` is the measure stage's per-factor frame (index = construct; columns ``alpha``,
    ``omega``, ``cr``, ``ave``) or ``None`` when that stage is absent.
    """
    est = _rows(cfa.estimates(), "=~")
    std = _std_column(est)
    rows = []
    seen: set[str] = set()
    for rec in est.to_dict("records"):
        construct, item = rec["lhs"], rec["rhs"]
        se = rec.get("se", np.nan)
        row: dict[str, Any] = {"construct": construct, "item": item,
                               "keyed": "reversed" if _keyed(instrument, item) == -1 else "",
                               "loading": rec[std], "se": se if se > 0 else np.nan}
        if reliability is not None:
            first = construct not in seen
            for col in ("alpha", "omega", "cr", "ave"):
                known = first and construct in reliability.index
                row[col] = reliability.loc[construct, col] if known else np.nan
        seen.add(construct)
        rows.append(row)
    data = pd.DataFrame(rows)
    if data["se"].isna().all():
        data = data.drop(columns="se")
    kinds = {"loading": "bounded", "se": "num", "alpha": "bounded", "omega": "bounded", "cr": "bounded",
             "ave": "bounded"}
    headers = {"construct": "Construct", "item": "Item", "keyed": "Keying", "loading": "\u03bb",
               "se": "SE", "alpha": "\u03b1", "omega": "\u03c9", "cr": "CR", "ave": "AVE"}
    display = _format(data, kinds, headers)
    display["Construct"] = [c if i == 0 or c != data["construct"].iloc[i - 1] else ""
                            for i, c in enumerate(data["construct"])]
    note = "\u03bb = completely standardized loading from the confirmatory factor analysis"
    if "se" in data.columns:
        note += ("; SE = standard error of the unstandardized loading (empty for the marker item, whose "
                 "loading is fixed to 1)")
    note += ". Reverse-keyed items were recoded before analysis."
    if reliability is not None:
        note += (" \u03b1 = Cronbach's alpha; \u03c9 = coefficient omega (semTools compRelSEM); "
                 "CR = composite reliability; AVE = average variance extracted (Fornell & Larcker, 1981).")
    title = "Measurement model: standardized loadings and reliability"
    return Table("measurement", title, data, display, note)


def _label(instrument: Any, item: str) -> str:
    """The instrument's short variable label of an item (its id when it has none)."""
    try:
        return instrument.item(item).label or item
    except (KeyError, LookupError, AttributeError, ValueError):
        return item


def _keyed(instrument: Any, item: str) -> int:
    try:
        return int(instrument.item(item).keyed)
    except (KeyError, StopIteration, AttributeError, ValueError):
        return 1


# ------------------------------------------------------------------------------------ discriminant validity


def discriminant_table(report: Any) -> Table:
    """Table: Fornell-Larcker criterion (sqrt AVE on the diagonal, latent correlations below it) and
    HTMT (Henseler, Ringle & Sarstedt, 2015) above the diagonal, from the measure stage's report."""
    fl, ht = report.fornell_larcker, report.htmt
    names = list(fl.index)
    data = pd.DataFrame(index=names, columns=names, dtype=float)
    for i, f in enumerate(names):
        for j, g in enumerate(names):
            data.loc[f, g] = fl.loc[f, g] if j <= i else ht.loc[f, g]
    display = pd.DataFrame({"Construct": names} | {
        g: [apa.bounded(data.loc[f, g]) for f in names] for g in names})
    data = data.reset_index(names="construct")
    note = ("Diagonal: square root of the AVE; below the diagonal: latent correlations (CFA); above the "
            "diagonal: heterotrait-monotrait ratios (HTMT). Discriminant validity: each latent correlation "
            "below both square roots of AVE (Fornell & Larcker, 1981) and HTMT below .85 (Henseler et al., "
            "2015).")
    return Table("discriminant", "Discriminant validity: Fornell-Larcker criterion and HTMT", data, display,
                 note)


# ------------------------------------------------------------------------------------ hypotheses


def hypothesis_rows(sem: Any, hypotheses: Sequence[Hypothesis], alpha: float = 0.05) -> pd.DataFrame:
    """One row per hypothesis from the SEM estimates (``op == "~"``): b, beta (``std.all``), SE, CI, p,
    and ``supported`` (p < alpha and the sign as hypothesised)."""
    est = _rows(sem.estimates(), "~")
    std = _std_column(est)
    rows = []
    for h in hypotheses:
        match = est[(est["lhs"] == h.outcome) & (est["rhs"] == h.predictor)]
        if match.empty:
            continue
        rec = match.iloc[0]
        sign_ok = rec["est"] > 0 if h.sign == "positive" else rec["est"] < 0
        rows.append({"hypothesis": h.id, "path": h.path, "b": rec["est"], "beta": rec[std], "se": rec["se"],
                     "ci.lower": rec["ci.lower"], "ci.upper": rec["ci.upper"], "pvalue": rec["pvalue"],
                     "supported": "yes" if (rec["pvalue"] < alpha and sign_ok) else "no"})
    return pd.DataFrame(rows, columns=["hypothesis", "path", "b", "se", "ci.lower", "ci.upper", "beta",
                                       "pvalue", "supported"])


def hypothesis_table(sem: Any, hypotheses: Sequence[Hypothesis], alpha: float = 0.05) -> Table:
    """Table: the hypothesised paths of the structural model."""
    data = hypothesis_rows(sem, hypotheses, alpha)
    display = pd.DataFrame({
        "H": data["hypothesis"], "Path": data["path"],
        "b": [apa.num(v) for v in data["b"]],
        "SE": [apa.num(v) for v in data["se"]],
        "95% CI": [apa.ci(lo, hi) for lo, hi in zip(data["ci.lower"], data["ci.upper"], strict=True)],
        "\u03b2": [apa.bounded(v) + apa.stars(p) for v, p in zip(data["beta"], data["pvalue"], strict=True)],
        "p": [apa.pvalue(v) for v in data["pvalue"]],
        "Supported": data["supported"].str.capitalize(),
    })
    note = ("b = unstandardized path coefficient; \u03b2 = completely standardized coefficient; "
            f"95% CI of b. A hypothesis is supported when p < {apa.bounded(alpha)} and the sign is as "
            "hypothesised. "
            "* p < .05. ** p < .01. *** p < .001.")
    return Table("hypotheses", "Structural model: hypothesis tests", data, display, note)


# ------------------------------------------------------------------------------------ model fit


FIT_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"]
CUTOFF_ROW = "Cutoff (Hu & Bentler, 1999)"


def fit_table(fits: dict[str, Any], estimator: str = "ML") -> Table:
    """Table: fit of each model beside the Hu and Bentler (1999) cutoffs.

    Under ML: lavaan's chisq, df, pvalue, cfi, tli, rmsea (90% CI), srmr. Under MLR/MLM
    (:mod:`survey.report.fitview`): the scaled chi-square (Yuan-Bentler / Satorra-Bentler) with its
    scaling factor and p value, and the robust CFI, TLI and RMSEA, to which the cutoffs are applied; the
    CSV keeps lavaan's names (``chisq.scaled``, ``cfi.robust`` ...) and the unscaled ``chisq``, ``pvalue``.
    """
    robust = fitview.is_robust(estimator)
    lavaan = fitview.names(estimator)
    columns = list(dict.fromkeys([*lavaan.values(), *(["chisq", "pvalue"] if robust else [])]))
    rows, reported = [], []
    for name, result in fits.items():
        measures = result.fit_measures()
        generic = fitview.reported(measures, estimator)
        reported.append(generic)
        row = {"model": name} | {c: measures.get(c, np.nan) for c in columns}
        if robust and "df.scaled" in row and fitview.missing(row["df.scaled"]):
            row["df.scaled"] = measures.get("df", np.nan)
        rows.append(row)
    cut = [{"model": CUTOFF_ROW} | {c: np.nan for c in columns}]
    gen = pd.DataFrame(reported + [{k: np.nan for k in lavaan}])
    data = pd.DataFrame(rows + cut, columns=["model", *columns])
    display = pd.DataFrame({
        "Model": data["model"],
        fitview.chisq_symbol(estimator): [apa.num(v) for v in gen["chisq"]],
        "df": [apa.integer(v) for v in gen["df"]],
    })
    if robust:
        display["c"] = [apa.num(v, 3) for v in gen["scaling"]]
    display["p"] = [apa.pvalue(v) for v in gen["pvalue"]]
    display["CFI"] = [apa.bounded(v, 3) for v in gen["cfi"]]
    display["TLI"] = [apa.bounded(v, 3) for v in gen["tli"]]
    display["RMSEA [90% CI]"] = [_rmsea(r) for r in gen.to_dict("records")]
    display["SRMR"] = [apa.bounded(v, 3) for v in gen["srmr"]]
    last = len(display) - 1
    for col, key in (("CFI", "cfi"), ("TLI", "tli"), ("RMSEA [90% CI]", "rmsea"), ("SRMR", "srmr")):
        op, value = HU_BENTLER[key]
        symbol = "\u2265" if op == ">=" else "\u2264"
        display.loc[last, col] = f"{symbol} {apa.bounded(value)}"
        data.loc[data["model"] == CUTOFF_ROW, lavaan[key]] = value
    note = ("CFI = comparative fit index; TLI = Tucker-Lewis index; RMSEA = root mean square error of "
            "approximation; SRMR = standardized root mean square residual.")
    if robust:
        test = fitview.correction(estimator)
        note += (f" Estimator {estimator.upper()}: {fitview.chisq_symbol(estimator)} = {test} scaled "
                 f"chi-square ({fitview.CITATIONS[estimator.upper()]}), c = its scaling factor "
                 "(unscaled \u03c7\u00b2 = c \u00d7 scaled); CFI, TLI and RMSEA are the robust versions "
                 "(lavaan's cfi.robust, tli.robust, rmsea.robust; Brosseau-Liard & Savalei, 2014; "
                 "Brosseau-Liard, Savalei & Li, 2012), and the cutoffs are applied to them.")
    note += " Empty cells: not available from the estimator used."
    meta = {"estimator": str(estimator).upper(), "test": fitview.correction(estimator),
            "reported": reported}
    return Table("fit", "Model fit", data, display, note, meta=meta)


def _rmsea(rec: dict[str, Any]) -> str:
    value = apa.bounded(rec["rmsea"], 3)
    interval = apa.ci(rec["rmsea.ci.lower"], rec["rmsea.ci.upper"], 3, bounded_values=True)
    return f"{value} {interval}".strip()


def meets_cutoff(key: str, value: float) -> bool:
    """True when a fit index meets its Hu and Bentler (1999) cutoff."""
    op, cut = HU_BENTLER[key]
    return bool(value >= cut) if op == ">=" else bool(value <= cut)


# ------------------------------------------------------------------------------------ indirect effects


def indirect_chain(results: Any) -> str:
    """The mediation chain of the model in words, ``driver \u2192 FOL \u2192 FOLLOWED30``, from the
    hypotheses (the focal outcome and the observed variables it predicts)."""
    outcome = results.outcome
    ends = [h.outcome for h in results.hypotheses if h.predictor == outcome]
    return f"driver \u2192 {outcome} \u2192 {', '.join(ends)}" if outcome and ends else ""


def indirect_table(sem: Any, method: str, chain: str = "") -> Table | None:
    """Table: the defined indirect effects (``op == ":="``) with their CIs; ``method`` names the CI and
    ``chain`` the mediation chain (:func:`indirect_chain`)."""
    est = sem.estimates()
    rows = est[est["op"] == ":="]
    if rows.empty:
        return None
    std = _std_column(est)
    data = pd.DataFrame({"effect": rows["lhs"].to_numpy(), "definition": rows["rhs"].to_numpy(),
                         "est": rows["est"].to_numpy(), "std": rows[std].to_numpy(),
                         "se": rows["se"].to_numpy(), "ci.lower": rows["ci.lower"].to_numpy(),
                         "ci.upper": rows["ci.upper"].to_numpy(), "pvalue": rows["pvalue"].to_numpy()})
    display = pd.DataFrame({
        "Effect": data["effect"], "Definition": data["definition"],
        "Estimate": [apa.num(v, 3) for v in data["est"]],
        "Standardized": [apa.bounded(v, 3) for v in data["std"]],
        "SE": [apa.num(v, 3) for v in data["se"]],
        "95% CI": [apa.ci(lo, hi, 3) for lo, hi in zip(data["ci.lower"], data["ci.upper"], strict=True)],
        "p": [apa.pvalue(v) for v in data["pvalue"]],
    })
    note = ("Indirect effects" + (f" {chain}" if chain else "") + ", the product of the paths' "
            f"coefficients (definitions in lavaan syntax). Confidence intervals: {method}.")
    return Table("indirect", "Indirect effects", data, display, note)



# ------------------------------------------------------------------------------------ sample


def sample_table(data: pd.DataFrame, instrument: Any, behaviour: pd.DataFrame | None = None) -> Table:
    """Table: sample characteristics, n (%) of each demographic category in the analytic sample (the
    instrument's short variable labels and category labels; "Not reported" = labelled missing or blank),
    the instrument version of each
    respondent, and M (SD) and median of the behaviour measures from ``survey.measure.describe``."""
    n = len(data)
    rows: list[dict[str, Any]] = []
    if "instrument_version" in data.columns:
        for version, count in data["instrument_version"].value_counts(sort=False).sort_index().items():
            rows.append({"characteristic": "Survey wave (instrument version)", "category": str(version),
                         "n": int(count), "percent": 100 * count / n})
    for item in instrument.items:
        if item.role != "demographic" or item.id not in data.columns:
            continue
        scale = instrument.scale_of(item.id)
        name = item.label or item.id
        values = pd.to_numeric(data[item.id], errors="coerce")
        for code, label in scale.points.items():
            count = int((values == code).sum())
            rows.append({"characteristic": name, "category": label, "n": count,
                         "percent": 100 * count / n})
        unknown = int((~values.isin(list(scale.points))).sum())
        rows.append({"characteristic": name, "category": "Not reported", "n": unknown,
                     "percent": 100 * unknown / n})
    data_out = pd.DataFrame(rows, columns=["characteristic", "category", "n", "percent"])
    display = pd.DataFrame({
        "Characteristic": [c if i == 0 or c != data_out["characteristic"].iloc[i - 1] else ""
                           for i, c in enumerate(data_out["characteristic"])],
        "Category": data_out["category"],
        "n": [apa.integer(v) for v in data_out["n"]],
        "%": [apa.percent(v) for v in data_out["percent"]],
    })
    if behaviour is not None and len(behaviour):
        extra = pd.DataFrame({"characteristic": [_label(instrument, i) for i in behaviour.index],
                              "category": "", "n": behaviour["n"].to_numpy(), "percent": np.nan,
                              "mean": behaviour["mean"].to_numpy(), "sd": behaviour["sd"].to_numpy(),
                              "median": behaviour["median"].to_numpy()})
        data_out = pd.concat([data_out, extra], ignore_index=True)
        display = pd.concat([display, pd.DataFrame({
            "Characteristic": extra["characteristic"],
            "Category": [f"M = {apa.num(m)}, SD = {apa.num(s)}, Mdn = {apa.num(d, 0)}"
                         for m, s, d in zip(extra["mean"], extra["sd"], extra["median"], strict=True)],
            "n": [apa.integer(v) for v in extra["n"]], "%": ""})], ignore_index=True)
    note = (f"N = {n} respondents in the analytic sample. Percentages of N. Not reported = "
            "\"Prefer not to say\" or left blank.")
    return Table("sample", "Sample characteristics", data_out, display, note)


# ------------------------------------------------------------------------------------ exclusion flow


def flow_table(ingest_result: Any) -> Table:
    """Table: the CONSORT-style exclusion flow of the ingest and quality stages (screens in order; each
    respondent counted at the first screen that excludes them)."""
    flow = ingest_result.flow
    data = flow[["step", "description", "n_excluded", "n_remaining"]].reset_index(drop=True)
    display = pd.DataFrame({"Step": data["description"],
                            "Excluded": [apa.integer(v) if s not in ("raw", "analytic") else ""
                                         for s, v in zip(data["step"], data["n_excluded"], strict=True)],
                            "Remaining": [apa.integer(v) for v in data["n_remaining"]]})
    reasons = ingest_result.report.get("excluded_by_reason", {})
    listed = "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(reasons.items()))
    note = "Screens in the order applied; a respondent is counted at the first screen that excludes them."
    if listed:
        note += f" Respondents failing each criterion (a respondent can fail several): {listed}."
    return Table("flow", "Exclusion flow", data, display, note)


# ------------------------------------------------------------------------------------ descriptives


def descriptives_table(describe: pd.DataFrame, correlations: pd.DataFrame) -> Table:
    """Table: M, SD of each scale score and their correlations (lower triangle, stars by p), from
    ``survey.measure.describe`` and ``survey.measure.scale_correlations``."""
    names = list(describe.index)
    lookup = {}
    for rec in correlations.to_dict("records"):
        lookup[(rec["var1"], rec["var2"])] = lookup[(rec["var2"], rec["var1"])] = (rec["r"], rec["pvalue"])
    data = pd.DataFrame({"variable": names, "n": describe["n"].to_numpy(),
                         "mean": describe["mean"].to_numpy(), "sd": describe["sd"].to_numpy()})
    display = pd.DataFrame({"Variable": [f"{i + 1}. {v}" for i, v in enumerate(names)],
                            "M": [apa.num(v) for v in data["mean"]], "SD": [apa.num(v) for v in data["sd"]]})
    for j, g in enumerate(names):
        column, raw = [], []
        for i, f in enumerate(names):
            if i > j:
                r, p = lookup[(f, g)]
                column.append(apa.bounded(r) + apa.stars(p))
                raw.append(r)
            else:
                column.append("\u2014" if i == j else "")
                raw.append(np.nan)
        display[str(j + 1)] = column
        data[f"r_{g}"] = raw
    note = ("Scale scores are item means after reverse keying (at least two thirds of the items answered); "
            "correlations pairwise. * p < .05. ** p < .01. *** p < .001.")
    return Table("descriptives", "Descriptive statistics and correlations of the scale scores", data, display,
                 note)


# ------------------------------------------------------------------------------------ invariance


def _released_tests(steps: list[Any]) -> tuple[list[float], list[float]]:
    """Per fitted model: the univariate score test (X2, adjusted p; raw p without adjustment) of the
    constraint released to obtain it, from the previous model's tests (NaN where nothing was released)."""
    x2, padj = [float("nan")] * len(steps), [float("nan")] * len(steps)
    for k, step in enumerate(steps[:-1]):
        tests = step.score_tests
        if step.final or tests is None or tests.empty:
            continue
        top = tests.iloc[0]
        x2[k + 1] = float(top["X2"])
        padj[k + 1] = float(top["p.adj"]) if "p.adj" in tests else float(top["p.value"])
    return x2, padj


def invariance_table(results: dict[str, Any], estimator: str = "ML") -> Table:
    """Table: the measurement invariance sequence (configural, metric, scalar, strict; partial steps when
    constraints were released) per grouping column, from ``survey.sem.invariance`` with its decisions
    (Chen, 2007, cutoffs on the change in CFI, RMSEA and SRMR; likelihood-ratio test; Holm-adjusted score
    tests when the sequence used them), the complete-case N and the released constraints."""
    frames = []
    for group, result in results.items():
        frame = result.to_frame()
        frame.insert(0, "group", group)
        steps = getattr(result, "steps", None)
        frame.insert(1, "n", steps[0].fit.nobs if steps else None)
        nan = [float("nan")] * len(frame)
        x2, padj = _released_tests(steps) if steps and len(steps) == len(frame) else (nan, nan)
        frame["released.X2"], frame["released.p.adj"] = x2, padj
        frame["freed"] = frame["freed"].map(lambda v: ", ".join(v) if isinstance(v, list | tuple) else str(v))
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True).drop(columns=["aic", "bic"], errors="ignore")
    first = [i == 0 or g != data["group"].iloc[i - 1] for i, g in enumerate(data["group"])]
    display = pd.DataFrame({
        "Group": [("" if not f else str(g) if pd.isna(n) else f"{g} (N = {int(n)})")
                  for g, n, f in zip(data["group"], data["n"], first, strict=True)],
        "Model": data["model"],
        "\u03c7\u00b2 (df)": [f"{apa.num(c)} ({apa.integer(d)})" for c, d in zip(data["chisq"], data["df"],
                                                                                strict=True)],
        "CFI": [apa.bounded(v, 3) for v in data["cfi"]],
        "RMSEA": [apa.bounded(v, 3) for v in data["rmsea"]],
        "SRMR": [apa.bounded(v, 3) for v in data["srmr"]],
        "\u0394CFI": [apa.bounded(v, 3) for v in data["delta.cfi"]],
        "\u0394RMSEA": [apa.bounded(v, 3) for v in data["delta.rmsea"]],
        "\u0394SRMR": [apa.bounded(v, 3) for v in data["delta.srmr"]],
        "\u0394\u03c7\u00b2 (\u0394df)": ["" if pd.isna(c) else f"{apa.num(c)} ({apa.integer(d)})"
                               for c, d in zip(data["lrt.chisq"], data["lrt.df"], strict=True)],
        "p": [apa.pvalue(v) for v in data["lrt.pvalue"]],
        "Decision": data["decision"],
    })
    some = next(iter(results.values()))
    alpha = apa.bounded(getattr(some, "alpha", 0.05), 2)
    chen = ("\u0394CFI \u2265 -.010 and (\u0394RMSEA \u2264 .015 or \u0394SRMR \u2264 .030; .010 for scalar "
            "and strict) (Chen, 2007)")
    lrt = f"the likelihood-ratio test has p \u2265 {alpha}"
    criterion = {"chen": f"when {chen}", "lrt": f"when {lrt}",
                 "both": f"when {chen} and {lrt}"}[getattr(some, "criterion", "chen")]
    adjust = getattr(some, "adjust", None)
    local = (f" and no univariate score test (lavaan lavTestScore) of the step's equality constraints is "
             f"significant at {alpha} after {adjust.capitalize()} adjustment "
             f"(localized non-invariance; \"not invariant (score test)\" = the change in fit passes but a "
             f"score test does not)" if adjust else "")
    classes = {"metric": "loadings (metric)", "scalar": "intercepts (scalar)",
               "strict": "residual variances (strict)"}
    added = ", ".join(v for k, v in classes.items() if data["model"].str.startswith(k).any())
    fits = [s.fit for r in results.values() for s in (getattr(r, "steps", None) or [])[:1]]
    fiml = any(getattr(f, "missing", "listwise") != "listwise" for f in fits)
    sample = ("Every analytic respondent per grouping column (multi-group full-information ML, lavaan "
              "missing = \"ml\")" if fiml else "Complete cases per grouping column (listwise deletion)")
    note = (f"{sample}, respondents with the grouping variable missing left out. Each model adds equality "
            f"constraints to the previous one: {added}. A step passes {criterion}{local}. Otherwise the "
            "constraint with the largest score test is released in all groups and the model refitted "
            "(partial invariance; Byrne, Shavelson & Muth\u00e9n, 1989); freed: X~1 = intercept of item X, "
            "F=~X = loading, X~~X = residual variance. "
            "\u0394\u03c7\u00b2 = likelihood-ratio test against the previous accepted model.")
    if fitview.is_robust(estimator):
        note += (f" Estimator {estimator.upper()}: \u03c7\u00b2 is the {fitview.correction(estimator)} "
                 "scaled chi-square, CFI and RMSEA the robust versions (lavaan's chisq.scaled, cfi.robust, "
                 "rmsea.robust), and \u0394\u03c7\u00b2 the scaled difference test (Satorra & Bentler, "
                 "2001).")
    return Table("invariance", "Measurement invariance", data, display, note)


# ------------------------------------------------------------------------------------ which driver matters


def comparison_order(comparison: Any) -> list[str]:
    """Drivers by their standardized path, largest first (ties keep the model order)."""
    std = comparison.std_paths["est.std"]
    return list(std.sort_values(ascending=False, kind="stable").index)


def comparison_ci_method(comparison: Any) -> str:
    return "bootstrap percentile" if comparison.rank_method == "bootstrap" else "delta method"


def path_comparison_table(comparison: Any) -> Table:
    """Table: which driver matters most, from ``SEMResult.compare_paths`` (survey.sem.compare_fitted).

    One row per driver, largest standardized path first: beta with its CI, the rank of the estimate with
    its rank interval and P(strongest), the general dominance weight and the relative weight; the upper
    triangle holds the pairwise differences of the standardized paths (row minus column) with their
    Holm-adjusted p values. A last row gives the sums of the weights, which equal R^2 of the outcome.
    """
    order = comparison_order(comparison)
    frame = comparison.to_frame().loc[order]
    pairs = {}
    for rec in comparison.pairwise_std.to_dict("records"):
        pairs[(rec["a"], rec["b"])] = (rec["diff"], rec["pvalue.holm"])
        pairs[(rec["b"], rec["a"])] = (-rec["diff"], rec["pvalue.holm"])
    columns = ["est.std", "se", "ci.lower", "ci.upper", "rank.lower", "rank.upper", "p.strongest",
               "dominance", "relative_weight"]
    data = pd.DataFrame({"driver": order} | {c: frame[c].to_numpy() for c in columns})
    data.insert(5, "rank", comparison.ranks.loc[order, "rank"].to_numpy())
    for j, other in enumerate(order[1:], start=1):
        data[f"diff_{other}"] = [pairs[(d, other)][0] if i < j else np.nan for i, d in enumerate(order)]
        data[f"pvalue.holm_{other}"] = [pairs[(d, other)][1] if i < j else np.nan
                                        for i, d in enumerate(order)]
    total = {"driver": f"Sum (R\u00b2 of {comparison.outcome})", "dominance": data["dominance"].sum(),
             "relative_weight": data["relative_weight"].sum()}
    data = pd.concat([data, pd.DataFrame([total])], ignore_index=True)
    display = pd.DataFrame({
        "Driver": [f"{i + 1}. {d}" for i, d in enumerate(order)] + [total["driver"]],
        "\u03b2 [95% CI]": [f"{apa.bounded(r['est.std'])} "
                           f"{apa.ci(r['ci.lower'], r['ci.upper'], bounded_values=True)}"
                           if not pd.isna(r["est.std"]) else "" for r in data.to_dict("records")],
        "Rank [95% RI]": [f"{apa.integer(r['rank'])} [{apa.integer(r['rank.lower'])}, "
                          f"{apa.integer(r['rank.upper'])}]" if not pd.isna(r["rank"]) else ""
                          for r in data.to_dict("records")],
        "P(strongest)": [apa.bounded(v) for v in data["p.strongest"]],
        "Dominance": [apa.bounded(v, 3) for v in data["dominance"]],
        "RW": [apa.bounded(v, 3) for v in data["relative_weight"]],
    })
    for j, other in enumerate(order):
        if j == 0:
            continue
        display[str(j + 1)] = [f"{apa.bounded(data.loc[i, f'diff_{other}'])} "
                               f"({apa.pvalue(data.loc[i, f'pvalue.holm_{other}'])})" if i < j else ""
                               for i in range(len(data))]
    level = f"{comparison.level:.0%}"
    omni = comparison.omnibus
    note = (f"\u03b2 = completely standardized path to {comparison.outcome}, {level} CI by the "
            f"{comparison_ci_method(comparison)}. Rank = rank of the estimate (1 = largest); RI = {level} "
            f"rank interval and P(strongest) = share of replicates in which the driver ranks first, from "
            f"{comparison.rank_source}. Columns 2-{len(order)}: difference of the standardized paths, row "
            f"minus column, with the Holm-adjusted p value of its z test in parentheses "
            f"({len(comparison.pairwise_std)} comparisons). Dominance = general dominance weight (Budescu, "
            "1993); RW = relative weight (Johnson, 2000); both from the model-implied latent correlations, "
            f"each summing to R\u00b2 of {comparison.outcome}"
            + ("" if comparison.r2 is None else f" = {apa.bounded(comparison.r2, 3)}")
            + f". Equal unstandardized paths (Wald test): \u03c7\u00b2({omni.df}) = {apa.num(omni.stat)}, "
            f"{apa.p_text(omni.pvalue)}")
    if comparison.lrt is not None:
        lrt = comparison.lrt
        kind = "scaled (Satorra & Bentler, 2001) " if lrt.method != "standard" else ""
        note += (f"; {kind}likelihood-ratio test of the equal-paths model: \u0394\u03c7\u00b2("
                 f"{apa.integer(lrt.df_diff)}) = {apa.num(lrt.chisq_diff)}, {apa.p_text(lrt.pvalue)}")
    note += "."
    return Table("path_comparison", "Which driver matters most: standardized paths, pairwise differences, "
                 "ranks and importance weights", data, display, note)
