"""Running a sweep's grid on Dask: a local cluster by default, or an existing one.

The client loads every workload and fleet (:func:`gapa.sweep.spec.build_problem`) and
ships each problem to the workers once, as data (``Client.scatter``), so a remote
worker needs gapa installed and nothing else.  Each run is one task calling
:func:`execute_run`, which calls :func:`gapa.run.run_allocator` — the same function
``gapa simulate`` calls — so a sweep adds only the grid, the execution and the store.
As each task finishes, the client writes its row to the store at once.  A run that
raises is recorded as failed with its error; a worker lost mid-run costs only the
runs it held, which Dask runs again elsewhere (and a run that keeps killing workers
is recorded as failed).  Runs already in the store are skipped.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gapa
from gapa.problem import Problem
from gapa.run import run_allocator
from gapa.sweep.spec import RunSpec, Sweep, build_problem
from gapa.sweep.store import ResultStore

#: the environment of local workers: one BLAS thread each (a run is single-threaded work)
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def execute_run(problem: Problem, algorithm: str, settings: dict[str, Any], seed: int) -> dict[str, Any]:
    """One run on a worker: allocate, simulate, cross-check (``run_allocator``), summarise.

    Never raises for a failing run: returns ``{"status": "failed", "error": ...}`` instead.
    """
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        result = run_allocator(problem, algorithm, seed=seed, settings=settings)
    except Exception as exc:  # noqa: BLE001 - a run's failure is data, not a crash of the sweep
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{os.path.basename(last.filename)}:{last.lineno}"
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc} ({where})",
                "wall_s": time.perf_counter() - t0, "gapa_version": gapa.__version__, "worker": worker}
    record = result.summary(problem)
    out = {k: record[k] for k in ("energy_j", "energy_kwh", "host_on_s", "hosts_used", "peak_hosts_on", "placed",
                                  "rejected", "solve_s", "gapa_version")}
    return {"status": "ok", "error": None, **out, "wall_s": time.perf_counter() - t0, "worker": worker,
            "record": record}


@dataclass(frozen=True)
class SweepOutcome:
    """What one ``run_sweep`` call did.

    Attributes:
        total: runs in the grid.
        skipped: runs already in the store.
        ok / failed: runs finished now.
        wall_s: seconds from the first submission to the last row written.
    """

    total: int
    skipped: int
    ok: int
    failed: int
    wall_s: float


ProgressCallback = Callable[[int, int, int, int], None]  # done, running, failed, total


def local_cluster(n_workers: int | None = None):
    """A Dask cluster of worker processes on this machine (one thread each, no dashboard).

    Its processes are started with Ctrl-C (SIGINT) ignored, so an interrupt reaches only
    the client, which then closes the cluster, instead of every worker printing a traceback.
    """
    from distributed import LocalCluster

    def start():
        return LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.CRITICAL, env=dict(WORKER_ENV))

    if threading.current_thread() is not threading.main_thread():
        return start()  # only the main thread may set signal handlers
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the processes started now
    try:
        return start()
    finally:
        signal.signal(signal.SIGINT, previous)


def run_sweep(sweep: Sweep, store: ResultStore, client, progress: ProgressCallback | None = None) -> SweepOutcome:
    """Run every run of ``sweep`` not yet in ``store`` on the Dask ``client``; write rows as they finish."""
    from distributed import as_completed

    done = store.done_ids()
    todo = [r for r in sweep.runs if r.run_id not in done]
    skipped = len(sweep.runs) - len(todo)
    t0 = time.perf_counter()
    if not todo:
        return SweepOutcome(len(sweep.runs), skipped, 0, 0, 0.0)
    problems: dict[tuple[Any, ...], Any] = {}
    for r in todo:
        if r.problem_key not in problems:
            # a task that returns the problem, not a scatter: if the worker holding it dies,
            # Dask makes it again from the task graph instead of cancelling the runs that need it
            problems[r.problem_key] = client.submit(_the_problem, build_problem(r), pure=False,
                                                    key=f"gapa-problem-{r.run_id}")
    futures = {}
    for r in todo:
        fut = client.submit(execute_run, problems[r.problem_key], r.algorithm, r.settings, r.seed,
                            key=f"gapa-run-{r.run_id}", pure=False, retries=0)
        futures[fut] = r
    ok = failed = 0
    if progress:
        progress(0, _running(client), 0, len(todo))
    for fut in as_completed(list(futures)):
        run: RunSpec = futures[fut]
        try:
            outcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the run killed its workers
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "gapa_version": gapa.__version__}
        store.write({"run_id": run.run_id, **run.params()}, outcome)
        if outcome["status"] == "ok":
            ok += 1
        else:
            failed += 1
        fut.release()
        if progress:
            progress(ok + failed, _running(client), failed, len(todo))
    return SweepOutcome(len(sweep.runs), skipped, ok, failed, time.perf_counter() - t0)


def _the_problem(problem: Problem) -> Problem:
    return problem


def _running(client) -> int:
    """Runs being worked on by the cluster's workers right now."""
    try:
        assigned = sum(1 for keys in client.processing().values() for k in keys if str(k).startswith("gapa-run-"))
        return min(assigned, sum(client.nthreads().values()))  # a worker may hold one queued beside its running one
    except Exception:  # noqa: BLE001 - only for the progress display
        return 0
