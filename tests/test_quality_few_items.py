"""Point 7 of issue 18: screens on few items. A respondent with no answers is incomplete (not a
long-string case); careless indices are not computed below a minimum number of items, and the
report (warnings, quality summary) says so."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from survey.cli import main
from survey.quality import ScreenConfig, design_from_items, prepare, quality_report, run_screens

FIX = Path(__file__).parent / "fixtures" / "ingest"
sys.path.insert(0, str(FIX))

WORDS = str(FIX / "platforms" / "words.yaml")  # 4 Likert items
V1 = "follow-drivers@1.0.0"


def _words(path: Path, n: int = 30, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    rows = ["id,U1,U2,U3,A1"]
    for i in range(n):
        rows.append(",".join([str(i + 1), *map(str, rng.integers(0, 4, 3)), str(rng.integers(1, 6))]))
    rows[5] = "5,,,,"  # respondent 5 answered nothing
    rows[6] = "6,2,2,2,2"  # answered the same point: on 4 items not a careless case
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_no_answers_is_incomplete_and_few_items_compute_no_index(tmp_path):
    path = _words(tmp_path / "w.csv")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = prepare(path, WORDS)
    excl = res.exclusions.set_index("respondent_id")
    assert excl.loc["5", "reasons"] == "incomplete"
    assert "6" not in excl.index and "longstring" not in res.report["excluded_by_reason"]
    assert res.quality["longstring"].isna().all() and not res.quality["longstring_flag"].any()
    expect = "not computed: 4 Likert items, fewer than the minimum of 6"
    assert any(expect in w for w in res.report["warnings"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_minimum_is_configurable_and_indices_computed_at_it(tmp_path):
    path = _words(tmp_path / "w.csv")
    res = prepare(path, WORDS, screens={"careless_min_items": 4})
    q = res.quality.set_index("respondent_id")
    assert q.loc["6", "longstring"] == 4 and bool(q.loc["6", "longstring_flag"])
    assert q.loc["5", "longstring"] == 1  # four missing answers are four runs of one, as careless counts
    assert res.exclusions.set_index("respondent_id").loc["5", "reasons"] == "incomplete"


def test_quality_report_says_indices_were_not_computed():
    data = pd.DataFrame({"a": [1, 2, 3, 4.0], "b": [1, 2, 2, 1.0], "c": [4, 4, 4, 4.0]})
    rep = quality_report(data, design_from_items(["a", "b", "c"]))
    s = rep.summary_
    assert s["indices_computed"] is False and s["min_items"] == 6
    assert s["rules"]["longstring"] == "not computed: 3 items, fewer than the minimum of 6"
    assert s["flagged"]["longstring"] == 0 and rep.respondents["longstring"].isna().all()
    assert [w.code for w in rep.warnings] == ["careless_few_items"]


def test_no_answer_rows_incomplete_in_run_screens():
    items = pd.DataFrame(np.tile([1.0, 2, 3, 4, 5, 6, 7], (5, 1)), columns=list("abcdefg"))
    items.iloc[2] = np.nan
    res = run_screens(items, design_from_items(list(items.columns)), ScreenConfig())
    assert res.flags["incomplete"].tolist() == [False, False, True, False, False]
    assert not res.flags.loc[2, "longstring"]


def test_quality_cli_reports_it(tmp_path, capsys):
    path = _words(tmp_path / "w.csv")
    try:
        main(["quality", str(path), "--items", "U1,U2,U3", "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["indices_computed"] is False
    assert any("not computed" in w for w in out["warnings"])
    assert any("not screened" in w for w in out["warnings"])
