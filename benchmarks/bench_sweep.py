"""Sweep throughput: the same 200-run sweep on a local Dask cluster of 1 worker and of 2.

Run:  python benchmarks/bench_sweep.py

The grid: 20 of a1's 50-job temporal bin packing instances (each on its own fleet) ×
(BFD, FFD, PABFD once each + GAPA with population 20 and 20 generations for seeds
0 … 6) = 200 runs.  Each cluster size starts from an empty store.  Printed: the wall
time of the sweep (from submitting the first run to writing the last row; the
cluster's start-up apart), the cluster start-up, and the speed-up of 2 workers over 1.
Issue 6 asks for these numbers on this machine (2 cores).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import gapa
from gapa.sweep import ResultStore, load_sweep, local_cluster, run_sweep

ROOT = Path(__file__).resolve().parent.parent
A1 = ROOT / "benchmarks" / "data" / "tbpp" / "a1"


def sweep_text() -> str:
    files = sorted(A1.glob("cap100_n50_*.txt"))[::2][:20]
    workloads = ",\n  ".join(f'{{ path = "{f}", format = "tbpp" }}' for f in files)
    return f"""description = "200 runs for the sweep benchmark"
workloads = [
  {workloads}
]
seeds = 7
[[algorithms]]
name = "bfd"
[[algorithms]]
name = "ffd"
[[algorithms]]
name = "pabfd"
[[algorithms]]
name = "gapa"
settings = {{ population = 20, generations = 20 }}
"""


def main() -> None:
    from distributed import Client

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(sweep_text())
        sweep = load_sweep(path)
        print(f"gapa {gapa.__version__}; {len(sweep.runs)} runs")
        walls = {}
        energies = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            with local_cluster(workers) as cluster, Client(cluster) as client:
                client.wait_for_workers(workers)
                startup = time.perf_counter() - t0
                with ResultStore(Path(tmp) / f"w{workers}.sqlite") as store:
                    outcome = run_sweep(sweep, store, client)
                    energies[workers] = {r["run_id"]: (r["energy_j"], r["algorithm"], r["seed"], r["workload"],
                                                       json.loads(r["record"]).get("info_pool_timed_out", 0))
                                         for r in store.rows()}
            walls[workers] = outcome.wall_s
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {outcome.wall_s:6.1f} s for {outcome.ok} runs "
                  f"({outcome.failed} failed), cluster start-up {startup:.1f} s")
        same = [k for k in energies[1] if energies[1][k][0] == energies[2][k][0]]
        print(f"speed-up with 2 workers: {walls[1] / walls[2]:.2f}x; the same energy in {len(same)} of "
              f"{len(energies[1])} runs")
        for k in sorted(set(energies[1]) - set(same)):
            (e1, algorithm, seed, workload, t1), (e2, *_, t2) = energies[1][k], energies[2][k]
            print(f"  differs: {algorithm} seed {seed} {Path(workload).name}: {e1:.0f} J vs {e2:.0f} J "
                  f"(GAPA MILPs stopped by the safety time limit: {t1} and {t2})")


if __name__ == "__main__":
    main()
