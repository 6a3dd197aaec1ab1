"""Real exports (issue 18): decimal commas, Google Forms, CR line endings and cells with line breaks.

The raw files (tests/fixtures/exports19/, written by make_exports19.py from one simulated sample) must
read as ``reference.csv``, the same answers written with decimal points and one header row; no reader
changes a byte of them (SHA-256 before and after, manifest.json).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.errors import SurveyInputError
from survey.ingest import read_sources
from survey.ingest.readers import read_raw
from survey.ingest.readers.decimal import detect, to_point

FIX = Path(__file__).parent / "fixtures" / "exports19"
SPEC = "follow-drivers@1.1.0"
MANIFEST = json.loads((FIX / "manifest.json").read_text())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def raw_files_unchanged():
    assert {f: sha(FIX / f) for f in MANIFEST} == MANIFEST  # as written by make_exports19.py
    yield
    assert {f: sha(FIX / f) for f in MANIFEST} == MANIFEST


@pytest.fixture(scope="module")
def reference():
    return read_sources(FIX / "reference.csv", SPEC)


def _same_answers(ing, ref):
    pd.testing.assert_frame_equal(ing.data, ref.data)
    for col in ("Progress", "Duration", "Finished", "Status"):
        np.testing.assert_array_equal(ing.meta[col].to_numpy(), ref.meta[col].to_numpy())


def test_reference_values(reference):
    raw = pd.read_csv(FIX / "reference.csv", dtype=str, keep_default_na=False)
    minutes = pd.to_numeric(raw["MINUTES"].replace("", np.nan))
    np.testing.assert_array_equal(reference.data["MINUTES"].to_numpy(), minutes.to_numpy())
    assert (reference.data["MINUTES"].dropna() % 1 == 0.5).all()  # every answer has a fraction
    np.testing.assert_array_equal(reference.meta["Duration"], raw["Duration (in seconds)"].astype(float))


@pytest.mark.parametrize("name", ["european_semicolon.csv", "european_quoted.csv"])
def test_decimal_commas_read_as_numbers(name, reference):
    ing = read_sources(FIX / name, SPEC)
    _same_answers(ing, reference)
    raw = pd.read_csv(FIX / name, sep=None, engine="python", dtype=str, keep_default_na=False,
                      encoding="cp1252")
    assert raw["MINUTES"].str.contains(",").any() and raw["Duration (in seconds)"].str.contains(r"\.").any()
    table = read_raw(FIX / name)
    assert (table.delimiter, table.encoding) == ((";", "cp1252") if "semicolon" in name else (",", "utf-8"))


def test_semicolon_file_with_only_ambiguous_commas_is_european(reference):
    ing = read_sources(FIX / "european_ambiguous.csv", SPEC)
    pd.testing.assert_frame_equal(ing.data, reference.data)  # "76,500" is 76.5 in a ;-delimited file


def test_mixed_decimal_marks_refused():
    with pytest.raises(SurveyInputError, match=r"mixed decimal marks: decimal comma in .*point in") as e:
        read_sources(FIX / "mixed_decimals.csv", SPEC)
    assert "mixed_decimals.csv" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("cells", "delimiter", "mark"),
    [
        (["3,5", "12"], ";", ","),
        (["3,5", "12"], ",", ","),  # a quoted cell in a comma-delimited file
        (["1.234,5", "7"], ",", ","),
        (["1,234", "7"], ";", ","),  # ambiguous: the semicolon decides
        (["1,234", "7"], ",", "."),  # ambiguous in a comma file: left alone (validation rejects it)
        (["1.234", "7"], ";", "."),
        (["3.5", "12"], ";", "."),
        (["1,234.5", "7"], ",", "."),
        (["", "Prefer not to say"], ";", "."),
    ],
)
def test_decimal_mark_detection(cells, delimiter, mark):
    frame = pd.DataFrame({"MINUTES": cells, "Q": ["9,9", "x"]})
    assert detect(frame, ["MINUTES"], "f.csv", delimiter) == mark


def test_to_point_converts_numbers_only():
    text = pd.Series(["3,5", "1.234,5", "1.234", "-0,25", ",5", "12", "Prefer not to say", "3,5 h", None],
                     dtype="string")
    out = to_point(text).tolist()
    assert out[:6] == ["3.5", "1234.5", "1234", "-0.25", ".5", "12"]
    assert out[6:8] == ["Prefer not to say", "3,5 h"] and out[8] is pd.NA


def test_decimal_comma_out_of_range_names_the_cell_as_written(tmp_path):
    frame = pd.read_csv(FIX / "european_semicolon.csv", sep=";", dtype=str, keep_default_na=False,
                        encoding="cp1252")
    frame.loc[3, "MINUTES"] = "1.500,5"  # above the scale's 1440
    path = tmp_path / "bad.csv"
    frame.to_csv(path, sep=";", index=False)
    with pytest.raises(SurveyInputError) as e:
        read_sources(path, SPEC)
    assert "row 4" in str(e.value) and "'1.500,5'" in str(e.value) and "outside the range" in str(e.value)


@pytest.mark.parametrize("name", ["googleforms.csv", "googleforms_de.csv"])
def test_google_forms_mapped_by_question_text(name, reference, caplog):
    with caplog.at_level(logging.INFO, logger="survey.ingest.pii"):
        ing = read_sources(FIX / name, SPEC)
    pd.testing.assert_frame_equal(ing.data, reference.data)
    email = "Email address" if name == "googleforms.csv" else "E-Mail-Adresse"
    assert ing.pii_dropped == [email]
    assert any(email in r.getMessage() and "dropped personal-data" in r.getMessage() for r in caplog.records)
    assert ing.sources[0].validated.format == "googleforms"
    stamp = "Timestamp" if name == "googleforms.csv" else "Zeitstempel"
    assert ing.platform_columns == {stamp: "platform metadata"}
    assert ing.meta["respondent_id"].iloc[0] == f"{Path(name).stem}-1"


def test_google_forms_raw_table_question_text():
    raw = read_raw(FIX / "googleforms.csv")
    grid = next(c for c in raw.names if c.endswith("[The creators I follow are into the same things I am.]"))
    assert raw.question_text[grid] == "The creators I follow are into the same things I am."
    labels = {"Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
              "Somewhat agree", "Agree", "Strongly agree", "Prefer not to say"}
    assert set(raw.frame[grid].dropna()) <= labels and raw.frame[grid].notna().sum() > 20


def test_google_forms_unknown_question_is_not_an_item(tmp_path):
    frame = pd.read_csv(FIX / "googleforms.csv", dtype=str, keep_default_na=False)
    text = "On a typical day, about how many minutes do you spend on short-video platforms?"
    frame = frame.rename(columns={text: text.replace("typical", "normal")})
    path = tmp_path / "edited.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(SurveyInputError, match="MINUTES"):
        read_sources(path, SPEC)


def test_cr_only_line_endings_and_line_breaks_in_cells(reference):
    ing = read_sources(FIX / "cr_only.csv", SPEC)
    _same_answers(ing, reference)
    raw = read_raw(FIX / "cr_only.csv")
    assert raw.frame["COMMENT"].tolist()[:3] == ["one\rtwo", "one\r\ntwo", "one\ntwo"]


def test_bare_cr_inside_quoted_cells(reference):
    ing = read_sources(FIX / "cr_in_quotes.csv", SPEC)
    _same_answers(ing, reference)
    assert (ing.meta["DistributionChannel"] == "anon\rymous").all()


def test_header_cells_with_embedded_newlines(reference):
    ing = read_sources(FIX / "embedded_newlines.csv", SPEC)
    _same_answers(ing, reference)
    raw = read_raw(FIX / "embedded_newlines.csv")
    assert raw.format == "qualtrics" and "\r\n" in raw.question_text["SHI1"]


def test_cli_ingest_european_export(tmp_path, reference):
    shutil.copy(FIX / "european_semicolon.csv", tmp_path / "raw.csv")
    out = tmp_path / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as done:
            main(["ingest", str(tmp_path / "raw.csv"), "--instrument", SPEC, "--out", str(out)])
    assert done.value.code in (0, None), err.getvalue()
    clean = pd.read_csv(out / "clean.csv")
    assert clean["MINUTES"].dropna().mod(1).eq(0.5).all() and len(clean) > 0


def test_mixed_marks_under_long_google_forms_headings_one_short_line(tmp_path):
    frame = pd.read_csv(FIX / "googleforms_de.csv", sep=";", dtype=str, keep_default_na=False)
    minutes = next(c for c in frame.columns if c.startswith("On a typical day"))
    frame.loc[2, minutes] = "12.5"
    path = tmp_path / "gf.csv"
    frame.to_csv(path, sep=";", index=False)
    with pytest.raises(SurveyInputError) as e:
        read_sources(path, SPEC)
    line = str(e.value)
    assert "\n" not in line and len(line) <= 200 and "'12.5' (row 3" in line and "gf.csv" in line


@pytest.fixture(scope="module")
def likert():
    rng = np.random.default_rng(19)
    x = rng.integers(1, 8, (503, 12)).astype(float)
    x[rng.random(x.shape) < 0.08] = np.nan
    x[:20] = 4.0  # straight-liners: no within-person variance
    x[20:25] = np.nan  # no answers
    return pd.DataFrame(x, columns=[f"I{j}" for j in range(12)])


def test_careless_indices_in_row_blocks_identical(likert, monkeypatch):
    from survey.quality import careless

    def indices():
        return [
            careless.longstring(likert, avg=True).to_numpy(),
            careless.irv(likert).to_numpy(),
            careless.evenodd(likert, [4, 4, 4], diag=True, reflect={"I1": 8.0, "I6": 8.0}).to_numpy(),
            careless.psychsyn(likert, critval=0.0, diag=True).to_numpy(),
            careless.psychsyn(likert, critval=0.0, anto=True, diag=True).to_numpy(),
        ]

    monkeypatch.setattr(careless, "ROWS", 10**9)  # one block: the whole column at once
    whole = indices()
    monkeypatch.setattr(careless, "ROWS", 7)
    blocks = indices()
    for a, b in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit, NaN where NaN
    assert np.isnan(whole[1][20:25]).all() and (whole[1][:20] == 0).all()
    assert (whole[0][:20, 0] == 12).all() and np.isfinite(whole[3][:, 1]).sum() > 400
