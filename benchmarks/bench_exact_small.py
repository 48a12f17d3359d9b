"""The exact solver on small instances: the first 20, 25 and 30 jobs of a1's 50-job instances.

Run:  python benchmarks/bench_exact_small.py            (first instance of each of the 8 groups)
      python benchmarks/bench_exact_small.py --all      (all 40)
      python benchmarks/bench_exact_small.py --jobs 20,25,30 --time-limit 60

Prints per instance and size: the status (``optimal`` = proven), the solve time, the
proven gap and GAPA's energy against the optimum found.  Issue 4's bar: optimality
proven within 60 s on instances of 20–30 VMs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import gapa
from gapa.allocators import Limits, get_allocator
from gapa.evaluator import evaluate
from gapa.problem import Problem
from gapa.readers.tbpp import read_tbpp

DATA = Path(__file__).resolve().parent / "data" / "tbpp" / "a1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="all 40 instances of 50 jobs")
    parser.add_argument("--jobs", default="20,25,30", help="sizes: the first N jobs of each instance")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    files = sorted(DATA.glob("cap100_n50_*.txt"))
    if not args.all:
        files = files[::5]
    sizes = [int(k) for k in args.jobs.split(",")]
    print(f"gapa {gapa.__version__}, exact time limit {args.time_limit:g} s, {len(files)} instances, sizes {sizes}")
    proved, times = 0, []
    for path in files:
        w, s = read_tbpp(path)
        for k in sizes:
            problem = Problem(w.subset(np.arange(min(k, w.n))), s)
            t0 = time.perf_counter()
            r = get_allocator("exact", {"time_limit": args.time_limit}).allocate(
                problem, np.random.default_rng(0), Limits())
            el = time.perf_counter() - t0
            ev = evaluate(problem, r.allocation)
            assert ev.violations == 0
            ga = evaluate(problem, get_allocator("gapa").allocate(problem, np.random.default_rng(0),
                                                                  Limits()).allocation)
            proved += r.status == "optimal"
            times.append(el)
            print(f"{path.name:30s} first {k:2d} jobs: {r.status:15s} {el:5.1f} s  gap {100 * r.info['gap']:5.2f} %  "
                  f"gapa vs exact {100 * (ga.energy_j / ev.energy_j - 1):+5.2f} %", flush=True)
    print(f"proven optimal: {proved} of {len(times)}; slowest {max(times):.1f} s, mean {np.mean(times):.1f} s")


if __name__ == "__main__":
    main()
