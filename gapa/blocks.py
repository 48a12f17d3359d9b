"""Independent blocks: a problem split where nothing links its parts, solved part by part.

**Time blocks.** Where no VM runs for a gap at least as long as every host's idle
threshold (:meth:`gapa.policy.PowerPolicy.idle_threshold_s`: with ``idle = "off"`` the
boot and shutdown time, with ``"breakeven"`` also the break-even time, with ``"on"``
never), the power policy switches every host off whatever the placement.  A host's
energy is then the sum of its energies before and after the gap, so the problem splits
into independent blocks and the energy of any allocation is the sum of its blocks'
energies (a gap of zero seconds never splits).  A lab timetable splits into its days.

**Hosts that can matter.** Hosts of one group are interchangeable and an allocation puts
at least one VM on every host it uses, so a block needs, of each group, no more hosts
than it has VMs that fit that group: its sub-problem keeps the first
``min(count, fitting VMs)`` hosts of each group, and every allocation of the block maps
onto the whole fleet unchanged.  Ten VMs on a fleet of 100,000 hosts become ten VMs on
at most ten hosts per group.

:func:`allocate_in_blocks` runs an allocator block by block — in this process, in
worker processes (``workers``) or on a Dask cluster (``scheduler``) — with one seed
per block drawn from the run's seed (so the result does not depend on where the blocks
run), shares a time limit among the blocks by their number of VMs, and joins the
blocks' allocations into one for the whole problem.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import pickle
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gapa.allocators.base import Allocator, AllocatorResult, Limits
from gapa.evaluator import evaluate
from gapa.fleet import Fleet
from gapa.problem import REJECTED, Problem

#: seconds kept back from a time limit for starting worker processes and joining the blocks
JOIN_RESERVE_S = 0.5


@dataclass(frozen=True)
class Block:
    """One independent part of a problem.

    Attributes:
        index: the block's number, in time order.
        vms: indices of its VMs in the whole problem (ascending).
        hosts: for each host of the block's fleet, its index in the whole fleet.
        problem: the block as a problem of its own (its VMs, the hosts that can matter).
    """

    index: int
    vms: np.ndarray
    hosts: np.ndarray
    problem: Problem

    @property
    def size(self) -> int:
        """Number of VMs."""
        return len(self.vms)


def split_gap_s(problem: Problem) -> float:
    """The shortest gap (seconds) with no VM running that splits the problem: the
    longest idle threshold of any host; ``inf`` when hosts idle through every gap."""
    thresholds = problem.idle_threshold_s
    return float(thresholds.max()) if len(thresholds) else 0.0


def block_of_vms(problem: Problem) -> np.ndarray:
    """The block number of each VM (0, 1, …, in time order)."""
    n = problem.n_vms
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.cumsum(problem.event_sign)
    times = problem.event_time_s
    gap = np.diff(times)
    threshold = split_gap_s(problem)
    # a split after event i: nothing runs after it, and the gap to the next event is long enough
    split = (running[:-1] == 0) & (gap > 0) & (gap >= threshold)
    block_at_event = np.concatenate([[0], np.cumsum(split)])
    starts = problem.event_sign == 1
    out = np.empty(n, dtype=np.int64)
    out[problem.event_vm[starts]] = block_at_event[starts]
    return out


def hosts_that_matter(problem: Problem, vms: np.ndarray) -> np.ndarray:
    """Per host group, how many of its hosts VMs ``vms`` can use: at most one per VM that
    fits the group (hosts of a group are interchangeable)."""
    counts = np.array([g.count for g in problem.fleet.groups], dtype=np.int64)
    fitting = problem.group_fits[vms].sum(axis=0).astype(np.int64)
    return np.minimum(counts, fitting)


def sub_problem(problem: Problem, vms: np.ndarray) -> tuple[Problem, np.ndarray]:
    """VMs ``vms`` on the hosts that can matter to them, as a problem of its own, and the
    whole fleet's index of each of its hosts."""
    fleet = problem.fleet
    keep = hosts_that_matter(problem, vms)
    if len(vms) == problem.n_vms and np.array_equal(keep, [g.count for g in fleet.groups]):
        return problem, np.arange(problem.n_hosts)
    if not keep.any():  # no VM fits anywhere: one host keeps the fleet non-empty
        keep[0] = 1
    offsets = np.concatenate([[0], np.cumsum([g.count for g in fleet.groups])[:-1]])
    groups = [replace(g, count=int(k)) for g, k in zip(fleet.groups, keep) if k > 0]
    hosts = np.concatenate([offsets[g] + np.arange(k) for g, k in enumerate(keep) if k > 0]).astype(np.int64)
    scenario = replace(problem.scenario, fleet=Fleet(groups))
    return Problem(problem.workload.subset(vms), scenario), hosts


def split(problem: Problem) -> list[Block]:
    """The problem's independent blocks, in time order (one block when nothing splits it)."""
    which = block_of_vms(problem)
    n_blocks = int(which.max()) + 1 if len(which) else 1
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(n_blocks + 1))
    blocks = []
    for b in range(n_blocks):
        vms = np.sort(order[bounds[b]:bounds[b + 1]])
        sub, hosts = sub_problem(problem, vms)
        blocks.append(Block(b, vms, hosts, sub))
    return blocks


def block_seeds(seed: int, n_blocks: int) -> list[Any]:
    """The seed of each block: the run's seed itself for a single block (so a problem
    that does not split runs exactly as before), else children of it."""
    if n_blocks == 1:
        return [seed]
    return np.random.SeedSequence(seed).spawn(n_blocks)


def plan_lanes(sizes: list[int], workers: int) -> list[list[int]]:
    """Blocks (indices) per worker: largest first, each to the least loaded worker (by
    number of VMs), in the order each worker runs them."""
    lanes: list[list[int]] = [[] for _ in range(max(1, min(workers, len(sizes))))]
    load = [0] * len(lanes)
    for b in sorted(range(len(sizes)), key=lambda b: (-sizes[b], b)):
        w = min(range(len(lanes)), key=lambda k: (load[k], k))
        lanes[w].append(b)
        load[w] += max(1, sizes[b])
    return lanes


def time_budgets(sizes: list[int], time_limit_s: float, workers: int) -> list[float]:
    """Seconds for each block when its worker's blocks (:func:`plan_lanes`) share
    ``time_limit_s`` in proportion to their numbers of VMs and none finishes early."""
    out = [0.0] * len(sizes)
    for lane in plan_lanes(sizes, workers):
        total = sum(max(1, sizes[b]) for b in lane)
        for b in lane:
            out[b] = time_limit_s * max(1, sizes[b]) / total
    return out


@dataclass(frozen=True)
class BlockTask:
    """What a worker needs to allocate one block."""

    index: int
    problem: Problem
    allocator: Allocator
    seed: Any

    @property
    def size(self) -> int:
        return max(1, self.problem.n_vms)


@dataclass(frozen=True)
class Lane:
    """Blocks one worker allocates one after another, and its share of a time limit:
    ``time_s`` seconds from when it starts, and no later than ``deadline`` (a
    ``time.time()`` on this machine's clock; None on a cluster, whose clocks may differ).
    Each block gets the time left in proportion to its number of VMs among the blocks
    left, so time a block does not use passes to the next ones."""

    tasks: tuple[BlockTask, ...]
    time_s: float | None = None
    deadline: float | None = None


def run_lane(lane: Lane, progress: Callable[[dict[str, Any]], None] | None = None,
             processes: int = 1) -> list[tuple[int, AllocatorResult, float]]:
    """Allocate a lane's blocks (in any process): (block index, result, seconds) each."""
    end = None if lane.time_s is None else time.time() + lane.time_s
    if lane.deadline is not None:
        end = lane.deadline if end is None else min(end, lane.deadline)
    left_vms = sum(t.size for t in lane.tasks)
    out = []
    for task in lane.tasks:
        limit = None if end is None else max(1e-3, (end - time.time()) * task.size / left_vms)
        left_vms -= task.size
        t0 = time.perf_counter()
        allocator = copy.deepcopy(task.allocator)  # allocators may keep state between calls
        limits = Limits(time_limit_s=limit, quiet=True, progress=progress, processes=processes)
        result = allocator.allocate(task.problem, np.random.default_rng(task.seed), limits)
        out.append((task.index, result, time.perf_counter() - t0))
    return out


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # one BLAS thread: the workers share the cores


#: what starting or feeding worker processes may raise instead of running a block (then
#: the blocks left run in the calling process): a broken pool, something that does not
#: pickle (e.g. a lambda power curve), a daemonic process that may not have children
_POOL_FAILURES = (BrokenProcessPool, pickle.PicklingError, AssertionError, OSError, AttributeError, TypeError)


@dataclass
class BlockRun:
    """An allocation of the whole problem joined from its blocks'.

    Attributes:
        result: the joined allocator result (allocation over the whole fleet).
        blocks: number of blocks.
        workers: worker processes used (0: all blocks ran in this process; -1: Dask).
        block_s: seconds each block's allocation took, in block order.
    """

    result: AllocatorResult
    blocks: int
    workers: int
    block_s: list[float]


def run_time_limit(allocator: Allocator, limits: Limits) -> float | None:
    """The whole run's time limit (s): the caller's, else the allocator's own
    ``time_limit`` setting (e.g. the exact solver's 60 s), shared by the blocks."""
    own = getattr(allocator, "time_limit", None)
    own = float(own) if isinstance(own, (int, float)) and not isinstance(own, bool) else None
    if limits.time_limit_s is None:
        return own
    return limits.time_limit_s if own is None else min(own, limits.time_limit_s)


def allocate_in_blocks(problem: Problem, allocator: Allocator, seed: int, limits: Limits,
                       workers: int = 1, scheduler: str | Any | None = None) -> BlockRun:
    """Run ``allocator`` on each independent block of ``problem`` and join the results.

    Args:
        problem: the whole problem.
        allocator: used as a template: each block gets a copy.
        seed: the run's one seed (each block's is drawn from it, see :func:`block_seeds`).
        limits: the run's limits; a time limit (or the allocator's own ``time_limit``)
            is shared among the blocks by their size.
        workers: worker processes that allocate blocks at once (1: all in this process).
        scheduler: a Dask scheduler address (or a ``distributed.Client``) to run the
            blocks on instead.
    """
    t0 = time.perf_counter()
    wall0 = time.time()
    blocks = split(problem)
    if len(blocks) == 1 and blocks[0].problem is problem:
        # nothing to split: the allocator sees the problem itself, with the caller's limits
        result = copy.deepcopy(allocator).allocate(problem, np.random.default_rng(seed), limits)
        result.info.setdefault("blocks", 1)
        return BlockRun(result, 1, 0, [time.perf_counter() - t0])
    seeds = block_seeds(seed, len(blocks))
    tasks = [BlockTask(b.index, b.problem, allocator, seeds[b.index]) for b in blocks]
    # a one-pass heuristic takes less time per block than starting a worker process does
    quick = bool(getattr(allocator, "constructive", False))
    parallel = scheduler is not None or (workers > 1 and len(blocks) > 1 and not quick)
    limit = run_time_limit(allocator, limits)
    results: dict[int, tuple[AllocatorResult, float]] = {}
    used_workers = 0

    def report() -> None:
        if limits.progress is not None:
            limits.progress({"algorithm": allocator.name, "block": len(results), "blocks": len(blocks),
                             "elapsed_s": time.perf_counter() - t0, "time_limit_s": limit})

    def take(done: list[tuple[int, AllocatorResult, float]]) -> None:
        for i, result, took in done:
            results[i] = (result, took)
            report()

    report()
    deadline = None if limit is None else wall0 + limit
    if parallel:
        reserve = 0.0 if limit is None else min(JOIN_RESERVE_S, 0.1 * limit)
        if scheduler is not None:
            used_workers = -1
            try:
                _run_on_dask(scheduler, tasks, None if limit is None else limit - reserve, take)
            except _POOL_FAILURES:
                pass  # e.g. nothing pickles: the blocks left run here
        else:
            used_workers = _run_in_processes(tasks, min(workers, len(tasks)),
                                             None if deadline is None else deadline - reserve, take)
    left = [t for t in tasks if t.index not in results]
    if left:  # in this process: everything, or what the workers could not run
        if len(left) == len(tasks):
            used_workers = 0  # no block ran elsewhere
        order = sorted(left, key=lambda t: (-t.size, t.index))
        single = len(blocks) == 1  # a trimmed fleet: the allocator's own progress is worth showing
        take(run_lane(Lane(tuple(order), None, deadline), progress=limits.progress if single else None,
                      processes=limits.processes))
    joined = join(problem, blocks, [results[b.index][0] for b in blocks], allocator.name)
    if hasattr(allocator, "settings"):
        joined.info.update(allocator.settings())  # as set, not added up over the blocks
    joined.info["blocks"] = len(blocks)
    return BlockRun(joined, len(blocks), used_workers, [results[b.index][1] for b in blocks])


def _run_in_processes(tasks: list[BlockTask], n: int, deadline: float | None,
                      take: Callable[[list[tuple[int, AllocatorResult, float]]], None]) -> int:
    """Run the tasks in ``n`` spawned worker processes: with a deadline, one lane per
    worker as planned (:func:`plan_lanes`); without, one block at a time to whichever
    worker is free, largest first.  Returns ``n``, or 0 if no worker could be used (the
    caller then runs what is left)."""
    if deadline is None:
        lanes = [Lane((t,)) for t in sorted(tasks, key=lambda t: (-t.size, t.index))]
    else:
        plan = plan_lanes([t.size for t in tasks], n)
        lanes = [Lane(tuple(tasks[b] for b in lane), None, deadline) for lane in plan]
    try:
        pickle.dumps(lanes[0])  # fail here, not in a worker, on what does not pickle
    except Exception:  # noqa: BLE001 - e.g. a lambda power curve: run here instead
        return 0
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)
    broken = False
    try:
        futures = [pool.submit(run_lane, lane) for lane in lanes]
        for fut in futures:
            try:
                take(fut.result())
            except _POOL_FAILURES:
                # the workers could not start or died (e.g. a script without the
                # ``if __name__ == "__main__":`` guard that spawned processes need)
                broken = True
                break
    except _POOL_FAILURES:
        broken = True
    except BaseException:  # Ctrl-C or a failing block: stop the workers now, not when they finish
        alive = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in alive:
            process.terminate()
        raise
    pool.shutdown(wait=not broken, cancel_futures=broken)
    return n


def _run_on_dask(scheduler, tasks: list[BlockTask], time_s: float | None,
                 take: Callable[[list[tuple[int, AllocatorResult, float]]], None]) -> None:
    """Run the tasks on a Dask cluster: with a time limit, one lane per worker thread
    as planned, each with ``time_s`` seconds from its start (the workers' clocks are
    their own); without, one block per task."""
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    futures = []
    try:
        if time_s is None:
            lanes = [Lane((t,)) for t in sorted(tasks, key=lambda t: (-t.size, t.index))]
        else:
            slots = max(1, sum(client.nthreads().values()))
            lanes = [Lane(tuple(tasks[b] for b in lane), time_s, None)
                     for lane in plan_lanes([t.size for t in tasks], slots)]
        futures = [client.submit(run_lane, lane, key=f"gapa-blocks-{os.getpid()}-{id(lane)}", pure=False,
                                 retries=0) for lane in lanes]
        for fut in as_completed(futures):
            take(fut.result())
    finally:
        for fut in futures:
            fut.cancel()
        if client is not scheduler:
            client.close()


#: info keys whose per-block values add up (counters)
_ADDITIVE_INFO = {"generations_run", "evaluations", "initial_best_j", "restarts_run", "islands_in_workers",
                  "pool_columns", "pool_timed_out", "pool_work_limited", "columns", "iterations", "nodes",
                  "pricing_milps", "elapsed_s"}
#: True/False info that holds for the whole only if it holds for some block (else: for every block)
_ANY_INFO = {"bound_fallback"}
#: statuses of proven results, weakest first: the whole is as weak as its weakest block
_PROVEN = ("time_limit", "best_of_columns", "optimal")


def join(problem: Problem, blocks: list[Block], results: list[AllocatorResult], name: str) -> AllocatorResult:
    """One result for the whole problem from its blocks' results (in block order)."""
    allocation = np.full(problem.n_vms, REJECTED, dtype=np.int64)
    for block, result in zip(blocks, results):
        local = block.problem.check_allocation_shape(result.allocation)
        placed = local != REJECTED
        allocation[block.vms[placed]] = block.hosts[local[placed]]
    statuses = [r.status for r in results]
    if all(st in _PROVEN for st in statuses):
        status = min(statuses, key=_PROVEN.index)
    elif "time_limit" in statuses:
        status = "time_limit"
    else:
        status = Counter(statuses).most_common(1)[0][0]
    bounds = [r.lower_bound_j for r in results]
    lower = float(sum(bounds)) if all(b is not None for b in bounds) else None
    info = _join_info([r.info for r in results])
    if lower is not None and "gap" in info:  # the whole's gap, not the blocks' added up
        energy = sum(evaluate(b.problem, r.allocation).energy_j for b, r in zip(blocks, results))
        info["gap"] = max(0.0, (energy - lower) / energy) if energy > 0 else 0.0
        info["bound_j"] = lower
    return AllocatorResult(allocation, status=status, lower_bound_j=lower,
                           logbook=_join_logbooks([r.logbook for r in results]), info=info)


def _join_info(infos: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for info in infos for k in info):
        values = [info[key] for info in infos if key in info]
        flags = all(isinstance(v, (bool, np.bool_)) for v in values)
        numbers = not flags and all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)
        if flags:
            out[key] = any(values) if key in _ANY_INFO else all(values)
        elif numbers and key in _ADDITIVE_INFO:
            out[key] = sum(values)
        elif all(v == values[0] for v in values):
            out[key] = values[0]
        elif numbers:
            out[key] = sum(values)
        else:
            out[key] = "; ".join(dict.fromkeys(str(v) for v in values if v not in ("", None)))
    return out


def _join_logbooks(logbooks: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per (island, generation): the blocks' records added up (best, mean and worst energy,
    evaluations, rejections); a block that stopped earlier counts with its last record."""
    books = [b for b in logbooks if b]
    if not books:
        return []
    if len(logbooks) == 1:
        return list(books[0])
    series = []
    for book in books:
        by_island: dict[int, dict[int, dict[str, Any]]] = {}
        for rec in book:
            by_island.setdefault(int(rec.get("island", 0)), {})[int(rec.get("gen", 0))] = rec
        series.append(by_island)
    islands = sorted({i for s in series for i in s})
    out = []
    for island in islands:
        gens = sorted({g for s in series for g in s.get(island, {})})
        for gen in gens:
            total: dict[str, Any] = {"gen": gen, "island": island}
            for s in series:
                recs = s.get(island) or s[min(s)]
                known = [g for g in recs if g <= gen]
                rec = recs[max(known)] if known else recs[min(recs)]
                for key, value in rec.items():
                    if key in ("gen", "island"):
                        continue
                    if key == "elapsed_s":
                        total[key] = max(total.get(key, 0.0), value)
                    elif isinstance(value, (int, float)) and not isinstance(value, bool):
                        total[key] = total.get(key, 0) + value
            out.append(total)
    return out
