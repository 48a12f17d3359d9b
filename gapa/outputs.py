"""Writing a run's results to a directory (``--out DIR``).

``DIR/summary.json`` — an object keyed by algorithm name, each a flat record
(energy_j, energy_kwh, host_on_s, hosts_used, placed, rejected, seed, solve_s,
gapa_version, …); per algorithm ``DIR/<algorithm>/allocation.csv``
(``vm_id,host``) and ``DIR/<algorithm>/hosts.csv`` (``host,energy_j,on_s,vms``,
used hosts only).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from gapa.allocation_file import write_allocation
from gapa.lower_bound import LowerBound
from gapa.problem import Problem
from gapa.run import RunResult


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def summaries(problem: Problem, results: list[RunResult],
              lower: LowerBound | None = None) -> dict[str, dict[str, Any]]:
    """Summary records keyed by algorithm name (with the instance's lower bound, if given)."""
    out = {}
    baseline = next((r for r in results if r.algorithm == "bfd"), None)
    for r in results:
        record = r.summary(problem)
        if lower is not None:
            record["bound_energy_j"] = lower.energy_j
            record["bound_on_s"] = lower.on_s
            record["energy_to_bound"] = r.simulation.energy_j / lower.energy_j if lower.energy_j else None
        if baseline is not None and baseline.simulation.energy_j > 0:
            record["saving_vs_bfd"] = 1 - r.simulation.energy_j / baseline.simulation.energy_j
        out[r.algorithm] = _json_safe(record)
    return out


def write_results(out_dir: str | Path, problem: Problem, results: list[RunResult],
                  lower: LowerBound | None = None) -> Path:
    """Write summary.json, per-algorithm allocation.csv / hosts.csv and, for iterative
    allocators, logbook.csv (one row per iteration); return the summary path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    summary_path.write_text(json.dumps(summaries(problem, results, lower), indent=2) + "\n",
                            encoding="utf-8")
    for r in results:
        sub = out / r.algorithm
        sub.mkdir(exist_ok=True)
        write_allocation(sub / "allocation.csv", problem, r.allocation)
        sim = r.simulation
        with (sub / "hosts.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["host", "energy_j", "on_s", "vms"])
            for h in range(problem.n_hosts):
                if sim.host_vms[h]:
                    writer.writerow([problem.fleet.host_ids[h], repr(float(sim.host_energy_j[h])),
                                     repr(float(sim.host_on_s[h])), int(sim.host_vms[h])])
        if r.allocator.logbook:
            keys = list(r.allocator.logbook[0])
            with (sub / "logbook.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=keys)
                writer.writeheader()
                writer.writerows(r.allocator.logbook)
    return summary_path
