"""`weights:` in paper.yaml (survey.report.weighting): a weight column or margins to rake the analytic
sample to; weighted columns in Tables 1 and 3 beside the unweighted ones; the weighted-vs-unweighted
hypothesis table (survey.sem.fit with sampling_weights, lavaan's sampling.weights)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.report import tables
from survey.report.config import parse_config
from survey.report.paper import build_paper, render_files
from survey.report.weighted_tables import weighted_hypothesis_table
from survey.report.weighting import Weighting, compute_weights
from survey.sem import fit

AGE = {1: 0.20, 2: 0.25, 3: 0.25, 4: 0.27, None: 0.03}  # None (YAML null): "Prefer not to say"/blank
GENDER = {1: 0.49, 2: 0.46, 3: 0.02, None: 0.03}
FAST = {"estimator": "ML", "missing": "listwise", "figures": False, "groups": []}


@pytest.fixture(scope="module")
def papers():
    plain = build_paper(parse_config(FAST))
    weighted = build_paper(parse_config({**FAST, "weights": {"margins": {"AGEBAND": AGE, "GENDER": GENDER}}}))
    return plain, weighted


def _weighted_sd(x: np.ndarray, w: np.ndarray, n_total: int) -> float:
    keep = ~np.isnan(x)
    m = np.sum(w[keep] * x[keep]) / w[keep].sum()
    return float(np.sqrt(n_total / (n_total - 1) * np.sum(w[keep] * (x[keep] - m) ** 2) / w[keep].sum()))


def test_table1_weighted_shares_reach_the_margins_and_keep_the_unweighted_columns(papers):
    plain, weighted = papers
    t1, t0 = weighted.table("sample"), plain.table("sample")
    pd.testing.assert_frame_equal(t1.data[t0.data.columns], t0.data)
    assert "% (weighted)" in t1.display.columns
    data = weighted.results.analytic.data
    w = weighted.results.weighting.weights.to_numpy()
    rows = t1.data.reset_index(drop=True)
    # raked columns: weighted shares are the margins; others (EDU): weighted mean of the indicator
    age_rows = rows.index[rows["characteristic"] == t0.data["characteristic"].iloc[2]][0]
    assert rows.loc[age_rows:age_rows + 4, "percent.weighted"].to_numpy() == pytest.approx(
        [100 * p for p in AGE.values()], abs=1e-6)
    edu = pd.to_numeric(data["EDU"], errors="coerce")
    edu_first = rows.index[rows["category"] == "Secondary school or less"][0]  # EDU code 1, not raked
    assert rows.loc[edu_first, "n"] == (edu == 1).sum()
    assert rows.loc[edu_first, "percent.weighted"] == pytest.approx(100 * np.average(edu == 1, weights=w))
    behaviour = rows.dropna(subset=["mean.weighted"])
    followed = pd.to_numeric(data["FOLLOWED30"], errors="coerce").to_numpy()
    keep = ~np.isnan(followed)
    assert behaviour["mean.weighted"].iloc[0] == pytest.approx(np.average(followed[keep], weights=w[keep]))
    assert behaviour["sd.weighted"].iloc[0] == pytest.approx(_weighted_sd(followed, w, len(w)))
    assert "Kish design effect" in t1.note and "AGEBAND, GENDER" in t1.note


def test_table3_weighted_means_sds_and_correlations(papers):
    plain, weighted = papers
    t3, t0 = weighted.table("descriptives"), plain.table("descriptives")
    pd.testing.assert_frame_equal(t3.data[t0.data.columns], t0.data)
    scores = weighted.results.scores
    w = weighted.results.weighting.weights.reindex(scores.index).to_numpy()
    for k, name in enumerate(t3.data["variable"]):
        x = scores[name].to_numpy(dtype=float)
        keep = ~np.isnan(x)
        assert t3.data["mean.weighted"].iloc[k] == pytest.approx(np.average(x[keep], weights=w[keep]))
        assert t3.data["sd.weighted"].iloc[k] == pytest.approx(_weighted_sd(x, w, len(w)))
    a, b = t3.data["variable"].iloc[0], t3.data["variable"].iloc[1]
    keep = scores[[a, b]].notna().all(axis=1).to_numpy()
    cov = np.cov(scores.loc[keep, [a, b]].to_numpy().T, aweights=w[keep])
    assert t3.data[f"rw_{b}"].iloc[0] == pytest.approx(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
    assert t3.display["2"].iloc[0] != "" and "*" not in t3.display["2"].iloc[0]  # weighted r above diagonal
    assert t3.display["1"].iloc[1] == t0.display["1"].iloc[1]  # unweighted r with stars below it


def test_weighted_hypothesis_table_follows_the_hypothesis_table(papers):
    """The engine fits with sampling weights, so `weights:` switches the side-by-side table on: right after
    the hypothesis table, robust (sandwich) SEs in the weighted columns, nothing omitted."""
    plain, weighted = papers
    keys = [t.key for t in weighted.tables]
    weighting = weighted.results.weighting
    assert weighting.sem_weighted is not None and weighting.omitted_reason is None
    assert keys[keys.index("hypotheses") + 1] == "hypotheses_weighted"
    assert not any(o.key == "hypotheses_weighted" for o in weighted.omitted)
    assert "hypotheses_weighted" not in [t.key for t in plain.tables]
    table = weighted.table("hypotheses_weighted").data
    unweighted = tables.hypothesis_rows(plain.results.sem, plain.results.hypotheses)
    assert table["b"].to_numpy() == pytest.approx(unweighted["b"].to_numpy(), abs=1e-10)
    assert not np.allclose(table["b"], table["b.weighted"], atol=1e-4)  # the weights change the paths
    assert weighting.sem_weighted.scaled_test is not None  # ML with weights: lavaan's MLR test and SEs
    assert "estimator ML runs as MLR with weights, as in lavaan" in weighted.table("hypotheses_weighted").note
    assert any("weighted SEM" in w.message for w in weighted.results.warnings)
    assert weighted.manifest["config"]["weights"]["margins"]["AGEBAND"]


def test_an_engine_that_names_but_refuses_sampling_weights_omits_the_table(papers, monkeypatch):
    """The engine's interim fit(sampling_weights=...) raises "not available yet": the paper is still
    built, the weighted table omitted with the engine's message; other errors still stop the paper."""
    from survey.report import analysis, weighting

    real = analysis.fit

    def interim(model, data, *, sampling_weights=None, **options):
        if sampling_weights:
            raise SurveyInputError("sampling_weights= is not available yet in survey.sem",
                                   field="sampling_weights", value=sampling_weights)
        return real(model, data, **options)

    monkeypatch.setattr(analysis, "fit", interim)
    results = dataclasses.replace(papers[1].results, weighting=None)
    weighting.apply(results)
    assert results.weighting.sem_weighted is None and results.weighting.sem_unweighted is None
    assert results.weighting.omitted_reason == ("survey.sem.fit: sampling_weights= is not available yet "
                                                "in survey.sem")

    def broken(model, data, *, sampling_weights=None, **options):
        raise SurveyInputError("a model error", field="model")

    monkeypatch.setattr(analysis, "fit", broken)
    with pytest.raises(SurveyInputError, match="a model error"):
        weighting.apply(dataclasses.replace(papers[1].results, weighting=None))


def test_side_by_side_table_sets_each_fit_in_its_columns(papers):
    plain, _ = papers
    results = plain.results
    half = results.scored.iloc[::2]
    other = fit(results.model, half)  # a second, different fit stands in the weighted columns
    w = pd.Series(1.0, index=results.scored.index)
    table = weighted_hypothesis_table(Weighting(None, "w", w, sem_unweighted=results.sem, sem_weighted=other),
                                      results.hypotheses)
    left = tables.hypothesis_rows(results.sem, results.hypotheses)
    right = tables.hypothesis_rows(other, results.hypotheses)
    assert table.data["b"].to_numpy() == pytest.approx(left["b"].to_numpy())
    assert table.data["se.weighted"].to_numpy() == pytest.approx(right["se"].to_numpy())
    assert list(table.data["supported.weighted"]) == list(right["supported"])
    assert {"Unweighted b", "Weighted b", "Weighted SE", "Supported"} <= set(table.display.columns)


def test_weighted_tables_render_in_every_format(papers):
    _, weighted = papers
    results = weighted.results
    stand_in = Weighting(None, "w", results.weighting.weights, sem_unweighted=results.sem,
                         sem_weighted=results.sem)
    extra = weighted_hypothesis_table(stand_in, results.hypotheses)
    extra.number = len(weighted.tables) + 1
    paper = dataclasses.replace(weighted, tables=[*weighted.tables, extra])
    files = render_files(paper)
    markdown = files["paper.md"].decode()
    assert "% (weighted)" in markdown and "SD (weighted)" in markdown and "Weighted SE" in markdown
    assert b"% (weighted)" in files["paper.html"] and b"Weighted SE" in files["paper.tex"]
    assert "tables/hypotheses_weighted.csv" in files and files["paper.docx"][:2] == b"PK"


def test_weighted_hypotheses_equal_a_direct_weighted_fit_and_unit_weights_change_nothing(papers):
    _, weighted = papers
    results = weighted.results
    w = results.weighting.weights
    direct = fit(results.model, results.scored.assign(raking_weight=w), estimator="ML",
                 sampling_weights="raking_weight")
    table = weighted.table("hypotheses_weighted").data
    expected = tables.hypothesis_rows(direct, results.hypotheses)
    assert table["b.weighted"].to_numpy() == pytest.approx(expected["b"].to_numpy(), abs=1e-8)
    unit = fit(results.model, results.scored.assign(one=1.0), estimator="ML", sampling_weights="one")
    plain = fit(results.model, results.scored, estimator="ML")
    np.testing.assert_allclose(unit.estimates()["est"], plain.estimates()["est"], atol=1e-8)


def test_weights_config_shapes_and_one_line_errors(papers):
    assert parse_config({"weights": "w"}).weights.column == "w"
    spec = parse_config({"weights": {"margins": "analysis/margins.yaml", "trim_upper": 4}}).weights
    assert spec.margins == "analysis/margins.yaml" and spec.trim_upper == 4
    bad = [({"weights": {}}, "field 'weights': Value error, give exactly one of column"),
           ({"weights": {"column": "w", "margins": {"A": {1: 1.0}}}}, "give exactly one of column"),
           ({"weights": {"column": "w", "trim_upper": 3}}, "apply to raked weights"),
           ({"weights": {"margins": {"AGEBAND": {1: 0.5, 2: 0.4}}}},
            "field 'weights': Value error, margins.AGEBAND: proportions sum to 0.9, not 1"),
           ({"weights": {"margins": {"COUNTRY": {False: 0.5, 1: 0.5}}}}, "category read as a YAML boolean"),
           ({"weights": {"colum": "w"}}, "field 'weights.colum', value 'w': Extra inputs are not permitted")]
    for raw, message in bad:
        with pytest.raises(SurveyInputError) as info:
            parse_config(raw, file="paper.yaml")
        assert message in str(info.value) and str(info.value).startswith("paper.yaml: ")
    data = papers[0].results.analytic.data
    with pytest.raises(SurveyInputError, match="field 'weights.column', value 'w': weight column not in"):
        compute_weights(parse_config({"weights": "w"}).weights, data)
    first_missing = int(np.flatnonzero(data["AGEBAND"].isna().to_numpy())[0]) + 1
    with pytest.raises(SurveyInputError) as info:
        compute_weights(parse_config({"weights": {"margins": {"AGEBAND": {1: .25, 2: .25, 3: .25, 4: .25}}}})
                        .weights, data)
    assert str(info.value).startswith(f"row {first_missing}, column 'AGEBAND', field 'weights.margins': "
                                      "analytic data: missing value in a raking column")
    with pytest.raises(SurveyInputError, match="field 'weights.margins', value 'nope.yaml': margins file"):
        compute_weights(parse_config({"weights": {"margins": "nope.yaml"}}).weights, data)
    column, w, raking = compute_weights(parse_config({"weights": "x"}).weights, data.assign(x=2.0))
    assert column == "x" and raking is None and np.allclose(w, 1.0)
