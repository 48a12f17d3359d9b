"""An exact solver for small SVMAP instances: column generation, then a covering MILP.

The static VM allocation problem is a set-partitioning problem over *host schedules*:
choose, for hosts of each hardware group, sets of VMs that fit a host together at
every instant, so that every VM is on one host, at least total energy.  Its LP
relaxation is far stronger than a time-indexed assignment model's (whose bound barely
moves on the a1 instances: any fractional assignment spreads a VM thinly over many
hosts and switches none of them fully on), and the model has no host symmetry: hosts
of one group are interchangeable, so a column counts how many hosts run that schedule.

1. **Start**: the columns of BFD's allocation, of energy-greedy insertions, of a GAPA
   run given a quarter of the time budget (``warm_start``, on by default) and of any
   allocation handed in go into a :class:`~gapa.allocators.pool.ColumnPool`; the best
   of them is the incumbent (upper bound).
2. **Column generation**: solve the covering LP (HiGHS); from its duals, look for
   schedules of negative reduced cost, first with the pool's cheap greedy pricing and,
   when that finds none, with the exact pricing MILP of every group
   (:mod:`gapa.allocators.pricing`).  New schedules are priced exactly by the fast
   evaluator and added; repeat until the MILPs prove there is none.  The LP's value
   is then a lower bound on the energy of any allocation of these VMs.  (The MILPs
   price an under-estimate of a schedule's energy — exact for linear curves with
   free switching — so the bound is valid for every power curve and policy.)
   If time runs out first, the Lagrangian bound
   ``LP + Σ_groups (hosts that can be used) × min(0, least reduced cost)`` is reported.
3. **Integer solve**: the covering MILP over every pooled schedule whose reduced cost
   does not exceed the gap between incumbent and bound — no other schedule can be in a
   better solution using only pooled schedules — started from the incumbent, within
   the remaining time.  This is "price-and-branch": optimal over the generated
   schedules, with a proven gap to the true optimum.
4. **Proof**: the result is reported ``optimal`` when its energy meets the bound.  On a
   fleet of one group of identical hosts with a linear curve switched off at no cost,
   energy is the (placement-independent) dynamic energy plus ``P(0)`` × on-time, and
   on-time is a multiple of the greatest common divisor of the event times, so the
   bound is rounded up to that lattice first.

VMs that no host can hold are rejected; the covering rows are the VMs the best
heuristic placed.  Results are reproducible when the run ends before its time limit;
HiGHS runs single-threaded with a fixed seed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import highspy
import numpy as np

from gapa.allocators.base import Allocator, AllocatorResult, Limits, SettingError
from gapa.allocators.bfd import BestFitDecreasing, start_order
from gapa.allocators.genetic import GAPA, greedy
from gapa.allocators.packing import OutOfTime, Packing, PriceCache
from gapa.allocators.pool import J_PER_KWH, ColumnPool, cost_unit_j
from gapa.allocators.pricing import cost_underestimate, enumerate_group, price_group
from gapa.evaluator import evaluate_batch, host_set_costs
from gapa.highs import CheckLimit, has_solution
from gapa.lower_bound import lower_bound
from gapa.power import ShapeModel
from gapa.problem import REJECTED, Problem


def energy_lattice(problem: Problem, placed: np.ndarray | None = None) -> tuple[float, float] | None:
    """``(D, q)`` when every allocation of the VMs ``placed`` (default: all) has energy
    ``D + q × integer`` joules, else None.

    Holds for one group of identical hosts with a linear curve and hosts switched off at
    no cost: ``D`` is the dynamic energy (the same wherever VMs go), ``q`` is ``P(0)``
    times the greatest common divisor of the event times (seconds).
    """
    f, pol = problem.fleet, problem.policy
    if len(f.groups) != 1 or problem.n_vms == 0:
        return None
    model = f.groups[0].power
    if not (isinstance(model, ShapeModel) and model.kind == "linear"):
        return None
    if pol.idle != "off" or pol.boot_s or pol.shutdown_s or pol.boot_j or pol.shutdown_j:
        return None
    w = problem.workload
    placed = np.arange(w.n) if placed is None else np.asarray(placed, dtype=np.intp)
    if not len(placed):
        return None
    dyn = cost_underestimate(problem, 0, placed)
    times = np.unique(np.concatenate([w.start_s[placed], w.end_s[placed]]))
    step = math.gcd(*(int(t) for t in times.tolist()))
    if step == 0 or model.idle_w <= 0:
        return None
    return float(dyn.sum()), float(model.idle_w) * step


class ColumnGeneration:
    """The covering model over pooled host schedules and its column generation."""

    def __init__(self, problem: Problem, pool: ColumnPool, placed: np.ndarray):
        self.problem = problem
        self.pool = pool
        self.placed = placed
        #: joules per unit of the HiGHS models' costs, and the least tolerance (J) when
        #: comparing energies: 1 J with costs in kWh, as small in proportion otherwise
        self.unit_j = cost_unit_j(problem)
        self.floor_j = self.unit_j / J_PER_KWH
        p = problem
        self.demand = Counter(p.vm_kind[placed].tolist())
        self.row_of_kind = {k: i for i, k in enumerate(sorted(self.demand))}
        self.rows = (self.row_of_kind, np.array([self.demand[k] for k in sorted(self.demand)], dtype=float))
        by_kind: dict[int, list[int]] = {}
        for vm in placed.tolist():
            by_kind.setdefault(int(p.vm_kind[vm]), []).append(vm)
        self.kind_vms = [np.asarray(by_kind[k], dtype=np.intp) for k in sorted(self.demand)]
        self.lp_value_j = math.nan
        self.bound_j = -math.inf
        self.converged = False
        self.iterations = 0
        self.pricing_milps = 0
        self.work_limited = 0  # MILPs stopped by a check limit (pricing and covering)
        self.duals: np.ndarray | None = None

    def columns(self) -> list[int]:
        """Pooled columns made only of kinds to cover."""
        rk = self.row_of_kind
        return [j for j, kinds in enumerate(self.pool._kinds) if all(k in rk for k in kinds)]

    def solve_lp(self, cols: list[int]):
        h = self.pool._solver(cols, self.rows, integer=False)
        h.run()
        return h

    def run(self, deadline: float, pricing_s: float = 10.0, max_iterations: int | None = None,
            pricing_checks: int | None = None) -> None:
        """Generate columns until none can pay, ``deadline`` (``time.perf_counter()``) passes
        or ``max_iterations`` LPs have been solved.  Each pricing MILP may take
        ``pricing_s`` seconds and, if given, ``pricing_checks`` of HiGHS's limit checks."""
        p = self.problem
        n_kinds = len(self.demand)
        groups = range(len(p.fleet.groups))
        while True:
            cols = self.columns()
            h = self.solve_lp(cols)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return
            self.iterations += 1
            self.lp_value_j = h.getInfo().objective_function_value * self.unit_j
            duals = np.asarray(h.getSolution().row_dual)
            self.duals = duals
            if time.perf_counter() >= deadline or (max_iterations is not None
                                                    and self.iterations >= max_iterations):
                return
            before = len(self.pool)
            self.pool._priced_columns(self.placed, self.row_of_kind, duals)
            if len(self.pool) > before:
                continue
            value_j = np.maximum(duals[:n_kinds], 0.0) * self.unit_j
            least: dict[int, float] = {}
            exact = True
            found = False
            for g in groups:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                group_dual = min(0.0, float(duals[n_kinds + g])) * self.unit_j
                res = price_group(p, g, self.kind_vms, value_j, group_dual, min(pricing_s, left), pricing_checks)
                self.pricing_milps += 1
                self.work_limited += res is not None and res.work_limited
                if res is None:
                    least[g] = 0.0
                    continue
                exact &= res.optimal
                least[g] = min(0.0, res.bound_j)
                if res.reduced_j < -1e-7 * max(self.floor_j, abs(self.lp_value_j)) and len(res.vms):
                    host = int(p.hosts_of_group[g][0])
                    sets = [res.vms, *res.others]
                    energy, _, ok = host_set_costs(p, np.full(len(sets), host), sets)
                    n0 = len(self.pool)
                    for vms, e, good in zip(sets, energy.tolist(), ok.tolist()):
                        if good:
                            self.pool._add(host, vms, e)
                    found |= len(self.pool) > n0
            # Lagrangian bound: every used host can lower the cost by at most its group's least reduced cost
            hosts_usable = [min(len(p.hosts_of_group[g]), len(self.placed)) for g in groups]
            lag = self.lp_value_j + sum(n * least[g] for g, n in zip(groups, hosts_usable))
            self.bound_j = max(self.bound_j, lag)
            if exact and all(v >= -1e-7 * max(self.floor_j, abs(self.lp_value_j)) for v in least.values()):
                self.converged = True
                self.bound_j = max(self.bound_j, self.lp_value_j)
                return
            if not found:
                return  # the MILPs' sets are pooled already (their true cost is above the estimate)

    def enumerate_columns(self, threshold_j: float, deadline: float) -> bool:
        """Pool every schedule whose reduced cost under the last LP's duals is at most
        ``threshold_j`` (:func:`~gapa.allocators.pricing.enumerate_group`); return whether
        the enumeration was complete for every group."""
        if self.duals is None or not self.converged:
            return False
        p = self.problem
        n_kinds = len(self.demand)
        value_j = np.maximum(self.duals[:n_kinds], 0.0) * self.unit_j
        complete = True
        for g in range(len(p.fleet.groups)):
            group_dual = min(0.0, float(self.duals[n_kinds + g])) * self.unit_j
            sets, done = enumerate_group(p, g, self.kind_vms, value_j, group_dual, threshold_j, deadline)
            complete &= done
            if sets:
                host = int(p.hosts_of_group[g][0])
                energy, _, ok = host_set_costs(p, np.full(len(sets), host), sets)
                for vms, e, good in zip(sets, energy.tolist(), ok.tolist()):
                    if good:
                        self.pool._add(host, vms, e)
        return complete

    def solve_ip(self, incumbent: Packing, upper_j: float, time_limit_s: float,
                 max_nodes: int | None = None, max_checks: int | None = None) -> tuple[np.ndarray | None, bool, float]:
        """The best allocation of pooled columns, whether HiGHS proved it optimal among
        them, and HiGHS's dual bound (J): no allocation of pooled columns costs less
        (its objective may be above that by HiGHS's absolute gap tolerance).
        ``max_nodes`` and ``max_checks`` (HiGHS's limit checks,
        :class:`gapa.highs.CheckLimit`) are optional work limits."""
        self.pool.add(incumbent)
        cols = self.columns()
        h = self.solve_lp(cols)
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal and self.converged:
            lower = h.getInfo().objective_function_value
            reduced = np.asarray(h.getSolution().col_dual)
            slack = (upper_j / self.unit_j - lower) + 1e-9 * max(1.0, abs(lower))
            cols = [c for c, r in zip(cols, reduced.tolist()) if r <= slack]
        start = Counter(self.pool._index[self.pool._key(hh, incumbent.members[hh])]
                        for hh in incumbent.used_hosts())
        cols = sorted(set(cols) | set(start))
        h = self.pool._solver(cols, self.rows, integer=True)
        h.setOptionValue("time_limit", max(0.1, float(time_limit_s)))
        h.setOptionValue("mip_rel_gap", 0.0)
        if max_nodes is not None:
            h.setOptionValue("mip_max_nodes", int(max_nodes))
        checks = CheckLimit(h, max_checks if max_checks is not None else 1 << 62)
        solution = highspy.HighsSolution()
        solution.col_value = [float(start.get(j, 0)) for j in cols]
        h.setSolution(solution)
        checks.run()
        self.work_limited += checks.hit
        proved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        values = np.asarray(h.getSolution().col_value)
        if not has_solution(h) or len(values) != len(cols) or not np.isfinite(values).all():
            return None, False, math.inf
        picked = {cols[k]: round(v) for k, v in enumerate(values.tolist()) if v > 0.5}
        dual_bound = h.getInfo().mip_dual_bound * self.unit_j
        return self.pool._allocation(picked, self.placed), proved, dual_bound


def _lattice_round(bound: float, lattice: tuple[float, float] | None) -> float:
    if lattice is None or not math.isfinite(bound):
        return bound
    base, q = lattice
    return base + q * math.ceil((bound - base) / q - 1e-6)


class ExactSolver(Allocator):
    """Column generation and a covering MILP (HiGHS), with a proven lower bound."""

    name = "exact"
    stochastic = False
    summary = "exact solver (column generation + covering MILP, HiGHS): best found and a proven bound"

    def __init__(self, time_limit: float = 60.0, pricing_time_limit: float = 10.0,
                 max_iterations: int | None = None, warm_start: bool = True):
        for key, value in (("time_limit", time_limit), ("pricing_time_limit", pricing_time_limit)):
            if not 0 < value < math.inf:
                raise SettingError(key, f"must be positive (seconds), got {value}")
        if max_iterations is not None and max_iterations < 1:
            raise SettingError("max_iterations", f"must be at least 1, got {max_iterations}")
        self.time_limit = float(time_limit)
        self.pricing_time_limit = float(pricing_time_limit)
        self.max_iterations = max_iterations
        self.warm_start = bool(warm_start)
        #: allocations to start from besides the heuristics' (e.g. GAPA's)
        self.start_allocations: list[np.ndarray] = []

    @property
    def decomposable(self) -> bool:  # type: ignore[override]
        """Block by block unless given start allocations (they index the whole problem)."""
        return not self.start_allocations

    def settings(self) -> dict[str, Any]:
        return {"time_limit": self.time_limit, "pricing_time_limit": self.pricing_time_limit,
                "max_iterations": self.max_iterations, "warm_start": self.warm_start}

    @staticmethod
    def _better(problem: Problem, alloc: np.ndarray | None, current: np.ndarray,
                upper: float) -> tuple[np.ndarray, float]:
        """``alloc`` and its energy if it is feasible, rejects no more VMs and costs less."""
        if alloc is None:
            return current, upper
        e = evaluate_batch(problem, np.stack([alloc, current]))
        if e.violations[0] == 0 and (int(e.rejected[0]), float(e.energy_j[0])) < (int(e.rejected[1]), upper):
            return alloc, float(e.energy_j[0])
        return current, upper

    @staticmethod
    def _rounded(problem: Problem, placed: np.ndarray, bound: float) -> float:
        return _lattice_round(bound, energy_lattice(problem, placed))

    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        t0 = time.perf_counter()
        budget = self.time_limit if limits.time_limit_s is None else min(self.time_limit, limits.time_limit_s)
        deadline = t0 + budget
        n = problem.n_vms
        if n == 0:
            return AllocatorResult(np.zeros(0, dtype=np.int64), status="optimal", lower_bound_j=0.0,
                                   info=self.settings())
        cache = PriceCache(problem)
        starts = [BestFitDecreasing().allocate(problem, rng, limits).allocation]
        seeding_until = t0 + 0.25 * budget  # greedy starts are dropped when they would run past it
        for order in (start_order(problem),
                      np.lexsort((np.arange(n), -(problem.workload.cores * problem.workload.duration_s)))):
            try:
                starts.append(greedy(problem, order.tolist(), cache, until=seeding_until).allocation)
            except OutOfTime:
                break
        starts += [np.asarray(a, dtype=np.int64) for a in self.start_allocations]
        if self.warm_start:
            # GAPA (its defaults, within a quarter of the budget, and before the deadline)
            # gives a strong incumbent: at worst the best of the seeds it had time for
            left = max(1e-3, min(0.25 * budget, deadline - time.perf_counter()))
            ga = GAPA(time_limit=left).allocate(problem, rng, Limits(quiet=True))
            starts.append(ga.allocation)
        ev = evaluate_batch(problem, np.stack(starts))
        ok = ev.violations == 0
        best = int(np.lexsort((np.where(ok, ev.energy_j, np.inf), np.where(ok, ev.rejected, n + 1)))[0])
        incumbent = Packing(problem, starts[best], cache)
        upper = float(ev.energy_j[best])
        pool = ColumnPool(problem)
        pool.MAX_COLUMNS = 1 << 30
        for a, good in zip(starts, ok.tolist()):
            if good:
                pool.add(Packing(problem, a, cache))
        placed = np.flatnonzero(incumbent.allocation != REJECTED)
        cg = ColumnGeneration(problem, pool, placed)
        # column generation gets most of the budget; the integer solve what is left (≥ 10 %)
        cg.run(t0 + 0.8 * budget, self.pricing_time_limit, self.max_iterations)
        alloc, proved_among, _ = cg.solve_ip(incumbent, upper, max(0.1, deadline - time.perf_counter()))
        incumbent_alloc, upper = self._better(problem, alloc, incumbent.allocation, upper)
        # the instance's own lower bound (gapa.lower_bound) holds whatever happened above
        combinatorial_j = lower_bound(problem).energy_j
        bound = self._rounded(problem, placed, max(cg.bound_j, combinatorial_j))
        enumerated = False
        if cg.converged and upper > bound * (1 + 1e-9) and time.perf_counter() < deadline:
            # every schedule of a better solution has reduced cost ≤ upper − LP: pool them all
            complete = cg.enumerate_columns(upper - cg.lp_value_j, deadline)
            alloc, proved_among, among_bound = cg.solve_ip(
                Packing(problem, incumbent_alloc, cache), upper, max(0.1, deadline - time.perf_counter()))
            incumbent_alloc, upper = self._better(problem, alloc, incumbent_alloc, upper)
            if complete and proved_among:
                # no better solution uses a schedule outside the pool, and none inside it
                enumerated = True
                bound = max(bound, self._rounded(problem, placed, min(upper, among_bound)))
        bound_fallback = bool(bound > upper * (1 + 1e-9))
        if bound_fallback:
            # a bound above a feasible allocation's exact energy is numerically wrong (the
            # LPs' tolerances are in units of cost_unit_j): keep the combinatorial one only
            bound = self._rounded(problem, placed, combinatorial_j)
        gap = max(0.0, (upper - bound) / upper) if upper > 0 and math.isfinite(bound) else 0.0 if upper == bound else math.inf
        status = "time_limit"
        if gap <= 1e-9:
            status = "optimal"
        elif cg.converged and proved_among:
            status = "best_of_columns"
        info = {**self.settings(), "iterations": cg.iterations, "pricing_milps": cg.pricing_milps,
                "columns": len(pool), "lp_j": cg.lp_value_j, "bound_j": bound,
                "gap": gap, "converged": cg.converged, "enumerated": enumerated,
                "bound_fallback": bound_fallback, "elapsed_s": time.perf_counter() - t0}
        return AllocatorResult(np.asarray(incumbent_alloc, dtype=np.int64), status=status,
                               lower_bound_j=bound if math.isfinite(bound) else None, info=info)
