"""Point 1 of issue 18: every CSV written from respondent data neutralises formula cells (OWASP CSV
injection), numbers excepted; raw files are never modified."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.ingest.safe import display_value, mask_personal, neutralise, neutralise_frame, write_csv
from survey.quality import prepare

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import ingest_exports as ex  # noqa: E402

V1 = "follow-drivers@1.0.0"
FORMULAS = ["=HYPERLINK(\"http://x\")", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_get_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["-0.12", "+3", "-1e-3", "12", "plain", "a=b", ""])
def test_numbers_and_ordinary_text_stay(value):
    assert neutralise(value) == value


def test_frame_keeps_numeric_columns_and_neutralises_text_and_names():
    frame = pd.DataFrame({"=x": ["=1+1", "ok", None], "n": [-1.5, 2.0, 3.0]})
    out = neutralise_frame(frame)
    assert list(out.columns) == ["'=x", "n"]
    assert out.iloc[:, 0].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(out.iloc[2, 0])
    assert out["n"].tolist() == [-1.5, 2.0, 3.0] and frame.iloc[0, 0] == "=1+1"


def test_ingest_outputs_are_neutralised(tmp_path):
    df = ex.responses(V1, n=60, seed=3)
    df["ResponseId"] = df["ResponseId"].astype(object)
    for i, f in enumerate(FORMULAS):
        df.loc[20 + i, "ResponseId"] = f
    df.loc[2, "ResponseId"] = "=cmd|' /C calc'!A0"  # row 3 is an incomplete response: exclusions.csv
    df = df.astype({"SHI1": object})
    df.loc[30, "SHI1"] = "=1+1"  # a problem in lenient mode: problems.csv
    raw = tmp_path / "raw.csv"
    df.to_csv(raw, index=False, quoting=csv.QUOTE_NONNUMERIC)  # quotes the cell holding a CR
    before = sha(raw)
    res = prepare(raw, V1, lenient=True)
    out = res.write(tmp_path / "out")
    assert sha(raw) == before
    clean = cells(out / "clean.csv")
    ids = [r[0] for r in clean[1:]]
    for f in FORMULAS:
        assert "'" + f in ids and f not in ids
    excl = cells(out / "exclusions.csv")
    col = excl[0].index("respondent_id")
    assert "'=cmd|' /C calc'!A0" in [r[col] for r in excl[1:]]
    probs = cells(out / "problems.csv")
    vcol = probs[0].index("value")
    assert [r[vcol] for r in probs[1:]] == ["'=1+1"]
    for name in ("clean.csv", "exclusions.csv", "flow.csv", "problems.csv"):
        for row in cells(out / name):
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in row), name
            assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "", 1).isdigit() for c in row)


def test_strict_problems_csv_is_neutralised(tmp_path):
    df = ex.responses(V1, n=40, seed=4).astype({"SKL1": object})
    df.loc[5, "SKL1"] = "@SUM(A1:A9)"
    raw = ex.plain_csv(df, tmp_path / "raw.csv")
    with pytest.raises(SurveyInputError):
        prepare(raw, V1, problems_path=tmp_path / "o" / "problems.csv")
    probs = cells(tmp_path / "o" / "problems.csv")
    assert probs[1][probs[0].index("value")] == "'@SUM(A1:A9)"


def test_write_csv_round_trip_of_numbers(tmp_path):
    frame = pd.DataFrame({"a": [-1.25, 3.0], "b": ["-1.25", "-x"]})
    path = write_csv(frame, tmp_path / "f.csv")
    assert cells(path) == [["a", "b"], ["-1.25", "-1.25"], ["3.0", "'-x"]]


def test_personal_values_are_masked_and_long_values_shortened():
    assert mask_personal("mail me at jane.doe@example.org") == "mail me at <e-mail>"
    assert mask_personal("call +49 30 1234567") == "call <phone number>"
    assert mask_personal("from 192.168.10.20") == "from <IP address>"
    assert mask_personal("2024-05-01 10:00:00") == "2024-05-01 10:00:00"
    assert mask_personal("7") == "7"
    # decimal numbers stay readable in an error line; phone numbers written with points do not
    assert mask_personal("value 3.14159265 and -0.123456789") == "value 3.14159265 and -0.123456789"
    assert mask_personal("call 030.123.45678") == "call <phone number>"
    long = display_value("x" * 500)
    assert len(long) == 40 and long.endswith("\u2026")
    assert display_value(12) == 12


def test_ipv6_masked_but_times_kept():
    assert mask_personal("2001:0db8:85a3:0000:0000:8a2e:0370:7334") == "<IP address>"
    assert mask_personal("fe80::1ff:fe23:4567:890a") == "<IP address>"
    assert mask_personal("10:00:00") == "10:00:00"


def test_error_lines_are_short_masked_and_name_the_file(tmp_path):
    """Point 6: one line of about 200 characters, long values cut, e-mail/phone/IP masked, and the
    problem list in the user's own output folder."""
    df = ex.responses(V1, n=30, seed=8).astype({"SHI1": object, "SHI2": object, "FOLLOWED30": object})
    df.loc[3, "SHI1"] = "write to me: jane.doe@example.org " + "x" * 400
    df.loc[4, "SHI2"] = "+44 20 7946 0958"
    df.loc[5, "FOLLOWED30"] = "1e308"
    raw = ex.plain_csv(df, tmp_path / "raw.csv")
    out = tmp_path / "my results"
    with pytest.raises(SurveyInputError) as err:
        prepare(raw, V1, problems_path=out / "problems.csv")
    line = str(err.value)
    assert "\n" not in line and len(line) <= 240 and line.startswith("raw.csv: 3 problems")
    assert "jane.doe" not in line and "<e-mail>" in line
    assert line.endswith(f"full list in {out / 'problems.csv'}")
    probs = pd.read_csv(out / "problems.csv")
    values = probs["value"].astype(str).tolist()
    assert not any("example.org" in v or "7946" in v for v in values)
    assert all(len(v) <= 40 for v in values) and "<phone number>" in values


def test_markdown_escape_of_respondent_text():
    from survey.ingest.safe import escape_markdown

    got = escape_markdown("<script>x</script> | [a](javascript:b) *c*\nd & e")
    assert got == r"&lt;script&gt;x&lt;/script&gt; \| \[a\]\(javascript:b\) \*c\* d &amp; e"


def test_write_failure_names_the_users_folder(tmp_path):
    df = ex.responses(V1, n=30, seed=9)
    res = prepare(ex.plain_csv(df, tmp_path / "raw.csv"), V1)
    out = tmp_path / "results"
    (out / "clean.csv").mkdir(parents=True)  # a folder where clean.csv goes: the move fails
    with pytest.raises(SurveyInputError) as err:
        res.write(out)
    assert str(err.value).startswith(f"{out}: cannot write the outputs")
    assert ".tmp-" not in str(err.value)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    (out / "clean.csv").rmdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SurveyInputError, match="names an existing file"):
        res.write(tmp_path / "afile")
