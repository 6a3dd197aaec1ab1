"""`survey fit MODEL DATA [--json]` (DESIGN.md command-line contract)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.sem import fit

FIXTURES = Path(__file__).parent / "fixtures" / "sem"
MODELS = json.loads((FIXTURES / "models.json").read_text())
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_fit_json_from_syntax_file(tmp_path, capsys):
    model = tmp_path / "hs.lav"
    model.write_text(MODELS["hs"]["model"])
    code, out, _ = run(["fit", str(model), str(FIXTURES / "holzinger.csv"), "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    assert list(obj) == ["estimator", "converged", "nobs", "warnings", "fit_measures", "estimates", "r2"]
    ref = REFERENCE["cases"]["hs"]
    assert abs(obj["fit_measures"]["chisq"] - ref["fit_measures"]["chisq"]) < 1e-3
    assert obj["nobs"] == 301 and obj["warnings"] == []
    assert [e["est"] for e in obj["estimates"]] == pytest.approx(
        [e["est"] for e in ref["estimates"]], abs=1e-3
    )


def test_fit_summary_text(tmp_path, capsys):
    model = tmp_path / "pd.lav"
    model.write_text(MODELS["pd"]["model"])
    code, out, _ = run(["fit", str(model), str(FIXTURES / "politicaldemocracy.csv")], capsys)
    assert code == 0
    for part in (
        "Model Test User Model:",
        "Latent Variables:",
        "Regressions:",
        "Defined Parameters:",
        "R-Square:",
        "40.179",
    ):
        assert part in out


def test_fit_instrument_model_recodes_reverse_keyed_items_and_missing_codes(tmp_path, capsys):
    keyed = pd.read_csv(FIXTURES / "study.csv")
    answered = keyed.copy()
    for driver in ("SHI", "SKL", "AUT", "EMO", "CON", "PEER"):
        answered[f"{driver}4"] = 8 - keyed[f"{driver}4"]  # data hold responses as answered
    answered.loc[0, "SHI2"] = 8  # "Prefer not to say"
    answered.loc[1, "FOLLOWED30"] = -99
    data = tmp_path / "answered.csv"
    answered.to_csv(data, index=False)
    code, out, _ = run(["fit", "follow-drivers@1.0.0", str(data), "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    expected = fit(MODELS["study"]["model"], keyed.drop(index=[0, 1]))
    assert obj["nobs"] == 598
    ours = np.array([e["est"] for e in obj["estimates"]])
    np.testing.assert_allclose(ours, expected.estimates()["est"].to_numpy(), atol=1e-8)
    assert "ind_SHI" in [e["lhs"] for e in obj["estimates"]]


@pytest.mark.parametrize(
    "extra,needle", [(["--estimator", "PML"], "estimator"), (["--missing", "pairwise"], "missing")]
)
def test_unavailable_option_exits_2_with_one_line(tmp_path, capsys, extra, needle):
    model = tmp_path / "hs.lav"
    model.write_text(MODELS["hs"]["model"])
    code, out, err = run(["fit", str(model), str(FIXTURES / "holzinger.csv"), *extra], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "not available yet" in err


def test_bad_column_names_the_file(tmp_path, capsys):
    model = tmp_path / "bad.lav"
    model.write_text("f =~ x1 + x2 + nope")
    code, _, err = run(["fit", str(model), str(FIXTURES / "holzinger.csv")], capsys)
    assert code == 2 and "holzinger.csv" in err and "nope" in err


def test_instrument_model_on_data_without_its_items_names_the_data_file(tmp_path, capsys):
    """NAME@VER on a file that lacks the instrument's items: one line naming the DATA file (not the YAML)."""
    data = tmp_path / "other.csv"
    pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4]}).to_csv(data, index=False)
    code, out, err = run(["fit", "follow-drivers@1.1.0", str(data)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {data}:")
    assert "SHI" in err and "follow-drivers@1.1.0" in err
