"""Which driver matters most, end to end: ``SEMResult.vcov_std``, ``SEMResult.compare_paths``
(survey.sem.compare_fitted), ``survey fit --compare-paths`` and the paper's table, figure and text.

References
----------
* tests/fixtures/compare/make_vcov_std.R -> vcov_std.json: lavaan 0.6.14 ``lavInspect(fit, "vcov.std.all")``
  and ``"vcov.std.lv"`` for ML, MLR and ML with a residual covariance on tests/fixtures/compare/data.csv.
* tests/fixtures/compare/make_reference.R -> reference.json: ``lavTestWald`` (omnibus), standardized
  pairwise differences as lavaan defined parameters (``standardizedSolution``) with ``p.adjust(, "holm")``,
  ``lavTestLRT`` of the equal-paths model (ML, and MLR with ``method = "satorra.bentler.2001"``), ``r2``.
* Recovery: survey.simulate.simulate_clean with the population paths EMO .30 > SHI .25 > SKL .18 >
  AUT .15 > PEER .10 > CON .08 (truth["population"]["paths_std"]).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.sem import fit
from survey.sem.compare import holm
from survey.sem.compare_fitted import MC_SEED, compare_paths_fitted

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
REF = json.loads((FIXTURES / "reference.json").read_text())
VSTD = json.loads((FIXTURES / "vcov_std.json").read_text())
DRIVERS = ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]
POP_ORDER = ["EMO", "SHI", "SKL", "AUT", "PEER", "CON"]
TOL = 1e-3  # DESIGN.md: numbers match lavaan 0.6 to 1e-3 (the optimizers stop at different points)


def _matrix(names: list[str], values: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(np.array(values, dtype=float), index=names, columns=names)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "data.csv")


@pytest.fixture(scope="module")
def ml(data):
    return fit(REF["model"], data)


@pytest.fixture(scope="module")
def ml_comparison(ml, data):
    return ml.compare_paths("FOL", data=data)


# ------------------------------------------------------------------------------------------ vcov_std


@pytest.mark.parametrize("case", [f["name"] for f in VSTD["fits"]])
def test_vcov_std_matches_lavaan(case, data):
    ref = next(f for f in VSTD["fits"] if f["name"] == case)
    res = fit(ref["model"], data, estimator=ref["estimator"])
    for kind, key in (("std.all", "vcov_std_all"), ("std.lv", "vcov_std_lv")):
        got = res.vcov_std(kind)
        assert list(got.index) == list(res.vcov().index)
        assert sorted(got.index) == sorted(ref["names"])
        want = _matrix(ref["names"], ref[key])
        assert np.max(np.abs(got.loc[ref["names"], ref["names"]].to_numpy() - want.to_numpy())) < 1e-7
    se = np.sqrt(np.diag(res.vcov_std().loc[[f"b_{d}" for d in DRIVERS]] [[f"b_{d}" for d in DRIVERS]]))
    assert np.max(np.abs(se - np.array([p["se"] for p in ref["std_paths"]]))) < 1e-7


def test_vcov_std_equals_standardized_solution_se(ml):
    sol = ml.standardized_solution()
    paths = sol[sol["op"] == "~"].set_index("label")["se"]
    v = ml.vcov_std()
    assert np.allclose(np.sqrt(np.diag(v.loc[paths.index, paths.index])), paths.to_numpy(), atol=1e-10)


# ------------------------------------------------------------------------------------------ the comparison


def test_compare_paths_matches_lavaan(ml_comparison, ml):
    c = ml_comparison
    omni = next(w for w in REF["wald"] if w["df"] == 5)
    assert abs(c.omnibus.stat - omni["stat"]) < TOL and abs(c.omnibus.pvalue - omni["pvalue"]) < TOL
    want = pd.DataFrame(REF["pairwise"])
    unstd = c.pairwise[["diff", "se", "z", "pvalue", "pvalue.holm"]].to_numpy()
    assert np.max(np.abs(unstd - want[["diff", "se", "z", "pvalue", "pvalue.holm"]].to_numpy())) < TOL
    std = c.pairwise_std[["diff", "se", "z", "pvalue", "pvalue.holm"]].to_numpy()
    cols = ["std.diff", "std.se", "std.z", "std.pvalue", "std.pvalue.holm"]
    assert np.max(np.abs(std - want[cols].to_numpy())) < TOL
    sig = want[want["std.pvalue.holm"] < 0.05]
    pairs = zip(sig["a"].str[2:], sig["b"].str[2:], sig["std.diff"], strict=True)
    lavaan_orderings = sorted(f"{a} > {b}" if d > 0 else f"{b} > {a}" for a, b, d in pairs)
    assert sorted(c.supported["statement"]) == lavaan_orderings
    assert abs(c.lrt.chisq_diff - REF["lrt_ml"]["chisq_diff"]) < 1e-4 and c.lrt.df_diff == 5
    assert abs(c.lrt.pvalue - REF["lrt_ml"]["pvalue"]) < 1e-5 and c.lrt.method == "standard"
    std_paths = pd.DataFrame(REF["std_paths"]).set_index("label")
    assert np.max(np.abs(c.std_paths["est.std"].to_numpy() - std_paths["est.std"].to_numpy())) < TOL
    assert np.max(np.abs(c.std_paths["se"].to_numpy() - std_paths["se"].to_numpy())) < TOL


def test_weights_sum_to_sem_r2(ml_comparison, ml):
    r2 = ml.r2()["FOL"]
    assert abs(r2 - REF["r2_FOL"]) < 1e-5
    assert abs(ml_comparison.dominance.general.sum() - r2) < 1e-10
    assert abs(ml_comparison.relative_weights.sum() - r2) < 1e-10
    assert ml_comparison.r2 == r2


def test_lrt_mlr_is_satorra_bentler_scaled(data):
    res = fit(REF["model"], data, estimator="MLR")
    c = res.compare_paths("FOL", data=data)
    assert c.lrt.method == "satorra.bentler.2001"
    assert abs(c.lrt.chisq_diff - REF["lrt_mlr"]["chisq_diff"]) < 1e-4
    assert abs(c.lrt.pvalue - REF["lrt_mlr"]["pvalue"]) < 1e-5


def test_monte_carlo_rank_intervals_are_reproducible(ml):
    a = ml.compare_paths("FOL")
    b = compare_paths_fitted(ml, "FOL")
    assert a.rank_method == "monte_carlo" and a.seed == MC_SEED and a.n_replicates == 10_000
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    assert a.lrt is None
    c = ml.compare_paths("FOL", seed=5, n_draws=500)
    assert c.seed == 5 and c.n_replicates == 500
    ranks = a.ranks
    assert (ranks["rank.lower"] <= ranks["rank"]).all() and (ranks["rank"] <= ranks["rank.upper"]).all()
    assert abs(ranks["p.strongest"].sum() - 1.0) < 1e-12


def test_bootstrap_replicates_feed_the_ranks(data):
    res = fit(REF["model"], data, se="bootstrap", bootstrap=40, seed=3, workers=1)
    c = res.compare_paths("FOL")
    assert c.rank_method == "bootstrap" and c.n_replicates == len(res.bootstrap.ok)
    reps = res.bootstrap.ok[[f"std.all:b_{d}" for d in DRIVERS]]
    assert np.allclose(c.std_paths["se"].to_numpy(), reps.std(ddof=1).to_numpy())
    assert c.to_dict()["rank_method"]["method"] == "bootstrap"


def test_errors(ml):
    from survey.errors import SurveyInputError

    with pytest.raises(SurveyInputError):
        ml.compare_paths("NOPE")
    with pytest.raises(SurveyInputError):
        ml.compare_paths("FOL", ["SHI", "XYZ"])


# ------------------------------------------------------------------------------------------ recovery


def _simulated(n: int, seed: int):
    from survey.instrument import lavaan_model, load_instrument
    from survey.measure import instrument_keys, reverse_key
    from survey.simulate import simulate_clean

    inst = load_instrument("follow-drivers@1.1.0")
    raw, truth = simulate_clean(n, seed, inst)
    keys, bounds = instrument_keys(inst)
    res = fit(lavaan_model(inst), reverse_key(raw, keys, bounds))
    return res, truth["population"]["paths_std"]


def test_n20000_recovers_the_population_order():
    """N = 20,000 (seed 7): the estimated standardized paths rank exactly as the population's
    (.30 .25 .18 .15 .10 .08) and lie within .03 of the pseudo-true paths; every
    Holm-supported ordering agrees with the population order; EMO is the only driver no other driver
    significantly exceeds, with rank interval [1, 1]; the weights sum to the SEM's R^2."""
    res, pop = _simulated(20_000, 7)
    assert sorted(pop, key=pop.get, reverse=True) == POP_ORDER
    c = res.compare_paths("FOL")
    est = c.std_paths["est.std"]
    assert list(est.sort_values(ascending=False).index) == POP_ORDER
    # about 3 SE at N = 20,000, around the pseudo-true paths: the demo population's planted misfit
    # (method factor, cross-loadings, a correlated residual) moves ML away from the generating paths
    from survey.simulate import DEFAULT_POPULATION, pseudo_true

    pt = pseudo_true(list(DEFAULT_POPULATION.loadings))
    target = pt[(pt["lhs"] == "FOL") & (pt["op"] == "~")].set_index("rhs")["std.all"]
    assert np.max(np.abs(est - target[est.index])) < 0.03
    for rec in c.supported.to_dict("records"):
        assert pop[rec["stronger"]] > pop[rec["weaker"]], rec["statement"]
    assert {s for s in c.supported["statement"] if s.startswith("EMO >")} == {
        f"EMO > {d}" for d in POP_ORDER[1:]}
    from survey.sem.ranks import strongest_candidates

    assert strongest_candidates(c.pairwise_std, drivers=DRIVERS) == ["EMO"]
    assert list(c.ranks.loc["EMO", ["rank.lower", "rank.upper"]]) == [1, 1]
    assert abs(c.dominance.general.sum() - res.r2()["FOL"]) < 1e-10


def _claims(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r"\b([A-Z]{2,})\s*>\s*([A-Z]{2,})\b", text))


def test_n500_text_claims_only_supported_orderings():
    """N = 500, seeds 1-10. Asserted exactly, per replication: the orderings the results paragraph states
    (every "A > B") are exactly the pairs whose Holm-adjusted p (recomputed here from the standardized
    pairwise z tests) is below .05, directed by the sign of the estimated difference; no pair is claimed
    both ways and the paragraph states no other ordering (no "<" between drivers, no "strongest driver
    was"). Against the population order: a Holm-significant reversal is a directional error the procedure
    allows with small probability, so the test asserts at most one of the ten replications holds one
    (observed: seed 4, "SKL > SHI"; all other claims agree with the population order)."""
    from survey.report.text import comparison_paragraph

    replications_with_reversal = []
    n_claims = 0
    for seed in range(1, 11):
        res, pop = _simulated(500, seed)
        c = res.compare_paths("FOL", n_draws=500)  # the rank draws do not enter the claims
        text = comparison_paragraph(c)
        claims = _claims(text)
        pw = c.pairwise_std
        p_holm = holm(pw["pvalue"].to_numpy())
        assert np.allclose(p_holm, pw["pvalue.holm"].to_numpy())
        expected = {(a, b) if d > 0 else (b, a)
                    for a, b, d, p in zip(pw["a"], pw["b"], pw["diff"], p_holm, strict=True) if p < 0.05}
        assert claims == expected, (seed, text)
        assert not any((b, a) in claims for a, b in claims)
        assert not re.search(r"\b[A-Z]{2,}\s*<\s*[A-Z]{2,}\b", text)
        assert "strongest driver was" not in text and "most important" not in text
        n_claims += len(claims)
        if any(pop[a] < pop[b] for a, b in claims):
            replications_with_reversal.append(seed)
    assert n_claims >= 10
    assert len(replications_with_reversal) <= 1, replications_with_reversal


def test_paragraph_without_supported_orderings():
    from survey.report.text import comparison_paragraph

    res, _ = _simulated(150, 2)  # N = 150: no Holm-adjusted difference reaches .05
    c = res.compare_paths("FOL", n_draws=500)
    assert c.supported.empty and (c.pairwise_std["pvalue.holm"] >= 0.05).all()
    text = comparison_paragraph(c)
    assert "support no ordering" in text and not _claims(text)
    assert "cannot single out the strongest driver" not in text  # every driver is a candidate: said once


# ------------------------------------------------------------------------------------------ the CLI


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_cli_json_contract(tmp_path, capsys, ml_comparison, ml):
    model = tmp_path / "drivers.lav"
    model.write_text(REF["model"])
    code, out, _ = run(["fit", str(model), str(FIXTURES / "data.csv"), "--compare-paths", "FOL", "--json"],
                       capsys)
    assert code == 0
    obj = json.loads(out)
    assert list(obj)[:7] == ["estimator", "converged", "nobs", "warnings", "fit_measures", "estimates", "r2"]
    block = obj["path_comparison"]
    for key in ("omnibus_wald", "pairwise", "dominance", "relative_weights", "rank_interval"):
        assert key in block
    assert set(block["omnibus_wald"]) == {"stat", "df", "pvalue"}
    omni = next(w for w in REF["wald"] if w["df"] == 5)
    assert block["omnibus_wald"]["df"] == 5 and abs(block["omnibus_wald"]["stat"] - omni["stat"]) < TOL
    assert len(block["pairwise"]) == 15
    for rec in block["pairwise"]:
        assert list(rec) == ["a", "b", "diff", "se", "z", "pvalue", "pvalue.holm"]
        assert rec["a"] in DRIVERS and rec["b"] in DRIVERS
    want = pd.DataFrame(REF["pairwise"])
    assert np.max(np.abs(np.array([r["pvalue.holm"] for r in block["pairwise"]]) - want["pvalue.holm"])) < TOL
    assert list(block["dominance"]) == DRIVERS and list(block["relative_weights"]) == DRIVERS
    assert abs(sum(block["dominance"].values()) - obj["r2"]["FOL"]) < 1e-8
    assert abs(sum(block["relative_weights"].values()) - obj["r2"]["FOL"]) < 1e-8
    for lo_hi in block["rank_interval"].values():
        assert len(lo_hi) == 2 and all(isinstance(v, int) for v in lo_hi) and 1 <= lo_hi[0] <= lo_hi[1] <= 6
    assert block["rank_interval"] == ml_comparison.to_dict()["rank_interval"]
    assert block["rank_method"] == {"method": "monte_carlo", "replicates": 10000, "seed": MC_SEED,
                                    "level": 0.95}
    assert abs(block["lrt_equal_paths"]["chisq.diff"] - REF["lrt_ml"]["chisq_diff"]) < 1e-4
    assert block["supported_orderings"] == list(ml_comparison.supported["statement"])


def test_cli_readable_section_and_errors(tmp_path, capsys):
    model = tmp_path / "drivers.lav"
    model.write_text(REF["model"])
    argv = ["fit", str(model), str(FIXTURES / "data.csv"), "--compare-paths", "FOL", "--seed", "9"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "Which driver matters most: the paths of FOL" in out
    assert "Monte Carlo draws" in out and "(seed 9)" in out
    assert "likelihood-ratio test (standard)" in out and "Orderings supported at alpha = 0.05 (Holm)" in out
    code, out, err = run(["fit", str(model), str(FIXTURES / "data.csv"), "--compare-paths", "NOPE", "--json"],
                         capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "NOPE" in err


# ------------------------------------------------------------------------------------------ the paper


def test_paper_table_and_figure(ml_comparison):
    from survey.report import figures, tables

    table = tables.path_comparison_table(ml_comparison)
    data = table.data
    order = list(data["driver"].iloc[:-1])
    assert order == list(ml_comparison.std_paths["est.std"].sort_values(ascending=False).index)
    assert abs(data["dominance"].iloc[-1] - ml_comparison.r2) < 1e-10
    assert abs(data["relative_weight"].iloc[-1] - ml_comparison.r2) < 1e-10
    pw = ml_comparison.pairwise_std.set_index(["a", "b"])
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            key = (a, b) if (a, b) in pw.index else (b, a)
            sign = 1 if key == (a, b) else -1
            assert abs(data.loc[i, f"diff_{b}"] - sign * pw.loc[key, "diff"]) < 1e-12
            assert data.loc[i, f"pvalue.holm_{b}"] == pw.loc[key, "pvalue.holm"]
    assert "Holm" in table.note and "Monte Carlo" in table.note
    one = figures.render(figures.path_forest(ml_comparison.std_paths))
    two = figures.render(figures.path_forest(ml_comparison.std_paths))
    assert one == two and one[0][:8] == b"\x89PNG\r\n\x1a\n"
    # differences far below what a page shows (the last bits of a percentile under another BLAS thread
    # count) do not move a byte of the figure
    nudged = ml_comparison.std_paths.copy()
    for col in ("est.std", "ci.lower", "ci.upper"):
        nudged[col] = nudged[col] + 1e-7
    assert figures.render(figures.path_forest(nudged)) == one


def test_result_object_reports(ml_comparison):
    frame = ml_comparison.to_frame()
    assert list(frame.columns[:5]) == ["parameter", "est.std", "se", "ci.lower", "ci.upper"]
    assert list(frame.index) == DRIVERS
    html = ml_comparison._repr_html_()
    assert "Which driver matters most" in html and "<table" in html and "Likelihood-ratio" in html
    assert "Orderings supported at alpha = 0.05 (Holm)" in ml_comparison.summary()
    json.dumps(ml_comparison.to_dict(), allow_nan=False)


def test_cli_bootstrap_ranks(tmp_path, capsys):
    """With --se bootstrap the rank intervals come from the bootstrap replicates, said in the JSON."""
    model = tmp_path / "drivers.lav"
    model.write_text(REF["model"])
    argv = ["fit", str(model), str(FIXTURES / "data.csv"), "--se", "bootstrap", "--bootstrap", "30",
            "--seed", "2", "--compare-paths", "FOL", "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    block = json.loads(out)["path_comparison"]
    assert block["rank_method"]["method"] == "bootstrap" and block["rank_method"]["seed"] == 2
    assert 2 <= block["rank_method"]["replicates"] <= 30
    assert set(block["rank_interval"]) == set(DRIVERS)
