"""analysis/notebooks/explore.ipynb runs top to bottom with nbclient, and analysis/paper.py runs.

The kernel is the interpreter running the tests: a kernelspec pointing at ``sys.executable`` is written
to a temporary Jupyter data directory (``JUPYTER_PATH``), so the test needs nothing installed
beyond ``make install`` (ipykernel from the dev extras) and never touches the user's kernels.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from survey.report.provenance import LOCAL_FILE

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "analysis" / "notebooks" / "explore.ipynb"


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


def test_explore_notebook_executes(kernel_name: str) -> None:
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
    svgs = [o for o in outputs if "data" in o and "image/svg+xml" in o["data"]]
    assert len(svgs) == 4  # every paper figure, the forest plot of the paths included


def test_analysis_script_runs(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "paper"
    result = subprocess.run([sys.executable, "analysis/paper.py", "analysis/paper.yaml", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr
    assert "Table 7. Structural model: hypothesis tests" in result.stdout
    # a second, independent run of the whole paper: byte for byte the committed reports/paper/ (with
    # tests/test_paper.py's in-process run, two runs give identical bytes)
    committed_dir = ROOT / "reports" / "paper"
    files = {q.relative_to(out).as_posix() for q in out.rglob("*") if q.is_file() and q.name != LOCAL_FILE}
    committed = {q.relative_to(committed_dir).as_posix() for q in committed_dir.rglob("*") if q.is_file()
                 and q.name != LOCAL_FILE}
    assert files == committed
    different = [n for n in sorted(files) if (out / n).read_bytes() != (committed_dir / n).read_bytes()]
    assert different == [], f"analysis/paper.py wrote other bytes than reports/paper ({different})"
