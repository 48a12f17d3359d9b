"""Set-covering recombination: the pooled host groups of many allocations are combined
into one feasible allocation that places the same VMs, and no worse than the best of them
when dropping a VM from a host never costs energy."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
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

A1 = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "tbpp" / "a1"


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


def _covering_milp(seed: int = 1, rows: int = 120, cols: int = 1200):
    """A random set-covering MILP that HiGHS does not solve in a few checks."""
    import highspy

    from gapa.highs import new_highs

    rng = np.random.default_rng(seed)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols, rows
    lp.col_cost_ = rng.integers(50, 100, cols).astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(cols), np.full(cols, highspy.kHighsInf)
    lp.row_lower_, lp.row_upper_ = np.ones(rows), np.full(rows, highspy.kHighsInf)
    starts, index = [0], []
    for _ in range(cols):
        index += np.flatnonzero(rng.random(rows) < 0.05).tolist()
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(len(index))
    lp.integrality_ = [highspy.HighsVarType.kInteger] * cols
    h = new_highs()
    h.passModel(lp)
    return h


def test_check_limit_stops_a_milp_after_the_same_work_on_a_slow_machine():
    """A MILP stopped by CheckLimit gives the same solution when every check is slowed
    down (as on a slower or loaded machine): the limit counts work, not time.  A
    wall-clock limit set to the fast run's time stops the slowed run earlier."""
    import time

    import highspy

    from gapa.highs import CheckLimit, has_solution

    class SlowChecks(CheckLimit):
        def _on_check(self):
            time.sleep(0.02)

    results = []
    for limit in (CheckLimit, SlowChecks):
        h = _covering_milp()
        checks = limit(h, 40)
        t0 = time.perf_counter()
        checks.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt and has_solution(h)
        results.append((checks.count, h.getInfo().objective_function_value,
                        np.round(h.getSolution().col_value).tolist(), time.perf_counter() - t0))
    (count_a, obj_a, x_a, s_a), (count_b, obj_b, x_b, s_b) = results
    assert count_a == count_b and obj_a == obj_b and x_a == x_b
    assert s_b > s_a + 40 * 0.02 * 0.5  # the slowed run did take longer

    # a wall-clock limit of the fast run's time instead: on a machine slow enough that 40
    # checks take twice that, it stops the solve after less work (what CheckLimit avoids)
    class VerySlowChecks(CheckLimit):
        def _on_check(self):
            time.sleep(s_a / 20)

    h = _covering_milp()
    h.setOptionValue("time_limit", s_a)
    checks = VerySlowChecks(h, 1 << 30)
    checks.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit and checks.count < count_a


def test_check_limit_passes_ctrl_c_on():
    """A KeyboardInterrupt raised while HiGHS is in the callback (where Ctrl-C lands
    during a solve) is not swallowed by HiGHS: run() raises it."""
    import pytest

    from gapa.highs import CheckLimit

    class CtrlC(CheckLimit):
        def _on_check(self):
            if self.count == 3:
                raise KeyboardInterrupt

    h = _covering_milp()
    checks = CtrlC(h, 1 << 30)
    with pytest.raises(KeyboardInterrupt):
        checks.run()
    assert checks.count < 10  # the solve stopped at once


def test_gapa_runs_whose_milps_hit_the_work_limit_repeat(monkeypatch):
    """With a work limit small enough to stop GAPA's MILPs, runs still repeat exactly."""
    from gapa.allocators import Limits, get_allocator
    from gapa.readers.tbpp import read_tbpp

    monkeypatch.setattr(ColumnPool, "MAX_MILP_CHECKS", 3)
    problem = Problem(*read_tbpp(A1 / "cap100_n50_t50_LonSm_1.txt"))
    runs = [get_allocator("gapa", {"generations": 20}).allocate(problem, np.random.default_rng(5), Limits(quiet=True))
            for _ in range(2)]
    assert runs[0].info["pool_work_limited"] > 0 and runs[0].info["pool_timed_out"] == 0
    assert np.array_equal(runs[0].allocation, runs[1].allocation)


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
                    reason="this process ignores SIGINT (started in the background by a shell without job control)")
def test_a_real_ctrl_c_during_a_solve_stops_it_and_is_raised():
    """SIGINT sent while HiGHS solves (no Python code running but the checks): the
    solve stops at the next check and run() raises KeyboardInterrupt; the handler is
    Python's default again afterwards."""
    import os
    import signal
    import threading
    import time

    import pytest

    from gapa.highs import CheckLimit

    h = _covering_milp()
    h.setOptionValue("time_limit", 5.0)  # were Ctrl-C lost, the test would fail, not hang
    checks = CheckLimit(h, 1 << 30)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        checks.run()
    assert time.perf_counter() - t0 < 2.0  # the uninterrupted solve takes longer (2–3 s)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
