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


def summaries(problem: Problem, results: list[RunResult]) -> dict[str, dict[str, Any]]:
    """Summary records keyed by algorithm name."""
    return {r.algorithm: _json_safe(r.summary(problem)) for r in results}


def write_results(out_dir: str | Path, problem: Problem, results: list[RunResult]) -> Path:
    """Write summary.json and per-algorithm allocation.csv / hosts.csv; return the summary path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    summary_path.write_text(json.dumps(summaries(problem, results), indent=2) + "\n", encoding="utf-8")
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
    return summary_path
