"""Every allocator goes through the same checks (pymoo-style contract tests).

All VMs placed or reported rejected; the allocation is feasible under the SimPy
simulation; its energy equals the fast evaluator's; same seed, same result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapa.allocators import ALLOCATORS, Limits, get_allocator
from gapa.evaluator import evaluate
from gapa.problem import REJECTED, Problem
from gapa.run import run_allocator
from gapa.scenario import load_scenario
from gapa.simulation import simulate
from gapa.workload import load_workload
from tests.generators import problems

ROOT = Path(__file__).resolve().parent.parent

#: small settings so the contract runs quickly; the defaults are exercised by benchmarks
FAST = {"gapa": {"population": 8, "generations": 4, "stagnation": 4},
        "exact": {"time_limit": 30, "max_iterations": 2, "warm_start": False}}


def allocator(name: str):
    return get_allocator(name, FAST.get(name, {}))


@pytest.fixture(scope="module")
def oneday() -> Problem:
    return Problem(load_workload(ROOT / "workloads/oneday.csv"), load_scenario(ROOT / "scenarios/lab.toml"))


def _check(problem: Problem, name: str, seed: int = 0) -> np.ndarray:
    result = allocator(name).allocate(problem, np.random.default_rng(seed), Limits())
    alloc = problem.check_allocation_shape(result.allocation)
    assert alloc.shape == (problem.n_vms,)
    # a VM that fits no host even alone is always rejected
    assert np.all(alloc[problem.unplaceable] == REJECTED)
    sim = simulate(problem, alloc)  # raises on any capacity breach
    fast = evaluate(problem, alloc)
    assert fast.violations == 0
    assert fast.energy_j == pytest.approx(sim.energy_j, rel=1e-9, abs=1e-9)
    assert sim.host_vms.sum() == int((alloc != REJECTED).sum())
    return alloc


@pytest.mark.parametrize("name", sorted(ALLOCATORS))
def test_contract_on_oneday(oneday, name):
    alloc = _check(oneday, name)
    assert int((alloc == REJECTED).sum()) == 0  # the lab fleet has room for the whole day


@pytest.mark.parametrize("name", sorted(ALLOCATORS))
@settings(max_examples=40, deadline=None)
@given(problem=problems(max_vms=20))
def test_contract_on_random_problems(name, problem):
    _check(problem, name)


@pytest.mark.parametrize("name", sorted(ALLOCATORS))
def test_same_seed_same_result(oneday, name):
    a = run_allocator(oneday, allocator(name), seed=7)
    b = run_allocator(oneday, allocator(name), seed=7)
    np.testing.assert_array_equal(a.allocation, b.allocation)
    assert a.simulation.energy_j == b.simulation.energy_j
    assert a.summary(oneday)["seed"] == 7


@settings(max_examples=60, deadline=None)
@given(problem=problems(max_vms=20), name=st.sampled_from(sorted(ALLOCATORS)))
def test_rejects_only_when_no_host_has_room(problem, name):
    """A rejected VM must not fit any host given the other VMs the allocator placed."""
    from tests.generators import fits_with

    alloc = allocator(name).allocate(problem, np.random.default_rng(0), Limits()).allocation
    for vm in np.flatnonzero(alloc == REJECTED):
        assert not any(fits_with(problem, alloc, int(vm), h) for h in range(problem.n_hosts)), (
            f"{name} rejected VM {vm} although host room was free")
