"""Set-covering recombination: the pooled host groups of many allocations are combined
into one feasible allocation that places the same VMs, and no worse than the best of them
when dropping a VM from a host never costs energy."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gapa.allocators.packing import Packing, PriceCache
from gapa.allocators.pool import ColumnPool
from gapa.evaluator import evaluate
from gapa.fleet import Fleet, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import ShapeModel
from gapa.problem import REJECTED, Problem
from gapa.scenario import Scenario
from gapa.workload import Workload
from tests.generators import problems


def _pool_of_greedy_packings(problem: Problem, rng: np.random.Generator, n: int) -> tuple[ColumnPool, list[Packing]]:
    cache = PriceCache(problem)
    pool = ColumnPool(problem)
    packs = []
    for _ in range(n):
        p = Packing(problem, cache=cache)
        p.insert(rng.permutation(problem.n_vms).tolist())
        pool.add(p)
        packs.append(p)
    return pool, packs


@settings(max_examples=40, deadline=None)
@given(problems(max_vms=18), st.integers(0, 2**32 - 1))
def test_pooled_allocation_is_feasible_and_places_the_same_vms(problem, seed):
    rng = np.random.default_rng(seed)
    pool, packs = _pool_of_greedy_packings(problem, rng, 6)
    incumbent = min(packs, key=lambda p: p.total_energy())
    alloc = pool.best(incumbent, packs)
    if problem.n_vms == 0 or not ColumnPool.suits(problem):
        return
    assert alloc is not None
    ev = evaluate(problem, alloc)
    assert ev.violations == 0
    assert np.array_equal(alloc == REJECTED, incumbent.allocation == REJECTED)


def _identical_hosts_problem(starts, ends, cores) -> Problem:
    """Identical 8-core hosts, linear 100–200 W, switched off when empty at no cost."""
    n = len(starts)
    workload = Workload.from_arrays(np.asarray(starts), np.asarray(ends), np.asarray(cores),
                                    np.full(n, 1024), np.full(n, np.nan), np.ones(n))
    fleet = Fleet([HostGroup("h", n, 8, 3000, 65536, ShapeModel("linear", 100, 200))])
    return Problem(workload, Scenario(fleet, PowerPolicy()))


def test_pool_finds_the_best_combination_of_parents():
    """Two parents, each good on one half of the day: the pool combines their good halves."""
    # morning: VMs 0–3, afternoon: VMs 4–7; each VM needs 4 of 8 cores
    starts = [0, 0, 100, 100, 1000, 1000, 1100, 1100]
    ends = [200, 200, 300, 300, 1200, 1200, 1300, 1300]
    problem = _identical_hosts_problem(starts, ends, [4] * 8)
    good_morning = np.array([0, 0, 1, 1, 2, 3, 2, 3])  # alike VMs share hosts: short on-time
    good_afternoon = np.array([0, 1, 0, 1, 2, 2, 3, 3])
    pool = ColumnPool(problem)
    cache = PriceCache(problem)
    a, b = Packing(problem, good_morning, cache), Packing(problem, good_afternoon, cache)
    pool.add(a)
    pool.add(b)
    alloc = pool.best(a, [a, b])
    best = evaluate(problem, alloc)
    assert best.violations == 0
    both_good = evaluate(problem, np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    assert best.energy_j == both_good.energy_j
    assert best.energy_j < min(evaluate(problem, good_morning).energy_j, evaluate(problem, good_afternoon).energy_j)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_pool_never_worse_than_incumbent_when_hosts_switch_off_freely(seed):
    rng = np.random.default_rng(seed)
    n = 14
    starts = rng.integers(0, 50, n) * 60
    ends = starts + rng.integers(1, 30, n) * 60
    problem = _identical_hosts_problem(starts, ends, rng.integers(1, 6, n))
    pool, packs = _pool_of_greedy_packings(problem, rng, 5)
    incumbent = min(packs, key=lambda p: p.total_energy())
    alloc = pool.best(incumbent, packs)
    assert evaluate(problem, alloc).energy_j <= incumbent.total_energy() * (1 + 1e-12)
