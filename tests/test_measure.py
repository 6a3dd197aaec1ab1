"""Parity of survey.measure with psych 2.2.9, lavaan 0.6-14 and semTools 0.5-6.

Reference values: tests/fixtures/measure/reference.json, written by make_reference.R from items.csv
(made by make_data.py: four factors, 7-point items, one reverse-keyed item per factor stored as
answered, about 5% missing completely at random). Tolerance 1e-3 everywhere; the measured
differences are far smaller (see the report of the measure stage). The CFAs behind omega, CR, AVE,
Fornell-Larcker and the method factor are fitted by ``survey.sem.fit``, the measure stage's caller.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.measure import (
    alpha_ci_feldt,
    cfa_syntax,
    common_method_factor,
    cronbach_alpha,
    describe,
    efa,
    harman_single_factor,
    htmt,
    item_analysis,
    latent_correlations,
    loading_matrix,
    mardia,
    marker_variable,
    measurement_model,
    reliability_report,
    residual_variances,
    reverse_key,
    scale_correlations,
    velicer_map,
)
from survey.sem import fit as sem_fit  # tests are not a stage: they supply the SEM stage's estimator

HERE = Path(__file__).parent / "fixtures" / "measure"
TOL = 1e-3
KEYS = {"A4": -1, "B4": -1, "C4": -1, "D4": -1}


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((HERE / "reference.json").read_text())


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(HERE / "items.csv")


@pytest.fixture(scope="module")
def factors(ref) -> dict[str, list[str]]:
    return measurement_model(ref["model"])


@pytest.fixture(scope="module")
def keyed(raw) -> pd.DataFrame:
    return reverse_key(raw, KEYS, (1, 7))


@pytest.fixture(scope="module")
def report(ref, raw):
    return reliability_report(ref["model"], raw, keys=KEYS, bounds=(1, 7), fit=sem_fit)


@pytest.fixture(scope="module")
def cfa_std_lv(keyed, factors):
    """The measurement model with lavaan's ``std.lv = TRUE`` identification, as in make_reference.R."""
    return sem_fit(cfa_syntax(factors, std_lv=True), keyed)


def _matrix(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(records).set_index("_row")


def _maxdiff(mine: pd.DataFrame, theirs: pd.DataFrame) -> float:
    return float(np.max(np.abs(mine.to_numpy() - theirs.loc[mine.index, mine.columns].to_numpy())))


def test_alpha_matches_psych(ref, raw):
    for f, a in ref["alpha"].items():
        items = list(a["r_drop"])
        res = item_analysis(raw[items], keys=KEYS)
        t = res.total
        assert t["alpha"] == pytest.approx(a["raw_alpha"], abs=TOL)
        assert t["std.alpha"] == pytest.approx(a["std_alpha"], abs=TOL)
        assert t["average_r"] == pytest.approx(a["average_r"], abs=TOL)
        assert t["alpha.ci.lower"] == pytest.approx(a["feldt_lower"], abs=TOL)
        assert t["alpha.ci.upper"] == pytest.approx(a["feldt_upper"], abs=TOL)
        assert t["mean"] == pytest.approx(a["mean"], abs=TOL)  # psych's min+max flip of the total
        assert t["sd"] == pytest.approx(a["sd"], abs=TOL)
        for i in items:
            assert res.items.at[i, "r.drop"] == pytest.approx(a["r_drop"][i], abs=TOL), (f, i)
            assert res.items.at[i, "alpha.if.deleted"] == pytest.approx(a["alpha_drop"][i], abs=TOL), (f, i)
            assert res.items.at[i, "n"] == a["item_n"][i]


def test_alpha_ignores_keying_direction_but_not_keys(ref, raw):
    items = list(ref["alpha"]["A"]["r_drop"])
    unkeyed = cronbach_alpha(raw[items])
    assert unkeyed < ref["alpha"]["A"]["raw_alpha"] - 0.1
    assert cronbach_alpha(reverse_key(raw[items], KEYS, (1, 7))) == pytest.approx(
        ref["alpha"]["A"]["raw_alpha"], abs=1e-12
    )


def test_feldt_interval_formula(ref):
    a = ref["alpha"]["B"]
    lo, hi = alpha_ci_feldt(a["raw_alpha"], 600, 4)
    assert (lo, hi) == pytest.approx((a["feldt_lower"], a["feldt_upper"]), abs=1e-10)


def test_cfa_matches_lavaan(ref, factors, cfa_std_lv):
    cfa = cfa_std_lv
    assert cfa.converged and cfa.nobs == ref["cfa"]["nobs"]
    fm = cfa.fit_measures()
    for k, v in ref["cfa"]["fit"].items():
        assert fm[k] == pytest.approx(v, abs=TOL), k
    est = cfa.estimates()
    loadings, std = loading_matrix(est, factors), loading_matrix(est, factors, "std.all")
    for f, d in ref["cfa"]["loadings"].items():
        for i, v in d.items():
            assert loadings.at[i, f] == pytest.approx(v, abs=TOL)
            assert std.at[i, f] == pytest.approx(ref["cfa"]["std_loadings"][f][i], abs=TOL)
    theta = residual_variances(est, list(ref["cfa"]["theta"]))
    for i, v in ref["cfa"]["theta"].items():
        assert theta[i] == pytest.approx(v, abs=TOL)
    assert _maxdiff(latent_correlations(est, list(factors)), _matrix(ref["cfa"]["cor_lv"])) < TOL


def test_omega_cr_ave_match_semtools(ref, report):
    for key in ("omega", "cr", "ave"):
        for f, v in ref[key].items():
            assert report.factors.at[f, key] == pytest.approx(v, abs=TOL), (key, f)


def test_omega_from_external_estimates_marker_identified(ref, raw, factors, cfa_std_lv):
    """The same solution rescaled to marker identification (psi free) gives the same omega, cr and ave."""
    est = cfa_std_lv.estimates()
    std_lv = reliability_report(ref["model"], raw, keys=KEYS, bounds=(1, 7), estimates=est)
    est = est.copy()
    loadings = loading_matrix(est, factors)
    for f, items in factors.items():
        scale = loadings.at[items[0], f]
        sel = (est["op"] == "=~") & (est["lhs"] == f)
        est.loc[sel, "est"] = est.loc[sel, "est"] / scale
        var = (est["op"] == "~~") & (est["lhs"] == f) & (est["rhs"] == f)
        est.loc[var, "est"] = scale**2
    other = reliability_report(ref["model"], raw, keys=KEYS, bounds=(1, 7), estimates=est)
    for key in ("omega", "cr", "ave", "alpha"):
        assert np.allclose(other.factors[key], std_lv.factors[key], atol=1e-10), key


def test_htmt_and_htmt2_match_semtools(ref, raw, report, factors):
    assert _maxdiff(report.htmt, _matrix(ref["htmt"])) < TOL
    assert _maxdiff(report.htmt2, _matrix(ref["htmt2"])) < TOL
    # absolute correlations: keying does not change HTMT
    assert _maxdiff(htmt(factors, raw), _matrix(ref["htmt_raw"])) < TOL


def test_fornell_larcker_matches_lavaan(ref, report):
    assert _maxdiff(report.fornell_larcker, _matrix(ref["fornell_larcker"])) < TOL
    flags = report.flags.set_index(["factor1", "factor2"])
    assert bool(flags.loc[("A", "B"), "fornell_larcker_violated"])  # |r| = .744 > sqrt(AVE_A) = .684
    assert not bool(flags.loc[("C", "D"), "fornell_larcker_violated"])


def test_report_json_contract(report):
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d["factors"]) == {"A", "B", "C", "D"}
    for f in d["factors"].values():
        assert {"n_items", "alpha", "alpha.ci.lower", "alpha.ci.upper", "omega", "cr", "ave"} <= set(f)
    assert d["factors"]["D"]["n_items"] == 5
    assert d["htmt"]["A"]["B"] == pytest.approx(d["htmt"]["B"]["A"])
    assert d["fornell_larcker"]["C"]["C"] == pytest.approx(np.sqrt(d["factors"]["C"]["ave"]))
    assert isinstance(d["warnings"], list) and any("AVE" in w for w in d["warnings"])
    assert "alpha" in report.summary() and "<table" in report._repr_html_()


def test_describe_matches_psych(ref, raw):
    d = describe(raw)
    for col, r in ref["describe"].items():
        for k in ("n", "mean", "sd", "skew", "kurtosis", "se", "median", "min", "max"):
            assert d.at[col, k] == pytest.approx(r[k], abs=TOL), (col, k)


def test_scale_scores_describe_and_correlations(ref, keyed, factors):
    scores = pd.DataFrame({f: keyed[items].mean(axis=1) for f, items in factors.items()})
    d = describe(scores)
    for f, r in ref["scale_describe"].items():
        for k in ("n", "mean", "sd", "skew", "kurtosis"):
            assert d.at[f, k] == pytest.approx(r[k], abs=TOL), (f, k)
    cors = scale_correlations(scores).set_index(["var1", "var2"])
    for pair, r in ref["scale_cor"].items():
        a, b = pair.split("~")
        row = cors.loc[(a, b)]
        assert row["r"] == pytest.approx(r["r"], abs=TOL)
        assert row["pvalue"] == pytest.approx(r["p"], abs=TOL)
        assert row["ci.lower"] == pytest.approx(r["lower"], abs=TOL)
        assert row["ci.upper"] == pytest.approx(r["upper"], abs=TOL)


def test_mardia_matches_psych(ref, keyed, factors):
    items = [i for v in factors.values() for i in v]
    m = mardia(keyed[items]).values
    r = ref["mardia"]
    assert m["n"] == r["n"] and m["p"] == r["p"]
    for mine, theirs in (
        ("b1p", "b1p"),
        ("b2p", "b2p"),
        ("p.skew", "p_skew"),
        ("p.small", "p_small"),
        ("kurtosis", "kurtosis"),
        ("p.kurt", "p_kurt"),
    ):
        assert m[mine] == pytest.approx(r[theirs], abs=TOL), mine
    # the chi-square statistics are large numbers: relative tolerance
    assert m["skew"] == pytest.approx(r["skew"], rel=1e-6)
    assert m["small.skew"] == pytest.approx(r["small_skew"], rel=1e-6)


def test_map_harman_and_efa_match_psych(ref, keyed, factors):
    items = [i for v in factors.values() for i in v]
    assert np.max(np.abs(velicer_map(keyed[items]).to_numpy() - np.array(ref["map"]))) < TOL
    h = harman_single_factor(keyed[items])
    assert h.share == pytest.approx(ref["harman_share"], abs=TOL)
    assert not h.flagged and "insensitive" in h.summary()
    for method in ("minres", "ml"):
        res = efa(keyed[items], 4, method=method, rotation="oblimin")
        theirs = pd.DataFrame(ref["efa"][method]["loadings"]).T  # psych factor order
        match = {}
        for j in theirs.columns:
            corr = {c: np.corrcoef(res.loadings[c], theirs[j])[0, 1] for c in res.loadings.columns}
            c = max(corr, key=lambda k: abs(corr[k]))
            match[j] = (c, np.sign(corr[c]))
        assert len({c for c, _ in match.values()}) == 4
        for j, (c, s) in match.items():
            assert np.max(np.abs(s * res.loadings[c].to_numpy() - theirs.loc[items, j].to_numpy())) < TOL
        h2 = pd.Series(ref["efa"][method]["communality"])
        assert np.max(np.abs(res.communalities[items].to_numpy() - h2[items].to_numpy())) < TOL
        phi = np.array(ref["efa"][method]["phi"])
        order = [match[j][0] for j in theirs.columns]
        signs = np.array([match[j][1] for j in theirs.columns])
        assert np.max(np.abs(res.phi.loc[order, order].to_numpy() * np.outer(signs, signs) - phi)) < TOL


def test_method_factor_matches_lavaan(ref, keyed, factors):
    res = common_method_factor(factors, keyed, fit=sem_fit)
    assert res.method.converged
    fm = res.method.fit_measures()
    for k, v in ref["ulmc"]["fit"].items():
        assert fm[k] == pytest.approx(v, abs=TOL), k
    for i, v in ref["ulmc"]["method_std_loadings"].items():
        assert res.loadings.at[i, "method.std"] == pytest.approx(v, abs=TOL), i
    assert res.comparison["method.share"] == pytest.approx(ref["ulmc"]["method_share"], abs=TOL)
    assert res.comparison["delta.df"] == 17
    assert res.comparison["delta.chisq"] == pytest.approx(ref["cfa"]["fit"]["chisq"] - fm["chisq"], abs=TOL)


def test_marker_variable_matches_formula(ref, raw, keyed, factors):
    scores = pd.DataFrame({f: keyed[items].mean(axis=1) for f, items in factors.items()})
    scores["MARK"] = raw["MARK"]
    res = marker_variable(scores, "MARK")
    assert res.r_m == pytest.approx(ref["marker"]["r_m"], abs=TOL)
    table = res.table.set_index(["var1", "var2"])
    for pair, r in ref["marker"]["adjusted"].items():
        row = table.loc[tuple(pair.split("~"))]
        assert row["n"] == r["n"]
        for mine, theirs in (("r", "r"), ("r.adjusted", "r_adj"), ("t", "t"), ("pvalue", "p")):
            assert row[mine] == pytest.approx(r[theirs], abs=TOL), (pair, mine)


def test_fitted_result_or_std_lv_estimates_give_the_same_reliability(ref, raw, keyed, report, cfa_std_lv):
    """``std.lv`` estimates (a fitted result handed in as ``estimates``) and the report's own
    marker-identified ``survey.sem.fit``: same omega, cr, ave, Fornell-Larcker matrix and fit measures."""
    other = reliability_report(ref["model"], keyed, estimates=cfa_std_lv)
    for key in ("omega", "cr", "ave"):
        assert np.max(np.abs(other.factors[key] - report.factors[key])) < 1e-6, key
    assert _maxdiff(other.fornell_larcker, report.fornell_larcker) < 1e-6
    assert other.nobs == report.nobs == ref["cfa"]["nobs"]
    for k, v in ref["cfa"]["fit"].items():
        assert report.fit_measures[k] == pytest.approx(v, abs=TOL), k
        assert other.fit_measures[k] == pytest.approx(v, abs=TOL), k
    est = cfa_std_lv.estimates()
    table_only = reliability_report(ref["model"], raw, keys=KEYS, bounds=(1, 7), estimates=est)
    assert table_only.fit_measures == {} and table_only.nobs == ref["cfa"]["nobs"]
    assert np.allclose(table_only.factors["omega"], other.factors["omega"], atol=1e-12)
