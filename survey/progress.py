"""Progress of long work on stderr: a bar on a terminal (tqdm), a line per stage otherwise.

Used by the paper (its stages), invariance (its steps), the bootstrap and Monte Carlo power (their
replicates: off a terminal a line at every tenth of the work, so a log shows how far it got without
a line per replicate). ``SURVEY_PROGRESS=0`` (set by ``--json`` commands and the tests) silences it
unless a caller asks for it explicitly (``enabled=True``, e.g. ``survey power --progress``).
Progress never enters an output: nothing is written to stdout, so results do not depend on it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "quiet", "quiet_for_json"]


def quiet() -> bool:
    """Whether progress is silenced for this process (``SURVEY_PROGRESS=0``)."""
    return os.environ.get("SURVEY_PROGRESS", "1") == "0"


@contextmanager
def quiet_for_json(as_json: bool) -> Iterator[None]:
    """Within the block, progress is silenced (``SURVEY_PROGRESS=0``) when a command prints JSON and
    stderr is not a terminal: a script reading the JSON gets no progress lines in its captured stderr,
    while a person at a terminal still sees the bar (on stderr, never in the JSON). Restored after."""
    if not as_json or sys.stderr.isatty():
        yield
        return
    before = os.environ.get("SURVEY_PROGRESS")
    os.environ["SURVEY_PROGRESS"] = "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SURVEY_PROGRESS", None)
        else:
            os.environ["SURVEY_PROGRESS"] = before


class Progress:
    """``with Progress("survey paper", 8) as p: p.stage("...")`` or ``p.update(n)`` for units of work.

    ``enabled``: None = on unless :func:`quiet`; True = on; False = off. On a terminal a tqdm bar
    (``desc`` = ``name``), else lines ``name: [3/8] label`` per stage, ``name: 250/1000 rep`` per
    tenth of the units. ``initial`` counts units already done (a resumed run).
    """

    def __init__(self, name: str, total: int, unit: str = "stage", enabled: bool | None = None,
                 initial: int = 0) -> None:
        self.name, self.total, self.unit, self.done = name, int(total), unit, int(initial)
        self.quiet = (enabled is False) or (enabled is None and quiet())
        self._bar: Any = None
        self._next_line = self._step() * (self.done // self._step() + 1)
        if not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, file=sys.stderr, desc=name, unit=unit,
                             leave=False)

    def _step(self) -> int:
        return max(1, -(-self.total // 10))

    def stage(self, label: str) -> None:
        """Announce the stage that starts now (one line off a terminal)."""
        if self.quiet:
            return
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(label)
            self._bar.update(1)
        else:
            print(f"{self.name}: [{self.done}/{self.total}] {label}", file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        """``n`` more units done (a line off a terminal at every tenth of the total, and at the end)."""
        if self.quiet:
            return
        self.done += int(n)
        if self._bar is not None:
            self._bar.update(n)
        elif self.done >= self._next_line or self.done >= self.total:
            print(f"{self.name}: {min(self.done, self.total)}/{self.total} {self.unit}", file=sys.stderr,
                  flush=True)
            self._next_line = self._step() * (self.done // self._step() + 1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
