"""Unit tests of the report stage: APA number style, CSV neutralisation, the paper configuration."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.report import apa
from survey.report.config import PaperConfig, load_config, parse_config
from survey.report.render_csv import cell, neutralise, render_csv

# ------------------------------------------------------------------------------------------ APA


@pytest.mark.parametrize(("value", "expected"), [
    (0.4219, ".42"), (-0.071, "-.07"), (-0.004, ".00"), (0.0, ".00"), (1.0, "1.00"), (1.031, "1.03"),
    (-1.0, "-1.00"), (0.995, "1.00"), (0.9949, ".99"),
])
def test_bounded_has_no_leading_zero(value: float, expected: str) -> None:
    assert apa.bounded(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (0.4219, "0.42"), (-3.2, "-3.20"), (-0.001, "0.00"), (12.3456, "12.35"), (1503.0, "1503.00"),
])
def test_num_keeps_leading_zero(value: float, expected: str) -> None:
    assert apa.num(value) == expected


@pytest.mark.parametrize(("p", "table", "text"), [
    (0.0004, "< .001", "p < .001"), (0.00099, "< .001", "p < .001"), (0.001, ".001", "p = .001"),
    (0.0345, ".035", "p = .035"), (0.5, ".500", "p = .500"), (0.99996, "> .999", "p > .999"),
    (1e-300, "< .001", "p < .001"),
])
def test_pvalue(p: float, table: str, text: str) -> None:
    assert apa.pvalue(p) == table
    assert apa.p_text(p) == text


def test_missing_values_format_as_empty() -> None:
    for fmt in (apa.num, apa.bounded, apa.pvalue, apa.integer):
        assert fmt(float("nan")) == ""
        assert fmt(None) == ""
    assert apa.p_text(math.nan) == "p = \u2014"
    assert apa.ci(math.nan, 1.0) == ""


def test_ci_stars_integer() -> None:
    assert apa.ci(0.1, 0.324) == "[0.10, 0.32]"
    assert apa.ci(-0.1, 0.324, bounded_values=True) == "[-.10, .32]"
    assert apa.ci(0.0123, 0.0456, 3) == "[0.012, 0.046]"
    assert [apa.stars(p) for p in (0.2, 0.04, 0.009, 0.0009, math.nan)] == ["", "*", "**", "***", ""]
    assert apa.integer(1503.0) == "1503"


# ------------------------------------------------------------------------------------------ CSV


@pytest.mark.parametrize(("text", "expected"), [
    ("=SUM(A1:A3)", "'=SUM(A1:A3)"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-0.12", "-0.12"), ("+3", "+3"), ("-1e-05", "-1e-05"),
    ("SHI \u2192 FOL", "SHI \u2192 FOL"), ("", ""), ("- bullet", "'- bullet"),
])
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_csv_cells_and_bytes() -> None:
    assert cell(-0.123456) == "-0.1235"
    assert cell(-0.000012345) == "-1.23e-05"
    assert cell(0.0) == "0" and cell(-0.0) == "0" and cell(0.99999) == "1"
    assert cell(3.0) == "3"
    assert neutralise(cell(-0.000012345)) == "-1.23e-05"
    assert cell(float("nan")) == ""
    assert cell(True) == "true"
    frame = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok, quoted"], "value": [-0.12, 2.5]})
    assert render_csv(frame) == b"name,value\n'=cmd|' /C calc'!A0,-0.12\n\"ok, quoted\",2.5\n"


# ------------------------------------------------------------------------------------------ config


def test_config_defaults_and_file(tmp_path) -> None:
    assert parse_config(None) == PaperConfig()
    path = tmp_path / "paper.yaml"
    path.write_text("bootstrap: {replicates: 200, seed: 7}\nhypotheses:\n  - {id: H1, path: 'FOL ~SHI'}\n")
    config = load_config(path)
    assert config.bootstrap.replicates == 200 and config.bootstrap.seed == 7
    assert config.hypotheses[0].path == "FOL ~ SHI"
    assert (config.hypotheses[0].outcome, config.hypotheses[0].predictor) == ("FOL", "SHI")


@pytest.mark.parametrize(("text", "field"), [
    ("bootstrap: {replicates: -1}\n", "bootstrap.replicates"),
    ("estimator: OLS\n", "estimator"),
    ("instrument: follow-drivers\n", "instrument"),
    ("data:\n  - {path: a.csv}\n", "data.0.instrument"),
    ("data:\n  - {path: a.csv, instrument: follow-drivers}\n", "data.0.instrument"),
    ("hypotheses:\n  - {id: H1, path: 'FOL <- SHI'}\n", "hypotheses.0.path"),
    ("colour: blue\n", "colour"),
    ("screens: {min_progress: fast}\n", "screens"),
    ("screens: {no_such_screen: true}\n", "screens"),
])
def test_config_errors_name_file_and_field(tmp_path, text: str, field: str) -> None:
    path = tmp_path / "paper.yaml"
    path.write_text(text)
    with pytest.raises(SurveyInputError) as info:
        load_config(path)
    assert info.value.field == field
    assert str(info.value).startswith(f"{path}: field {field!r}")
    assert "\n" not in str(info.value)


def test_config_bad_yaml_and_missing_file(tmp_path) -> None:
    path = tmp_path / "paper.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(SurveyInputError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(SurveyInputError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    path.write_text("- 1\n- 2\n")
    with pytest.raises(SurveyInputError, match="mapping"):
        load_config(path)


def test_screens_error_names_the_screen_field(tmp_path) -> None:
    path = tmp_path / "paper.yaml"
    path.write_text("screens: {min_seconds_per_item: fast}\n")
    with pytest.raises(SurveyInputError, match="min_seconds_per_item"):
        load_config(path)
    config = parse_config({"screens": {"min_seconds_per_item": 1.5}})
    assert config.screens == {"min_seconds_per_item": 1.5}


def test_missing_data_source_is_a_one_line_input_error(tmp_path) -> None:
    from survey.report.inputs import analytic_data

    source = {"path": str(tmp_path / "nope.csv"), "instrument": "follow-drivers@1.1.0"}
    config = parse_config({"data": [source]})
    with pytest.raises(SurveyInputError, match="data source not found") as info:
        analytic_data(config)
    assert info.value.field == "data"


def test_table_alignment_and_markdown_escaping() -> None:
    from survey.report.render_markdown import markdown_table
    from survey.report.table import Table

    display = pd.DataFrame({"Name": ["a|b", "c"], "r": [".12***", "\u2014"],
                            "CI": ["[0.10, 0.32]", "< .001"]})
    table = Table("t", "A title", display, display, "A note.", 3)
    assert table.align == ["l", "r", "r"]
    text = markdown_table(table)
    assert "| a\\|b | .12*** | [0.10, 0.32] |" in text
    assert text.startswith("**Table 3**")
    hostile = pd.DataFrame({"Answer": ["<script>alert(1)</script>", "[x](javascript:alert(1))"],
                            "n": ["1", "2"]})
    text = markdown_table(Table("t", "Open answers", hostile, hostile, "", 1))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in text


def test_fit_sentence_reports_cutoffs() -> None:
    from survey.report.text import fit_sentence

    good = pd.Series({"chisq": 283.149, "df": 278.0, "pvalue": 0.403, "cfi": 0.9991, "tli": 0.999,
                      "rmsea": 0.0049, "rmsea.ci.lower": 0.0, "rmsea.ci.upper": 0.0141, "srmr": 0.0221})
    assert fit_sentence("CFA", good) == (
        "The CFA met every Hu and Bentler (1999) cutoff, \u03c7\u00b2(278) = 283.15, p = .403, CFI = .999 "
        "(cutoff \u2265 .95), TLI = .999 (cutoff \u2265 .95), RMSEA = .005, 90% CI [.000, .014] "
        "(cutoff \u2264 .06), SRMR = .022 (cutoff \u2264 .08).")
    poor = good.copy()
    poor["cfi"], poor["rmsea"], poor["rmsea.ci.lower"] = 0.91, 0.081, float("nan")
    text = fit_sentence("SEM", poor)
    assert text.startswith("The SEM missed the Hu and Bentler (1999) cutoff for CFI, RMSEA,")
    assert "RMSEA = .081 (cutoff" in text


def test_hypothesis_paragraph_apa() -> None:
    from types import SimpleNamespace

    from survey.report.text import hypothesis_paragraph

    instrument = SimpleNamespace(constructs=[SimpleNamespace(code="SHI", label="Shared interests"),
                                             SimpleNamespace(code="FOL", label="Follow intention")], items=[])
    row = pd.Series({"hypothesis": "H1", "path": "SHI \u2192 FOL", "b": 0.2234, "beta": 0.2039, "se": 0.0485,
                     "ci.lower": 0.1283, "ci.upper": 0.3186, "pvalue": 4e-6, "supported": "yes"})
    assert hypothesis_paragraph(row, instrument, "positive", 0.05) == (
        "H1 predicted that shared interests (SHI) would be positively related to follow intention (FOL). "
        "The path was positive and statistically significant, b = 0.22, SE = 0.05, 95% CI [0.13, 0.32], "
        "\u03b2 = .20, p < .001; H1 was supported.")
    row["pvalue"], row["supported"] = 0.453, "no"
    assert "not statistically significant" in hypothesis_paragraph(row, instrument, "positive", 0.05)
    assert hypothesis_paragraph(row, instrument, "positive", 0.05).endswith("H1 was not supported.")


def test_invariance_table_and_text_from_the_sem_result() -> None:
    from survey.report.tables import invariance_table
    from survey.report.text import invariance_paragraph

    class _Result:
        def to_frame(self) -> pd.DataFrame:
            nan = float("nan")
            return pd.DataFrame({
                "model": ["configural", "metric", "scalar", "scalar (partial 1)"],
                "chisq": [560.717, 578.106, 640.2, 590.1], "df": [556.0, 575.0, 594.0, 593.0],
                "cfi": [0.999, 0.9996, 0.985, 0.998], "tli": [0.999, 1.0, 0.98, 0.998],
                "rmsea": [0.004, 0.004, 0.02, 0.005], "srmr": [0.031, 0.033, 0.04, 0.033],
                "aic": [1.0] * 4, "bic": [1.0] * 4,
                "delta.cfi": [nan, 0.0006, -0.0146, -0.0016], "delta.rmsea": [nan, -0.001, 0.016, 0.001],
                "delta.srmr": [nan, 0.002, 0.007, 0.0], "lrt.chisq": [nan, 17.389, 62.1, 12.0],
                "lrt.df": [nan, 19.0, 19.0, 18.0], "lrt.pvalue": [nan, 0.564, 1e-6, 0.85],
                "decision": ["reference", "invariant", "not invariant",
                             "partially invariant (freed: PEER2~1)"],
                "freed": [[], [], [], ["PEER2~1"]]})

    table = invariance_table({"AGEBAND": _Result()})
    row = table.display.iloc[2]
    assert (row["Group"], row["Model"], row["\u0394CFI"], row["p"]) == ("", "scalar", "-.015", "< .001")
    assert table.display.iloc[0]["Group"] == "AGEBAND"
    assert table.display.iloc[1]["\u03c7\u00b2 (df)"] == "578.11 (575)"
    assert table.data["freed"].tolist() == ["", "", "", "PEER2~1"]
    text = invariance_paragraph(table)
    assert "Across AGEBAND: configural (reference); metric invariant; scalar not invariant;" in text


def test_latex_escaping_and_booktabs() -> None:
    from survey.report.render_latex import escape, latex_table
    from survey.report.table import Table

    assert escape("\u03c7\u00b2 50% a_b & {c} $5 \u2265 .95 \u03b2") == (
        r"$\chi^2$ 50\% a\_b \& \{c\} \$5 $\geq$ .95 $\beta$")
    display = pd.DataFrame({"H": ["H1"], "\u03b2": [".20***"]})
    text = latex_table(Table("t", "Paths & more", display, display, "p < .05.", 2))
    assert r"\toprule" in text and r"\midrule" in text and r"\bottomrule" in text
    assert r"\textit{Paths \& more}" in text and "H1 & .20*** \\\\" in text
