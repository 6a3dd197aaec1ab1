"""Issue 18, held-out style corpus (tests/fixtures/corpus2, written by make_corpus2.py beside it): real
platform exports and hostile files through ``survey ingest``. Each file either succeeds with the
responses it was written from (clean.csv's items equal responses.csv row by row) or exits 2 with one
line naming the file; never a traceback, and the raw file is never changed (hash before and after)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.instrument import load_instrument

FIX = Path(__file__).parent / "fixtures" / "corpus2"
MANIFEST = json.loads((FIX / "manifest.json").read_text())
V1 = "follow-drivers@1.0.0"
INST = load_instrument(V1)
#: the answers every "ok" file was written from (text answers and ids aside)
ITEMS = [i.id for i in INST.items if INST.scale_of(i.id).type != "text"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_ingest(path: Path, out: Path, capsys) -> tuple[int, str]:
    try:
        main(["ingest", str(path), "--instrument", V1, "--out", str(out)])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def check_neutralised(out: Path) -> None:
    """Every CSV written: no cell starts with a formula character unless it is a number (OWASP)."""
    for csv_path in out.glob("*.csv"):
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        for col in frame.columns:
            for cell in frame[col]:
                if cell.startswith(FORMULA):
                    assert pd.notna(pd.to_numeric(cell, errors="coerce")), (csv_path.name, col, cell)


def check_values(out: Path) -> None:
    check_neutralised(out)
    want = pd.read_csv(FIX / "responses.csv")
    clean = pd.read_csv(out / "clean.csv")
    summary = json.loads((out / "ingest.json").read_text())
    assert summary["n_raw"] == len(want)
    assert len(clean) == len(want), summary["excluded_by_reason"]
    items = [c for c in ITEMS if c in clean.columns]
    assert len(items) >= 27  # every Likert item at least
    for col in items:
        got = pd.to_numeric(clean[col], errors="raise").to_numpy(float)
        np.testing.assert_allclose(got, want[col].to_numpy(float), err_msg=col)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus2_file(name, tmp_path, capsys):
    path = FIX / "files" / name
    before = sha(path)
    code, err = run_ingest(path, tmp_path / "out", capsys)
    assert sha(path) == before, "raw file changed"
    expect = MANIFEST[name]
    expect, _, reason = expect.partition(":")
    if code == 0:
        assert expect != "error", f"{name} must be refused"
        check_values(tmp_path / "out")
    else:
        assert code == 2, err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1, err
        assert name in lines[0], lines[0]
        assert len(lines[0]) <= 260, lines[0]
        assert expect != "ok", lines[0]
        assert reason in lines[0], lines[0]
        assert not (tmp_path / "out" / "clean.csv").exists()
