"""`survey fit --test NAME[,NAME]` (lavaan's test=) on both front ends against lavaan 0.6.14
(tests/fixtures/lang3/lang3.json, make_lang3.R): the --json object's "tests" = lavInspect(fit, "test")
(stat, df, pvalue, scaling factors and traces) within 1e-3 (1e-5 relative on the statistics), the
least-squares scaled tests (API-only before) included; a bad or doubled test option is a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey import cli, cli_light

HERE = Path(__file__).parent / "fixtures" / "lang3"
REF = json.loads((HERE / "lang3.json").read_text())
DATA = HERE / REF["data"]["complete"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("testflag") / "hs.lav"
    path.write_text(REF["models"]["hs"] + "\n")
    return path


def _run(entry, argv, capsys):
    with pytest.raises(SystemExit) as info:
        entry(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


@pytest.mark.parametrize("case, flags", [
    ("cli_ml_sb_browne", ["--test", "satorra.bentler,browne.residual.adf"]),
    ("cli_uls_ss", ["--estimator", "ULS", "--test", "scaled.shifted"]),
])
def test_json_tests_equal_lavaan_on_both_front_ends(model_file, case, flags, capsys):
    argv = ["fit", str(model_file), str(DATA), *flags, "--json"]
    fast = _run(cli_light.main, argv, capsys)
    slow = _run(cli.main, argv, capsys)
    assert fast == slow and fast[0] == 0, fast[2]
    tests = json.loads(fast[1])["tests"]
    ref = REF["cases"][case]["test"]
    assert set(tests) == set(ref)
    compared = 0
    for name, entry in ref.items():
        for key in ("stat", "df", "pvalue", "scaling.factor", "shift.parameter", "trace.UGamma",
                    "trace.UGamma2"):
            if key in entry and entry[key] is not None:
                assert tests[name][key] == pytest.approx(entry[key], rel=1e-5, abs=1e-8), (name, key)
                compared += 1
    assert compared >= 8


def test_text_summary_shows_the_scaled_test(model_file, capsys):
    argv = ["fit", str(model_file), str(DATA), "--estimator", "ULS", "--test", "satorra.bentler"]
    status, out, _ = _run(cli_light.main, argv, capsys)
    assert status == 0 and "Scaled" in out and "Satorra-Bentler" in out
    assert _run(cli.main, argv, capsys) == (status, out, _)


@pytest.mark.parametrize("flags", [["--test", "nonsense"], ["--test", ","],
                                   ["--test", "satorra.bentler", "--option", "test=standard"]])
def test_bad_test_options_are_one_line_errors(model_file, flags, capsys):
    argv = ["fit", str(model_file), str(DATA), *flags]
    fast = _run(cli_light.main, argv, capsys)
    assert fast == _run(cli.main, argv, capsys)
    assert fast[0] == 2 and fast[1] == "" and fast[2].startswith("error: ") and fast[2].count("\n") == 1
