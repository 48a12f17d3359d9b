"""How much host on-time OR-Tools CP-SAT saves on a1 instances, for comparison with GAPA.

Needs OR-Tools, which is not a dependency of gapa:  pip install ortools

Run:  python benchmarks/bench_cpsat_reach.py --time-limit 120 cap100_n50_t60_ShSm_3.txt
      python benchmarks/bench_cpsat_reach.py --time-limit 60 --all

The model is time-indexed: the instance's start and end times cut the day into
segments; x[j, b] places job j on bin b (bins are interchangeable; job j may only use
bins 0..j, which breaks the symmetry), y[b, t] is bin b on in segment t, the jobs on
bin b in segment t fit its capacity, and the objective is the total on-time
sum(length(t) · y[b, t]).  That is the on-time of gapa's a1 reading (identical hosts,
off when empty, no switching cost), on which energy is the placement-independent
dynamic energy plus 170 W × on-time.  There are as many bins as the load bound's peak
plus four.  Every CP-SAT allocation is checked with gapa's evaluator (feasible, and its
on-time equal to CP-SAT's objective) before it is reported.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import gapa
from gapa.allocators import Limits, get_allocator
from gapa.evaluator import evaluate
from gapa.lower_bound import lower_bound
from gapa.problem import Problem
from gapa.readers.tbpp import read_tbpp

DATA = Path(__file__).resolve().parent / "data" / "tbpp" / "a1"


def solve(problem: Problem, time_limit_s: float, workers: int) -> tuple[np.ndarray | None, str, float]:
    """CP-SAT's best allocation (host per VM), its status name and its bound (seconds of on-time)."""
    from ortools.sat.python import cp_model

    w, cap = problem.workload, int(problem.fleet.cores[0])
    n = problem.n_vms
    start, end, size = w.start_s.astype(int), w.end_s.astype(int), w.cores.astype(int)
    cuts = np.unique(np.concatenate([start, end]))
    segments = list(zip(cuts[:-1].tolist(), cuts[1:].tolist()))
    active = [[j for j in range(n) if start[j] <= a and end[j] >= b] for a, b in segments]
    peak = max(math.ceil(sum(int(size[j]) for j in jobs) / cap) for jobs in active if jobs)
    bins = min(n, peak + 4)
    model = cp_model.CpModel()
    x = [[model.NewBoolVar(f"x{j}_{b}") if b <= j else None for b in range(bins)] for j in range(n)]
    for j in range(n):
        model.AddExactlyOne([v for v in x[j] if v is not None])
    objective = []
    for (a, b_end), jobs in zip(segments, active):
        for b in range(bins):
            terms = [(int(size[j]), x[j][b]) for j in jobs if x[j][b] is not None]
            if not terms:
                continue
            on = model.NewBoolVar("")
            model.Add(sum(c * v for c, v in terms) <= cap * on)
            for _, v in terms:
                model.AddImplication(v, on)
            objective.append((b_end - a, on))
    model.Minimize(sum(length * on for length, on in objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, solver.StatusName(status), solver.BestObjectiveBound()
    alloc = np.array([next(b for b in range(bins) if x[j][b] is not None and solver.Value(x[j][b]))
                      for j in range(n)], dtype=np.int64)
    return alloc, solver.StatusName(status), solver.BestObjectiveBound()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", help="a1 file names (default: the first of each group)")
    parser.add_argument("--all", action="store_true", help="all 40 instances of 50 jobs")
    parser.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT seconds per instance")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT worker threads")
    args = parser.parse_args()
    try:
        import ortools
    except ImportError:
        sys.exit("error: this benchmark needs OR-Tools (pip install ortools), which gapa does not depend on")
    files = sorted(DATA.glob("cap100_n50_*.txt"))
    if args.instances:
        files = [DATA / name for name in args.instances]
    elif not args.all:
        files = files[::5]
    print(f"gapa {gapa.__version__}, ortools {ortools.__version__}, CP-SAT {args.time_limit:g} s with "
          f"{args.workers} workers, {len(files)} instances (on-time as a multiple of the load bound; "
          f"saving against BFD)")
    savings = []
    for path in files:
        problem = Problem(*read_tbpp(path))
        bound = lower_bound(problem).on_s
        bfd = evaluate(problem, get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits())
                       .allocation)
        t0 = time.perf_counter()
        alloc, status, cp_bound = solve(problem, args.time_limit, args.workers)
        took = time.perf_counter() - t0
        if alloc is None:
            print(f"{path.name:30s} no allocation ({status}, {took:.0f} s)", flush=True)
            continue
        ev = evaluate(problem, alloc)
        if ev.violations or ev.rejected:
            raise SystemExit(f"{path.name}: CP-SAT's allocation is infeasible for gapa's evaluator")
        savings.append(1 - ev.on_s / bfd.on_s)
        print(f"{path.name:30s} bfd {bfd.on_s / bound:.3f}  cp-sat {ev.on_s / bound:.3f} "
              f"(its bound {cp_bound / bound:.3f}, {status})  on-time saving {100 * savings[-1]:5.2f} %  "
              f"{took:.0f} s", flush=True)
    if savings:
        print(f"mean on-time saving against BFD over {len(savings)} instances: {100 * np.mean(savings):.2f} %")


if __name__ == "__main__":
    main()
