"""Where the replications run: in process, on a Dask LocalCluster, or on a Dask scheduler; checkpoints.

:func:`run_replications` computes the records of (n, rep) pairs in chunks (a chunk is one Dask task, so
the work is a few large tasks) and returns them sorted by (n, rep): since each record depends on its
own (seed, n, rep) stream only (:func:`survey.power.replicate.rng_for`), the result is the same with 1,
2 or 8 workers and with any chunking.

* ``scheduler`` (or the environment variable ``DASK_SCHEDULER_ADDRESS``): a ``dask.distributed.Client``
  connected to that scheduler;
* else ``workers`` = 1: the calling process, no Dask;
* else a ``dask.distributed.LocalCluster`` with ``workers`` single-threaded workers (``processes``:
  worker processes, default; False: threads of this process). On Linux the worker processes are forked
  (:func:`start_method`), as R's ``parallel::mclapply`` forks: they start in a fraction of a second with the
  engine already imported, where spawned workers each import it anew (5-10 s on a loaded 2-core machine).

Checkpoint: finished records are appended to a JSON-lines file as they arrive (first line: the run's
fingerprint); a rerun with the same fingerprint reads them and computes only what is missing, so an
interrupted run resumes. A checkpoint written for another model, population, seed or option is refused.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from survey.errors import SurveyInputError
from survey.power.replicate import PowerSpec, replicate_chunk

ENV_SCHEDULER = "DASK_SCHEDULER_ADDRESS"
ENV_START = "SURVEY_POWER_START_METHOD"


class Checkpoint:
    """A JSON-lines file of finished records keyed by (n, rep), tied to one run's fingerprint."""

    def __init__(self, path: str | os.PathLike | None, fingerprint: dict[str, Any]) -> None:
        self.path = None if path is None else Path(path)
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
        self.records: dict[tuple[int, int], dict[str, Any]] = {}
        if self.path is not None and self.path.is_file() and self.path.stat().st_size:
            self._read()
        elif self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"fingerprint": self.fingerprint}, sort_keys=True) + "\n",
                                 encoding="utf-8")

    def _read(self) -> None:
        assert self.path is not None
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            head = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            raise SurveyInputError("not a power checkpoint (first line is not its fingerprint)",
                                   file=str(self.path), row=1) from None
        if head.get("fingerprint") != self.fingerprint:
            raise SurveyInputError("checkpoint belongs to another run (model, population, seed or options "
                                   "differ); use another file or delete it", file=str(self.path), row=1)
        for k, line in enumerate(lines[1:], start=2):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if k == len(lines):  # a line cut by the interruption: dropped (recomputed), file repaired
                    self.path.write_text("".join(ln + "\n" for ln in lines[:-1]), encoding="utf-8")
                    break
                raise SurveyInputError("unreadable checkpoint line", file=str(self.path), row=k) from None
            self.records[(int(rec["n"]), int(rec["rep"]))] = rec
        else:
            text = self.path.read_text(encoding="utf-8")
            if not text.endswith("\n"):
                self.path.write_text(text + "\n", encoding="utf-8")

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        new = list(records)
        for rec in new:
            self.records[(rec["n"], rec["rep"])] = rec
        if self.path is not None and new:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in new))
                fh.flush()


def _chunks(tasks: list[tuple[int, int]], size: int) -> list[list[tuple[int, int]]]:
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def _progress(total: int, enabled: bool | None, initial: int = 0):
    """A bar on a terminal, a line per tenth of the replications otherwise (:mod:`survey.progress`)."""
    from survey.progress import Progress

    return Progress("power", total, unit="rep", enabled=enabled, initial=initial)


def run_replications(
    spec: PowerSpec,
    tasks: list[tuple[int, int]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    processes: bool = True,
    checkpoint: Checkpoint | None = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Records of every (n, rep) in ``tasks``, sorted by (n, rep) (module docstring)."""
    ckpt = checkpoint or Checkpoint(None, spec.fingerprint())
    todo = [t for t in dict.fromkeys((int(n), int(r)) for n, r in tasks) if t not in ckpt.records]
    address = scheduler or os.environ.get(ENV_SCHEDULER) or None
    n_workers = max(1, int(workers)) if workers else (1 if address is None else 2)
    size = chunk_size or max(1, min(25, -(-len(todo) // max(4 * n_workers, 1)))) if todo else 1
    bar = _progress(len(tasks), progress, initial=len(tasks) - len(todo))
    try:
        if todo and address is None and n_workers == 1:
            for chunk in _chunks(todo, size):
                ckpt.add(replicate_chunk(spec, chunk))
                bar.update(len(chunk))
        elif todo:
            _run_dask(spec, _chunks(todo, size), ckpt, bar, address, n_workers, processes)
    finally:
        bar.close()
    wanted = dict.fromkeys((int(n), int(r)) for n, r in tasks)
    return [ckpt.records[t] for t in sorted(wanted)]


def start_method() -> str:
    """How LocalCluster starts its worker processes: ``fork`` on Linux, as R's ``mclapply`` (the workers
    inherit the imported engine, no 2-5 s of imports per worker), unless Dask is configured otherwise
    (``distributed.worker.multiprocessing-method``) or ``SURVEY_POWER_START_METHOD`` names a method."""
    import dask

    configured = os.environ.get(ENV_START) or dask.config.get("distributed.worker.multiprocessing-method")
    if os.environ.get(ENV_START) or configured != "spawn" or not sys.platform.startswith("linux"):
        return str(configured)
    return "fork"


def _run_dask(spec: PowerSpec, chunks: list[list[tuple[int, int]]], ckpt: Checkpoint, bar: Any,
              address: str | None, n_workers: int, processes: bool) -> None:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    import survey.power.fast  # noqa: F401  (imported before the workers fork: they inherit it)

    cluster = None
    try:
        if address is not None:
            try:
                client = Client(address, timeout="10s")
            except OSError as exc:
                raise SurveyInputError(f"cannot reach the Dask scheduler ({exc})".splitlines()[0],
                                       field="scheduler", value=address) from None
        else:
            with dask.config.set({"distributed.worker.multiprocessing-method": start_method()}):
                cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                                       dashboard_address=":0", silence_logs=40)
            client = Client(cluster)
        with client:
            remote = client.scatter(spec, broadcast=True)
            futures = [client.submit(replicate_chunk, remote, chunk, pure=False) for chunk in chunks]
            for fut in as_completed(futures):
                records = fut.result()
                ckpt.add(records)
                bar.update(len(records))
    finally:
        if cluster is not None:
            cluster.close()
