"""Progress of the paper on stderr: a bar on a terminal, one line per stage otherwise.

``SURVEY_PROGRESS=0`` (set by ``--json`` commands and the tests) silences it. Progress never enters the
outputs, so the paper's bytes do not depend on it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

STAGES = ("data: ingest and screens", "measurement model (CFA)", "structural model (SEM)",
          "reliability and scale scores", "path comparison", "measurement invariance",
          "tables, figures and text", "rendering and writing")


class Progress:
    """``with Progress("survey paper") as p: p.stage("...")``; stages beyond :data:`STAGES` still print."""

    def __init__(self, name: str, total: int = len(STAGES)) -> None:
        self.name, self.total, self.done = name, total, 0
        self.quiet = os.environ.get("SURVEY_PROGRESS", "1") == "0"
        self._bar: Any = None
        if not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=sys.stderr, desc=name, unit="stage", leave=False)

    def stage(self, label: str) -> None:
        """Announce the stage that starts now."""
        if self.quiet:
            return
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(label)
            self._bar.update(1)
        else:
            print(f"{self.name}: [{self.done}/{self.total}] {label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_CURRENT: list[Progress] = []


def stage(label: str) -> None:
    """Announce a stage on the active :class:`Progress` (nothing when none is active)."""
    if _CURRENT:
        _CURRENT[-1].stage(label)


def active(progress: Progress) -> Progress:
    """Make ``progress`` the one :func:`stage` reports to (until it is closed by :func:`release`)."""
    _CURRENT.append(progress)
    return progress


def release() -> None:
    if _CURRENT:
        _CURRENT.pop().close()
