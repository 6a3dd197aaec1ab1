"""`survey instrument ...` through survey.cli.main: output, exit status 2 and one line on bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from survey.cli import main

SHIPPED = Path(str(files("survey._instruments"))) / "follow-drivers"


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


def bad_yaml(tmp_path: Path) -> Path:
    data = yaml.safe_load((SHIPPED / "1.1.0.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    next(i for i in data["items"] if i["id"] == "GENDER")["keyed"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_list(capsys) -> None:
    code, out, _ = run(capsys, "instrument", "list")
    assert code == 0 and out.splitlines()[:2] == ["follow-drivers@1.0.0", "follow-drivers@1.1.0"]


def test_show(capsys) -> None:
    code, out, _ = run(capsys, "instrument", "show", "follow-drivers@1.1.0")
    assert code == 0
    assert out.startswith("follow-drivers@1.1.0: Why people follow creators")
    assert "AUT   Authenticity and relatability: AUT1 AUT2 AUT3 AUT4(-)" in out
    code, out, _ = run(capsys, "instrument", "show", "follow-drivers@1.0.0", "--lavaan")
    assert code == 0 and out.splitlines()[0] == "SHI =~ SHI1 + SHI2 + SHI3 + SHI4"
    assert "FOLLOWED30 ~ c_FOL*FOL" in out and "CON5" not in out
    code, out, _ = run(capsys, "instrument", "show", "follow-drivers@1.1.0", "--json", "--lavaan")
    payload = json.loads(out)
    assert code == 0 and payload["spec"] == "follow-drivers@1.1.0"
    assert "ind_PEER := b_PEER*c_FOL" in payload["lavaan"]
    assert payload["warnings"] == []


def test_validate(capsys, tmp_path: Path) -> None:
    path = SHIPPED / "1.0.0.yaml"
    code, out, err = run(capsys, "instrument", "validate", str(path))
    assert code == 0 and out == f"{path}: valid\n" and err == ""
    bad = bad_yaml(tmp_path)
    code, out, err = run(capsys, "instrument", "validate", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {bad}: field 'items[GENDER].keyed', value -1: ")


def test_validate_prints_warnings(capsys, tmp_path: Path) -> None:
    data = yaml.safe_load((SHIPPED / "1.1.0.yaml").read_text(encoding="utf-8"))
    data["items"] = [i for i in data["items"] if i["id"] != "FOL3"]
    data["blocks"][3]["items"].remove("FOL3")
    path = tmp_path / "weak.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, _ = run(capsys, "instrument", "validate", str(path))
    assert code == 0
    assert out.splitlines() == [f"{path}: valid",
                                "warning: weak.yaml: construct 'FOL' has 2 indicators; at least 3 are "
                                "recommended for a reflective measurement model"]


def test_diff(capsys) -> None:
    code, out, _ = run(capsys, "instrument", "diff", "follow-drivers@1.0.0", "follow-drivers@1.1.0")
    assert code == 0 and "reworded  AUT2" in out and "added     CON5 (CON)" in out
    code, out, _ = run(capsys, "instrument", "diff", "follow-drivers@1.0.0", "follow-drivers@1.1.0", "--json")
    payload = json.loads(out)
    assert payload["reworded"] == ["AUT2"] and payload["added"] == ["CON5"] and payload["removed"] == []
    assert payload["constructs"]["AUT"]["comparable"] is True


@pytest.mark.parametrize("fmt,name", [("xlsform", "form.xlsx"), ("codebook", "codebook.md"),
                                      ("datapackage", "datapackage.json")])
def test_export(capsys, tmp_path: Path, fmt: str, name: str) -> None:
    out_file = tmp_path / "sub" / name
    code, out, _ = run(capsys, "instrument", "export", "follow-drivers@1.1.0", "--to", fmt,
                       "--out", str(out_file))
    assert code == 0 and out == f"wrote {out_file}\n"
    assert sorted(p.name for p in out_file.parent.iterdir()) == [name]
    if fmt == "xlsform":
        assert load_workbook(out_file).sheetnames == ["survey", "choices", "settings"]
    elif fmt == "codebook":
        assert out_file.read_text(encoding="utf-8").startswith("# Codebook:")
    else:
        assert json.loads(out_file.read_text(encoding="utf-8"))["version"] == "1.1.0"


def test_bad_input_is_one_line_exit_2(capsys, tmp_path: Path) -> None:
    out_file = tmp_path / "x.md"
    cases = [
        (("instrument", "show", "nope@1.0.0"), "unknown instrument 'nope'; available: follow-drivers@1.0.0"),
        (("instrument", "show", "follow-drivers@3.0.0"), "has no version '3.0.0'; available: 1.0.0, 1.1.0"),
        (("instrument", "export", "follow-drivers@1.1.0", "--to", "pdf", "--out", str(out_file)),
         "--to: unknown format 'pdf'"),
        (("instrument", "export", "nope@1.0.0", "--to", "codebook", "--out", str(out_file)),
         "unknown instrument"),
        (("instrument", "diff", "follow-drivers@1.0.0", "follow-drivers@9.9.9"), "no version '9.9.9'"),
        (("instrument", "validate", str(tmp_path / "absent.yaml")), "instrument file not found"),
    ]
    for argv, fragment in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
        assert "Traceback" not in err
    assert not out_file.exists()


def test_console_entry_point_no_traceback(tmp_path: Path) -> None:
    bad = bad_yaml(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "survey.cli", "instrument", "validate", str(bad)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "reverse keying needs an ordinal scale, but scale 'gender' is nominal" in proc.stderr
