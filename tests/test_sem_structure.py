"""survey/sem is one pipeline without import circles (issue 14): the graph of survey.sem's imports at import
time (module level, and lazy imports inside functions; TYPE_CHECKING-only imports excluded) has no cycle, and
the engine's stages import only earlier ones, in the order syntax -> model -> data -> estimate -> inference
-> measures -> results (each sub-package imports only the sub-packages before it); and there is one result
class."""

from __future__ import annotations

import ast
from pathlib import Path

import survey.sem

ROOT = Path(survey.sem.__file__).parent
STAGES = ["syntax", "model", "data", "estimate", "inference", "measures", "results"]


def _modname(path: Path) -> str:
    parts = ["survey", *path.relative_to(ROOT.parent).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST):
    """ImportFrom nodes outside ``if TYPE_CHECKING:`` blocks."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and id(n) not in skip]


def _graph() -> dict[str, set[str]]:
    mods = {_modname(p): p for p in ROOT.rglob("*.py")}

    def resolve(name: str) -> str:
        while name and name not in mods:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name

    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in _runtime_imports(ast.parse(p.read_text(encoding="utf-8"))):
            if node.module and node.module.startswith("survey.sem"):
                for alias in node.names:
                    r = resolve(f"{node.module}.{alias.name}")
                    if r and r != m and not m.startswith(r + "."):  # a module's own parent package
                        edges[m].add(r)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            strong(v)
    return out


def test_no_import_cycle_in_survey_sem():
    assert _cycles(_graph()) == []


def test_engine_stages_import_only_earlier_stages():
    edges = _graph()
    for m, targets in edges.items():
        parts = m.split(".")
        if len(parts) < 3 or parts[2] not in STAGES:
            continue
        mine = STAGES.index(parts[2])
        for t in targets:
            tp = t.split(".")
            if len(tp) >= 3 and tp[2] in STAGES:
                assert STAGES.index(tp[2]) <= mine, f"{m} imports the later stage {t}"


def test_one_result_class():
    from survey.sem import MultiGroupResult, SEMResult
    from survey.sem.ordinal.fit import OrdinalFit
    from survey.sem.ordinal.multigroup import GroupFit
    from survey.sem.result import SEMResult as OldPath

    assert MultiGroupResult is SEMResult is OldPath
    # ordinal fits (one group, several) are SEMResults; every public method of SEMResult is their own
    public = {n for n, v in vars(SEMResult).items() if not n.startswith("_") and callable(v)}
    assert {"estimates", "fit_measures", "summary", "standardized_solution", "modindices", "vcov"} <= public
    for cls in (OrdinalFit, GroupFit):
        assert issubclass(cls, SEMResult)
        assert not [n for n in public if getattr(cls, n) is getattr(SEMResult, n)], cls
