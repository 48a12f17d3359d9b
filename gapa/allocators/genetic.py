"""GAPA: a grouping genetic algorithm for power-aware static VM allocation.

Built on DEAP's ``base.Toolbox`` (operators registered by name) and
``tools.Logbook`` (one record per generation).  Only the GAPA paper's abstract
(Quang-Hung et al., ICT-EurAsia 2013) was at hand, so the design below is ours:

* **Chromosome**: the host of every VM (a grouping of VMs under hosts); −1 = rejected.
* **Fitness**: (rejected VMs, energy in joules), compared lexicographically, so a
  rejection is never traded for energy.  The whole population is evaluated in one
  call of the batched numpy evaluator (:func:`gapa.evaluator.evaluate_batch`).
* **Crossover** (grouping crossover, after Falkenauer's GGA): the child starts as
  parent A; some host groups of parent B (up to half of them and 48 VMs), chosen
  with probability growing with how well they fill their host, are injected whole.  A
  host of A that shares VMs with an injected group is dissolved (its other VMs
  re-inserted) when it would keep no more of its own VMs than it gives up, else it only
  gives those VMs up; the group goes to its own host, else a free host of its hardware
  group, else the host of its group in A that held most of its VMs.
* **Mutation**: dissolve one or two host groups, chosen with probability growing
  with how poorly they fill their host ("empty a lightly used host"), or a few
  random VMs, and re-insert the VMs.
* **Repair / re-insertion**: every loose VM goes, largest first (cores × duration),
  to the feasible host where energy rises least, priced exactly from the VMs near
  it in time (see :mod:`gapa.allocators.packing`) — or, with probability
  ``amortise_rate``, where it rises least when switching a host on costs the VM only
  its share of the host (:meth:`~gapa.allocators.packing.Packing.insert`'s
  ``amortise``); so every individual is always feasible.
* **Local search** (with probability ``local_search_rate`` per child): try to empty a
  few poorly filled hosts into the other used hosts, keeping each move that saves
  energy; then re-pack a few pairs or triples of hosts whose busy spans overlap, by
  enumerating the splits of their pooled VMs (:mod:`gapa.allocators.repack`).
* **Set-covering recombination** (every ``pool_every`` generations, on problems whose
  kinds of VM times host groups are at most 200): every host group any individual has held (and the best splits
  the local search priced) is kept in a pool; HiGHS picks the cheapest set of pooled
  groups that holds every VM (:mod:`gapa.allocators.pool`), and that allocation
  replaces one child.  In effect, one optimal crossover of all the parents seen so far.
* **Selection**: tournaments on (rejected, energy) with the run's generator;
  the best ``elite`` individuals pass unchanged.
* **Initial population**: every constructive heuristic — BFD, first-fit decreasing,
  worst fit, the busy-time heuristics ``mindft-ld`` and ``mindft-st``, PABFD
  (:mod:`gapa.allocators.heuristics`) — and energy-greedy insertions, amortised and
  not, most useful first (a time limit may cut the list, never before BFD); the best
  fill at most three quarters of the population, mutants of them the rest — so GAPA
  never ends worse than any of them that was built.
* **Restarts** (``restarts``, on by default): when the population's best has not
  improved for ``stagnation`` generations (default 10) and at least that many are
  left, a fresh initial population replaces it; the pool keeps every host group seen, so the next covering MILP
  recombines the old population's groups with the new one's.  The run's best is kept
  throughout.  Without restarts, stagnation ends the run.
* **Islands** (``islands``, default 1): that many independent runs, each with its own
  generator (``rng.spawn``), whose pools are merged for the last covering MILP.  Island
  0 runs in the calling process; the others in up to ``Limits.processes − 1`` worker
  processes at once, or one after another here.  They never exchange anything, so the
  result is the same wherever they run.
* **Stopping**: whichever comes first of ``generations`` (per island, restarts
  included), ``time_limit`` seconds, or (without restarts) ``stagnation`` generations
  without improvement.  All randomness comes from the ``numpy.random.Generator``
  handed in; with no time limit the run is reproducible.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from deap import base, tools
from threadpoolctl import threadpool_limits

from gapa.allocators.base import Allocator, AllocatorResult, Limits, SettingError
from gapa.allocators.bfd import BestFitDecreasing, start_order
from gapa.allocators.heuristics import (
    FirstFitDecreasing,
    MinBusyTimeLongest,
    MinBusyTimeStart,
    PowerAwareBestFitDecreasing,
    WorstFit,
)
from gapa.allocators.packing import OutOfTime, Packing, PriceCache
from gapa.allocators.pool import ColumnPool
from gapa.allocators.repack import improve
from gapa.evaluator import evaluate_batch
from gapa.problem import REJECTED, Problem

#: most VMs a crossover injects (at least one host group); each injected group
#: dissolves the child's groups it shares VMs with, whose VMs are then re-inserted
MAX_INJECTED_VMS = 48

#: pair/triple re-packing moves per local search
REPACK_TRIES = 5

#: with several islands and a time limit, the share of the time the islands may use;
#: the rest is kept for the last recombination of their merged pools
ISLANDS_SHARE = 0.9
#: seconds a worker process may overrun the islands' time before it is stopped
WORKER_GRACE_S = 30.0

#: HiGHS limit checks (:class:`gapa.highs.CheckLimit`) each pricing MILP of the
#: ``polish`` column generation may make: a work limit, the same on any machine
POLISH_PRICING_CHECKS = 300


def _insertion_order(problem: Problem, vms: list[int], rng: np.random.Generator) -> list[int]:
    """VMs by decreasing cores × duration, or (one time in three) by start time; ties at random."""
    if not vms:
        return []
    w = problem.workload
    arr = np.asarray(vms)
    if rng.random() < 1 / 3:
        key = -w.start_s[arr]
    else:
        key = w.cores[arr] * w.duration_s[arr]
    order = np.lexsort((rng.random(len(arr)), -key))
    return arr[order].tolist()


def _fill_weights(fill: np.ndarray, prefer_full: bool) -> np.ndarray:
    weights = fill if prefer_full else (1.0 - fill + 1e-3)
    weights = np.maximum(weights, 1e-6) ** 2
    return weights / weights.sum()


def _amortise(rng: np.random.Generator, amortise_rate: float) -> float:
    """How a re-insertion charges switching a host on (see :meth:`Packing.insert`): fully
    (0) or by the VM's share of the host (1, with probability ``amortise_rate``)."""
    return 1.0 if amortise_rate and rng.random() < amortise_rate else 0.0


def crossover(problem: Problem, a: Packing, b: Packing, rng: np.random.Generator,
              amortise_rate: float = 0.0) -> Packing:
    """Grouping crossover: a copy of ``a`` with some well-filled host groups of ``b`` injected."""
    child = a.copy()
    groups = b.used_hosts()
    if not groups:
        return child
    fill = b.host_fill(groups)
    k = int(rng.integers(1, max(2, len(groups) // 2 + 1)))
    picked = rng.choice(len(groups), size=min(k, len(groups)), replace=False,
                        p=_fill_weights(fill, prefer_full=True))
    sizes = np.cumsum([len(b.members[groups[int(gi)]]) for gi in picked])
    picked = picked[: max(1, int(np.searchsorted(sizes, MAX_INJECTED_VMS, side="right")))]
    loose: set[int] = set()
    group_of = problem.fleet.group_of_host
    for gi in picked:
        host = groups[int(gi)]
        vms = b.members[host]
        inside = set(vms)
        holders = Counter(int(child.allocation[v]) for v in vms)
        holders.pop(REJECTED, None)
        for h in holders:
            # a host that would keep no more of its own VMs than it gives up is dissolved; a
            # larger one only gives the injected VMs up (on big hosts, dissolving every host
            # that shares a VM would re-insert most of the allocation)
            if 2 * holders[h] >= len(child.members[h]):
                loose.update(v for v in child.take_host(h) if v not in inside)
        child.take_vms([v for v in vms if child.allocation[v] != REJECTED])
        target = child.free_host_like(host)
        if target is None:  # every host of the group in use: take over the one that held most of them
            same = [h for h, _ in holders.most_common() if group_of[h] == group_of[host]]
            if not same:
                loose.update(vms)
                continue
            target = same[0]
            loose.update(child.take_host(target))
        child.put_group(target, vms)
        loose.difference_update(vms)
    loose.update(np.flatnonzero(child.allocation == REJECTED).tolist())
    child.insert(_insertion_order(problem, sorted(loose), rng), amortise=_amortise(rng, amortise_rate))
    return child


def mutate(problem: Problem, p: Packing, rng: np.random.Generator, amortise_rate: float = 0.0) -> Packing:
    """Dissolve one or two poorly filled host groups, or move a few VMs, and re-insert (in place)."""
    used = p.used_hosts()
    loose: list[int] = np.flatnonzero(p.allocation == REJECTED).tolist()
    if used and rng.random() < 0.7:
        fill = p.host_fill(used)
        k = min(len(used), 1 + int(rng.random() < 0.4))
        for gi in rng.choice(len(used), size=k, replace=False, p=_fill_weights(fill, prefer_full=False)):
            loose += p.take_host(used[int(gi)])
    else:
        placed = np.flatnonzero(p.allocation != REJECTED)
        if len(placed):
            vms = rng.choice(placed, size=min(len(placed), int(rng.integers(1, 6))), replace=False)
            p.take_vms(vms.tolist())
            loose += vms.tolist()
    p.insert(_insertion_order(problem, loose, rng), amortise=_amortise(rng, amortise_rate))
    return p


def empty_hosts(problem: Problem, p: Packing, rng: np.random.Generator, tries: int = 3) -> Packing:
    """Local search (in place): try to empty a few poorly filled hosts into the other used
    hosts, then re-pack a few pairs or triples of hosts."""
    used = p.used_hosts()
    if len(used) < 2:
        return p
    fill = p.host_fill(used)
    k = min(len(used), tries)
    for gi in rng.choice(len(used), size=k, replace=False, p=_fill_weights(fill, prefer_full=False)):
        p.try_empty(used[int(gi)])
    improve(p, rng, tries=REPACK_TRIES)
    return p


def greedy(problem: Problem, order: list[int], cache: PriceCache | None = None,
           amortise: float = 0.0, until: float | None = None) -> Packing:
    """Energy-greedy construction: insert VMs in ``order`` where energy rises least
    (raises :class:`~gapa.allocators.packing.OutOfTime` past ``until``)."""
    p = Packing(problem, cache=cache)
    p.insert(order, amortise=amortise, until=until)
    return p


class GAPA(Allocator):
    """Genetic algorithm for power-aware VM allocation (see the module docstring)."""

    name = "gapa"
    stochastic = True
    summary = "genetic algorithm: grouping crossover, exact energy-priced repair, seeded with BFD"

    def __init__(self, population: int = 30, generations: int = 100, time_limit: float | None = None,
                 crossover_rate: float = 0.8, mutation_rate: float = 0.4, stagnation: int = 10,
                 tournament: int = 3, elite: int = 2, local_search_rate: float = 0.1,
                 pool_every: int = 10, polish: int = 0, restarts: bool = True, islands: int = 1,
                 amortise_rate: float = 0.5):
        for key, value, least in (("population", population, 2), ("generations", generations, 0),
                                  ("stagnation", stagnation, 1), ("tournament", tournament, 1),
                                  ("elite", elite, 0), ("pool_every", pool_every, 0), ("polish", polish, 0),
                                  ("islands", islands, 1)):
            if value < least:
                raise SettingError(key, f"must be at least {least}, got {value}")
        if elite >= population:
            raise SettingError("elite", f"must be below population ({population}), got {elite}",
                               also=("population",))
        if tournament > population:
            raise SettingError("tournament", f"must not exceed population ({population}), got {tournament}",
                               also=("population",))
        for key, rate in (("crossover_rate", crossover_rate), ("mutation_rate", mutation_rate),
                          ("local_search_rate", local_search_rate), ("amortise_rate", amortise_rate)):
            if not 0.0 <= rate <= 1.0:
                raise SettingError(key, f"must be in [0, 1], got {rate}")
        if time_limit is not None and not 0 < time_limit < math.inf:
            raise SettingError("time_limit", f"must be positive (seconds), got {time_limit}")
        self.population = int(population)
        self.generations = int(generations)
        self.time_limit = time_limit
        self.crossover_rate = float(crossover_rate)
        self.mutation_rate = float(mutation_rate)
        self.stagnation = int(stagnation)
        self.tournament = int(tournament)
        self.elite = int(elite)
        self.local_search_rate = float(local_search_rate)
        self.pool_every = int(pool_every)  # 0: no set-covering recombination during the run
        self.polish = int(polish)
        self.restarts = bool(restarts)
        self.islands = int(islands)
        self.amortise_rate = float(amortise_rate)

    def settings(self) -> dict[str, Any]:
        """The parameters of this run (recorded with the result)."""
        return {"population": self.population, "generations": self.generations,
                "time_limit": self.time_limit, "crossover_rate": self.crossover_rate,
                "mutation_rate": self.mutation_rate, "stagnation": self.stagnation,
                "tournament": self.tournament, "elite": self.elite,
                "local_search_rate": self.local_search_rate, "pool_every": self.pool_every,
                "polish": self.polish, "restarts": self.restarts, "islands": self.islands,
                "amortise_rate": self.amortise_rate}

    def _toolbox(self, problem: Problem, rng: np.random.Generator) -> base.Toolbox:
        tb = base.Toolbox()
        tb.register("mate", crossover, problem, rng=rng, amortise_rate=self.amortise_rate)
        tb.register("mutate", mutate, problem, rng=rng, amortise_rate=self.amortise_rate)
        tb.register("local_search", empty_hosts, problem, rng=rng)
        tb.register("evaluate_population", self._evaluate, problem)
        tb.register("select", self._tournament, rng=rng)
        return tb

    @staticmethod
    def _evaluate(problem: Problem, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ev = evaluate_batch(problem, pop)
        if ev.violations.any():  # operators keep individuals feasible; this would be a bug
            raise AssertionError("GAPA produced an infeasible individual")
        return ev.rejected, ev.energy_j, ev.on_s

    def _tournament(self, rank: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of ``k`` tournament winners; ``rank[i]`` is individual i's place (0 = best)."""
        entrants = rng.integers(0, len(rank), size=(k, self.tournament))
        winners = entrants[np.arange(k), np.argmin(rank[entrants], axis=1)]
        return winners

    def _initial(self, problem: Problem, rng: np.random.Generator, limits: Limits,
                 out_of_time: Callable[[], bool], cache: PriceCache,
                 until: float | None = None) -> list[Packing]:
        """The first population: the constructive heuristics (BFD first), energy-greedy
        insertions (amortised and not) — the best of them, at most three quarters of the
        population — then mutants of them.  Out of time, it stops
        adding new seeds (keeping at least BFD) and fills up with copies."""
        n = problem.n_vms

        def heuristic(cls):
            return lambda: Packing(problem, cls().allocate(problem, rng, limits).allocation, cache)

        w = problem.workload
        longest = np.lexsort((-w.ram_mb, -w.cores, -w.duration_s)).tolist()
        # most useful first: under a tight time limit the later ones may be left out
        builders = [heuristic(BestFitDecreasing), heuristic(FirstFitDecreasing), heuristic(WorstFit),
                    lambda: greedy(problem, start_order(problem).tolist(), cache, amortise=1.0, until=until),
                    heuristic(MinBusyTimeLongest), heuristic(MinBusyTimeStart),
                    heuristic(PowerAwareBestFitDecreasing),
                    lambda: greedy(problem, longest, cache, amortise=1.0, until=until),
                    lambda: greedy(problem, start_order(problem).tolist(), cache, until=until),
                    lambda: greedy(problem, _insertion_order(problem, list(range(n)), rng), cache,
                                   amortise=1.0, until=until),
                    lambda: greedy(problem, _insertion_order(problem, list(range(n)), rng), cache,
                                   until=until)]
        seeds: list[Packing] = []
        for build in builders:
            if seeds and out_of_time():
                break
            try:
                seeds.append(build())
            except OutOfTime:  # a greedy insertion cut short by the time limit (never BFD)
                break
        # the best seeds (so the best heuristic is always among them), and at least a quarter
        # of mutants, so that a restarted population is not the same again
        seeds.sort(key=lambda p: (int((p.allocation == REJECTED).sum()), p.total_energy()))
        pop = seeds[: max(1, self.population - self.population // 4)]
        kept = len(pop)
        while len(pop) < self.population:
            if out_of_time():
                pop.append(pop[len(pop) % kept].copy())
            else:
                pop.append(mutate(problem, seeds[int(rng.integers(len(seeds)))].copy(), rng,
                                  self.amortise_rate))
        return pop

    def _polish(self, problem: Problem, pool: ColumnPool, cache: PriceCache, packs: list[Packing],
                best_key: tuple[int, float], best_alloc: np.ndarray, t0: float):
        """A last recombination of every host group the run has seen: with ``polish`` > 0,
        that many rounds of column generation with exact pricing MILPs first
        (:class:`gapa.allocators.exact.ColumnGeneration`), then the covering MILP."""
        from gapa.allocators.exact import ColumnGeneration

        incumbent = Packing(problem, best_alloc, cache)
        if self.polish:
            placed = np.flatnonzero(best_alloc != REJECTED)
            cg = ColumnGeneration(problem, pool, placed)
            deadline = (t0 + self.time_limit) if self.time_limit is not None else np.inf
            cg.run(deadline, pricing_s=pool.SAFETY_TIME_S, max_iterations=self.polish,
                   pricing_checks=POLISH_PRICING_CHECKS)
            left = pool.SAFETY_TIME_S if self.time_limit is None else max(
                0.1, min(pool.SAFETY_TIME_S, t0 + self.time_limit - time.perf_counter()))
            alloc, _, _ = cg.solve_ip(incumbent, best_key[1], left, max_nodes=200,
                                      max_checks=pool.MAX_MILP_CHECKS)
            pool.work_limited += cg.work_limited
        else:
            left = self._time_left(t0)
            # HiGHS looks at its time limit only now and then (seen: 2 s late on c1): half as margin
            alloc = pool.best(incumbent, packs, max_nodes=200, time_left_s=None if left is None else 0.5 * left)
        if alloc is None:
            return best_key, best_alloc, 0
        f_rej, f_energy, _ = self._evaluate(problem, alloc[None, :])
        key = (int(f_rej[0]), float(f_energy[0]))
        return (key, alloc, 1) if key < best_key else (best_key, best_alloc, 1)

    def _time_left(self, t0: float) -> float | None:
        """Seconds left of the run's time limit, or None without one."""
        return None if self.time_limit is None else self.time_limit - (time.perf_counter() - t0)

    def _out_of_time(self, t0: float) -> bool:
        return self.time_limit is not None and time.perf_counter() - t0 >= self.time_limit

    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        # numpy's BLAS on one thread: island processes then share the cores without
        # oversubscribing them, and no result depends on how many threads BLAS would use
        with threadpool_limits(limits=1, user_api="blas"):
            return self._allocate(problem, rng, limits)

    def _allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        t0 = time.perf_counter()
        if limits.time_limit_s is not None:
            self.time_limit = (limits.time_limit_s if self.time_limit is None
                               else min(self.time_limit, limits.time_limit_s))
        if problem.n_vms == 0:
            return AllocatorResult(np.zeros(0, dtype=np.int64), info=self.settings())
        if self.islands == 1:
            done, in_workers, errors = [self._evolve(problem, rng, limits, t0)], 0, []
        else:
            until = None if self.time_limit is None else t0 + ISLANDS_SHARE * self.time_limit
            done, in_workers, errors = run_islands(self, problem, rng.spawn(self.islands), limits, t0, until)
        first = done[0]
        pool, cache, packs = first.pool, first.cache, first.packs
        best = min(range(len(done)), key=lambda i: done[i].best_key)
        best_key, best_alloc = done[best].best_key, done[best].best_alloc
        for island in done[1:]:
            if pool is not None:
                pool.absorb(island.columns)
                pool.timed_out += island.pool_timed_out
                pool.work_limited += island.pool_work_limited
            packs = packs + [Packing(problem, alloc, cache) for alloc in island.population]
        evaluations = sum(island.evaluations for island in done)
        if pool is not None and not self._out_of_time(t0):
            best_key, best_alloc, extra = self._polish(problem, pool, cache, packs, best_key, best_alloc, t0)
            evaluations += extra
        statuses = [island.status for island in done]
        status = "time_limit" if "time_limit" in statuses else first.status
        info = {**self.settings(), "generations_run": sum(island.generations_run for island in done),
                "initial_best_j": min(island.initial_best_j for island in done),
                "evaluations": evaluations, "restarts_run": sum(island.restarts for island in done),
                "islands_in_workers": in_workers, "island_errors": "; ".join(errors),
                "pool_columns": len(pool) if pool is not None else 0,
                "pool_timed_out": pool.timed_out if pool is not None else 0,
                "pool_work_limited": pool.work_limited if pool is not None else 0}
        logbook = [record for island in done for record in island.logbook]
        return AllocatorResult(best_alloc, status=status, logbook=logbook, info=info)

    def _evolve(self, problem: Problem, rng: np.random.Generator, limits: Limits, t0: float,
                island: int = 0, progress_span: tuple[int, int] | None = None,
                until: float | None = None) -> _Island:
        """One island: evolve a population (restarting it when it stagnates, with
        ``restarts``) until the generations are used up, time runs out or, without
        restarts, it stagnates.  Progress goes to ``limits.progress`` as generation
        ``offset + gen`` of ``total`` for ``progress_span = (offset, total)`` (default:
        ``(0, generations)``).  The island stops at ``until`` (a ``time.perf_counter()``
        value; default: the run's time limit from ``t0``, if any)."""
        if until is None and self.time_limit is not None:
            until = t0 + self.time_limit

        def out_of_time() -> bool:
            return until is not None and time.perf_counter() >= until

        def time_left() -> float | None:
            return None if until is None else until - time.perf_counter()

        toolbox = self._toolbox(problem, rng)
        cache = PriceCache(problem)
        pool = ColumnPool(problem) if self.pool_every and ColumnPool.suits(problem) else None
        cache.columns = pool

        def fresh_population():
            """A new initial population (pooled), its allocations and their fitness."""
            packs = self._initial(problem, rng, limits, out_of_time, cache, until)
            for p in packs if pool is not None else ():
                pool.add(p)
            pop = np.stack([p.allocation for p in packs])
            return (packs, pop, *toolbox.evaluate_population(pop))

        packs, pop, rejected, energy, on = fresh_population()
        evaluations = len(pop)
        logbook = tools.Logbook()
        logbook.header = ["gen", "island", "restart", "evals", "best_j", "mean_j", "worst_j", "best_on_s",
                          "rejected", "elapsed_s"]
        restarts = 0
        progress = limits.progress
        offset, total = progress_span if progress_span is not None else (0, self.generations)

        def record(gen: int, evals: int) -> int:
            best = int(np.lexsort((energy, rejected))[0])
            logbook.record(gen=gen, island=island, restart=restarts, evals=evals, best_j=float(energy[best]),
                           mean_j=float(energy.mean()), worst_j=float(energy.max()),
                           best_on_s=float(on[best]), rejected=int(rejected[best]),
                           elapsed_s=time.perf_counter() - t0)
            if progress is not None:
                progress({"algorithm": self.name, "generation": offset + gen, "generations": total,
                          "best_j": float(energy[best]), "elapsed_s": time.perf_counter() - t0,
                          "time_limit_s": self.time_limit})
            return best

        best = record(0, evaluations)
        best_key = (int(rejected[best]), float(energy[best]))
        best_alloc = pop[best].copy()
        seed_key = best_key  # the best individual of the first population (a seed)
        run_key = best_key  # the best of the population since the last restart
        since_improvement = 0
        status = "generations"
        gen = 0
        while gen < self.generations:
            if out_of_time():
                status = "time_limit"
                break
            gen += 1
            rank = np.empty(len(pop), dtype=np.int64)
            rank[np.lexsort((energy, rejected))] = np.arange(len(pop))
            elite_idx = np.argsort(rank)[: self.elite]
            n_children = self.population - len(elite_idx)
            parents = toolbox.select(rank, 2 * n_children)
            children = []
            for i in range(n_children):
                if i and out_of_time():  # a generation cut short: its children so far join
                    break
                a, b = packs[parents[2 * i]], packs[parents[2 * i + 1]]
                child = toolbox.mate(a, b) if rng.random() < self.crossover_rate else a.copy()
                if rng.random() < self.mutation_rate:
                    child = toolbox.mutate(child)
                if rng.random() < self.local_search_rate:
                    child = toolbox.local_search(child)
                children.append(child)
                if pool is not None:
                    pool.add(child)
            if pool is not None and gen % self.pool_every == 0 and children and not out_of_time():
                left = time_left()
                alloc = pool.best(packs[int(elite_idx[0])], packs,
                                  time_left_s=None if left is None else 0.5 * left)
                if alloc is not None:
                    children[-1] = Packing(problem, alloc, cache)
            child_pop = (np.stack([c.allocation for c in children]) if children
                         else np.zeros((0, problem.n_vms), np.int64))
            c_rej, c_energy, c_on = toolbox.evaluate_population(child_pop)
            evaluations += len(child_pop)
            packs = [packs[int(i)] for i in elite_idx] + children
            pop = np.concatenate([pop[elite_idx], child_pop])
            rejected = np.concatenate([rejected[elite_idx], c_rej])
            energy = np.concatenate([energy[elite_idx], c_energy])
            on = np.concatenate([on[elite_idx], c_on])
            best = record(gen, len(child_pop))
            key = (int(rejected[best]), float(energy[best]))
            if _better(key, best_key):
                best_key, best_alloc = key, pop[best].copy()
            if _better(key, run_key):
                run_key = key
                since_improvement = 0
                continue
            since_improvement += 1
            if since_improvement < self.stagnation:
                continue
            if not self.restarts or self.generations - gen < self.stagnation:
                status = "stagnation"
                break
            # restart: a fresh population; the pool keeps every host group seen so far
            restarts += 1
            packs, pop, rejected, energy, on = fresh_population()
            evaluations += len(pop)
            first = int(np.lexsort((energy, rejected))[0])
            run_key = (int(rejected[first]), float(energy[first]))
            since_improvement = 0
        return _Island(best_key, best_alloc, pop, list(logbook), status, gen, evaluations, restarts,
                       pool, cache, packs, initial_best_j=seed_key[1])


def _better(key: tuple[int, float], than: tuple[int, float]) -> bool:
    """Whether fitness ``key`` (rejected VMs, joules) beats ``than`` (by more than rounding)."""
    return key[0] < than[0] or (key[0] == than[0] and key[1] < than[1] * (1 - 1e-12))


@dataclass
class _Island:
    """What one island's evolution leaves: its best, its last population, its logbook,
    counters, and (in the process that ran it) its column pool, price cache and packings;
    :meth:`detached` swaps those for plain data that pickles small."""

    best_key: tuple[int, float]
    best_alloc: np.ndarray
    population: np.ndarray  # allocations of the last population, (P, n)
    logbook: list[dict[str, Any]]
    status: str
    generations_run: int
    evaluations: int
    restarts: int
    pool: ColumnPool | None = None
    cache: PriceCache | None = None
    packs: list[Packing] = field(default_factory=list)
    columns: list[tuple[int, tuple[int, ...], float]] = field(default_factory=list)
    pool_timed_out: int = 0
    pool_work_limited: int = 0
    initial_best_j: float = math.nan  # energy (J) of the initial population's best

    def detached(self) -> _Island:
        """A copy without live objects: the pool's columns as (group, kinds, joules) tuples."""
        pool = self.pool
        return replace(self, pool=None, cache=None, packs=[],
                       columns=pool.columns() if pool is not None else [],
                       pool_timed_out=pool.timed_out if pool is not None else 0,
                       pool_work_limited=pool.work_limited if pool is not None else 0)


def _share(until: float | None, islands_left: int) -> float | None:
    """The end (``perf_counter``) for the next of ``islands_left`` islands run one after
    another before ``until``: an equal share of the time left."""
    if until is None:
        return None
    now = time.perf_counter()
    return now + max(0.0, until - now) / max(1, islands_left)


def _island_worker(conn, cls: type[GAPA], settings: dict[str, Any], problem: Problem,
                   rngs: dict[int, np.random.Generator], started: float, deadline: float | None) -> None:
    """Body of a worker process: run the given islands one after another and send each back
    as ("island", i, result), or ("error", i, text) if one fails.  ``started`` and
    ``deadline`` are the run's start and the islands' end as ``time.time()`` (None: no
    time limit).  Ctrl-C is left to the parent, which stops this process when it is
    interrupted itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(limits=1, user_api="blas")  # as in the parent (see GAPA.allocate)
    now_wall, now = time.time(), time.perf_counter()
    t0 = now - (now_wall - started)  # the run's start on this process's clock
    until = None if deadline is None else now + (deadline - now_wall)
    ga = cls(**settings)
    try:
        for k, (i, rng) in enumerate(rngs.items()):
            try:
                island = ga._evolve(problem, rng, Limits(), t0, island=i,
                                    until=_share(until, len(rngs) - k)).detached()
                conn.send(("island", i, island))
            except Exception as exc:  # noqa: BLE001 - reported; the parent then runs the island itself
                conn.send(("error", i, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _receive_islands(receive, into: dict[int, _Island], errors: dict[int, str]) -> None:
    """Collect what a worker sends until it closes its end of the pipe (or dies)."""
    while True:
        try:
            kind, i, payload = receive.recv()
        except (EOFError, OSError):
            return
        if kind == "island":
            into[i] = payload
        else:
            errors[i] = payload


def run_islands(ga: GAPA, problem: Problem, rngs: list[np.random.Generator], limits: Limits,
                t0: float, until: float | None = None) -> tuple[list[_Island], int, list[str]]:
    """Evolve one island per generator; return them, how many ran in worker processes,
    and what went wrong in workers (each such island then ran here).

    Island 0 runs here (it reports progress); the others are shared out among up to
    ``limits.processes − 1`` spawned worker processes that run at the same time.  With
    one process allowed, or if the workers cannot be started (e.g. inside a daemonic
    process) or fail, the islands run here, one after another, each with an equal share
    of the time left before ``until`` (a ``perf_counter`` value; None: no time limit).
    The islands never talk to each other, so each one's result is the same wherever it
    runs (without a time limit).
    """
    others = list(range(1, len(rngs)))
    n_workers = min(max(0, limits.processes - 1), len(others))
    workers: list[tuple[Any, Any, threading.Thread]] = []
    received: dict[int, _Island] = {}
    errors: dict[int, str] = {}
    try:
        if n_workers:
            context = multiprocessing.get_context("spawn")
            settings = ga.settings()
            started = time.time() - (time.perf_counter() - t0)
            deadline = None if until is None else time.time() + (until - time.perf_counter())
            for k in range(n_workers):
                mine = {i: rngs[i] for i in others[k::n_workers]}
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_island_worker, daemon=True,
                                          args=(send, type(ga), settings, problem, mine, started, deadline))
                try:
                    process.start()
                except (OSError, RuntimeError, AssertionError, pickle.PicklingError, AttributeError, TypeError):
                    receive.close()
                    break  # e.g. a daemonic process may not have children: run them here
                finally:
                    send.close()
                # read while island 0 runs, so that no worker blocks on a full pipe
                reader = threading.Thread(target=_receive_islands, args=(receive, received, errors), daemon=True)
                reader.start()
                workers.append((process, receive, reader))
        sequential = not workers
        total = (len(rngs) if sequential else 1) * ga.generations
        done = {0: ga._evolve(problem, rngs[0], limits, t0, island=0, progress_span=(0, total),
                              until=until if not sequential else _share(until, len(rngs)))}
        for process, _, reader in workers:
            reader.join(None if until is None else max(0.0, until - time.perf_counter()) + WORKER_GRACE_S)
            if reader.is_alive():  # a worker that overran its time: stop it
                process.terminate()
                reader.join()
            process.join()
            if process.exitcode:
                errors.setdefault(-process.pid, f"a worker exited with code {process.exitcode}")
        done.update(received)
        in_workers = len(received)
        missing = [i for i in others if i not in done]
        for k, i in enumerate(missing):  # here after all: no workers, or a worker failed
            span = ((k + 1) * ga.generations, (len(missing) + 1) * ga.generations)
            done[i] = ga._evolve(problem, rngs[i], limits, t0, island=i, progress_span=span,
                                 until=_share(until, len(missing) - k)).detached()
        notes = [f"island {i}: {text}" if i >= 0 else text for i, text in sorted(errors.items())]
        return [done[i] for i in range(len(rngs))], in_workers, notes
    finally:
        for process, receive, reader in workers:
            if process.is_alive():
                process.terminate()
            process.join()
            reader.join()
            receive.close()
