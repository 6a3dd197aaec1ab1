"""DESIGN.md: "A stage imports only the stages before it" (instrument -> ingest -> quality -> measure ->
sem -> power -> report; simulate may import instrument; power may also import simulate; cli imports
anything). Every import statement is checked,
at module level and inside functions, in every module of each stage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "survey"
ORDER = ["instrument", "ingest", "quality", "measure", "sem", "power", "report"]
ALLOWED = {stage: set(ORDER[: i + 1]) for i, stage in enumerate(ORDER)}
ALLOWED["simulate"] = {"simulate", "instrument"}
ALLOWED["power"] = set(ORDER[: ORDER.index("power") + 1]) | {"simulate"}  # study planning simulates
ALLOWED["report"] = set(ORDER) | {"simulate"}  # the report (and the cli) may import anything
# not stages: importable from anywhere
SHARED = {"errors", "personal", "_instruments", "data", "distributions", "progress"}


def _imported_stages(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "survey"]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        for name in names:
            parts = name.split(".")
            if parts[0] == "survey" and len(parts) > 1:
                out.append((node.lineno, parts[1]))
    return out


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_earlier_stages(stage):
    bad = []
    for path in sorted((PACKAGE / stage).rglob("*.py")):
        for line, target in _imported_stages(path):
            if target not in ALLOWED[stage] and target not in SHARED:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports survey.{target}")
    assert not bad, "\n".join(bad)


def test_imports_inside_functions_are_seen():
    stages = {target for _, target in _imported_stages(PACKAGE / "cli.py")}
    assert {"ingest", "quality", "sem"} <= stages  # cli.py imports the stages inside its commands
