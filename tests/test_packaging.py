"""The wheel must hold every sub-package: pyproject.toml lists them explicitly (the instruments are mapped
in as ``survey._instruments``), so a new sub-package that is not listed would be missing after a regular,
non-editable ``pip install .`` while every test of the editable install still passes."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "survey").rglob("__init__.py")
    }
    assert on_disk - listed == set()
    assert "survey._instruments" in listed and config["package-dir"]["survey._instruments"] == "instruments"


def test_package_data_covers_demo_data_and_templates() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(p.startswith("data/") for p in data["survey"])
    assert (ROOT / "survey" / "data" / "demo" / "wave1.csv").is_file()
    templates = list((ROOT / "survey" / "report" / "templates").glob("*"))
    assert templates and all(t.match(pat) for t in templates for pat in data["survey.report"])
