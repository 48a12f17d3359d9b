"""Write a benchmark suite's results: ``results.csv``, ``summary.csv``, a figure and a markdown page."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gapa
from gapa.bench import Suite
from gapa.run import JOULES_PER_KWH
from gapa.tables import benchmark_table, percent, to_markdown

RESULT_FIELDS = ["set", "instance", "vms", "algorithm", "energy_j", "lower_bound_j", "ratio", "vs_best",
                 "host_on_s", "on_bound_s", "hosts_used", "rejected", "solve_s", "setup_s", "status",
                 "proven_bound_j", "gap", "seed", "gapa_version"]


def _csv(path: Path, rows: Sequence[Mapping[str, Any]], fields: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})


def markdown(suite: Suite, records: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]],
             command: str, figure: Path | None, report_path: Path, wall_s: float) -> str:
    lines = [f"# Benchmark suite: {suite.path.name}", "",
             (f"Produced by `{command}` (gapa {gapa.__version__}, seed 0, "
              f"{wall_s / 60:.1f} min wall time on this machine). Every allocation was simulated in "
              "SimPy and cross-checked against the fast evaluator, so every result below is feasible."), ""]
    if suite.description:
        lines += [" ".join(suite.description.split()), ""]
    lines += [("**ratio**: energy / the instance's best lower bound (gapa's load bound, or the exact "
               "solver's proven bound when higher). **vs best**: excess energy over the best any "
               "allocator found on that instance. **best**: instances where the allocator found that best. "
               "**gap**: the exact solver's proven gap (energy − bound) / energy."), "",
              "## Summary", "", to_markdown(benchmark_table("", list(summary))).rstrip()]
    if figure is not None:
        rel = os.path.relpath(figure, report_path.parent)
        lines += ["", f"![energy / lower bound per set]({rel})"]
    lines += ["", "## Per instance", "",
              "| set | instance | VMs | algorithm | kWh | ratio | vs best | on-time h | s | status | gap |",
              "|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|"]
    for r in records:
        gap = "" if r.get("gap") is None else percent(r["gap"])
        lines.append(f"| {r['set']} | {r['instance']} | {r['vms']} | {r['algorithm']} | "
                     f"{r['energy_j'] / JOULES_PER_KWH:.4f} | {r['ratio']:.4f} | {percent(r['vs_best'])} | "
                     f"{r['host_on_s'] / 3600:.1f} | {r['solve_s']:.2f} | {r['status']} | {gap} |")
    return "\n".join(lines) + "\n"


def write_results(out_dir: Path, suite: Suite, records: Sequence[Mapping[str, Any]],
                  summary: Sequence[Mapping[str, Any]], command: str, wall_s: float,
                  report_path: Path | None = None) -> Path:
    """Write everything; return the markdown page's path (``report_path`` or DIR/report.md)."""
    from gapa.plots import benchmark_figure

    out_dir.mkdir(parents=True, exist_ok=True)
    _csv(out_dir / "results.csv", records, RESULT_FIELDS)
    _csv(out_dir / "summary.csv", summary, list(summary[0].keys()) if summary else [])
    figure = benchmark_figure(records, out_dir / "ratios.png")
    report_path = report_path or out_dir / "report.md"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(markdown(suite, records, summary, command, figure, report_path, wall_s),
                           encoding="utf-8")
    return report_path
