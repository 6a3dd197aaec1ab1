"""Progress of the paper on stderr (:mod:`survey.progress`): a bar on a terminal, a line per stage otherwise.

``SURVEY_PROGRESS=0`` (set by ``--json`` commands and the tests) silences it. Progress never enters the
outputs, so the paper's bytes do not depend on it.
"""

from __future__ import annotations

from survey.progress import Progress as _Progress

STAGES = ("data: ingest and screens", "measurement model (CFA)", "structural model (SEM)",
          "reliability and scale scores", "path comparison", "measurement invariance",
          "tables, figures and text", "rendering and writing")


class Progress(_Progress):
    """The paper's :class:`survey.progress.Progress`: ``total`` defaults to the :data:`STAGES`; stages
    beyond them still print."""

    def __init__(self, name: str, total: int = len(STAGES)) -> None:
        super().__init__(name, total)


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
