"""Point 8 of issue 18: SurveyMonkey exports (CSV/XLSX, two header rows: question, then answer
option or matrix row) and LimeSurvey CSV exports (codes or answer texts; code or code-and-text
headings; id, submitdate, lastpage, startlanguage, seed metadata), written from the documented
formats (tests/fixtures/ingest/platforms/exports.py). Each gives the same coded items as a plain CSV
of the same responses; raw files are hashed before and after."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest

from survey.ingest import read_raw, read_sources
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
    return ex.responses(V1, n=70, seed=41)


@pytest.fixture(scope="module")
def reference(df, tmp_path_factory) -> pd.DataFrame:
    path = ex.plain_csv(df, tmp_path_factory.mktemp("ref") / "plain.csv")
    return read_sources(path, V1).data


def _same_items(ing, reference) -> None:
    cols = [c for c in reference.columns if c != "instrument_version"]
    pd.testing.assert_frame_equal(ing.data[cols], reference[cols], check_dtype=False)


@pytest.mark.parametrize(("answer_text", "xlsx"), [(True, False), (False, False), (True, True)])
def test_surveymonkey(df, reference, tmp_path, answer_text, xlsx):
    path = px.surveymonkey(df, tmp_path / ("sm.xlsx" if xlsx else "sm.csv"), V1, answer_text=answer_text,
                           xlsx=xlsx)
    before = sha(path)
    raw = read_raw(path)
    assert raw.format == ("surveymonkey-xlsx" if xlsx else "surveymonkey")
    ing = read_sources(path, V1)
    _same_items(ing, reference)
    assert ing.meta["respondent_id"].iloc[0] == "11400000000"
    assert {"IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName", "CustomData1"} <= set(
        ing.pii_dropped)
    assert ing.meta["Duration"].tolist() == df["Duration (in seconds)"].astype(float).tolist()
    assert sha(path) == before


def test_surveymonkey_screens(df, tmp_path):
    path = px.surveymonkey(df, tmp_path / "sm.csv", V1)
    res = prepare(path, V1)
    reasons = res.report["excluded_by_reason"]
    assert reasons["speeder_per_item"] >= 1 and reasons["attention"] >= 1


@pytest.mark.parametrize(("long", "heading"), [(False, "code"), (True, "code"), (False, "code_text")])
def test_limesurvey(df, reference, tmp_path, long, heading):
    path = px.limesurvey(df, tmp_path / "ls.csv", V1, long=long, heading=heading)
    before = sha(path)
    raw = read_raw(path)
    assert raw.format == "limesurvey"
    ing = read_sources(path, V1)
    _same_items(ing, reference)
    assert ing.meta["respondent_id"].tolist()[:3] == ["1", "2", "3"]
    assert "ipaddr" in ing.pii_dropped
    plat = ing.platform_columns
    assert plat["groupTime101"] == "LimeSurvey timing" and plat["SHI1Time"] == "LimeSurvey timing"
    assert {"lastpage", "startlanguage", "seed"} <= set(plat)
    assert sha(path) == before


def test_limesurvey_empty_submitdate_is_incomplete(df, tmp_path):
    path = px.limesurvey(df, tmp_path / "ls.csv", V1)
    res = prepare(path, V1)
    excl = res.exclusions.set_index("row")
    assert "incomplete" in excl.loc[3, "reasons"]  # planted: Finished 0 -> no submitdate
    assert res.report["excluded_by_reason"]["incomplete"] == 1
