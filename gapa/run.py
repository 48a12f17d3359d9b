"""The front door: one run = allocate, simulate, cross-check, summarise.

:func:`run_allocator` is what ``gapa simulate`` calls once per algorithm, and
what sweeps will call once per grid point.  It seeds the allocator from the
run's one seed, times it, simulates its allocation in SimPy (which fails loudly
on any capacity breach), checks the fast evaluator agrees with the simulation,
and returns a :class:`RunResult`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

import gapa
from gapa.allocators import Allocator, AllocatorResult, Limits, get_allocator
from gapa.blocks import allocate_in_blocks
from gapa.evaluator import Evaluation, evaluate
from gapa.problem import REJECTED, Problem
from gapa.simulation import SimulationResult, simulate

#: relative tolerance between the fast evaluator and the SimPy simulation
AGREEMENT_RTOL = 1e-9

JOULES_PER_KWH = 3.6e6


class EvaluatorMismatch(AssertionError):
    """The fast evaluator and the SimPy simulation disagree: a bug in gapa."""


@dataclass(frozen=True)
class RunResult:
    """One allocator's run on one problem.

    Attributes:
        algorithm: allocator name.
        seed: the run's seed.
        allocation: host index per VM (−1 = rejected).
        allocator: what the allocator reported (status, bound, logbook, info).
        simulation: the SimPy simulation of the allocation.
        evaluation: the fast evaluator's result for the same allocation.
        solve_s: wall-clock seconds the allocator took.
    """

    algorithm: str
    seed: int
    allocation: np.ndarray
    allocator: AllocatorResult
    simulation: SimulationResult
    evaluation: Evaluation
    solve_s: float

    def summary(self, problem: Problem) -> dict[str, Any]:
        """Flat, JSON-friendly record of the run (energy in J and kWh, times in s)."""
        sim = self.simulation
        rejected = np.flatnonzero(self.allocation == REJECTED)
        record: dict[str, Any] = {
            "algorithm": self.algorithm,
            "energy_j": sim.energy_j,
            "energy_kwh": sim.energy_j / JOULES_PER_KWH,
            "host_on_s": sim.on_s,
            "hosts_used": sim.hosts_used,
            "peak_hosts_on": sim.peak_hosts_on,
            "placed": int(problem.n_vms - len(rejected)),
            "rejected": len(rejected),
            "rejected_vms": problem.workload.vm_ids[rejected].tolist(),
            "status": self.allocator.status,
            "lower_bound_j": self.allocator.lower_bound_j,
            "seed": self.seed,
            "solve_s": self.solve_s,
            "gapa_version": gapa.__version__,
            "workload": problem.workload.source,
            "scenario": problem.scenario.source,
        }
        record.update({f"info_{k}": v for k, v in self.allocator.info.items()})
        return record


def run_allocator(
    problem: Problem,
    allocator: str | Allocator,
    seed: int = 0,
    limits: Limits | None = None,
    settings: dict[str, Any] | None = None,
) -> RunResult:
    """Allocate ``problem`` with one allocator, then simulate and cross-check the result.

    Args:
        problem: the instance.
        allocator: an allocator or its name (built with ``settings``, else the
            scenario's table of that name).
        seed: the run's one seed; the allocator's RNG is ``numpy.random.default_rng(seed)``
            (each independent block's, one drawn from it: :func:`gapa.blocks.block_seeds`).
        limits: time budget, verbosity, and where independent blocks run
            (:mod:`gapa.blocks`: ``limits.processes`` worker processes at once, or the Dask
            cluster ``limits.scheduler``); without a time limit the allocation does not
            depend on where they run.
        settings: allocator keyword settings when ``allocator`` is a name.

    Raises:
        InfeasibleAllocation: the allocation breaks a capacity limit (the simulation says where).
        EvaluatorMismatch: fast evaluator and simulation disagree (a bug).
    """
    if isinstance(allocator, str):
        allocator = get_allocator(allocator, settings if settings is not None
                                  else problem.scenario.settings.get(allocator, {}))
    limits = limits or Limits()
    t0 = time.perf_counter()
    if allocator.decomposable:
        result = allocate_in_blocks(problem, allocator, seed, limits, workers=limits.processes,
                                    scheduler=limits.scheduler).result
    else:
        result = allocator.allocate(problem, np.random.default_rng(seed), limits)
    solve_s = time.perf_counter() - t0
    allocation = problem.check_allocation_shape(result.allocation)
    sim = simulate(problem, allocation)
    fast = evaluate(problem, allocation)
    if fast.violations:
        raise EvaluatorMismatch("the simulation accepted an allocation that the evaluator finds infeasible")
    if not np.isclose(fast.energy_j, sim.energy_j, rtol=AGREEMENT_RTOL, atol=1e-6):
        raise EvaluatorMismatch(f"fast evaluator {fast.energy_j!r} J ≠ simulation {sim.energy_j!r} J")
    return RunResult(allocator.name, seed, allocation, result, sim, fast, solve_s)
