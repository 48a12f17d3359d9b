"""Independent blocks (gapa.blocks): where a problem splits, that energy adds up over the
blocks for every allocator, that the hosts that cannot matter are left out, and that the
allocation does not depend on where the blocks run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from gapa.allocators import ALLOCATORS, Limits, get_allocator
from gapa.blocks import allocate_in_blocks, block_of_vms, split, sub_problem, time_budgets
from gapa.evaluator import evaluate
from gapa.fleet import Fleet, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import ShapeModel, specpower_model
from gapa.problem import REJECTED, Problem
from gapa.run import run_allocator
from gapa.scenario import Scenario
from gapa.workload import Workload
from tests.generators import problems

FAST = {"gapa": {"population": 6, "generations": 3, "stagnation": 3},
        "exact": {"time_limit": 20, "max_iterations": 2, "warm_start": False}}

HOUR = 3600


def _fleet(count_a: int = 6, count_b: int = 4) -> Fleet:
    return Fleet([HostGroup("a", count_a, 8, 3000, 16384, ShapeModel("sqrt", 60, 200)),
                  HostGroup("b", count_b, 16, 3000, 65536, specpower_model("IbmX3550XeonX5675"))])


def three_days(policy: PowerPolicy | None = None, gap_s: int = 12 * HOUR, seed: int = 3) -> Problem:
    """Three 'days' of 12 VMs each, separated by ``gap_s`` seconds in which nothing runs."""
    rng = np.random.default_rng(seed)
    starts, ends = [], []
    day0 = 0
    for _ in range(3):
        s = day0 + rng.integers(0, 8, 12) * 1800
        s[0] = day0  # the gap before each day is exactly gap_s
        e = s + rng.integers(1, 5, 12) * 1800
        starts.append(s)
        ends.append(e)
        day0 = int(e.max()) + gap_s
    start, end = np.concatenate(starts), np.concatenate(ends)
    n = len(start)
    w = Workload.from_arrays(start, end, rng.integers(1, 6, n), rng.integers(1, 12, n) * 1024,
                             None, rng.uniform(0.05, 0.8, n))
    return Problem(w, Scenario(_fleet(), policy or PowerPolicy()))


def test_split_finds_the_days():
    problem = three_days()
    blocks = split(problem)
    assert [b.size for b in blocks] == [12, 12, 12]
    assert [b.vms.tolist() for b in blocks] == [list(range(12)), list(range(12, 24)), list(range(24, 36))]


@pytest.mark.parametrize("name", sorted(ALLOCATORS))
def test_whole_energy_is_the_sum_of_the_blocks(name):
    """For every allocator: the whole allocation's exact energy equals the sum of the
    energies of its parts, each evaluated as a problem of its own."""
    policy = PowerPolicy("off", boot_s=60, boot_j=9000, shutdown_s=30, shutdown_j=3000)
    problem = three_days(policy)
    result = run_allocator(problem, get_allocator(name, FAST.get(name, {})), seed=1)
    assert result.allocator.info["blocks"] == 3
    whole = evaluate(problem, result.allocation).energy_j
    parts = 0.0
    for block in split(problem):
        local = np.full(block.size, REJECTED, dtype=np.int64)
        glob = result.allocation[block.vms]
        to_local = {int(h): i for i, h in enumerate(block.hosts)}
        for k, h in enumerate(glob):
            if h != REJECTED:
                local[k] = to_local[int(h)]  # the allocation only uses hosts that can matter
        parts += evaluate(block.problem, local).energy_j
    assert whole == pytest.approx(parts, rel=1e-12)
    assert result.simulation.energy_j == pytest.approx(parts, rel=1e-9)


def test_a_gap_shorter_than_break_even_does_not_split():
    policy = PowerPolicy("breakeven", boot_s=10, boot_j=9000, shutdown_s=10, shutdown_j=3000)
    # the longest break-even of any host: (9000 + 3000) J / the least P(0) of the fleet
    longest = 12000 / min(g.power.idle_w for g in _fleet().groups)
    assert 150 < longest < 250
    short = three_days(policy, gap_s=int(np.ceil(longest)) - 1)
    assert len(split(short)) == 1  # the hosts with the least P(0) idle through it
    long = three_days(policy, gap_s=int(np.ceil(longest)))
    assert len(split(long)) == 3  # every host switches off
    assert len(split(three_days(PowerPolicy("on")))) == 1  # hosts never switch off between VMs
    # idle = off: a gap shorter than boot + shutdown is idled through; zero gaps never split
    assert len(split(three_days(PowerPolicy("off", boot_s=100, shutdown_s=50), gap_s=149))) == 1
    assert len(split(three_days(PowerPolicy("off", boot_s=100, shutdown_s=50), gap_s=150))) == 3
    back_to_back = Workload.from_arrays([0, 100], [100, 200], [1, 1], [0, 0])
    assert len(split(Problem(back_to_back, Scenario(_fleet())))) == 1


@settings(max_examples=40, deadline=None)
@given(problems(max_vms=12))
def test_blocks_partition_the_vms_and_add_up(problem):
    """On random problems: blocks partition the VMs, no VM of one block overlaps another
    block's run, and BFD's energy block by block adds up to the whole's."""
    which = block_of_vms(problem)
    w = problem.workload
    for b in np.unique(which):
        inside, outside = which == b, which != b
        lo, hi = w.start_s[inside].min(), w.end_s[inside].max()
        assert not np.any((w.start_s[outside] < hi) & (w.end_s[outside] > lo))
    result = run_allocator(problem, "bfd")
    assert result.simulation.energy_j == pytest.approx(
        sum(evaluate(b.problem, _local(b, result.allocation)).energy_j for b in split(problem)),
        rel=1e-9, abs=1e-6)


def _local(block, allocation):
    local = np.full(block.size, REJECTED, dtype=np.int64)
    pos = {int(h): i for i, h in enumerate(block.hosts)}
    for k, h in enumerate(allocation[block.vms]):
        if h != REJECTED:
            local[k] = pos[int(h)]
    return local


def test_only_hosts_that_can_matter():
    """Ten VMs on 100,000 hosts: each block keeps at most one host per fitting VM."""
    fleet = Fleet([HostGroup("big", 60_000, 8, 3000, 16384, ShapeModel("linear", 60, 200)),
                   HostGroup("small", 40_000, 2, 3000, 2048, ShapeModel("linear", 30, 90))])
    w = Workload.from_arrays(np.arange(10) * 600, np.arange(10) * 600 + 3600, [4] * 5 + [1] * 5,
                             [4096] * 5 + [1024] * 5)
    problem = Problem(w, Scenario(fleet))
    sub, hosts = sub_problem(problem, np.arange(10))
    assert sub.n_hosts == 10 + 5  # 'big' fits all ten VMs, 'small' only the five small ones
    assert hosts.tolist() == list(range(10)) + list(range(60_000, 60_005))
    for name in ("bfd", "ffd", "gapa"):
        result = run_allocator(problem, get_allocator(name, FAST.get(name, {})))
        assert np.all(result.allocation != REJECTED)
        assert result.simulation.energy_j > 0


def test_time_budgets_fit_the_limit_on_every_worker():
    sizes = [50, 40, 30, 30, 20, 10, 5]
    for workers in (1, 2, 3):
        budgets = time_budgets(sizes, 60.0, workers)
        # largest first, each to the least loaded worker: each worker's budgets add up to 60 s
        load = [0.0] * workers
        for b in sorted(range(len(sizes)), key=lambda b: -sizes[b]):
            w = min(range(workers), key=lambda k: load[k])
            load[w] += budgets[b]
        assert max(load) == pytest.approx(60.0)
        assert all(x > 0 for x in budgets)


def test_same_allocation_in_worker_processes():
    """Stopping on generations, the blocks give the same allocation in this process and in
    two worker processes (one seed per block, drawn from the run's seed)."""
    problem = three_days()
    ga = get_allocator("gapa", {"population": 6, "generations": 4})
    here = allocate_in_blocks(problem, ga, seed=5, limits=Limits(), workers=1)
    there = allocate_in_blocks(problem, ga, seed=5, limits=Limits(), workers=2)
    assert here.workers == 0 and there.workers == 2
    assert np.array_equal(here.result.allocation, there.result.allocation)
    assert here.blocks == there.blocks == 3


def test_same_allocation_on_a_dask_cluster():
    from distributed import Client, LocalCluster

    problem = three_days()
    ga = get_allocator("gapa", {"population": 6, "generations": 3})
    here = allocate_in_blocks(problem, ga, seed=2, limits=Limits(), workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        there = allocate_in_blocks(problem, ga, seed=2, limits=Limits(), scheduler=client)
        via_run = run_allocator(problem, ga, seed=2, limits=Limits(scheduler=cluster.scheduler_address))
    assert there.workers == -1
    assert np.array_equal(here.result.allocation, there.result.allocation)
    assert np.array_equal(here.result.allocation, via_run.allocation)


def test_joined_logbook_adds_up_the_blocks():
    problem = three_days()
    ga = get_allocator("gapa", {"population": 6, "generations": 3, "restarts": False})
    run = allocate_in_blocks(problem, ga, seed=0, limits=Limits())
    book = run.result.logbook
    assert [r["gen"] for r in book] == [0, 1, 2, 3]
    # the last record's best is the joined allocation's energy (the best of each block)
    assert book[-1]["best_j"] >= evaluate(problem, run.result.allocation).energy_j * (1 - 1e-12)


def test_tiny_time_limits_never_break_a_small_population():
    """A review found an IndexError when time ran out while the first population was
    filled with more seeds built than kept (population <= 13)."""
    problem = three_days()
    for limit in (0.002, 0.01, 0.03, 0.06):
        for seed in range(4):
            ga = get_allocator("gapa", {"population": 4, "generations": 1})
            result = run_allocator(problem, ga, seed=seed, limits=Limits(time_limit_s=limit))
            assert np.all(result.allocation != REJECTED)


def test_joined_status_and_gap_are_the_wholes():
    from gapa.allocators.base import AllocatorResult
    from gapa.blocks import join

    problem = three_days()
    blocks = split(problem)
    parts = [get_allocator("bfd").allocate(b.problem, np.random.default_rng(0), Limits()).allocation
             for b in blocks]
    energies = [evaluate(b.problem, a).energy_j for b, a in zip(blocks, parts)]
    results = [AllocatorResult(a, status=st, lower_bound_j=0.9 * e, info={"gap": 0.1, "converged": c})
               for a, e, st, c in zip(parts, energies, ["optimal", "optimal", "best_of_columns"],
                                      [True, True, False])]
    joined = join(problem, blocks, results, "exact")
    assert joined.status == "best_of_columns"  # not the majority's "optimal"
    assert joined.info["gap"] == pytest.approx(0.1)  # not 0.3, the blocks' gaps added up
    assert joined.info["converged"] is False
    assert joined.lower_bound_j == pytest.approx(0.9 * sum(energies))


def test_an_allocators_own_time_limit_is_shared_by_the_blocks():
    """Without a run time limit, the exact solver's own time_limit bounds the whole run,
    not each block."""
    import time

    problem = three_days()
    exact = get_allocator("exact", {"time_limit": 1.5})
    t0 = time.perf_counter()
    run = allocate_in_blocks(problem, exact, seed=0, limits=Limits())
    assert time.perf_counter() - t0 < 1.5 + 2.0
    assert run.result.info["time_limit"] == 1.5  # as set, not added up over the blocks


def test_what_does_not_pickle_runs_here():
    """A power curve written as a lambda cannot go to a worker process: the blocks run here."""
    from gapa.power import CallableModel

    base = three_days()
    curve = CallableModel(lambda u: 50.0 + 100.0 * u, "lambda")
    fleet = Fleet([HostGroup("a", 6, 8, 3000, 16384, curve)])
    problem = Problem(base.workload, Scenario(fleet))
    ga = get_allocator("gapa", {"population": 4, "generations": 2})
    run = allocate_in_blocks(problem, ga, seed=0, limits=Limits(), workers=2)
    assert run.workers == 0 and run.blocks == 3
    assert np.all(run.result.allocation != REJECTED)
