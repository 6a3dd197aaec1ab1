"""The embedded demo data: two survey waves as raw Qualtrics exports, shipped as package data.

- ``survey/data/demo/wave1.csv``: 700 rows under follow-drivers@1.0.0 (fielded from 2026-03-02);
- ``survey/data/demo/wave2.csv``: 800 rows under follow-drivers@1.1.0 (CON5 added, AUT2 reworded with
  the same population parameters; fielded from 2026-09-14);

each with ``<file>.truth.json``. Both are generated from one seed (default 20261128): wave k uses the
seed ``seed + k`` so the two waves are different people drawn from the same population.
:func:`write_demo` regenerates them byte for byte; the tests check the shipped files against it.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from survey.simulate.export import atomic_write, export_bytes, truth_bytes, truth_path
from survey.simulate.raw import simulate_raw
from survey.simulate.responses import resolve_instrument

DEMO_SEED = 20261128
WAVES: tuple[tuple[str, str, int, str], ...] = (
    ("wave1.csv", "follow-drivers@1.0.0", 700, "2026-03-02 08:00:00"),
    ("wave2.csv", "follow-drivers@1.1.0", 800, "2026-09-14 08:00:00"),
)


def write_demo(directory: Path | str, seed: int = DEMO_SEED) -> list[Path]:
    """Write the two demo waves (Qualtrics CSV) and their truth files into ``directory``."""
    directory = Path(directory)
    out: dict[Path, bytes] = {}
    for k, (name, spec, n, start) in enumerate(WAVES, start=1):
        inst = resolve_instrument(spec)
        frame, truth = simulate_raw(n, seed + k, inst, start=start)
        truth["format"] = "qualtrics"
        truth["choice_text"] = False
        truth["wave"] = k
        path = directory / name
        out[path] = export_bytes(frame, inst, "qualtrics")
        out[truth_path(path)] = truth_bytes(truth)
    atomic_write(out)
    return list(out)


def demo_files() -> list[tuple[Path, str]]:
    """``[(path of the shipped wave file, instrument spec)]`` for the two demo waves, oldest first."""
    root = files("survey") / "data" / "demo"
    result = []
    for name, spec, _, _ in WAVES:
        with as_file(root / name) as path:
            result.append((Path(path), spec))
    return result
