"""Core benchmarks (issue 2): SimPy throughput, fast-evaluator throughput, BFD time.

Run:  python benchmarks/bench_core.py            (targets: SimPy 100k VMs < 15 s,
      evaluator ≥ 10,000 allocations/s on oneday in batches of 256, BFD 10k VMs < 30 s)
      python benchmarks/bench_core.py --scaling  (also how cost grows with VMs and hosts)
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

import gapa
from gapa.allocators import Limits, get_allocator
from gapa.evaluator import evaluate_batch
from gapa.problem import Problem
from gapa.scenario import Scenario, load_scenario
from gapa.simulation import simulate
from gapa.synthetic import peak_demand, synthetic_fleet, synthetic_workload
from gapa.workload import load_workload

ROOT = Path(__file__).resolve().parent.parent


def synthetic_problem(n: int, seed: int, headroom: float = 1.3) -> Problem:
    rng = np.random.default_rng(seed)
    w = synthetic_workload(n, rng)
    return Problem(w, Scenario(synthetic_fleet(*peak_demand(w), headroom=headroom)))


def random_allocations(problem: Problem, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Random hosts among those each VM statically fits (feasibility does not change the cost)."""
    fits = problem.group_fits[:, problem.fleet.group_of_host]  # (n, H)
    scores = rng.random((batch, *fits.shape)) * fits
    return scores.argmax(axis=2)


def bench_simulation(n: int) -> None:
    problem = synthetic_problem(n, seed=1)
    alloc = get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits()).allocation
    t0 = time.perf_counter()
    sim = simulate(problem, alloc)
    dt = time.perf_counter() - t0
    print(f"simpy      {n:>7,} VMs on {problem.n_hosts:>5} hosts: {dt:7.2f} s "
          f"({n / dt:,.0f} VMs/s; {sim.energy_j / 3.6e6:,.1f} kWh)   target < 15 s for 100,000")


def bench_evaluator(problem: Problem, label: str, batch: int = 256, rounds: int = 20) -> float:
    rng = np.random.default_rng(0)
    allocs = [random_allocations(problem, batch, rng) for _ in range(3)]
    evaluate_batch(problem, allocs[0])  # warm-up
    t0 = time.perf_counter()
    for i in range(rounds):
        evaluate_batch(problem, allocs[i % 3])
    dt = time.perf_counter() - t0
    rate = rounds * batch / dt
    print(f"evaluator  {label}: {rate:>9,.0f} allocations/s "
          f"({dt / rounds * 1e3:.1f} ms per batch of {batch})")
    return rate


def bench_bfd(n: int, headroom: float = 1.3) -> None:
    problem = synthetic_problem(n, seed=2, headroom=headroom)
    t0 = time.perf_counter()
    res = get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits())
    dt = time.perf_counter() - t0
    print(f"bfd        {n:>7,} VMs on {problem.n_hosts:>5} hosts: {dt:7.2f} s "
          f"({int((res.allocation < 0).sum())} rejected)   target < 30 s for 10,000")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaling", action="store_true", help="also print cost against size")
    args = parser.parse_args()
    print(f"gapa {gapa.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}")
    oneday = Problem(load_workload(ROOT / "workloads/oneday.csv"), load_scenario(ROOT / "scenarios/lab.toml"))
    rate = bench_evaluator(oneday, f"oneday ({oneday.n_vms} VMs, {oneday.n_hosts} hosts)")
    print(f"           target ≥ 10,000 allocations/s: {'met' if rate >= 10_000 else 'NOT met'}")
    bench_simulation(100_000)
    bench_bfd(10_000)
    if args.scaling:
        print("-- scaling --")
        for n in (1_000, 2_000, 4_000, 8_000):
            p = synthetic_problem(n, seed=3)
            bench_evaluator(p, f"synthetic {n:>6,} VMs, {p.n_hosts:>4} hosts", batch=64, rounds=5)
        for n in (1_000, 2_000, 4_000, 8_000):
            bench_bfd(n)
        for n in (10_000, 25_000, 50_000):
            bench_simulation(n)
        print("-- scaling with hosts (same 4,000 VMs, fleets with more headroom) --")
        for headroom in (1.3, 5.2, 20.8):
            p = synthetic_problem(4_000, seed=3, headroom=headroom)
            bench_evaluator(p, f"synthetic  4,000 VMs, {p.n_hosts:>4} hosts", batch=64, rounds=5)
        for headroom in (1.3, 5.2, 20.8):
            bench_bfd(4_000, headroom)


if __name__ == "__main__":
    main()
