"""`survey fit ... --estimator MLR|MLM --missing fiml --se bootstrap --bootstrap N --seed S` (DESIGN.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey.cli import main
from survey.ingest.readers import NOT_SCREENED

HERE = Path(__file__).parent / "fixtures" / "robust"
REF = json.loads((HERE / "reference.json").read_text())
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


@pytest.fixture()
def model_file(tmp_path) -> str:
    path = tmp_path / "hs.lav"
    path.write_text(HS_MODEL)
    return str(path)


@pytest.mark.parametrize("est", ["MLR", "MLM"])
def test_fit_robust_json(model_file, capsys, est):
    code, out, _ = run(["fit", model_file, str(HERE / "hs.csv"), "--estimator", est, "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    ref = REF["cases"][f"hs_{est.lower()}"]["fit_measures"]
    assert obj["estimator"] == est
    for name in ("chisq.scaled", "cfi.robust", "rmsea.robust", "tli.scaled"):
        assert obj["fit_measures"][name] == pytest.approx(ref[name], abs=1e-3)


def test_fit_fiml_json(model_file, capsys, tmp_path):
    import numpy as np
    import pandas as pd

    data = pd.read_csv(HERE / "hs.csv")
    rng = np.random.default_rng(1)
    data = data.mask(rng.random(data.shape) < 0.1)
    data.iloc[0, :] = np.nan
    path = tmp_path / "hs_missing.csv"
    data.to_csv(path, index=False)
    code, out, _ = run(["fit", model_file, str(path), "--missing", "fiml", "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    assert obj["nobs"] == 300 and any("every model variable missing" in w for w in obj["warnings"])
    assert any(e["op"] == "~1" for e in obj["estimates"])


def test_fit_bootstrap_is_seeded_and_quiet(model_file, capsys):
    argv = ["fit", model_file, str(HERE / "hs.csv"), "--bootstrap", "20", "--seed", "4", "--json"]
    code, out1, err = run(argv, capsys)
    # the bootstrap prints nothing: stderr holds the not-screened warning only (hs.csv is no ingest output)
    assert code == 0 and err.splitlines() == [f"warning: {NOT_SCREENED}"]
    code, out2, _ = run(argv, capsys)
    assert out1 == out2


def test_bad_option_exits_2(model_file, capsys):
    code, _, err = run(
        ["fit", model_file, str(HERE / "hs.csv"), "--estimator", "MLM", "--missing", "fiml"], capsys
    )
    assert code == 2 and "MLM" in err and "Traceback" not in err
