"""analysis/notebooks/explore.ipynb runs top to bottom with nbclient (analysis/paper.py's run, compared
byte for byte with the committed reports/paper/, is tests/test_paper.py's one paper build).

The kernel is the interpreter running the tests: a kernelspec pointing at ``sys.executable`` is written
to a temporary Jupyter data directory (``JUPYTER_PATH``), so the test needs nothing installed
beyond ``make install`` (ipykernel from the dev extras) and never touches the user's kernels. The notebook
reads its configuration from ``SURVEY_PAPER_CONFIG`` when set: here analysis/paper.yaml with fewer
bootstrap replicates and one invariance sequence (the first of its ``groups``) instead of three, so every
stage, table and figure of the paper is shown; the paper's numbers are checked in tests/test_paper.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "analysis" / "notebooks" / "explore.ipynb"
REPLICATES = 100  # the notebook's bootstrap (analysis/paper.yaml: 1,000)
GROUPS = 1  # invariance sequences (analysis/paper.yaml: 3)


@pytest.fixture()
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "survey-test-python"
    spec_dir = tmp_path / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "survey test kernel", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    paths = [str(tmp_path / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(p for p in paths if p))
    return name


@pytest.fixture()
def lighter_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """analysis/paper.yaml with REPLICATES bootstrap replicates and its first GROUPS grouping variables,
    named by SURVEY_PAPER_CONFIG."""
    import yaml

    raw = yaml.safe_load((ROOT / "analysis" / "paper.yaml").read_text())
    assert raw["bootstrap"]["replicates"] > REPLICATES
    raw["bootstrap"]["replicates"] = REPLICATES
    assert len(raw["groups"]) > GROUPS
    raw["groups"] = raw["groups"][:GROUPS]
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    monkeypatch.setenv("SURVEY_PAPER_CONFIG", str(path))
    return path


def test_explore_notebook_executes(kernel_name: str, lighter_config: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "commit the notebook without outputs"
    client = NotebookClient(notebook, kernel_name=kernel_name, timeout=1500,
                            resources={"metadata": {"path": str(ROOT / "analysis" / "notebooks")}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]
    assert any("Exclusion flow" in h for h in html)          # ScreenedData._repr_html_
    assert any("Table 7" in h for h in html)                 # Paper._repr_html_ with its tables
    assert any("<i>Measurement invariance</i>" in h for h in html)  # the invariance table among them
    svgs = [o for o in outputs if "data" in o and "image/svg+xml" in o["data"]]
    assert len(svgs) == 4  # every paper figure, the forest plot of the paths included

