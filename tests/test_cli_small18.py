"""Issue 18, four ingestion/CLI gaps: (1) an unknown --group/--weights/--cluster/--items column names the
data file as typed and a few of its columns; (2) `survey quality`'s text output prints its warnings on
stderr; (3) Markdown and LaTeX outputs neutralise respondent text; (4) CSV outputs neutralise formula
cells and keep a carriage return inside its quoted cell. No model is fitted: every error comes first."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from survey import cli, cli_light
from survey.ingest.safe import csv_text, escape_prose, write_csv
from survey.report.render_csv import render_csv
from survey.report.render_latex import escape_first, latex_table, render_latex
from survey.report.render_markdown import markdown_table, render_markdown
from survey.report.table import Table

COLUMNS = ["id", "sex", "ageyr", "x1", "x2", "x3", "x4", "x5", "x6", "a_very_long_column_name_indeed"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """exports/data.csv: 30 rows of numbers (a plain CSV, so not screened)."""
    root = tmp_path_factory.mktemp("small18")
    (root / "exports").mkdir()
    rng = np.random.default_rng(18)
    frame = pd.DataFrame(rng.integers(1, 6, size=(30, len(COLUMNS))), columns=COLUMNS)
    frame["id"] = np.arange(1, 31)
    frame.to_csv(root / "exports" / "data.csv", index=False)
    (root / "model.lav").write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    (root / "bad.lav").write_text("f =~ x1 + x2 + NOPE\n", encoding="utf-8")
    return root


def run(entry, argv: list[str], where: Path, monkeypatch) -> tuple[int, str, str]:
    """Run a CLI entry point in-process from ``where``: (exit status, stdout, stderr)."""
    monkeypatch.chdir(where)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            entry(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


FIT = ["fit", "model.lav", "exports/data.csv"]
UNKNOWN = [
    (cli.main, [*FIT, "--group", "NOPE"], "column 'NOPE', field 'group': grouping column not found"),
    (cli_light.main, [*FIT, "--group", "NOPE"], "column 'NOPE', field 'group': grouping column not found"),
    (cli_light.main, [*FIT, "--weights", "NOPE"],
     "field 'sampling_weights': sampling weight column not found"),
    (cli_light.main, [*FIT, "--cluster", "NOPE"], "field 'cluster': cluster column not found"),
    (cli.main, ["invariance", "model.lav", "exports/data.csv", "--group", "NOPE"],
     "field 'group': grouping column not found"),
    (cli.main, ["quality", "exports/data.csv", "--items", "x1,x2,NOPE"], "column 'NOPE': column not found"),
    (cli.main, ["reliability", "bad.lav", "exports/data.csv"], "column 'NOPE': indicator not found"),
]


@pytest.mark.parametrize(("entry", "argv", "expected"), UNKNOWN)
def test_unknown_column_names_the_file_as_typed_and_its_columns(entry, argv, expected, folder, monkeypatch):
    code, out, err = run(entry, argv, folder, monkeypatch)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200, err
    assert lines[0].startswith("error: exports/data.csv: ") and expected in lines[0]
    assert lines[0].endswith("the data have 10 columns: id, sex, ageyr, x1, x2, x3, \u2026")


def test_column_list_cuts_long_names_and_says_when_all_are_shown():
    from survey.errors import available_columns

    assert available_columns(["a"]) == "the data have 1 column: a"
    assert available_columns(["x" * 30, "b"]) == "the data have 2 columns: " + "x" * 15 + "\u2026, b"


def test_quality_text_prints_the_json_warnings_on_stderr(folder, monkeypatch):
    argv = ["quality", "exports/data.csv", "--items", "x1,x2,x3"]
    code, out, err = run(cli.main, [*argv, "--json"], folder, monkeypatch)
    assert code == 0
    warnings = json.loads(out)["warnings"]
    assert len(warnings) == 2 and any("not screened" in w for w in warnings)
    code, out, err = run(cli.main, argv, folder, monkeypatch)
    assert code == 0 and "warning:" not in out
    assert err.splitlines() == [f"warning: {w}" for w in warnings]


HOSTILE = "# Ann | <img src=x onerror=alert(1)> [x](javascript:alert(1)) `rm` *bold* _it_ &amp;\nline2"


def test_markdown_prose_is_escaped_and_plain_prose_is_as_written():
    text = escape_prose(HOSTILE)
    assert "\n" not in text and "<img" not in text and "&lt;img" in text
    assert text.startswith("\\# Ann \\| ") and "\\](javascript" in text and "\\`rm\\`" in text
    assert "\\*bold\\*" in text and "\\_it\\_" in text and "&amp;amp;" in text
    assert escape_prose("- x") == "\\- x" and escape_prose("12. x") == "12\\. x"
    assert escape_prose("3-4 items") == "3-4 items"
    for plain in ("p < .001, 90% CI [.027, .035]", "ind_SHI = 0.41", "* p < .05. ** p < .01.", "a > b"):
        assert escape_prose(plain) == plain


def test_markdown_paper_escapes_headers_titles_notes_paragraphs_and_warnings():
    display = pd.DataFrame({"group <b>x</b>": ["*Female*"], "n": ["12"]})
    table = Table("t", "Groups of [a](b)", display, display, "Note with\n# heading", 1)
    text = markdown_table(table)
    assert "<b>" not in text and "\\](b)" in text and "\\*Female\\*" in text
    assert "*Note.* Note with # heading" in text
    paper = SimpleNamespace(title="T", sections=[("Results", ["Group _x_ |y|\n- z"])], tables=[],
                            omitted=[], figures=[], warnings=["# group 'a<script>'", "- two\nlines"])
    md = render_markdown(paper).decode()
    assert "Group \\_x\\_ \\|y\\| - z" in md
    assert "- \\# group 'a&lt;script>'" in md and "- \\- two lines" in md
    assert "<script>" not in md


def test_latex_keeps_text_on_one_line_and_braces_a_leading_bracket():
    display = pd.DataFrame({"[a]": ["[x] 50%\n\nnew $ & # ^ _ ~ \\ {}"], "n": ["[1, 2]"]})
    text = latex_table(Table("t", "a\nb", display, display, "", 1))
    row = next(line for line in text.splitlines() if "50" in line)
    assert row == (r"{[}x] 50\%  new \$ \& \# \textasciicircum{} \_ \textasciitilde{} \textbackslash{} \{\} "
                   r"& [1, 2] \\")
    assert "{[}a] & n \\\\" in text and r"\textit{a b}" in text
    assert escape_first("[w]") == "{[}w]" and escape_first("w [x]") == "w [x]"
    paper = SimpleNamespace(title="T", sections=[], tables=[], omitted=[], figures=[],
                            warnings=["[group] x\n\ny"])
    assert r"\item {[}group] x  y" in render_latex(paper).decode()


CELLS = ["=1+1", "+cmd", "-cmd", "@SUM(A1)", "\tx", "\rx", "a\rb", "-0.5", "+1e3", "ok"]
SAFE = ["'=1+1", "'+cmd", "'-cmd", "'@SUM(A1)", "'\tx", "'\rx", "a\rb", "-0.5", "+1e3", "ok"]


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_paper_csv_tables_neutralise_and_quote_carriage_returns():
    rows = _read(render_csv(pd.DataFrame({"=h": CELLS, "v": range(10)})).decode())
    assert rows[0] == ["'=h", "v"] and [r[0] for r in rows[1:]] == SAFE and len(rows) == 11
    assert render_csv(pd.DataFrame({"a": ["=1", "x"]})) == b"a\n'=1\nx\n"  # no CR: quoting as before


def test_data_csvs_and_weights_neutralise_and_quote_carriage_returns(tmp_path):
    frame = pd.DataFrame({"respondent_id": CELLS, "weight": np.linspace(0.5, 1.5, 10)})
    rows = _read(csv_text(frame, lineterminator="\n"))
    assert [r[0] for r in rows[1:]] == SAFE and len(rows) == 11
    write_csv(frame, tmp_path / "clean.csv")
    with open(tmp_path / "clean.csv", newline="", encoding="utf-8") as fh:
        assert [r[0] for r in list(csv.reader(fh))[1:]] == SAFE
    from survey.quality.weights import rake_file

    data = pd.DataFrame({"respondent_id": CELLS * 2, "sex": ["f", "m"] * 10})
    data.to_csv(tmp_path / "d.csv", index=False, quoting=csv.QUOTE_ALL)
    (tmp_path / "m.yaml").write_text("sex: {f: 0.4, m: 0.6}\n", encoding="utf-8")
    rake_file(str(tmp_path / "d.csv"), str(tmp_path / "m.yaml")).write(tmp_path / "w.csv")
    with open(tmp_path / "w.csv", newline="", encoding="utf-8") as fh:
        out = list(csv.reader(fh))
    assert out[0] == ["respondent_id", "weight"] and len(out) == 21
    assert [r[0] for r in out[1:11]] == SAFE
    assert [round(float(r[1]), 6) for r in out[1:3]] == [0.8, 1.2]  # 0.4 / 0.5 and 0.6 / 0.5
