"""The provenance manifest of a paper run.

``manifest.json`` is committed and byte-compared, so it holds only what is fixed by the inputs: the
instrument (name@version and the sha256 of its YAML), the data (sha256 of each raw file and of the
analytic data), the configuration, package versions, seeds and the sha256 of every other output file.
It has no timestamps and no absolute paths.

The git commit changes with every commit, so it is written to ``provenance.local.json`` instead,
together with the full Python version, the platform and the wall time; that file is listed in the
output folder's ``.gitignore`` (written by every run) and is never compared. The manifest records the
Python version as major.minor only.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = {"numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "semopy": "semopy",
            "matplotlib": "matplotlib", "pillow": "pillow", "jinja2": "jinja2", "python-docx": "python-docx",
            "pydantic": "pydantic", "survey": "follow-drivers"}
LOCAL_FILE = "provenance.local.json"


def package_versions() -> dict[str, str]:
    """Versions of Python (major.minor: the patch release changes no number or byte, and differs
    between machines; the full version is in the local file) and of the packages whose code produces
    the numbers and the bytes."""
    versions = {"python": ".".join(platform.python_version_tuple()[:2])}
    for key, dist in PACKAGES.items():
        try:
            versions[key] = version(dist)
        except PackageNotFoundError:
            versions[key] = "not installed"
    return versions


def local_provenance(wall_seconds: float) -> dict[str, Any]:
    """The machine-specific record (``provenance.local.json``): git commit, full Python version,
    platform, wall time of the analysis (before rendering)."""
    return {"git": git_commit(), "python": platform.python_version(), "platform": platform.platform(),
            "analysis_seconds": round(wall_seconds, 2)}


def git_commit(cwd: Path | None = None) -> dict[str, Any]:
    """The current git commit and whether the working tree has changes (``{}`` outside a git checkout)."""
    root = cwd or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": head, "dirty": bool(dirty)}


def dumps(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, two-space indent, UTF-8, final newline."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")
