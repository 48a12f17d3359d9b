"""GAPA: one seed gives the same allocation and energy, in this process and in another."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from gapa import Problem, load_scenario, load_workload
from gapa.allocators import Limits, get_allocator

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"population": 6, "generations": 3, "stagnation": 3}
SCRIPT = f"""
import json, numpy as np
from gapa import Problem, load_scenario, load_workload
from gapa.allocators import Limits, get_allocator
p = Problem(load_workload({str(ROOT / 'workloads/oneday.csv')!r}), load_scenario({str(ROOT / 'scenarios/lab.toml')!r}))
r = get_allocator("gapa", {SETTINGS!r}).allocate(p, np.random.default_rng(11), Limits())
print(json.dumps(r.allocation.tolist()))
"""


def test_same_seed_same_allocation_in_another_process():
    p = Problem(load_workload(ROOT / "workloads/oneday.csv"), load_scenario(ROOT / "scenarios/lab.toml"))
    here = get_allocator("gapa", SETTINGS).allocate(p, np.random.default_rng(11), Limits()).allocation
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    there = np.array(json.loads(out.stdout))
    np.testing.assert_array_equal(here, there)


def test_different_seeds_explore_differently():
    p = Problem(load_workload(ROOT / "workloads/oneday.csv"), load_scenario(ROOT / "scenarios/lab.toml"))
    runs = [get_allocator("gapa", SETTINGS).allocate(p, np.random.default_rng(s), Limits()) for s in (1, 2)]
    means = [[rec["mean_j"] for rec in r.logbook] for r in runs]
    assert means[0] != means[1]  # the randomised part of the population differs


def test_milps_stop_on_work_not_time(monkeypatch):
    """GAPA's MILPs (recombination, and the ``polish`` column generation) stop on work
    limits, so a run gives the same allocation when HiGHS runs slower (here every one of
    its limit checks sleeps, as on a slower or loaded machine)."""
    import time

    from gapa.allocators import genetic
    from gapa.allocators.pool import ColumnPool
    from gapa.highs import CheckLimit
    from gapa.readers.tbpp import read_tbpp

    problem = Problem(*read_tbpp(ROOT / "benchmarks/data/tbpp/a1/cap100_n50_t50_LonSm_1.txt"))

    def run(settings):
        return get_allocator("gapa", settings).allocate(problem, np.random.default_rng(3), Limits(quiet=True))

    # the recombination MILPs (pool) and then polish's pricing MILPs, each stopped by its check limit
    for pool_checks, pricing_checks, settings in ((15, 10**9, {"population": 10, "generations": 12}),
                                                  (10**9, 3, {"population": 10, "generations": 12, "polish": 10})):
        monkeypatch.setattr(ColumnPool, "MAX_MILP_CHECKS", pool_checks)
        monkeypatch.setattr(genetic, "POLISH_PRICING_CHECKS", pricing_checks)
        monkeypatch.setattr(CheckLimit, "_on_check", lambda self: None)
        fast = run(settings)
        monkeypatch.setattr(CheckLimit, "_on_check", lambda self: time.sleep(0.002))
        slow = run(settings)
        assert fast.info["pool_work_limited"] > 0 and fast.info["pool_timed_out"] == 0
        np.testing.assert_array_equal(fast.allocation, slow.allocation)
