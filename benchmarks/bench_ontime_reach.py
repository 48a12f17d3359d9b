"""How much host on-time any allocation can save against BFD on a1's 50-job instances.

Run:  python benchmarks/bench_ontime_reach.py                  (all 40 instances, 120 s each)
      python benchmarks/bench_ontime_reach.py --time-limit 60 --first 8

Issue 3 asks GAPA for a mean on-time saving of at least 10 % against BFD on these
instances.  This script asks what the best possible allocation saves.  For each
instance it runs BFD, GAPA (defaults, seed 0) and the exact solver (``exact``,
``--time-limit`` seconds).  The exact solver returns its best allocation and a proven
lower bound on energy.  On this fleet (one group of identical hosts, a linear
170–250 W curve, hosts off at no cost when empty), energy is the dynamic energy
(the same for every allocation) plus 170 W × on-time.  So the energy bound is an
on-time bound: ``on_bound = on_best − (E_best − E_bound) / 170 W``.

Prints per instance the on-time saving against BFD of GAPA, of the exact solver's best
allocation, and of the bound: no allocation saves more than that.  Then it prints the
means.  If the bound's mean is below 10 %, no allocator can meet the bar.
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
    parser.add_argument("--time-limit", type=float, default=120.0, help="exact solver's seconds per instance")
    parser.add_argument("--first", type=int, default=None, help="only the first N instances")
    args = parser.parse_args()
    files = sorted(DATA.glob("cap100_n50_*.txt"))[: args.first]
    print(f"gapa {gapa.__version__}, exact time limit {args.time_limit:g} s, {len(files)} instances "
          f"(on-time saving against BFD: GAPA / exact's best / exact's bound = the most any allocation saves)")
    rows = []
    for path in files:
        problem = Problem(*read_tbpp(path))
        (group,) = problem.fleet.groups
        idle_w = float(group.power.idle_w)
        bfd = evaluate(problem, get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits()).allocation)
        ga = evaluate(problem, get_allocator("gapa").allocate(problem, np.random.default_rng(0),
                                                              Limits(quiet=True)).allocation)
        t0 = time.perf_counter()
        r = get_allocator("exact", {"time_limit": args.time_limit}).allocate(
            problem, np.random.default_rng(0), Limits(quiet=True))
        elapsed = time.perf_counter() - t0
        best = evaluate(problem, r.allocation)
        assert best.violations == 0 and best.rejected == 0 == bfd.rejected
        on_bound = best.on_s - (best.energy_j - r.lower_bound_j) / idle_w
        row = [1 - ga.on_s / bfd.on_s, 1 - best.on_s / bfd.on_s, 1 - on_bound / bfd.on_s]
        rows.append(row)
        print(f"{path.name:30s} gapa {100 * row[0]:5.2f} %  exact best {100 * row[1]:5.2f} %  "
              f"bound {100 * row[2]:5.2f} %  ({r.status}, {elapsed:5.1f} s)", flush=True)
    mean = 100 * np.mean(rows, axis=0)
    print(f"mean on-time saving against BFD over {len(rows)} instances: gapa {mean[0]:.2f} %, "
          f"exact's best {mean[1]:.2f} %, at most {mean[2]:.2f} % (the bound); issue 3's bar 10 %")


if __name__ == "__main__":
    main()
