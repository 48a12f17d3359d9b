"""Writing results to a directory (``--out DIR``).

``gapa simulate`` (:func:`write_results`, then :func:`write_simulation_report`):
``DIR/summary.json`` — an object keyed by algorithm name, each a flat record
(energy_j, energy_kwh, host_on_s, hosts_used, placed, rejected, seed, solve_s,
gapa_version, saving_vs_bfd, best_heuristic, saving_vs_best_heuristic, …); per
algorithm ``DIR/<algorithm>/allocation.csv`` (``vm_id,host``) and
``DIR/<algorithm>/hosts.csv`` (``host,energy_j,on_s,vms``, used hosts only);
``DIR/figures/*.png`` and ``DIR/report.md``.

``gapa compare`` (:func:`write_comparison`): ``DIR/runs.csv`` (one row per run:
the run's flat record), ``DIR/summary.json`` (an object keyed by algorithm, each
its aggregate over the runs, with the seed list and the gapa version),
``DIR/logbook.csv`` (one row per generation of each iterative run),
``DIR/figures/*.png`` and ``DIR/report.md``.

Figures are drawn by :mod:`gapa.plots`, imported only when they are written, so
that the rest of gapa never loads matplotlib.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from gapa.allocation_file import write_allocation
from gapa.compare import Comparison, best_heuristic, saving
from gapa.lower_bound import LowerBound
from gapa.problem import Problem
from gapa.report import write_report
from gapa.run import RunResult
from gapa.tables import comparison_table, simulation_table


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
    """Summary records keyed by algorithm name (with the instance's lower bound, if given):
    each run's :meth:`~gapa.run.RunResult.summary`, ``saving_vs_bfd`` (when BFD ran),
    ``best_heuristic`` and ``saving_vs_best_heuristic`` (``None`` when no constructive
    heuristic ran; see :func:`gapa.compare.best_heuristic`)."""
    out = {}
    baseline = next((r for r in results if r.algorithm == "bfd"), None)
    best = best_heuristic((r.algorithm, int((r.allocation < 0).sum()), r.simulation.energy_j) for r in results)
    for r in results:
        record = r.summary(problem)
        if lower is not None:
            record["bound_energy_j"] = lower.energy_j
            record["bound_on_s"] = lower.on_s
            record["energy_to_bound"] = r.simulation.energy_j / lower.energy_j if lower.energy_j else None
        if baseline is not None and baseline.simulation.energy_j > 0:
            record["saving_vs_bfd"] = 1 - r.simulation.energy_j / baseline.simulation.energy_j
        record["best_heuristic"] = best[0] if best else None
        record["saving_vs_best_heuristic"] = saving(r.simulation.energy_j, best[1]) if best else None
        out[r.algorithm] = _json_safe(record)
    return out


def write_hosts_csv(path: str | Path, problem: Problem, run: RunResult) -> None:
    """``host,energy_j,on_s,vms`` for each used host of ``run``, in fleet order (floats as
    ``repr``, exact).  Only the used hosts are touched, so a fleet of a million hosts costs
    nothing here."""
    sim = run.simulation
    used = np.flatnonzero(sim.host_vms)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["host", "energy_j", "on_s", "vms"])
        writer.writerows(zip(problem.fleet.host_ids[used].tolist(),
                             map(repr, sim.host_energy_j[used].tolist()),
                             map(repr, sim.host_on_s[used].tolist()),
                             sim.host_vms[used].tolist()))


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
        write_hosts_csv(sub / "hosts.csv", problem, r)
        if r.allocator.logbook:
            keys = list(r.allocator.logbook[0])
            with (sub / "logbook.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=keys)
                writer.writeheader()
                writer.writerows(r.allocator.logbook)
    return summary_path


def write_simulation_report(out_dir: str | Path, problem: Problem, results: list[RunResult],
                            lower: LowerBound, regenerate: str | None = None) -> Path:
    """Write ``DIR/figures/*.png`` and ``DIR/report.md`` for ``gapa simulate``'s runs; return
    the report's path.  ``regenerate`` is the command line the report quotes."""
    from gapa.plots import write_figures  # matplotlib only when figures are drawn

    figures = write_figures(out_dir, problem, results, lower)
    seeds = sorted({r.seed for r in results})
    return write_report(out_dir, "simulate", problem, simulation_table(problem, results, lower),
                        figures, seeds, regenerate=regenerate)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def _write_rows(path: Path, rows: list[dict[str, Any]], first: list[str] | None = None) -> None:
    keys = list(dict.fromkeys([*(first or []), *(k for row in rows for k in row)]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys, restval="")
        writer.writeheader()
        writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)


def write_comparison(out_dir: str | Path, comparison: Comparison, regenerate: str | None = None) -> Path:
    """Write ``gapa compare``'s runs.csv, summary.json, logbook.csv (if any run has a
    logbook), figures and report.md; return the report's path.

    In ``runs.csv`` lists (``rejected_vms``) are joined with ``;`` and missing values
    are empty cells.
    """
    from gapa.plots import write_figures  # matplotlib only when figures are drawn

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = comparison.records()
    _write_rows(out / "runs.csv", records)
    aggregates = comparison.aggregates()
    (out / "summary.json").write_text(json.dumps(_json_safe(aggregates), indent=2) + "\n",
                                      encoding="utf-8")
    generations = [{"algorithm": r.algorithm, "seed": r.seed, **row}
                   for r in comparison.results for row in r.allocator.logbook]
    if generations:
        _write_rows(out / "logbook.csv", generations)
    problem, lower = comparison.problem, comparison.lower
    figures = write_figures(out, problem, comparison.results, lower, records)
    table = comparison_table(problem, aggregates, lower, comparison.seeds)
    return write_report(out, "compare", problem, table, figures, comparison.seeds,
                        comparison.stochastic, regenerate)
