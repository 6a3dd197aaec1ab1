"""Point 4 of issue 18: real exports carry platform columns (Qualtrics Text iQ, a legacy exporter's
trailing empty column, R's row names, ``id``, Kobo/ODK/Ona metadata, Prolific and MTurk ids). Strict
mode drops them and lists them in ingest.json; worker ids are personal data; only item-like columns
stay errors. Raw files are hashed before and after."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.ingest import read_raw
from survey.quality import prepare

FIX = Path(__file__).parent / "fixtures" / "ingest"
sys.path.insert(0, str(FIX))
sys.path.insert(0, str(FIX / "platforms"))
import exports as px  # noqa: E402
import ingest_exports as ex  # noqa: E402

V1 = "follow-drivers@1.0.0"


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return ex.responses(V1, n=60, seed=21)


@pytest.fixture(scope="module")
def items(df, tmp_path_factory) -> pd.DataFrame:
    """The coded items of the same responses read from a plain CSV (the reference)."""
    path = ex.plain_csv(df, tmp_path_factory.mktemp("ref") / "plain.csv")
    res = prepare(path, V1, screens={"incomplete": False, "preview": False, "speeders": False,
                                     "duplicates": False, "duplicate_answers": False, "attention": False,
                                     "careless_exclude": []})
    return res.clean.drop(columns=["respondent_id"])


def _items(res) -> pd.DataFrame:
    return res.clean.drop(columns=["respondent_id"]).reset_index(drop=True)


def test_qualtrics_text_iq_and_prolific_columns(df, tmp_path):
    path = px.qualtrics_text_iq(df, tmp_path / "q.csv", V1)
    before = sha(path)
    res = prepare(path, V1)
    plat = res.report["platform_columns"]
    assert {k for k, v in plat.items() if v == "Qualtrics Text iQ"} == {
        "COMMENT - Topics", "COMMENT - Parent Topics", "COMMENT - Sentiment Polarity",
        "COMMENT - Sentiment Score", "COMMENT - Sentiment"}
    assert plat["STUDY_ID"] == "panel metadata (Prolific/MTurk)"
    assert {"PROLIFIC_PID", "SESSION_ID"} <= set(res.report["pii_dropped"])
    out = res.write(tmp_path / "out")
    written = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    assert "5f0000" not in written
    assert json.loads((out / "ingest.json").read_text())["platform_columns"] == plat
    assert sha(path) == before


def test_legacy_trailing_empty_column(df, tmp_path):
    path = px.legacy_trailing_delimiter(df, tmp_path / "legacy.csv")
    before = sha(path)
    raw = read_raw(path)
    assert raw.format == "qualtrics-legacy" and raw.frame.columns[-1].startswith("(column ")
    res = prepare(path, V1, lenient=True)  # lenient: the legacy file lacks some metadata, not items
    assert list(res.report["platform_columns"].values()) == ["empty column without a name"]
    assert res.report["n_problems"] == 0
    assert sha(path) == before


def test_r_row_names_and_na(df, tmp_path, items):
    body = df.copy()
    body.loc[10, "SKL2"] = float("nan")
    path = px.r_write_csv(body, tmp_path / "r.csv", V1)
    before = sha(path)
    res = prepare(path, V1, screens={"incomplete": False, "preview": False, "speeders": False,
                                     "duplicates": False, "duplicate_answers": False, "attention": False,
                                     "careless_exclude": []})
    assert res.report["platform_columns"] == {"(column 1)": "row names (R write.csv)"}
    got = _items(res)
    pd.testing.assert_frame_equal(got, items.reset_index(drop=True)[got.columns], check_dtype=False)
    assert sha(path) == before


def test_ona_odk_metadata_carried_and_personal_fields_dropped(df, tmp_path, items):
    path = px.ona_csv(df, tmp_path / "ona.csv", V1)  # __version__ is a Kobo deployment id: accepted
    before = sha(path)
    res = prepare(path, V1, screens={"incomplete": False, "preview": False, "speeders": False,
                                     "duplicates": False, "duplicate_answers": False, "attention": False,
                                     "careless_exclude": []})
    plat = res.report["platform_columns"]
    assert {"meta/instanceID", "_id", "@_uuid", "_submission_time", "_version",
            "_date_modified", "_media_count", "_total_media"} <= set(plat) | set(res.report["pii_dropped"])
    assert {"SubmitterName", "DeviceID", "_submitted_by", "_gps_latitude", "_gps_longitude"} <= set(
        res.report["pii_dropped"])
    got = _items(res)
    pd.testing.assert_frame_equal(got, items.reset_index(drop=True)[got.columns], check_dtype=False)
    assert res.clean["respondent_id"].iloc[0].startswith("u-")
    assert sha(path) == before


def test_mturk_ids_are_personal_data(df, tmp_path):
    path = px.mturk_csv(df, tmp_path / "mt.csv")
    res = prepare(path, V1)
    assert {"WorkerId", "AssignmentId"} <= set(res.report["pii_dropped"])
    assert res.report["platform_columns"]["HITId"] == "panel metadata (Prolific/MTurk)"


@pytest.mark.parametrize("column", ["SHI9", "shi_7", "Q12", "FOL 4"])
def test_item_like_unknown_columns_stay_errors(df, tmp_path, column):
    body = df.copy()
    body[column] = 3
    path = ex.plain_csv(body, tmp_path / "raw.csv")
    with pytest.raises(SurveyInputError, match="unknown column"):
        prepare(path, V1)


def test_id_column_is_the_respondent_id(df, tmp_path):
    body = df.drop(columns=["ResponseId"])
    body.insert(0, "id", [f"{i:04d}" for i in range(len(body))])
    path = ex.plain_csv(body, tmp_path / "raw.csv")
    res = prepare(path, V1)
    assert res.clean["respondent_id"].str.fullmatch(r"\d{4}").all()  # leading zeros kept
