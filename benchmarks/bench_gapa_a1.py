"""GAPA against BFD on the a1 temporal bin packing instances (50 jobs), default settings.

Run:  python benchmarks/bench_gapa_a1.py           (the first instance of each of the 8 groups)
      python benchmarks/bench_gapa_a1.py --all     (all 40 instances of 50 jobs)

Prints per instance: BFD's and GAPA's host on-time as a multiple of the lower bound,
GAPA's energy and on-time saving against BFD, and GAPA's time; then the means.
Issue 3's bar: mean energy saving ≥ 6 %, mean on-time saving ≥ 10 %, < 10 s per instance.

The times depend on how fast the machine runs at the moment: on our 2-core VM the same
run's slowest instance took 9.3-11.0 s on one afternoon.  So the script also times a fixed
pure-Python loop (40 million additions) before and after, to tell a slow machine from a
slow run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from machine_reference import machine_reference_s  # beside this script

import gapa
from gapa.allocators import Limits, available_cores, get_allocator
from gapa.evaluator import evaluate
from gapa.lower_bound import lower_bound
from gapa.problem import Problem
from gapa.readers.tbpp import read_tbpp

DATA = Path(__file__).resolve().parent / "data" / "tbpp" / "a1"


def _value(text: str) -> bool | int | float:
    """A --set value: true/false, a whole number, or a float."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return float(text) if "." in text or "e" in text.lower() else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="all 40 instances of 50 jobs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a GAPA setting other than its default, e.g. --set stagnation=20 or --set restarts=false")
    args = parser.parse_args()
    files = sorted(DATA.glob("cap100_n50_*.txt"))
    if not args.all:
        files = files[::5]
    settings = {k: _value(v) for k, v in (a.split("=", 1) for a in args.set)}
    print(f"gapa {gapa.__version__}, seed {args.seed}, {len(files)} instances, settings {settings or 'default'}")
    reference_before = machine_reference_s()
    savings_e, savings_on, times = [], [], []
    for path in files:
        problem = Problem(*read_tbpp(path))
        rng = np.random.default_rng(args.seed)
        bfd = evaluate(problem, get_allocator("bfd").allocate(problem, rng, Limits()).allocation)
        t0 = time.perf_counter()
        result = get_allocator("gapa", settings).allocate(problem, np.random.default_rng(args.seed),
                                                         Limits(processes=available_cores()))
        times.append(time.perf_counter() - t0)
        ga = evaluate(problem, result.allocation)
        lb = lower_bound(problem)
        savings_e.append(1 - ga.energy_j / bfd.energy_j)
        savings_on.append(1 - ga.on_s / bfd.on_s)
        print(f"{path.name:30s} on-time/bound: bfd {bfd.on_s / lb.on_s:.3f} gapa {ga.on_s / lb.on_s:.3f}  "
              f"saving: energy {100 * savings_e[-1]:4.1f} % on-time {100 * savings_on[-1]:4.1f} %  "
              f"{times[-1]:4.1f} s ({result.status})", flush=True)
    print(f"mean saving: energy {100 * np.mean(savings_e):.2f} % (bar 6 %), on-time "
          f"{100 * np.mean(savings_on):.2f} % (bar 10 %); slowest {max(times):.1f} s (bar 10 s); "
          f"GAPA above BFD on {sum(e < 0 for e in savings_e)} instance(s)")
    print(f"machine reference (40M-addition Python loop): {reference_before:.2f} s before, "
          f"{machine_reference_s():.2f} s after")


if __name__ == "__main__":
    main()
