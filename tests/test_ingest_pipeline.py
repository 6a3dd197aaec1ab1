"""The ingest pipeline: validation problems, strict and lenient modes, wrong versions, personal data,
harmonisation of two instrument versions, atomic outputs, untouched raw files, the CLI."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.errors import SurveyInputError
from survey.ingest import Ingested, harmonise, read_sources
from survey.ingest.harmonise import column_names
from survey.instrument import diff_instruments, load_instrument
from survey.quality import ScreenedData, prepare, screen

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import ingest_exports as ex  # noqa: E402

V1, V2 = "follow-drivers@1.0.0", "follow-drivers@1.1.0"
DEMO = Path(__file__).resolve().parents[1] / "survey" / "data" / "demo"


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return ex.responses(V1, n=150, seed=2)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_kind_of_problem_is_named(df, tmp_path):
    body = df.astype(
        {"SHI1": object, "SKL1": object, "FOLLOWED30": object, "MINUTES": object, "GENDER": object}
    )
    body.loc[11, "SHI1"] = 9
    body.loc[12, "SKL1"] = "Agreed"
    body.loc[13, "FOLLOWED30"] = "many"
    body.loc[14, "FOLLOWED30"] = 2.5
    body.loc[15, "MINUTES"] = 5000
    body.loc[16, "GENDER"] = 4
    body["SHI9"] = 1  # looks like an item of the instrument but is not one: an error
    body = body.drop(columns=["EDU"])
    path = ex.plain_csv(body, tmp_path / "raw.csv")
    with pytest.raises(SurveyInputError) as err:
        prepare(path, V1, problems_path=tmp_path / "OUT" / "problems.csv")
    msg = str(err.value)
    assert msg.startswith("raw.csv: 8 problems, first: column 'EDU': item of the instrument is missing")
    assert msg.endswith(f"full list in {tmp_path / 'OUT' / 'problems.csv'}")
    probs = pd.read_csv(tmp_path / "OUT" / "problems.csv")
    cells = probs.dropna(subset=["row"])
    assert cells[["row", "column", "code"]].values.tolist() == [
        [12, "SHI1", "out_of_range"],
        [13, "SKL1", "not_on_scale"],
        [14, "FOLLOWED30", "non_numeric"],
        [15, "FOLLOWED30", "not_integer"],
        [16, "MINUTES", "out_of_range"],
        [17, "GENDER", "out_of_range"],
    ]
    assert set(probs["code"]) >= {"unknown_column", "missing_item"}
    assert (probs["file"] == "raw.csv").all()
    assert not (tmp_path / "OUT" / "clean.csv").exists()


def test_lenient_turns_bad_cells_into_missing_and_records_them(df, tmp_path):
    body = df.astype({"SHI1": object})
    body.loc[11, "SHI1"] = 9
    body.loc[12, "SHI1"] = "x"
    body["SHI9"] = 1
    body["EXTRA"] = 1  # neither an item nor item-like: dropped and listed, not a problem
    res = prepare(ex.plain_csv(body, tmp_path / "raw.csv"), V1, lenient=True)
    assert len(res.problems) == 3 and res.report["n_problems"] == 3
    assert res.report["platform_columns"]["EXTRA"] == "unrecognised column"
    assert res.report["platform_columns"]["UserLanguage"] == "platform metadata"
    clean = res.clean.set_index("respondent_id")
    assert clean.loc[[df.loc[11, "ResponseId"], df.loc[12, "ResponseId"]], "SHI1"].isna().all()
    assert "EXTRA" not in res.clean.columns and "SHI9" not in res.clean.columns
    out = res.write(tmp_path / "out")
    assert (out / "problems.csv").is_file()


def test_wrong_instrument_version(tmp_path):
    newer = ex.responses(V2, n=40, seed=3, plant=False)
    path = ex.qualtrics_csv(newer, tmp_path / "w2.csv", V2)
    with pytest.raises(SurveyInputError, match=r"column 'CON5': item CON5 belongs to follow-drivers@1.1.0"):
        prepare(path, V1)
    older = ex.responses(V1, n=40, seed=3, plant=False)
    with pytest.raises(SurveyInputError, match="column 'CON5': item of the instrument is missing"):
        prepare(ex.qualtrics_csv(older, tmp_path / "w1.csv", V1), V2)


def test_personal_data_dropped_and_listed(df, tmp_path):
    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    res = prepare(path, V1)
    out = res.write(tmp_path / "out")
    clean = pd.read_csv(out / "clean.csv")
    report = json.loads((out / "ingest.json").read_text())
    pii = {
        "IPAddress",
        "RecipientEmail",
        "RecipientFirstName",
        "RecipientLastName",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
        "COMMENT",
    }
    assert set(report["pii_dropped"]) == pii
    assert not pii & set(clean.columns)
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    assert "@example.org" not in text and "10.0.0." not in text and "funny creators" not in text


def test_keep_pii_is_hashed_with_salt(df, tmp_path):
    path = ex.plain_csv(df, tmp_path / "p.csv")
    res = prepare(path, V1, keep_pii=["RecipientEmail"], salt="s3cret")
    first = res.clean.set_index("respondent_id").loc[df.loc[20, "ResponseId"], "RecipientEmail"]
    assert first == hashlib.sha256(("s3cret" + df.loc[20, "RecipientEmail"]).encode()).hexdigest()
    assert (
        res.report["pii_hashed"] == ["RecipientEmail"] and "RecipientEmail" not in res.report["pii_dropped"]
    )
    with pytest.raises(SurveyInputError, match="salt"):
        prepare(path, V1, keep_pii=["RecipientEmail"])
    with pytest.raises(SurveyInputError, match="not a personal-data column"):
        prepare(path, V1, keep_pii=["SHI1"], salt="x")


def test_dropped_personal_data_is_left_unread_and_still_logged(df, tmp_path, caplog):
    """The dropped personal-data columns are not parsed (read_raw's skip), the drop is listed and
    logged in file order as when they were read, a column kept hashed is read, and the outputs equal
    those of a read of every column followed by the drop."""
    import logging

    from survey.ingest import pipeline
    from survey.ingest.readers import read_raw

    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    seen: list = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "read_raw", lambda p, skip=None: seen.append(read_raw(p, skip)) or seen[-1])
        with caplog.at_level(logging.INFO, logger="survey.ingest.pii"):
            res = prepare(path, V1)
        hashed = prepare(path, V1, keep_pii=["IPAddress"], salt="s")
    order = ["IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
             "LocationLatitude", "LocationLongitude", "COMMENT"]
    assert seen[0].skipped == order and not set(order) & set(seen[0].frame.columns)
    assert seen[0].names == list(read_raw(path).frame.columns)
    assert "IPAddress" in seen[1].frame.columns and "IPAddress" not in seen[1].skipped
    assert res.report["pii_dropped"] == sorted(order) and hashed.report["pii_hashed"] == ["IPAddress"]
    assert f"q.csv: dropped personal-data columns {', '.join(order)}" in caplog.messages
    # the same outputs as reading every column, then dropping
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "read_raw", lambda p, skip=None: read_raw(p))
        full = prepare(path, V1)
    pd.testing.assert_frame_equal(res.clean, full.clean)
    pd.testing.assert_frame_equal(res.exclusions, full.exclusions)
    assert res.report == full.report


def test_raw_files_are_never_modified(df, tmp_path):
    paths = [
        ex.qualtrics_csv(df, tmp_path / "q.csv", V1),
        ex.sav(df, tmp_path / "d.sav", V1),
        ex.kobo_csv(df, tmp_path / "k.csv", V1),
        ex.xlsx(df, tmp_path / "x.xlsx"),
    ]
    before = {p: (_sha(p), p.stat().st_mtime_ns) for p in paths}
    for p in paths:
        prepare(p, V1, keep_pii=[], lenient=True).write(tmp_path / f"out_{p.stem}")
    assert {p: (_sha(p), p.stat().st_mtime_ns) for p in paths} == before


def test_write_is_atomic_and_complete(df, tmp_path):
    res = prepare(ex.plain_csv(df, tmp_path / "p.csv"), V1)
    out = res.write(tmp_path / "deep" / "out")
    assert sorted(p.name for p in out.iterdir()) == ["clean.csv", "exclusions.csv", "flow.csv", "ingest.json"]
    res.write(out)  # overwriting an existing directory
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.tmp")]
    report = json.loads((out / "ingest.json").read_text())
    assert report["n_raw"] == report["n_analytic"] + report["n_excluded"] == 150
    assert report["instrument"] == V1
    excl = pd.read_csv(out / "exclusions.csv")
    assert len(excl) == report["n_excluded"]
    assert set(excl.columns) >= {"respondent_id", "reasons", "first_step", "source", "source_row"}
    assert (
        excl.loc[excl["source_row"] == 6, "reasons"].item() == "speeder_per_item;speeder_relative;longstring"
    )


def test_exclusions_match_planted_cases(df, tmp_path):
    res = prepare(ex.plain_csv(df, tmp_path / "p.csv"), V1)
    got = dict(zip(res.exclusions["source_row"], res.exclusions["reasons"], strict=True))
    assert got == {
        1: "preview",
        2: "preview",
        3: "incomplete",
        4: "speeder_per_item;speeder_relative",
        5: "attention",
        6: "speeder_per_item;speeder_relative;longstring",
        8: "duplicate_id;duplicate_answers",
    }
    assert res.report["excluded_by_reason"]["preview"] == 2


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 59), st.sampled_from(["Status", "Finished", "Duration", "ATT1", "dup"])),
        max_size=25,
    )
)
def test_n_raw_equals_analytic_plus_excluded(tmp_path_factory, edits):
    body = ex.responses(V1, n=60, seed=4, plant=False)
    for row, what in edits:
        if what == "Status":
            body.loc[row, "Status"] = 1
        elif what == "Finished":
            body.loc[row, "Finished"] = 0
        elif what == "Duration":
            body.loc[row, "Duration (in seconds)"] = 10
        elif what == "ATT1":
            body.loc[row, "ATT1"] = 5
        else:
            body.loc[row, "ResponseId"] = body.loc[0, "ResponseId"]
    path = ex.plain_csv(body, tmp_path_factory.mktemp("prop") / "p.csv")
    res = prepare(path, V1)
    r = res.report
    assert r["n_raw"] == 60 == r["n_analytic"] + r["n_excluded"] == len(res.clean) + len(res.exclusions)
    assert res.flow["n_excluded"].iloc[1:-1].sum() == r["n_excluded"]


def test_harmonisation_of_two_versions(tmp_path):
    w1 = ex.responses(V1, n=80, seed=11, plant=False)
    w2 = ex.responses(V2, n=70, seed=12, plant=False)
    p1 = ex.qualtrics_csv(w1, tmp_path / "w1.csv", V1)
    p2 = ex.qualtrics_csv(w2, tmp_path / "w2.csv", V2)
    res = prepare([(p1, V1), (p2, V2)])
    c = res.clean
    assert res.report["n_raw"] == 150 and set(res.report["instrument"]) == {V1, V2}
    assert c["instrument_version"].value_counts().to_dict() == {"1.0.0": 80, "1.1.0": 70}
    old, new = c[c["instrument_version"] == "1.0.0"], c[c["instrument_version"] == "1.1.0"]
    assert old["AUT2"].notna().all() and old["AUT2_v1_1_0"].isna().all()
    assert new["AUT2"].isna().all() and new["AUT2_v1_1_0"].notna().all()
    assert old["CON5"].isna().all() and new["CON5"].notna().all()
    assert (old["AUT1"].to_numpy() == w1["AUT1"].to_numpy()).all()
    assert (new["AUT2_v1_1_0"].to_numpy() == w2["AUT2"].to_numpy()).all()
    assert res.report["columns"]["1.1.0"]["AUT2"] == "AUT2_v1_1_0"
    # sources may come in any order, and one instrument list per source
    again = prepare([p2, p1], instrument=[V2, V1])
    assert set(again.clean.columns) == set(c.columns)


def test_harmonise_follows_instrument_diff_in_any_order():
    v1, v2 = load_instrument(V1), load_instrument(V2)
    names = column_names([v1, v2])
    assert column_names([v2, v1]) == names
    assert {k: v for k, v in names["1.1.0"].items() if k != v} == {"AUT2": "AUT2_v1_1_0"}
    assert {k: v for k, v in names["1.1.0"].items() if k != v} == diff_instruments(v1, v2).versioned_columns()
    frame = pd.DataFrame({"AUT2": [1.0], "CON5": [2.0]})
    pooled, _ = harmonise([(v1, frame[["AUT2"]]), (v2, frame)])
    assert pooled.columns.tolist() == ["instrument_version", "AUT2", "AUT2_v1_1_0", "CON5"]


def test_harmonise_reuses_the_column_of_an_earlier_equal_wording(tmp_path):
    import yaml

    yaml_file = DEMO.parents[2] / "instruments" / "follow-drivers" / "1.0.0.yaml"
    doc = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))
    doc["version"] = "1.2.0"
    (tmp_path / "1.2.0.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    v3 = load_instrument(tmp_path / "1.2.0.yaml")  # 1.2.0 goes back to the 1.0.0 wording of AUT2
    names = column_names([load_instrument(V2), v3, load_instrument(V1)])
    assert names["1.2.0"]["AUT2"] == "AUT2" and names["1.1.0"]["AUT2"] == "AUT2_v1_1_0"
    assert names["1.2.0"]["CON1"] == "CON1" and "CON5" not in names["1.2.0"]


def test_read_sources_then_screen_equals_prepare(df, tmp_path):
    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    ingested = read_sources(path, V1)
    assert isinstance(ingested, Ingested)
    assert ingested.n == 150 and len(ingested.meta) == 150 and len(ingested.info) == 150
    assert ingested.data.columns[0] == "instrument_version" and "COMMENT" not in ingested.data.columns
    assert ingested.info["source_row"].tolist() == list(range(1, 151))
    assert ingested.missing_codes["SHI1"].tolist() == [8.0]  # one "Prefer not to say" planted
    assert ingested.to_dict()["pii_dropped"] == ingested.pii_dropped and ingested.instrument == V1
    two_step = screen(ingested)
    one_call = prepare(path, V1)
    assert isinstance(two_step, ScreenedData)
    pd.testing.assert_frame_equal(two_step.clean, one_call.clean)
    pd.testing.assert_frame_equal(two_step.exclusions, one_call.exclusions)
    assert json.dumps(two_step.report, default=str) == json.dumps(one_call.report, default=str)
    with pytest.raises(SurveyInputError, match="invalid screen configuration"):
        screen(ingested, {"no_such_screen": True})


@pytest.mark.skipif(not (DEMO / "wave1.csv").is_file(), reason="demo data not generated")
def test_demo_waves_recover_planted_cases():
    truth = json.loads((DEMO / "wave1.csv.truth.json").read_text())
    res = prepare([(DEMO / "wave1.csv", truth["instrument"])])
    rows = pd.DataFrame(truth["rows"])
    excluded = set(res.exclusions["source_row"])
    planted = set(rows.loc[rows["kind"] != "attentive", "row"])
    assert planted <= excluded
    attentive_out = excluded - planted
    slips = set(rows.loc[(rows["kind"] == "attentive") & (rows["attention_failed"] > 0), "row"])
    assert len(attentive_out - slips) <= 0.01 * len(rows)


def test_cli_ingest_and_quality(df, tmp_path, capsys):
    from survey.cli import main

    path = ex.qualtrics_csv(df, tmp_path / "q.csv", V1)
    with pytest.raises(SystemExit) as code:
        main(["ingest", str(path), "--instrument", V1, "--out", str(tmp_path / "out")])
    assert code.value.code in (0, None)
    assert json.loads((tmp_path / "out" / "ingest.json").read_text())["n_raw"] == 150
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["quality", str(path), "--instrument", V1, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert len(out["respondents"]) == 150 and out["summary"]["n_items"] == 27
    assert {"row", "longstring", "irv", "mahad", "evenodd", "psychsyn"} <= set(out["respondents"][0])
    with pytest.raises(SystemExit):
        main(
            [
                "quality",
                str(tmp_path / "out" / "clean.csv"),
                "--items",
                "SHI1,SHI2,SHI3,SHI4,SKL1,SKL2",
                "--json",
            ]
        )
    assert json.loads(capsys.readouterr().out)["summary"]["n_items"] == 6
    bad = df.astype({"SHI1": object})
    bad.loc[3, "SHI1"] = 9
    bad_path = ex.plain_csv(bad, tmp_path / "bad.csv")
    with pytest.raises(SystemExit) as code:
        main(["ingest", str(bad_path), "--instrument", V1, "--out", str(tmp_path / "out2")])
    assert code.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 4, column 'SHI1', value 9" in err
    assert not (tmp_path / "out2" / "clean.csv").exists() and (tmp_path / "out2" / "problems.csv").exists()


def test_missing_report_in_ingest_json(df, tmp_path):
    res = prepare(ex.plain_csv(df, tmp_path / "p.csv"), V1)
    miss = res.report["missing"]
    assert miss["by_item"]["SHI1"]["Prefer not to say"] == 1 and miss["by_item"]["SKL2"]["skipped"] == 1
    assert miss["mcar"]["1.0.0"]["df"] > 0
    assert np.isfinite(miss["mcar"]["1.0.0"]["chisq"])
