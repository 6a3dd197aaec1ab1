"""The shipped instruments are found after a regular, non-editable `pip install .` (package data)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_non_editable_install_finds_instruments(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("survey", "instruments"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(src)], check=True, timeout=600)
    assert (target / "survey" / "_instruments" / "follow-drivers" / "1.1.0.yaml").is_file()
    code = ("from survey.instrument import list_instruments, load_instrument\n"
            "import survey\n"
            "print(survey.__file__)\n"
            "print(list_instruments())\n"
            "print(load_instrument('follow-drivers@1.0.0').source)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(target))
    assert lines[1] == "['follow-drivers@1.0.0', 'follow-drivers@1.1.0']"
    assert lines[2].startswith(str(target / "survey" / "_instruments"))
