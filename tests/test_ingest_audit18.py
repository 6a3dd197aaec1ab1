"""Issue 18 audited as a new user: what the audit's hostile and real exports found, each class tested.

Files: tests/fixtures/audit18/ (make_audit18.py writes base.csv and its variants, make_r_exports.R the
exports R itself writes: write.csv with NA, write.table with its header one field short, write.csv2).
No command changes a byte of them (SHA-256 in manifest.json, before and after).

* point 6: personal data typed into an answer field is masked in the error of every command, `survey
  fit` on a lavaan model file included (it was printed whole); a long column name is shortened, so the
  line stays under 200 characters; every command names the data file as the user gave it (`quality`
  named the path, `ingest`, `reliability` and `fit` the base name of a file they could not read);
* point 2: no complete case for `survey reliability` is one line on stderr (numpy's empty-mean warnings
  came before it);
* points 3-5: `survey fit MODEL.lav` on a CSV written by R reads R's ``NA`` as missing (it stopped at
  "value is not a number"), and warns that a raw export was not screened; R's write.table layout (row
  names with no header field) and write.csv2 read as the same answers as the plain export.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli_light import main

FIX = Path(__file__).parent / "fixtures" / "audit18"
MANIFEST = json.loads((FIX / "manifest.json").read_text())
SPEC = "follow-drivers@1.1.0"
MODEL = "SHI =~ SHI1 + SHI2 + SHI3\nSKL =~ SKL1 + SKL2 + SKL3\n"
PERSONAL = {"pii_email.csv": "jane.roe@example.org", "pii_phone.csv": "7946 0958",
            "pii_ip.csv": "203.0.113.77"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def raw_files_unchanged():
    assert {f: sha(FIX / f) for f in MANIFEST} == MANIFEST
    yield
    assert {f: sha(FIX / f) for f in MANIFEST} == MANIFEST


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("model") / "two.lav"
    path.write_text(MODEL)
    return str(path)


@pytest.fixture()
def in_fixtures(monkeypatch):
    """Commands run from tests/fixtures/, the data named as a user names them: audit18/FILE."""
    monkeypatch.chdir(FIX.parent)


def one_line(err: str, out: Path | None = None) -> str:
    """The one error line, at most 200 characters besides the user's own output folder (never cut)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert len(lines[0]) - (len(str(out)) if out and str(out) in lines[0] else 0) <= 200, lines[0]
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("name", sorted(PERSONAL))
def test_personal_data_masked_in_every_command(name, model, tmp_path, in_fixtures):
    data = f"audit18/{name}"
    commands = {
        "ingest": ["ingest", data, "--instrument", SPEC, "--out", str(tmp_path / "out")],
        "quality": ["quality", data, "--instrument", SPEC],
        "quality --items": ["quality", data, "--items", "SHI1,SHI2,SHI3,SKL1,SKL2,SKL3"],
        "reliability": ["reliability", SPEC, data],
        "fit": ["fit", model, data],
    }
    for what, argv in commands.items():
        code, _, err = run(argv)
        line = one_line(err, tmp_path)
        assert code == 2, what
        assert PERSONAL[name] not in line, (what, line)
        assert line.startswith(f"error: {data}: "), (what, line)  # the file as given
        assert "column 'SHI2'" in line and "value '<" in line, (what, line)
    problems = pd.read_csv(tmp_path / "out" / "problems.csv", dtype=str)
    assert not problems["value"].str.contains(PERSONAL[name], regex=False).any()


@pytest.mark.parametrize("command", ["ingest", "quality", "reliability", "fit"])
def test_unreadable_file_named_as_given(command, model, tmp_path, in_fixtures):
    """A reader's error (here a long column name, then a file that is not there) names the file as the
    user typed it, in every command, in one line under 200 characters."""
    data = "audit18/long_column.csv"
    argv = {"ingest": ["ingest", data, "--instrument", SPEC, "--out", str(tmp_path / "o")],
            "quality": ["quality", data, "--instrument", SPEC],
            "reliability": ["reliability", SPEC, data],
            "fit": ["fit", model, data]}[command]
    code, _, err = run(argv)
    line = one_line(err, tmp_path)
    assert code == 2 and line.startswith(f"error: {data}: ")
    if command in ("quality", "reliability"):  # ingest names the missing SHI1 first, fit the model's
        assert "SHI1xxxx" in line and "\u2026" in line  # the column, shortened


def test_reliability_without_complete_cases_is_one_line(in_fixtures):
    code, _, err = run(["reliability", SPEC, "audit18/no_complete_case.csv"])
    line = one_line(err)
    assert code == 2 and line.startswith("error: audit18/no_complete_case.csv: ") and "N = 0" in line


def _blank_numeric(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return raw[["SHI1", "SHI2", "SHI3", "SKL1", "SKL2", "SKL3"]].replace("", np.nan).astype(float)


@pytest.fixture(scope="module")
def fits(model):
    out = {}
    for name in ("base.csv", "r_na.csv"):
        code, stdout, err = run(["fit", model, str(FIX / name), "--json"])
        assert code == 0, err
        out[name] = (json.loads(stdout), err)
    return out


def test_fit_reads_r_na_as_missing(fits):
    """write.csv's NA cells are missing values (as read.csv reads them): the same fit as the plain export
    with empty cells, on the listwise-complete cases of the six items."""
    base, r_na = fits["base.csv"][0], fits["r_na.csv"][0]
    n_complete = int(_blank_numeric(FIX / "base.csv").dropna().shape[0])
    assert base["nobs"] == r_na["nobs"] == n_complete < 40  # some rows have a skipped item
    assert (FIX / "r_na.csv").read_text().count(",NA,") > 0
    est = {(e["lhs"], e["op"], e["rhs"]): e["est"] for e in base["estimates"]}
    for e in r_na["estimates"]:
        assert e["est"] == pytest.approx(est[(e["lhs"], e["op"], e["rhs"])], abs=1e-10)
    assert r_na["fit_measures"]["chisq"] == pytest.approx(base["fit_measures"]["chisq"], abs=1e-10)


def test_fit_on_raw_export_warns_not_screened(fits):
    for _, err in fits.values():
        assert "warning: the data were not screened" in err


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    out = {}
    for name in ("base.csv", "r_table.txt", "r_csv2.csv", "r_space.txt"):
        d = tmp_path_factory.mktemp(name.replace(".", "_"))
        code, _, err = run(["ingest", str(FIX / name), "--instrument", SPEC, "--out", str(d)])
        assert code == 0, err
        out[name] = (pd.read_csv(d / "clean.csv"), json.loads((d / "ingest.json").read_text()))
    return out


@pytest.mark.parametrize("name", ["r_table.txt", "r_csv2.csv", "r_space.txt"])
def test_r_exports_read_as_the_plain_export(name, ingested):
    """R's write.table (row names with no header field, read.table's rule; tab- or, its default,
    space-separated) and write.csv2 (";" and decimal commas) of rows 3, 7, 9-40: the same clean answers
    as those rows of the plain export."""
    clean, info = ingested[name]
    base, _ = ingested["base.csv"]
    kept = base[base["respondent_id"].isin(clean["respondent_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(clean.reset_index(drop=True), kept, check_dtype=False)
    assert info["n_raw"] == 34
    kinds = info["platform_columns"]
    want = {"r_table.txt": ("(row names)", "row names (R write.table)"),
            "r_csv2.csv": ("(column 1)", "row names (R write.csv)"),
            "r_space.txt": ("(row names)", "row names (R write.table)")}[name]
    assert kinds[want[0]] == want[1]
    assert os.path.basename(info["sources"][0]["file"]) == name


def test_instrument_spec_is_not_masked_as_an_e_mail(in_fixtures, tmp_path):
    """NAME@VER is not an e-mail address (an address ends in a top-level domain of letters)."""
    argv = ["ingest", "audit18/base.csv", "--instrument", "nothere@1.0.0", "--out", str(tmp_path)]
    code, _, err = run(argv)
    line = one_line(err)
    assert code == 2 and "'nothere@1.0.0'" in line and "<e-mail>" not in line


def test_quality_with_no_item_named_is_an_error(in_fixtures):
    code, _, err = run(["quality", "audit18/base.csv", "--items", " , "])
    assert code == 2 and "audit18/base.csv" in one_line(err) and "--items names no column" in err


@pytest.fixture(scope="module")
def surveymonkey(tmp_path_factory):
    out = {}
    for name in ("sm_plain.csv", "sm_cp1252.csv"):
        d = tmp_path_factory.mktemp(name.replace(".", "_"))
        code, _, err = run(["ingest", str(FIX / name), "--instrument", SPEC, "--out", str(d)])
        assert code == 0, err
        out[name] = (pd.read_csv(d / "clean.csv"), json.loads((d / "ingest.json").read_text()))
    return out


def test_cp1252_header_and_typographic_quotes(surveymonkey):
    """A Windows-1252 SurveyMonkey export typed with typographic quotes (0x92 in the question texts of the
    header rows and in answers such as "Bachelor’s degree"): its header is decoded as its cells are
    (it was decoded as Latin-1, U+0092, so the two attention items were "missing"), and its texts and
    labels match the instrument's plain quotes: the same clean data as the UTF-8 export."""
    plain, info_plain = surveymonkey["sm_plain.csv"]
    curly, info = surveymonkey["sm_cp1252.csv"]
    pd.testing.assert_frame_equal(curly, plain)
    assert info["sources"][0]["format"] == "surveymonkey" and info["n_raw"] == info_plain["n_raw"] == 40
    assert {"ATT1", "ATT2", "EDU"} <= set(curly.columns) and (plain["EDU"] == 3).any()  # Bachelor's degree


def test_xlsx_formula_without_saved_value_is_its_text(tmp_path, in_fixtures):
    """A workbook written by pandas/openpyxl stores a text answer "=2+3" as a formula with no saved value;
    it was read as an empty cell (a silent missing answer, and a respondent id replaced by a made-up
    one). It is read as the text it holds: an item's "=2+3" is an error naming the cell; an id is kept,
    neutralised in every CSV written."""
    code, _, err = run(["ingest", "audit18/xlsx_formula_item.xlsx", "--instrument", SPEC,
                        "--out", str(tmp_path / "item")])
    line = one_line(err, tmp_path)
    assert code == 2 and "row 1, column 'SHI1', value '=2+3'" in line
    problems = (tmp_path / "item" / "problems.csv").read_text()
    assert "'=2+3" in problems and ",=2+3" not in problems
    code, _, err = run(["ingest", "audit18/xlsx_formula_id.xlsx", "--instrument", SPEC,
                        "--out", str(tmp_path / "id")])
    assert code == 0, err
    written = "".join((tmp_path / "id" / f).read_text() for f in ("clean.csv", "exclusions.csv"))
    assert "'=HYPERLINK(" in written and "xlsx_formula_id-2" not in written
    assert not any(cell.startswith("=") for line in written.splitlines() for cell in line.split(","))


def test_fit_takes_an_instrument_yaml_as_name_at_version(in_fixtures):
    """MODEL as an instrument's YAML file (as ingest, quality and reliability take it) is the instrument's
    model, as NAME@VER is; it was parsed as lavaan syntax ("line 1: no lavaan operator")."""
    yaml_file = str(Path(__file__).parents[1] / "instruments" / "follow-drivers" / "1.1.0.yaml")
    by_file = run(["fit", yaml_file, "audit18/base.csv", "--json"])
    by_spec = run(["fit", SPEC, "audit18/base.csv", "--json"])
    assert by_file == by_spec
    assert "lavaan operator" not in by_file[2]


@pytest.mark.parametrize("name", ["utf16le_nobom.txt", "utf16be_nobom.txt"])
def test_utf16_without_byte_order_mark(name, ingested, tmp_path):
    """UTF-16 text with no byte-order mark (NUL in every other byte) was refused as "binary file"; it
    reads, little- or big-endian, as the same answers as the UTF-8 export."""
    code, _, err = run(["ingest", str(FIX / name), "--instrument", SPEC, "--out", str(tmp_path)])
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "clean.csv"), ingested["base.csv"][0])
    info = json.loads((tmp_path / "ingest.json").read_text())
    assert info["n_raw"] == 40 and info["sources"][0]["file"] == name


def test_weights_csv_neutralises_formula_ids(tmp_path):
    """W.csv (`survey weights`) keeps the data's id column: an id "=HYPERLINK(...)" was written as it is;
    it is neutralised like every other CSV the tool writes, and the weights are those of the same data
    with ordinary ids."""
    raking = Path(__file__).parent / "fixtures" / "raking"
    data = pd.read_csv(raking / "data.csv", dtype=str, keep_default_na=False)
    hostile = data.copy()
    hostile.loc[0, "id"] = '=HYPERLINK("http://example.org","x")'
    hostile.loc[1, "id"] = "@SUM(1+1)"
    hostile.to_csv(tmp_path / "hostile.csv", index=False)
    data.to_csv(tmp_path / "plain.csv", index=False)
    for name in ("plain", "hostile"):
        code, _, err = run(["weights", str(tmp_path / f"{name}.csv"), "--margins",
                            str(raking / "margins.yaml"), "--out", str(tmp_path / f"w_{name}.csv")])
        assert code == 0, err
    text = (tmp_path / "w_hostile.csv").read_text()
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text
    assert not any(line.startswith(("=", "@", '"=', '"@')) for line in text.splitlines())
    plain = pd.read_csv(tmp_path / "w_plain.csv")
    hostile_w = pd.read_csv(tmp_path / "w_hostile.csv")
    np.testing.assert_array_equal(hostile_w["weight"].to_numpy(), plain["weight"].to_numpy())
    assert (hostile_w["id"].iloc[2:] == plain["id"].iloc[2:]).all()


def test_analysis_of_a_file_without_some_items_says_so(in_fixtures, tmp_path):
    """Ingest refuses a file without an item of the instrument; reliability, quality and fit ran on the
    items present without a word. They still run, and warn which items are absent."""
    model = tmp_path / "three.lav"
    model.write_text("SHI =~ SHI2 + SHI3 + SHI4\nSKL =~ SKL1 + SKL2 + SKL3\n")
    code, out, err = run(["reliability", str(model), "audit18/missing_item.csv", "--instrument", SPEC,
                          "--json"])
    assert code == 0, err
    assert json.loads(out)["factors"]["SHI"]["n_items"] == 3
    assert "warning: 1 item(s) of follow-drivers@1.1.0's constructs not in the file: SHI1;" in err
    code, out, err = run(["quality", "audit18/missing_item.csv", "--instrument", SPEC, "--json"])
    assert code == 0 and "constructs not in the file: SHI1" in out
