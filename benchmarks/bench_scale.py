"""GAPA at scale: a day, a lab week, a semester and a 10,000-VM Azure sample (issue 16).

Run:
  python benchmarks/bench_scale.py                  the table below for all four instances
  python benchmarks/bench_scale.py --only week      one of them (oneday, week, semester, d2)
  python benchmarks/bench_scale.py --time-limits    the semester, every allocator with --time-limit 60
  python benchmarks/bench_scale.py --many-hosts     `gapa simulate` of 10 VMs on 100,000 hosts (bfd,gapa)
  python benchmarks/bench_scale.py --workers        the semester stopping on generations, 1 vs 2 workers
  python benchmarks/bench_scale.py --cli            `gapa simulate` of the semester, --time-limit 300 --out

The table: per instance (each in a fresh process, so its peak memory is its own), BFD,
FFD, the best constructive heuristic (the least energy of bfd, ffd, wf, pabfd,
mindft-st, mindft-ld) and GAPA (with the instance's time limit and the default number of
workers: every core); GAPA against the best heuristic; every algorithm's energy as a
multiple of the new lower bound and of the old one; the wall time of each stage (read,
allocate, simulate + cross-check, write the --out files) and peak memory (resident set
of the main process, and of the largest worker process).  A fixed pure-Python loop is
timed before and after, to tell a slow machine from a slow run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_reference import machine_reference_s  # beside this script

ROOT = Path(__file__).resolve().parent.parent
HEURISTICS = ("bfd", "ffd", "wf", "pabfd", "mindft-st", "mindft-ld")

#: name → (workload, format, scenario or None, GAPA's time limit in seconds)
INSTANCES = {
    "oneday": ("workloads/oneday.csv", "gapa", "scenarios/lab.toml", 60.0),
    "week": ("workloads/week.csv", "gapa", "scenarios/semester.toml", 60.0),
    "semester": ("workloads/semester.csv", "gapa", "scenarios/semester.toml", 300.0),
    "d2": ("benchmarks/data/tbpp/d2/10000_24_1.txt", "tbpp", None, 300.0),
}


def _peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def run_instance(name: str, seed: int, workers: int | None) -> dict:
    """One instance in this process: read, allocate and simulate every algorithm, write."""
    from gapa.allocators import Limits, available_cores
    from gapa.blocks import split
    from gapa.lower_bound import lower_bound, simple_lower_bound
    from gapa.outputs import write_results, write_simulation_report
    from gapa.problem import Problem
    from gapa.readers import read_trace
    from gapa.run import run_allocator
    from gapa.scenario import load_scenario

    path, fmt, scenario, time_limit = INSTANCES[name]
    t0 = time.perf_counter()
    trace = read_trace(ROOT / path, fmt)
    fleet = load_scenario(ROOT / scenario) if scenario else trace.scenario
    problem = Problem(trace.workload, fleet)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    new, old = lower_bound(problem), simple_lower_bound(problem)
    bound_s = time.perf_counter() - t0
    out = {"instance": name, "vms": problem.n_vms, "hosts": problem.n_hosts, "blocks": len(split(problem)),
           "time_limit_s": time_limit, "read_s": read_s, "bound_s": bound_s,
           "new_bound_j": new.energy_j, "old_bound_j": old.energy_j, "algorithms": {}}
    results = []
    for algorithm in (*HEURISTICS, "gapa"):
        limits = Limits(time_limit_s=time_limit if algorithm == "gapa" else None,
                        processes=workers or available_cores())
        t0 = time.perf_counter()
        result = run_allocator(problem, algorithm, seed=seed, limits=limits)
        total = time.perf_counter() - t0
        results.append(result)
        out["algorithms"][algorithm] = {"energy_j": result.simulation.energy_j, "solve_s": result.solve_s,
                                        "simulate_s": total - result.solve_s,
                                        "rejected": int((result.allocation < 0).sum()),
                                        "status": result.allocator.status,
                                        "generations": result.allocator.info.get("generations_run"),
                                        "initial_best_j": result.allocator.info.get("initial_best_j")}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_results(Path(tmp), problem, results, new)
        write_simulation_report(Path(tmp), problem, results, new, f"bench_scale {name}")
    out["write_s"] = time.perf_counter() - t0
    out["peak_mb"], out["worker_peak_mb"] = _peak_mb()
    return out


def table(rows: list[dict]) -> None:
    print("\nenergy (kWh) and against the best constructive heuristic of the run:")
    print(f"{'instance':9s} {'VMs':>6s} {'blocks':>6s} {'bfd':>10s} {'ffd':>10s} {'best heuristic':>22s} "
          f"{'gapa':>10s} {'gapa vs best':>12s} {'vs its start':>12s} {'gapa gens':>9s}")
    for r in rows:
        algos = r["algorithms"]
        kwh = {a: v["energy_j"] / 3.6e6 for a, v in algos.items()}
        best = min(HEURISTICS, key=lambda a: kwh[a])
        print(f"{r['instance']:9s} {r['vms']:6d} {r['blocks']:6d} {kwh['bfd']:10.3f} {kwh['ffd']:10.3f} "
              f"{best + ' ' + format(kwh[best], '.3f'):>22s} {kwh['gapa']:10.3f} "
              f"{100 * (kwh['gapa'] / kwh[best] - 1):+11.2f}% "
              f"{100 * (algos['gapa']['energy_j'] / algos['gapa']['initial_best_j'] - 1):+11.2f}% "
              f"{algos['gapa']['generations'] or 0:9d}")
    print("(vs its start: GAPA's result against the best individual of its initial population, per block "
          "added up: what the evolution itself added)")
    print("\nenergy as a multiple of the new bound / the old bound:")
    print(f"{'instance':9s} {'new kWh':>9s} {'old kWh':>9s} " + " ".join(f"{a:>13s}" for a in (*HEURISTICS, "gapa")))
    for r in rows:
        cells = []
        for a in (*HEURISTICS, "gapa"):
            e = r["algorithms"][a]["energy_j"]
            cells.append(f"{e / r['new_bound_j']:6.3f}/{e / r['old_bound_j']:6.3f}")
        print(f"{r['instance']:9s} {r['new_bound_j'] / 3.6e6:9.3f} {r['old_bound_j'] / 3.6e6:9.3f} "
              + " ".join(f"{c:>13s}" for c in cells))
    print("\nwall time per stage (s) and peak memory (MB):")
    print(f"{'instance':9s} {'read':>6s} {'bound':>6s} {'allocate (gapa; heuristics)':>28s} "
          f"{'simulate':>9s} {'write':>6s} {'peak':>7s} {'worker':>7s}")
    for r in rows:
        algos = r["algorithms"]
        heur = sum(algos[a]["solve_s"] for a in HEURISTICS)
        sim = sum(v["simulate_s"] for v in algos.values())
        print(f"{r['instance']:9s} {r['read_s']:6.1f} {r['bound_s']:6.1f} "
              f"{format(algos['gapa']['solve_s'], '.1f') + ' (limit ' + format(r['time_limit_s'], 'g') + '); ' + format(heur, '.1f'):>28s} "
              f"{sim:9.1f} {r['write_s']:6.1f} {r['peak_mb']:7.0f} {r['worker_peak_mb']:7.0f}")


def _cli(args: list[str]) -> tuple[float, float, str]:
    """Run `gapa ARGS` in a child process: wall seconds, its peak memory (MB), its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gapa.cli", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode:
        print(done.stdout, done.stderr)
        raise SystemExit(f"gapa {' '.join(args)} exited with {done.returncode}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(INSTANCES), action="append")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", dest="workers_mode", action="store_true")
    parser.add_argument("--generations", type=int, default=10, help="with --workers: GAPA's generations per block")
    parser.add_argument("--time-limits", action="store_true")
    parser.add_argument("--many-hosts", action="store_true")
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--instance", help=argparse.SUPPRESS)  # child mode: one instance, JSON out
    args = parser.parse_args()
    if args.instance:
        print(json.dumps(run_instance(args.instance, args.seed, None)))
        return
    import gapa

    print(f"gapa {gapa.__version__}, seed {args.seed}, {os.cpu_count()} cores")
    print(f"machine reference (40M-addition Python loop): {machine_reference_s():.2f} s")
    if args.time_limits:
        time_limits(args.seed)
    elif args.many_hosts:
        many_hosts()
    elif args.workers_mode:
        workers(args.generations, args.seed)
    elif args.cli:
        wall, peak, out = _cli(["simulate", "workloads/semester.csv", "--scenario", "scenarios/semester.toml",
                                "--time-limit", "300", "--out", tempfile.mkdtemp(prefix="gapa-semester-"),
                                "--quiet"])
        print(out)
        print(f"gapa simulate workloads/semester.csv --time-limit 300 --out DIR: {wall:.1f} s wall "
              f"(bar 480 s), peak memory {peak:.0f} MB (bar 4096 MB)")
    else:
        rows = []
        for name in args.only or list(INSTANCES):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--instance", name, "--seed", str(args.seed)],
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                print(done.stdout, done.stderr)
                raise SystemExit(f"{name} failed")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{name}: done in {time.perf_counter() - t0:.0f} s", flush=True)
        table(rows)
    print(f"machine reference (40M-addition Python loop): {machine_reference_s():.2f} s")


def time_limits(seed: int) -> None:
    """Every allocator on the semester with a 60 s time limit: its solve time (bar 63 s)."""
    from gapa.allocators import ALLOCATORS, Limits, available_cores
    from gapa.problem import Problem
    from gapa.run import run_allocator
    from gapa.scenario import load_scenario
    from gapa.workload import load_workload

    problem = Problem(load_workload(ROOT / "workloads/semester.csv"), load_scenario(ROOT / "scenarios/semester.toml"))
    print(f"semester: {problem.n_vms} VMs, --time-limit 60, {available_cores()} workers")
    for name in ALLOCATORS:
        result = run_allocator(problem, name, seed=seed, limits=Limits(time_limit_s=60.0, processes=available_cores()))
        print(f"{name:10s} solve {result.solve_s:6.1f} s (bar 63 s)  {result.simulation.energy_j / 3.6e6:10.3f} kWh "
              f"status {result.allocator.status}", flush=True)


def many_hosts() -> None:
    """`gapa simulate` of 10 VMs on a fleet of 100,000 hosts with BFD and GAPA (bar 10 s)."""
    tmp = Path(tempfile.mkdtemp(prefix="gapa-hosts-"))
    (tmp / "ten.csv").write_text("vm_id,start,duration,cores,ram_mb,cpu_util\n" + "".join(
        f"vm{i},{8 + i // 3:02d}:00,1:30,{1 + i % 4},{1024 * (1 + i % 3)},0.2\n" for i in range(10)))
    (tmp / "fleet.toml").write_text(
        '[[hosts]]\nname = "a"\ncount = 60000\ncores = 16\nmips_per_core = 2500\nram_mb = 65536\n'
        'power = { model = "linear", idle_w = 80, max_w = 250 }\n\n'
        '[[hosts]]\nname = "b"\ncount = 40000\ncores = 8\nmips_per_core = 3000\nram_mb = 16384\n'
        'power = { model = "specpower", server = "IbmX3550XeonX5675" }\n')
    wall, peak, out = _cli(["simulate", str(tmp / "ten.csv"), "--scenario", str(tmp / "fleet.toml"),
                            "-a", "bfd,gapa", "--quiet"])
    print(out)
    print(f"gapa simulate (10 VMs, 100,000 hosts, bfd,gapa): {wall:.1f} s wall (bar 10 s), peak {peak:.0f} MB")


def workers(generations: int, seed: int) -> None:
    """The semester's GAPA stopping on generations, with 1 and 2 worker processes."""
    import numpy as np

    from gapa.allocators import Limits, get_allocator
    from gapa.problem import Problem
    from gapa.run import run_allocator
    from gapa.scenario import load_scenario
    from gapa.workload import load_workload

    problem = Problem(load_workload(ROOT / "workloads/semester.csv"), load_scenario(ROOT / "scenarios/semester.toml"))
    runs = {}
    for n in (1, 2):
        ga = get_allocator("gapa", {"generations": generations})
        t0 = time.perf_counter()
        result = run_allocator(problem, ga, seed=seed, limits=Limits(processes=n))
        runs[n] = (time.perf_counter() - t0, result)
        print(f"{n} worker(s): GAPA {result.solve_s:.1f} s, {result.simulation.energy_j / 3.6e6:.3f} kWh", flush=True)
    same = np.array_equal(runs[1][1].allocation, runs[2][1].allocation)
    print(f"speed-up {runs[1][1].solve_s / runs[2][1].solve_s:.2f}x (bar 1.7x), same allocation: {same}")


if __name__ == "__main__":
    main()
