"""Where replicate work runs: one interface over local processes and a Dask cluster.

``get_executor(scheduler, workers)`` returns an :class:`Executor` with ``map(fn, tasks)`` that yields the
results **in task order** (so results never depend on which worker ran what) and is a context manager:

* ``scheduler`` (or the ``DASK_SCHEDULER_ADDRESS`` environment variable) set: a ``dask.distributed``
  client connected to that scheduler (``tcp://host:8786``), :class:`DaskExecutor`;
* else ``workers`` > 1 (default: the number of CPUs): local processes, ``concurrent.futures.
  ProcessPoolExecutor``, :class:`LocalExecutor`;
* ``workers`` = 1: in the calling process, :class:`SerialExecutor` (no pickling).

Callers send few, large tasks (chunks of replicates), each carrying its own random seeds, so the
results are the same whatever the executor and the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from survey.errors import SurveyInputError

ENV_SCHEDULER = "DASK_SCHEDULER_ADDRESS"


class Executor:
    """Base: ``map(fn, tasks)`` yields ``fn(task)`` in task order; ``close()`` releases resources."""

    kind = "serial"
    workers = 1

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers}>"


class SerialExecutor(Executor):
    """Run every task in the calling process."""


class LocalExecutor(Executor):
    """Local worker processes (``ProcessPoolExecutor``)."""

    kind = "processes"

    def __init__(self, workers: int) -> None:
        self.workers = int(workers)
        self._pool = ProcessPoolExecutor(max_workers=self.workers)

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        futures = [self._pool.submit(fn, t) for t in tasks]
        for f in futures:
            yield f.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster reached through its scheduler address (or an existing ``Client``)."""

    kind = "dask"

    def __init__(self, scheduler: Any) -> None:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise SurveyInputError(
                "a Dask scheduler was given but dask.distributed is not installed", field="scheduler"
            ) from exc
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            try:
                self.client, self._own = Client(scheduler, timeout="20s"), True
            except (OSError, TimeoutError, ValueError) as exc:
                raise SurveyInputError(
                    f"cannot connect to the Dask scheduler ({exc})", value=str(scheduler), field="scheduler"
                ) from exc
        self.workers = max(
            1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        )

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        futures = self.client.map(fn, list(tasks), pure=False)
        for f in futures:
            yield f.result()

    def close(self) -> None:
        if self._own:
            self.client.close()


def get_executor(scheduler: str | None = None, workers: int | None = None) -> Executor:
    """The executor for ``scheduler`` (Dask address; env ``DASK_SCHEDULER_ADDRESS``) or ``workers``."""
    address = scheduler if scheduler is not None else os.environ.get(ENV_SCHEDULER) or None
    if address:
        return DaskExecutor(address)
    if workers is not None and int(workers) < 1:
        raise SurveyInputError("workers must be at least 1", value=workers, field="workers")
    n = int(workers) if workers is not None else (os.cpu_count() or 1)
    return SerialExecutor() if n <= 1 else LocalExecutor(n)


def chunks(n: int, size: int) -> list[range]:
    """Split ``range(n)`` into consecutive ranges of at most ``size``."""
    size = max(1, int(size))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]
