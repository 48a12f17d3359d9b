"""What ``gapa simulate --out`` costs per stage at scale (issue 16): read, lower bound, allocate
+ simulate + check, then each part of writing the results (summary.json, allocation.csv,
hosts.csv, each figure, report.md).

Run:  python benchmarks/bench_outputs.py                     (synthetic 10,000 and 100,000 VMs)
      python benchmarks/bench_outputs.py --n 10000 --n 100000
      python benchmarks/bench_outputs.py --tbpp PATH          (a tbpp instance, e.g. a d2 file of 10,000 VMs)
      python benchmarks/bench_outputs.py --tracemalloc        (also Python's peak allocation per stage; slower)

Every line is one stage's wall-clock seconds; the peak resident set (``ru_maxrss``) is
printed at the end of each instance, and a machine-speed reference (a fixed Python loop)
before and after everything, to compare runs made on a machine whose speed varies.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from machine_reference import machine_reference_s  # beside this script

import gapa
from gapa.lower_bound import lower_bound
from gapa.problem import Problem
from gapa.run import run_allocator
from gapa.scenario import Scenario
from gapa.synthetic import peak_demand, synthetic_fleet, synthetic_workload


def peak_rss_mb() -> float:
    """This process's peak resident set so far, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages:
    def __init__(self, trace: bool):
        self.trace = trace
        self.rows: list[tuple[str, float, float | None]] = []

    @contextmanager
    def stage(self, name: str):
        if self.trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            peak = None
            if self.trace:
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            self.rows.append((name, dt, peak))
            extra = f"   peak alloc {peak:8.1f} MB" if peak is not None else ""
            print(f"  {name:<28s} {dt:8.2f} s{extra}", flush=True)


def bench(problem: Problem, label: str, trace: bool, algorithms: list[str]) -> None:
    from gapa import plots
    from gapa.allocation_file import write_allocation
    from gapa.compare import representative_runs
    from gapa.outputs import summaries, write_hosts_csv
    from gapa.report import FigureFile, write_report
    from gapa.tables import simulation_table

    print(f"{label}: {problem.n_vms:,} VMs on {problem.n_hosts:,} hosts", flush=True)
    st = Stages(trace)
    with st.stage("lower bound"):
        lower = lower_bound(problem)
    results = []
    for a in algorithms:
        with st.stage(f"{a}: allocate+simulate+check"):
            results.append(run_allocator(problem, a, seed=0))
        print(f"    ({a}: solve {results[-1].solve_s:.2f} s, {results[-1].simulation.hosts_used:,} hosts used)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        with st.stage("summary.json"):
            (out / "summary.json").write_text(json.dumps(summaries(problem, results, lower), indent=2))
        for r in results:
            (out / r.algorithm).mkdir()
            with st.stage(f"{r.algorithm}: allocation.csv"):
                write_allocation(out / r.algorithm / "allocation.csv", problem, r.allocation)
            with st.stage(f"{r.algorithm}: hosts.csv"):
                write_hosts_csv(out / r.algorithm / "hosts.csv", problem, r)
        fig = out / "figures"
        fig.mkdir()
        chosen = representative_runs(results)
        with st.stage("energy.png"):
            plots.energy_figure([{"algorithm": r.algorithm, "energy_j": r.simulation.energy_j} for r in results],
                                lower.energy_j, fig / "energy.png", "energy")
        with st.stage("power.png"):
            plots.power_figure(chosen, fig / "power.png", "power")
        with st.stage("hosts_on.png"):
            plots.hosts_on_figure(chosen, fig / "hosts_on.png", "hosts on")
        for name, r in chosen.items():
            with st.stage(f"gantt-{name}.png"):
                plots.gantt_figure(problem, r, fig / f"gantt-{name}.png", "gantt")
        with st.stage("report.md"):
            write_report(out, "simulate", problem, simulation_table(problem, results, lower),
                         [FigureFile(fig / "power.png", "t", "c")], [0])
    write = sum(dt for name, dt, _ in st.rows if not name.startswith(("lower", *algorithms)))
    print(f"  {'write stage in all':<28s} {write:8.2f} s;  peak RSS so far {peak_rss_mb():,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="synthetic VMs (repeatable)")
    parser.add_argument("--tbpp", action="append", default=[], help="a tbpp instance file (repeatable)")
    parser.add_argument("--algorithm", "-a", default="bfd", help="comma-separated allocators (default bfd)")
    parser.add_argument("--tracemalloc", action="store_true", help="peak Python allocation per stage")
    args = parser.parse_args()
    sizes = args.n if args.n is not None else ([] if args.tbpp else [10_000, 100_000])
    algorithms = [a for a in args.algorithm.split(",") if a]
    print(f"gapa {gapa.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}", flush=True)
    reference = machine_reference_s()
    print(f"machine reference (40M-addition Python loop): {reference:.2f} s", flush=True)
    for path in args.tbpp:
        from gapa.readers import read_trace

        t0 = time.perf_counter()
        trace = read_trace(path, "tbpp")
        print(f"read {path}: {time.perf_counter() - t0:.2f} s", flush=True)
        bench(Problem(trace.workload, trace.scenario), Path(path).name, args.tracemalloc, algorithms)
    for n in sizes:
        t0 = time.perf_counter()
        w = synthetic_workload(n, np.random.default_rng(1))
        problem = Problem(w, Scenario(synthetic_fleet(*peak_demand(w))))
        print(f"build synthetic {n:,}: {time.perf_counter() - t0:.2f} s", flush=True)
        bench(problem, f"synthetic-{n}", args.tracemalloc, algorithms)
    print(f"machine reference (40M-addition Python loop): {reference:.2f} s before, "
          f"{machine_reference_s():.2f} s after; peak RSS {peak_rss_mb():,.0f} MB", file=sys.stdout)


if __name__ == "__main__":
    main()
