"""Point 5 of issue 18: ``survey fit``, ``survey quality`` and ``survey reliability`` on a raw export
validate it against the instrument as ingest does, and warn when the data were not screened."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.errors import SurveyInputError
from survey.ingest.analysis import NOT_SCREENED, analysis_data, numeric_columns
from survey.quality import prepare

FIX = Path(__file__).parent / "fixtures" / "ingest"
sys.path.insert(0, str(FIX))
import ingest_exports as ex  # noqa: E402

V1 = "follow-drivers@1.0.0"


def run(argv, capsys) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return ex.responses(V1, n=150, seed=31)


@pytest.fixture()
def bad_code(df, tmp_path) -> Path:
    body = df.copy()
    body.loc[7, "SKL3"] = 9  # not a code of agree7 (8 is its missing code)
    return ex.qualtrics_csv(body, tmp_path / "raw.csv", V1)


@pytest.mark.parametrize("command", [["fit", V1], ["reliability", V1], ["quality", "--instrument", V1]])
def test_out_of_range_code_is_an_error_not_data(bad_code, capsys, command):
    before = hashlib.sha256(bad_code.read_bytes()).hexdigest()
    argv = [command[0], command[1], str(bad_code)] if command[0] != "quality" else \
        ["quality", str(bad_code), *command[1:]]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {bad_code}: row 8, column 'SKL3', value 9: not a code of scale agree7")
    assert hashlib.sha256(bad_code.read_bytes()).hexdigest() == before


def test_file_without_the_items_is_an_error(tmp_path, capsys):
    path = tmp_path / "other.csv"
    pd.DataFrame({"age": [20, 30, 40], "score": [1, 2, 3]}).to_csv(path, index=False)
    for argv in (["quality", str(path), "--instrument", V1], ["reliability", V1, str(path)]):
        code, _, err = run(argv, capsys)
        assert code == 2 and f"{path}: the file carries none of {V1}'s items" in err


def test_text_columns_given_as_items_are_an_error(df, tmp_path, capsys):
    body = df.copy()
    path = ex.plain_csv(body, tmp_path / "raw.csv")
    code, _, err = run(["quality", str(path), "--items", "SHI1,SHI2,DistributionChannel"], capsys)
    assert code == 2
    where = "row 1, column 'DistributionChannel', value 'anonymous'"
    assert err.startswith(f"error: {path}: {where}: not a number")
    with pytest.raises(SurveyInputError, match="column not found"):
        numeric_columns(path, ["SHI1", "NOPE"])


def test_raw_export_warns_not_screened_and_clean_csv_does_not(df, tmp_path, capsys):
    raw = ex.qualtrics_csv(df, tmp_path / "raw.csv", V1)
    code, out, err = run(["quality", str(raw), "--instrument", V1, "--json"], capsys)
    assert code == 0 and NOT_SCREENED in out
    clean_dir = prepare(raw, V1).write(tmp_path / "out")
    ad = analysis_data(clean_dir / "clean.csv", V1)
    assert ad.screened and ad.warnings == []
    code, out, err = run(["reliability", V1, str(raw)], capsys)
    assert code == 0 and err.strip() == f"warning: {NOT_SCREENED}"


def test_labelled_missing_codes_are_nan_and_values_equal_ingest(df, tmp_path):
    raw = ex.qualtrics_csv(df, tmp_path / "raw.csv", V1, choice_text=True)
    ad = analysis_data(raw, V1)
    ing = prepare(raw, V1, screens={"preview": False, "incomplete": False, "duplicates": False,
                                    "duplicate_answers": False, "speeders": False, "attention": False,
                                    "careless_exclude": []}).clean
    for item in ("SHI1", "FOLLOWED30", "SKL2"):
        np.testing.assert_array_equal(ad.frame[item].to_numpy(), ing[item].to_numpy())
    assert np.isnan(ad.frame.loc[8, "SHI1"]) and np.isnan(ad.frame.loc[9, "FOLLOWED30"])
    assert "IPAddress" not in ad.frame.columns  # personal data dropped as ingest drops it
