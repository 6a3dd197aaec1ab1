"""Point 3 of issue 18: no silent change of values (SPSS user-missing ranges, string missing values
and string value labels, labelled metadata, NA words, ragged rows, cp1252, CR-only line ends, .por).
Every test checks that the raw file is not modified (SHA-256 before and after)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.ingest import read_raw, read_sources
from survey.quality import prepare

FIX = Path(__file__).parent / "fixtures" / "ingest"
sys.path.insert(0, str(FIX))
sys.path.insert(0, str(FIX / "platforms"))
import exports as px  # noqa: E402
import ingest_exports as ex  # noqa: E402

V1 = "follow-drivers@1.0.0"
WORDS = str(FIX / "platforms" / "words.yaml")


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return ex.responses(V1, n=80, seed=11)


def test_sav_missing_range_values_without_label_are_missing(df, tmp_path):
    body = df.copy()
    body.loc[20, "SHI1"] = 97  # inside 8 THRU 99, no value label
    body.loc[21, "SHI2"] = 8  # labelled "Prefer not to say"
    body.loc[22, "FOLLOWED30"] = -95  # inside -99 THRU -90, no label
    path = px.sav_missing(body, tmp_path / "r.sav", V1)
    before = sha(path)
    raw = read_raw(path)
    assert raw.user_missing["SHI1"][97.0] == "missing"
    assert raw.user_missing["SHI1"][8.0] == "Prefer not to say"
    assert raw.user_missing["FOLLOWED30"] == {-99.0: "missing", -95.0: "missing"}
    ing = read_sources(path, V1)  # strict: no out-of-range error for 97 or -95
    assert np.isnan(ing.data.loc[20, "SHI1"]) and np.isnan(ing.data.loc[22, "FOLLOWED30"])
    assert ing.missing_codes["SHI1"].loc[20] == 97.0 and ing.missing_codes["FOLLOWED30"].loc[22] == -95.0
    rep = prepare(path, V1).missing.by_item
    assert rep.loc["FOLLOWED30", "missing"] == 1 and rep.loc["FOLLOWED30", "Prefer not to say"] == 1
    assert rep.loc["SHI2", "Prefer not to say"] == 1
    assert sha(path) == before


def test_sav_string_value_labels_and_string_missing(df, tmp_path):
    path = px.sav_missing(df, tmp_path / "s.sav", V1, dk_rows=(30, 31))
    before = sha(path)
    raw = read_raw(path)
    assert raw.text_missing["SHI3"] == {"DK": "Don't know"}
    assert raw.frame.loc[0, "SHI3"] in px.AGREE  # "SA" is read as its label "Strongly agree"
    ing = read_sources(path, V1)
    expect = df["SHI3"].astype("float64").to_numpy().copy()
    expect[[30, 31]] = np.nan
    np.testing.assert_array_equal(ing.data["SHI3"].to_numpy(), expect)
    assert ing.missing_labels["SHI3"][ing.missing_codes["SHI3"].iloc[0]] == "Don't know"
    assert prepare(path, V1).missing.by_item.loc["SHI3", "Don't know"] == 2
    assert sha(path) == before


def test_sav_finished_value_labels_decide_incomplete(df, tmp_path):
    body = df.copy()
    body.loc[40, ["Finished", "Progress"]] = [0, 100]  # written as code 2 = "False"
    path = px.sav_missing(body, tmp_path / "f.sav", V1)
    assert read_raw(path).frame.loc[40, "Finished"] == 2.0
    res = prepare(path, V1)
    excl = res.exclusions.set_index("row")
    assert "incomplete" in excl.loc[41, "reasons"]
    assert res.report["excluded_by_reason"]["incomplete"] == 2  # row 3 of the planted cases and row 41


def test_por_read_by_pyreadstat_not_as_csv(df, tmp_path):
    path = px.por(df, tmp_path / "d.por", V1)
    before = sha(path)
    raw = read_raw(path)
    assert raw.format == "por"
    ing = read_sources(path, V1, lenient=True)
    np.testing.assert_array_equal(ing.data["SKL1"].to_numpy(), df["SKL1"].astype(float).to_numpy())
    assert np.isnan(ing.data.loc[8, "SHI1"])  # 8: the scale's "Prefer not to say"
    assert sha(path) == before


def _words_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = ["id,U1,U2,U3,A1"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_na_words_are_answers_when_the_scale_has_them(tmp_path):
    path = _words_csv(tmp_path / "w.csv", [
        ["1", "None", "A lot", "1", "4"],
        ["2", "none", "N/A", "NA", "null"],
        ["3", "2", "None", "0", "NA"],
    ])
    before = sha(path)
    ing = read_sources(path, WORDS)
    got = ing.data[["U1", "U2", "U3", "A1"]].to_numpy()
    expect = np.array([[0, 3, 1, 4], [0, np.nan, np.nan, np.nan], [2, 0, 0, np.nan]])
    np.testing.assert_array_equal(got, expect)
    assert ing.missing_codes["U2"].to_dict() == {1: 9.0}  # "N/A" is the scale's labelled missing code
    assert "U3" not in ing.missing_codes  # "NA" on a scale without such a label: skipped
    assert ing.meta["respondent_id"].tolist() == ["1", "2", "3"]
    assert sha(path) == before


@pytest.mark.parametrize(
    ("body", "row", "message"),
    [
        ("1,1,2,3,4\n2,1,2\n3,1,2,3,4\n", 2, "fewer fields"),
        ("1,1,2,3,4\n2,1,2,3,4,5\n", 2, "more fields"),
        ('1,1,2,3,4\n2,"1\n2",3,4,4\n3,1,2,3\n', 3, "fewer fields"),
    ],
)
def test_ragged_rows_are_errors_naming_the_row(tmp_path, body, row, message):
    path = tmp_path / "rag.csv"
    path.write_text("id,U1,U2,U3,A1\n" + body, encoding="utf-8")
    before = sha(path)
    with pytest.raises(SurveyInputError, match=message) as err:
        read_sources(path, WORDS)
    assert err.value.row == row and str(err.value).startswith(f"rag.csv: row {row}:")
    assert sha(path) == before


def test_cp1252_told_from_latin1(df, tmp_path):
    path = px.cp1252_csv(df, tmp_path / "w.csv")
    before = sha(path)
    raw = read_raw(path)
    assert raw.encoding == "cp1252"
    assert raw.frame.loc[0, "COMMENT"] == "\u201cgreat\u201d creators \u2013 worth \u20ac5"
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"id,U1,U2,U3,A1\n" + b"\x81x,1,2,3,4\n1,1,2,3,4\n")  # 0x81: not cp1252
    assert read_raw(latin).encoding == "latin-1"
    assert sha(path) == before


@pytest.mark.parametrize("ending", [b"\r", b"\r\n"])
def test_cr_only_and_crlf_line_ends(df, tmp_path, ending):
    src = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    base = prepare(src, V1).clean
    path = px.line_endings(src, tmp_path / "mac.csv", ending)
    before = sha(path)
    pd.testing.assert_frame_equal(prepare(path, V1).clean, base)
    assert sha(path) == before


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_record_scan_does_not_depend_on_chunk_boundaries(tmp_path, monkeypatch, chunk):
    from survey.ingest.readers import _scan

    body = b'id,U1,U2\r\n1,"a,b",2\r\n2,"x\r\ny",3\r\n\r\n3,"q""uote",4\r\n4,5\r\n'
    path = tmp_path / "s.csv"
    path.write_bytes(body)
    whole = _scan.scan(path, ",", 3)
    monkeypatch.setattr(_scan, "CHUNK", chunk)
    part = _scan.scan(path, ",", 3)
    assert (part.bad_record, part.bad_fields, part.n_records) == (whole.bad_record, whole.bad_fields,
                                                                   whole.n_records) == (5, 2, 5)


def test_id_text_blanks_na_words_and_keeps_other_ids():
    """Respondent ids read as text: NA words (any case, padded with spaces) and missing cells become "",
    other ids are stripped of spaces only; the text-only fast path and the general path agree."""
    from survey.ingest.metadata import id_text

    cells = ["R_1", " n/a ", None, "  R_2 ", "NULL", "#N/A N/A", "Nones", "straße", "NA x"]
    expected = ["R_1", "", "", "R_2", "", "", "Nones", "straße", "NA x"]
    assert list(id_text(pd.Series(cells, dtype=object))) == expected
    mixed = pd.Series([*cells, 7], dtype=object)  # a non-text cell: the pandas string path
    assert list(id_text(mixed)) == [*expected, "7"]
