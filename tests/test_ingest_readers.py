"""Readers: format detection from content, encodings, delimiters, Qualtrics layouts, SPSS user-missing
codes, Kobo group prefixes and versions, Excel; malformed files end in SurveyInputError."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.errors import SurveyInputError
from survey.ingest import read_raw
from survey.quality import prepare

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import ingest_exports as ex  # noqa: E402

V1 = "follow-drivers@1.0.0"


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return ex.responses(V1, n=120, seed=5)


@pytest.fixture(scope="module")
def baseline(df, tmp_path_factory) -> pd.DataFrame:
    path = ex.plain_csv(df, tmp_path_factory.mktemp("base") / "plain.csv")
    return prepare(path, V1).clean


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_qualtrics_numeric_detected_and_mapped_by_import_id(df, tmp_path, baseline):
    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    raw = read_raw(path)
    assert raw.format == "qualtrics" and raw.encoding == "utf-8-sig"
    assert raw.import_ids["ResponseId"] == "_recordId" and raw.import_ids["SHI1"].startswith("QID")
    _same(prepare(path, V1).clean, baseline)


def test_localised_question_text_does_not_matter(df, tmp_path, baseline):
    path = ex.qualtrics_csv(df, tmp_path / "de.csv", V1, question_text_language="de")
    _same(prepare(path, V1).clean, baseline)


def test_metadata_renamed_by_import_id(df, tmp_path, baseline):
    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    text = path.read_text(encoding="utf-8-sig").replace("Duration (in seconds)", "Dauer (in Sekunden)", 1)
    text = text.replace("ResponseId", "Antwort-ID", 1)
    loc = tmp_path / "loc.csv"
    loc.write_text(text, encoding="utf-8-sig")
    assert "ResponseId" in read_raw(loc).frame.columns
    _same(prepare(loc, V1).clean, baseline)


def test_choice_text_export_equals_numeric(df, tmp_path, baseline):
    path = ex.qualtrics_csv(df, tmp_path / "ct.csv", V1, choice_text=True)
    raw = read_raw(path)
    assert raw.frame["SHI1"].astype(str).str.contains("agree", case=False).any()
    _same(prepare(path, V1).clean, baseline)


def test_choice_text_tolerates_case_and_space_but_guesses_nothing(df, tmp_path):
    body = df.copy().astype({"SHI2": object, "SHI3": object})
    body.loc[20, "SHI2"] = "  strongly AGREE "
    body.loc[21, "SHI3"] = "Agre"
    path = ex.qualtrics_csv(body, tmp_path / "ct.csv", V1, choice_text=True)
    res = prepare(path, V1, lenient=True)
    probs = res.problems
    assert probs[["row", "column", "value", "code"]].values.tolist() == [[22, "SHI3", "Agre", "not_on_scale"]]
    row = res.clean.set_index("respondent_id").loc[df.loc[20, "ResponseId"]]
    assert row["SHI2"] == 7


def test_legacy_two_row_export(df, tmp_path, baseline):
    meta = {
        "ResponseId": "ResponseID",
        "Status": "Status",
        "Progress": "Progress",
        "Finished": "Finished",
        "Duration (in seconds)": "Duration (in seconds)",
        "DistributionChannel": "DistributionChannel",
        "IPAddress": "IPAddress",
        "RecipientEmail": "EmailAddress",
    }
    inst_items = [c for c in df.columns if c not in ex.META_IDS]
    body = df[list(meta) + inst_items]
    row1 = [f"V{i + 1}" for i in range(len(meta))] + inst_items
    row2 = list(meta.values()) + [f"text of {c}" for c in inst_items]
    out = pd.concat([pd.DataFrame([row2], columns=row1), body.set_axis(row1, axis=1).astype(object)])
    path = tmp_path / "legacy.csv"
    out.to_csv(path, index=False)
    raw = read_raw(path)
    assert raw.format == "qualtrics-legacy" and "ResponseId" in raw.frame.columns
    res = prepare(path, V1)
    _same(res.clean, baseline)
    assert "RecipientEmail" in res.report["pii_dropped"]


@pytest.mark.parametrize(
    ("sep", "encoding"), [(",", "utf-8"), (";", "utf-8-sig"), ("\t", "latin-1"), (";", "cp1252")]
)
def test_plain_csv_encodings_and_delimiters(df, tmp_path, baseline, sep, encoding):
    body = df.copy()
    body["COMMENT"] = "très bien, café"
    path = ex.plain_csv(body, tmp_path / "p.csv", sep=sep, encoding=encoding)
    raw = read_raw(path)
    assert raw.delimiter == sep and raw.format == "csv"
    assert raw.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}.get(encoding, "latin-1")
    _same(prepare(path, V1).clean, baseline)


def test_sav_user_missing_codes_stay_distinguishable(df, tmp_path, baseline):
    path = ex.sav(df, tmp_path / "d.sav", V1)
    raw = read_raw(path)
    assert raw.format == "sav" and raw.user_missing["SHI1"] == {8.0: "Prefer not to say"}
    assert raw.frame.loc[8, "SHI1"] == 8  # kept as the code, not system-missing
    res = prepare(path, V1)
    _same(res.clean, baseline)
    clean = res.clean.set_index("respondent_id")
    assert np.isnan(clean.loc[df.loc[8, "ResponseId"], "SHI1"])  # never the top scale point
    assert res.missing.by_item.loc["SHI1", "Prefer not to say"] == 1
    assert res.missing.by_item.loc["SKL2", "skipped"] == 1
    assert res.missing.by_item.loc["FOLLOWED30", "Prefer not to say"] == 1


def test_prefer_not_to_say_same_in_sav_and_csv(df, tmp_path):
    a = prepare(ex.sav(df, tmp_path / "d.sav", V1), V1)
    b = prepare(ex.qualtrics_csv(df, tmp_path / "q.csv", V1), V1)
    _same(a.clean, b.clean)
    pd.testing.assert_frame_equal(a.missing.by_item, b.missing.by_item)


@pytest.mark.parametrize(("sep", "group_sep"), [(";", "/"), (",", "-")])
def test_kobo_group_prefixes_and_duration(df, tmp_path, baseline, sep, group_sep):
    path = ex.kobo_csv(df, tmp_path / "k.csv", V1, sep=sep, group_sep=group_sep)
    raw = read_raw(path)
    assert raw.format == "kobo" and f"drivers_a{group_sep}SHI1" in raw.frame.columns
    res = prepare(path, V1, screens={"preview": False, "incomplete": False})
    # Kobo has no Status/Finished: previews and incomplete rows of the fixture stay in
    assert res.report["n_raw"] == 120
    clean = res.clean.drop(columns="respondent_id")
    base = baseline.drop(columns="respondent_id")
    common = clean.merge(base, how="inner", on=list(base.columns))
    assert len(common) == len(base)
    assert res.report["excluded_by_reason"]["speeder_per_item"] == 2  # the duration comes from start/end


def test_kobo_version_mismatch(df, tmp_path):
    path = ex.kobo_csv(df, tmp_path / "k.csv", V1, version="1.1.0")
    with pytest.raises(SurveyInputError, match=r"row 1, column '__version__', value '1.1.0': form version"):
        prepare(path, V1)


def test_xlsx(df, tmp_path, baseline):
    path = ex.xlsx(df, tmp_path / "d.xlsx")
    assert read_raw(path).format == "xlsx"
    _same(prepare(path, V1).clean, baseline)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"  \n\r\n ", "empty file"),
        (b"\x00\x01\x02binary\x00" * 20, "binary file"),
        ("a,b\n1,2\n".encode("utf-16")[:-1], "undecodable UTF-16"),  # UTF-16 with a BOM is read
        (b"SHI1,SHI2,SHI1\n1,2,3\n", "duplicate column name"),
        (b"SHI1,SHI2\n1,2\n3,4,5\n", "row 2.*more fields than the header"),
        (b"SHI1,SHI2,SHI3\n1,2,3\n4,5\n6,7,8\n", "row 2.*fewer fields than the header"),
        (b"SHI1,SHI2\n1,2,9\n3,4,5\n", "more fields than the header"),
        (b"SHI1,SHI2,SHI3\n1,2,3\n4,5", "truncated"),
        (b'SHI1,SHI2\n1,"2\n', "malformed CSV"),
        (b"SHI1,SHI2\n", "no data rows"),
        (b"$FL2" + bytes(range(256)), "cannot read SPSS file"),
        (b"PK\x03\x04" + bytes(300), "cannot read xlsx file"),
    ],
)
def test_malformed_files(tmp_path, content, message):
    path = tmp_path / "raw.csv"
    path.write_bytes(content)
    with pytest.raises(SurveyInputError, match=message) as err:
        prepare(path, V1)
    assert "\n" not in str(err.value) and "raw.csv" in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SurveyInputError, match="file not found"):
        read_raw(tmp_path / "nope.csv")
    with pytest.raises(SurveyInputError, match="directory"):
        read_raw(tmp_path)


def test_huge_values_are_problems_not_crashes(df, tmp_path):
    body = df.astype({"FOLLOWED30": object, "SHI1": object})
    body.loc[30, "FOLLOWED30"] = "1e400"
    body.loc[31, "SHI1"] = "99999999999999999999999999"
    path = ex.plain_csv(body, tmp_path / "huge.csv")
    with pytest.raises(SurveyInputError, match="2 problems, first: row 31, column 'FOLLOWED30'"):
        prepare(path, V1)


def _check(path: Path) -> None:
    try:
        prepare(path, V1)
    except SurveyInputError as exc:
        assert "\n" not in str(exc) and str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(min_size=0, max_size=400),
    prefix=st.sampled_from([b"", b"$FL2", b"PK\x03\x04", b"\xef\xbb\xbf"]),
)
def test_random_bytes_never_crash(tmp_path, data, prefix):
    path = tmp_path / "fuzz.dat"
    path.write_bytes(prefix + data)
    _check(path)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory) -> dict[str, bytes]:
    small = ex.responses(V1, n=15, seed=9, plant=False)
    d = tmp_path_factory.mktemp("v")
    files = {
        "qualtrics": ex.qualtrics_csv(small, d / "q.csv", V1),
        "plain": ex.plain_csv(small, d / "p.csv", sep=";"),
        "kobo": ex.kobo_csv(small, d / "k.csv", V1),
        "sav": ex.sav(small, d / "s.sav", V1),
        "xlsx": ex.xlsx(small, d / "x.xlsx"),
    }
    return {k: v.read_bytes() for k, v in files.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["qualtrics", "plain", "kobo", "sav", "xlsx"]),
    cut=st.floats(0, 1),
    junk=st.binary(max_size=20),
    where=st.floats(0, 1),
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252"]),
)
def test_damaged_exports_never_crash(tmp_path, valid_files, fmt, cut, junk, where, encoding):
    """Truncated, spliced and re-encoded copies of valid exports of every format."""
    raw = valid_files[fmt]
    text = raw[: int(len(raw) * (0.2 + 0.8 * cut))]
    pos = int(len(text) * where)
    damaged = text[:pos] + junk + text[pos:]
    if fmt not in ("sav", "xlsx"):
        try:
            damaged = damaged.decode("utf-8").encode(encoding, errors="replace")
        except UnicodeDecodeError:
            pass
    path = tmp_path / "damaged.dat"
    path.write_bytes(damaged)
    _check(path)


@pytest.mark.parametrize("fmt", ["sav", "xlsx"])
def test_truncated_binary_exports(tmp_path, valid_files, fmt):
    path = tmp_path / "cut.dat"
    path.write_bytes(valid_files[fmt][: len(valid_files[fmt]) // 2])
    with pytest.raises(SurveyInputError, match="cut.dat: cannot read"):
        prepare(path, V1)


def test_problem_report_json_safe(df, tmp_path):
    body = df.astype({"SHI1": object})
    body.loc[3, "SHI1"] = 9
    path = ex.plain_csv(body, tmp_path / "raw.csv")
    with pytest.raises(SurveyInputError) as err:
        prepare(path, V1, problems_path=tmp_path / "out" / "problems.csv")
    assert str(err.value) == (
        f"raw.csv: 1 problem, first: row 4, column 'SHI1', value 9: not a code of scale agree7; "
        f"full list in {tmp_path / 'out' / 'problems.csv'}"
    )
    listed = pd.read_csv(tmp_path / "out" / "problems.csv")
    assert listed.to_dict(orient="records")[0]["message"] == "not a code of scale agree7"
    json.dumps(err.value.problems[0].to_dict())
