"""Point 2 of issue 18: no traceback on input. Hypothesis drives the CLI commands that read data
(ingest, quality, reliability, fit) in-process with generated malformed files; each run either
succeeds (exit 0) or exits 2 with one line on stderr naming the file. The raw file is never modified."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.cli import main
from survey.instrument import load_instrument

V1 = "follow-drivers@1.0.0"
ITEMS = ["SHI1", "SHI2", "SHI3", "SHI4", "SKL1", "SKL2", "FOL1", "ATT1", "FOLLOWED30", "GENDER"]
META = ["ResponseId", "Status", "Progress", "Finished", "Duration (in seconds)", "IPAddress", "id", "_uuid",
        "SHI1 - Topics", "", "X", "Q99", "shi1", "PROLIFIC_PID", "@_uuid", "__version__", "Timestamp",
        "Email address"]
CELLS = ["1", "2", "4", "7", "8", "9", "-99", "0", "3.5", "", " ", "NA", "None", "null", "N/A", "Agree",
         "strongly agree", "=1+1", "@SUM(A1)", "-", "jane@example.org", "+49 30 1234567", "10.0.0.1",
         "x" * 300, '"', '""', "a,b", "1e308", "inf", "nan", "True", "False", "\u00e9", "\u201c", "R_1", "1",
         "3,5", "1.234,5", "1,234", "0.5", "a\rb"]
_counter = itertools.count()


def _text(header: list[str], rows: list[list[str]], sep: str, end: str) -> str:
    def cell(c: str) -> str:
        return f'"{c}"' if (sep in c or "\n" in c) and '"' not in c else c

    return end.join(sep.join(cell(c) for c in r) for r in [header, *rows]) + end


ALL_ITEMS = [i for i in load_instrument(V1).item_ids if i != "COMMENT"]
VALID = ["1", "2", "3", "4", "5", "6", "7", "4", "5", "3"]


@st.composite
def raw_files(draw) -> bytes:
    kind = draw(st.sampled_from(["csv", "csv", "near-valid", "near-valid", "qualtrics", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "near-valid":  # every item (a few dropped), valid codes with a few hostile cells
        dropped = set(draw(st.lists(st.sampled_from(ALL_ITEMS), max_size=2)))
        header = draw(st.lists(st.sampled_from(META), max_size=3, unique=True))
        header += [i for i in ALL_ITEMS if i not in dropped]
        n = draw(st.integers(0, 12))
        rows = [[draw(st.sampled_from(VALID)) for _ in header] for _ in range(n)]
        for _ in range(draw(st.integers(0, 3))):
            if rows:
                r, c = draw(st.integers(0, n - 1)), draw(st.integers(0, len(header) - 1))
                rows[r][c] = draw(st.sampled_from(CELLS))
    else:
        header = draw(st.lists(st.sampled_from(ITEMS + META), min_size=1, max_size=8))
        rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=max(0, len(header) - 1),
                                      max_size=len(header) + 1), max_size=6))
    width = len(header)
    if draw(st.booleans()):  # mostly well-formed rows
        rows = [(r + [""] * width)[:width] for r in rows]
    if kind == "qualtrics":
        rows = [header, [f'{{"ImportId":"QID{i}"}}' for i in range(width)], *rows]
    sep = draw(st.sampled_from([",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = _text(header, rows, sep, end)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # truncated
    return data


COMMANDS = st.sampled_from(["ingest", "ingest-lenient", "ingest-out-file", "quality-instrument",
                            "quality-items", "reliability", "fit"])


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    (d / "model.lav").write_text("F =~ SHI1 + SHI2 + SHI3\n", encoding="utf-8")
    (d / "afile").write_text("not a folder\n", encoding="utf-8")
    return d


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(data=raw_files(), command=COMMANDS)
def test_cli_never_tracebacks(workdir, data, command):
    n = next(_counter)
    raw = workdir / f"raw{n}.csv"
    raw.write_bytes(data)
    before = hashlib.sha256(data).hexdigest()
    out = str(workdir / f"out{n}")
    argv = {
        "ingest": ["ingest", str(raw), "--instrument", V1, "--out", out],
        "ingest-lenient": ["ingest", str(raw), "--instrument", V1, "--out", out, "--lenient"],
        "ingest-out-file": ["ingest", str(raw), "--instrument", V1, "--out", str(workdir / "afile")],
        "quality-instrument": ["quality", str(raw), "--instrument", V1, "--json"],
        "quality-items": ["quality", str(raw), "--items", "SHI1,SHI2,SHI3"],
        "reliability": ["reliability", V1, str(raw)],
        "fit": ["fit", str(workdir / "model.lav"), str(raw)],
    }[command]
    code, err = run(argv)
    assert code in (0, 2), err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: ")
        assert raw.name in lines[0] or "afile" in lines[0], lines[0]
        assert len(lines[0]) <= 260, lines[0]
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == before


COUNTS = str(Path(__file__).parent / "fixtures" / "ingest" / "platforms" / "counts.yaml")


def test_named_cases_work_or_fail_in_one_line(tmp_path):
    """The cases the issue names: an instrument without Likert items, a numeric id column with blank
    cells, --out naming an existing file."""
    raw = tmp_path / "c.csv"
    raw.write_text("id,N1,YN\n1,3,1\n2,4,2\n,5,1\n4,-99,2\n", encoding="utf-8")
    code, err = run(["ingest", str(raw), "--instrument", COUNTS, "--out", str(tmp_path / "o")])
    assert code == 0, err
    clean = (tmp_path / "o" / "clean.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[0] for r in clean] == ["respondent_id", "1", "2", "c-3", "4"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, err = run(["ingest", str(raw), "--instrument", COUNTS, "--out", str(tmp_path / "file")])
    assert code == 2 and err.count("\n") == 1 and "names an existing file" in err
    code, err = run(["quality", str(raw), "--instrument", COUNTS, "--json"])
    assert code == 0, err
