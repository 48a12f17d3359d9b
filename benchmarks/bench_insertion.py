"""Energy-greedy insertion, exact and amortised, against the constructive heuristics on
the week's blocks (why GAPA's repair used to stall at its FFD seed; issue 16).

Run:  python benchmarks/bench_insertion.py [--blocks 0,1]

Per block of workloads/week.csv on scenarios/semester.toml: the energy (kWh) of BFD,
FFD and WF, and of a fresh energy-greedy insertion (gapa.allocators.packing.Packing)
in four orders, once charging each VM the whole idle power of a host it switches on
(`amortise=0`, GAPA's repair before) and once only its share (`amortise=1`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gapa import Problem, load_scenario, load_workload
from gapa.allocators import Limits, get_allocator
from gapa.allocators.bfd import start_order
from gapa.allocators.packing import Packing, PriceCache
from gapa.blocks import split
from gapa.evaluator import evaluate

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", default="0,1")
    args = parser.parse_args()
    problem = Problem(load_workload(ROOT / "workloads/week.csv"), load_scenario(ROOT / "scenarios/semester.toml"))
    blocks = split(problem)
    for b in (blocks[int(i)] for i in args.blocks.split(",")):
        p, w = b.problem, b.problem.workload
        kwh = {}
        for name in ("bfd", "ffd", "wf"):
            kwh[name] = evaluate(p, get_allocator(name).allocate(p, np.random.default_rng(0), Limits()).allocation).energy_j
        orders = {"start": start_order(p),
                  "longest": np.lexsort((-w.ram_mb, -w.cores, -w.duration_s)),
                  "size": np.lexsort((np.arange(p.n_vms), -(w.cores * w.duration_s))),
                  "big first": np.lexsort((w.start_s, -(w.ram_mb / 1024 + 2 * w.cores)))}
        cache = PriceCache(p)
        for amortise in (0.0, 1.0):
            for label, order in orders.items():
                pack = Packing(p, cache=cache)
                pack.insert(order.tolist(), amortise=amortise)
                kwh[f"greedy {label}, amortise={amortise:g}"] = evaluate(p, pack.allocation).energy_j
        print(f"block {b.index} ({b.size} VMs):")
        for name, e in kwh.items():
            print(f"  {name:32s} {e / 3.6e6:8.3f} kWh")


if __name__ == "__main__":
    main()
