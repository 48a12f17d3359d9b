"""The GPU companion: energy-aware against asap on the shipped jobs and on random job sets,
and how the energy-aware policy's time grows with the number of jobs.

Run:  python benchmarks/bench_gpu_jobs.py              (shipped jobs, 20 random sets, scaling)
      python benchmarks/bench_gpu_jobs.py --sets 50    (more random sets)

All runs: workloads/oneday.csv placed by BFD on scenarios/lab_gpu.toml, default policy
settings, seed = the set's number.  Issue 5's bar: energy-aware's GPU share at least 10 %
below asap's while meeting every deadline asap meets.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import gapa
from gapa.jobs import load_jobs, run_jobs
from gapa.jobs.synthetic import random_gpu_jobs
from gapa.problem import Problem
from gapa.run import JOULES_PER_KWH, run_allocator
from gapa.scenario import load_scenario
from gapa.workload import load_workload

ROOT = Path(__file__).resolve().parent.parent


def compare(problem, lab, jobs, seed):
    asap, aware = run_jobs(problem, lab, jobs, ["asap", "energy-aware"], seed=seed)
    change = aware.gpu_share_j / asap.gpu_share_j - 1
    kept = set(asap.met()) <= set(aware.met())
    return asap, aware, change, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=20, help="random job sets (seeds 0 … N−1)")
    parser.add_argument("--no-scaling", action="store_true")
    args = parser.parse_args()
    problem = Problem(load_workload(ROOT / "workloads/oneday.csv"), load_scenario(ROOT / "scenarios/lab_gpu.toml"))
    lab = run_allocator(problem, "bfd").allocation
    print(f"gapa {gapa.__version__}; lab: oneday by BFD on lab_gpu.toml")
    asap, aware, change, kept = compare(problem, lab, load_jobs(ROOT / "workloads/gpu_jobs.csv"), 0)
    print(f"shipped  14 jobs: GPU share asap {asap.gpu_share_j / JOULES_PER_KWH:.3f} kWh, energy-aware "
          f"{aware.gpu_share_j / JOULES_PER_KWH:.3f} kWh ({change * 100:+.1f} %), deadlines "
          f"{len(asap.met())}/{len(aware.met())} of 14, asap's kept: {kept}; energy-aware {aware.schedule_s:.1f} s")
    changes = []
    for seed in range(args.sets):
        jobs = random_gpu_jobs(np.random.default_rng(seed))
        asap, aware, change, kept = compare(problem, lab, jobs, seed)
        changes.append(change)
        print(f"random {seed:3d} {len(jobs):2d} jobs: {change * 100:+6.1f} %  deadlines met asap {len(asap.met())}, "
              f"energy-aware {len(aware.met())}, asap's kept: {kept}; energy-aware {aware.schedule_s:5.1f} s")
    if changes:
        c = np.array(changes)
        print(f"random sets: GPU share change mean {c.mean() * 100:+.1f} %, worst {c.max() * 100:+.1f} %, "
              f"best {c.min() * 100:+.1f} %; at least 10 % saved in {int((c <= -0.10).sum())}/{len(c)}")
    if not args.no_scaling:
        print("-- scaling: energy-aware time against the number of jobs (one random set each) --")
        for n in (5, 10, 20, 40):
            jobs = random_gpu_jobs(np.random.default_rng(1000 + n), n)
            asap, aware, change, kept = compare(problem, lab, jobs, 0)
            stages = sum(len(j.stages) for j in jobs)
            print(f"{n:3d} jobs ({stages:3d} stages): energy-aware {aware.schedule_s:6.1f} s "
                  f"({aware.schedule_s / stages * 1000:.0f} ms per stage), asap {asap.schedule_s:.2f} s, "
                  f"change {change * 100:+.1f} %")


if __name__ == "__main__":
    main()
