"""Writing a ``gapa jobs`` run to a directory (``--out DIR``).

* ``DIR/summary.json`` — one flat record per policy (energies in J and kWh, times in s,
  deadlines, breakdown of the GPU share), with the seed, the lab allocator and the gapa version;
* ``DIR/schedule.csv`` — one row per placed stage and policy (host, start, end, GPUs, cap, watts);
* ``DIR/figures/power.png``, ``energy.png``, ``gantt-<policy>.png`` (:mod:`gapa.plots`);
* ``DIR/report.md`` — the tables, how the saving arises, and the figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gapa
from gapa.jobs.run import JobsRun
from gapa.outputs import _json_safe, _write_rows
from gapa.report import FigureFile, figures_markdown
from gapa.run import JOULES_PER_KWH
from gapa.tables import jobs_breakdown_table, jobs_table, to_markdown


def jobs_summaries(runs: list[JobsRun], seed: int, lab_algorithm: str, jobs_source: str) -> dict[str, Any]:
    """Summary records keyed by policy."""
    out = {}
    for r in runs:
        record = r.summary()
        record.update({"seed": seed, "lab_algorithm": lab_algorithm, "jobs_file": jobs_source})
        out[r.policy] = _json_safe(record)
    return out


def write_jobs_figures(out_dir: Path, runs: list[JobsRun]) -> list[FigureFile]:
    """The figures of a jobs run, under ``out_dir/figures``."""
    from gapa import plots  # matplotlib only when figures are written

    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures = [
        FigureFile(plots.jobs_power_figure(runs, fig_dir / "power.png"), "Fleet power: lab and GPU shares",
                   "Grey: what the lab VMs draw alone (the same lab placement, no GPU work). "
                   "Orange: what the GPU work adds on top, per policy."),
        FigureFile(plots.jobs_energy_figure(runs, fig_dir / "energy.png"), "Where the GPU share goes",
                   "The GPU share split into the GPUs' draw above idle, the hours hosts stay on for GPU work "
                   "only (at idle power, idle GPUs included) and the rest (CPU load of the stages, boots)."),
    ]
    for r in runs:
        path = plots.gpu_gantt_figure(r, fig_dir / f"gantt-{r.policy}.png")
        if path is not None:
            figures.append(FigureFile(path, f"GPU stages: {r.policy}",
                                      "One lane per GPU; a bar per stage, coloured by job; grey behind: the hours "
                                      "the host is on for lab VMs anyway."))
    return figures


def _how(runs: list[JobsRun]) -> list[str]:
    """Sentences on how each policy's GPU share differs from the baseline's, from the numbers."""
    base = next((r for r in runs if r.policy == "asap"), None)
    if base is None:
        return []
    b = base.summary()
    bp = base.breakdown_j()
    lines = []
    for r in runs:
        if r is base:
            continue
        s = r.summary()
        p = r.breakdown_j()
        change = r.gpu_share_j / base.gpu_share_j - 1 if base.gpu_share_j > 0 else 0.0
        lines.append(
            f"- **{r.policy}** uses {abs(change) * 100:.1f} % {'less' if change < 0 else 'more'} GPU energy than "
            f"asap ({r.gpu_share_j / JOULES_PER_KWH:,.2f} against {base.gpu_share_j / JOULES_PER_KWH:,.2f} kWh):")
        longer = "capped GPUs run longer" if s["gpu_hours"] > b["gpu_hours"] else "about the same GPU time"
        lines.append(
            f"  - power caps: {100 * s['mean_cap_share']:.0f} % of the board limit on average (asap: "
            f"{100 * b['mean_cap_share']:.0f} %); the GPUs' draw above idle is "
            f"{p['gpu_above_idle'] / JOULES_PER_KWH:,.2f} against {bp['gpu_above_idle'] / JOULES_PER_KWH:,.2f} kWh "
            f"({s['gpu_hours']:.1f} against {b['gpu_hours']:.1f} GPU-hours: {longer});")
        lines.append(
            f"  - consolidation and shared powered hours: hosts stay on for GPU work only for "
            f"{float((r.simulation.host_on_s - r.lab.host_on_s).sum()) / 3600:.1f} host-hours against "
            f"{float((base.simulation.host_on_s - base.lab.host_on_s).sum()) / 3600:.1f}, costing "
            f"{p['hosts_on_for_gpu'] / JOULES_PER_KWH:,.2f} against {bp['hosts_on_for_gpu'] / JOULES_PER_KWH:,.2f} kWh; "
            f"{s['gpu_hours_in_lab_hours']:.1f} GPU-hours run on hosts already on for labs "
            f"(asap: {b['gpu_hours_in_lab_hours']:.1f}); {s['hosts_used_for_gpu']} GPU hosts used (asap: "
            f"{b['hosts_used_for_gpu']});")
        lines.append(
            f"  - deadlines met: {s['deadlines_met']}/{s['jobs']} (asap: {b['deadlines_met']}/{b['jobs']}); makespan "
            f"{s['makespan_s'] / 3600:.1f} h (asap: {b['makespan_s'] / 3600:.1f} h).")
    by_name = {r.policy: r for r in runs}
    halves = ("asap-capped", "energy-aware-uncapped", "energy-aware")
    if all(n in by_name for n in halves):
        c, u, full = (by_name[n].gpu_share_j / base.gpu_share_j - 1 for n in halves)
        lines += ["", (f"Caps alone (asap-capped) change the GPU share by {c * 100:+.1f} %; placement and timing "
                  f"alone (energy-aware-uncapped) by {u * 100:+.1f} %; both together (energy-aware) by "
                  f"{full * 100:+.1f} %.")]
        capped = by_name["asap-capped"]
        extra_h = float((capped.simulation.host_on_s - capped.lab.host_on_s).sum()) / 3600
        base_h = float((base.simulation.host_on_s - base.lab.host_on_s).sum()) / 3600
        if extra_h > base_h:
            lines[-1] += (f" Capped stages run longer: placed as asap places them, they keep hosts on for GPU work "
                          f"{extra_h:.1f} host-hours against {base_h:.1f}, which eats much of what the caps save; "
                          "placed where they share powered hosts, they keep it.")
    return lines


def jobs_report_markdown(out_dir: Path, runs: list[JobsRun], figures: list[FigureFile], seed: int,
                         lab_algorithm: str, jobs_source: str, regenerate: str | None) -> str:
    """The report's text (reruns nothing; no date in it: only the policies' run times change
    from one run of the command to the next)."""
    first = runs[0]
    problem = first.problem
    table = jobs_table(runs)
    parts = jobs_breakdown_table(runs)
    lines = [(f"# gapa jobs: {Path(jobs_source).name} beside {Path(problem.workload.source).name} "
             f"on {Path(problem.scenario.source).name}"), "",
             f"- GPU jobs: `{jobs_source}` ({len(first.jobs)} jobs, {sum(len(j.stages) for j in first.jobs)} stages)",
             f"- lab VMs: `{problem.workload.source}` ({problem.n_vms} VMs), placed first by `{lab_algorithm}`",
             f"- scenario: `{problem.scenario.source}` ({problem.n_hosts} hosts, {int(problem.fleet.gpus.sum())} GPUs)",
             f"- seed {seed}; gapa {gapa.__version__}"]
    if regenerate:
        lines += ["", "Regenerate with:", "", "```sh", regenerate, "```"]
    lines += ["", "## Results", "", table.title, "", to_markdown(table).rstrip("\n")]
    lines += [""] + [f"- {x}" for x in table.legend + table.notes]
    lines += ["", "## How the saving arises", "", parts.title, "", to_markdown(parts).rstrip("\n"), ""]
    lines += [f"- {x}" for x in parts.legend] + [""] + _how(runs)
    lines += figures_markdown(figures, out_dir)
    return "\n".join(lines) + "\n"


def write_jobs_results(out_dir: str | Path, runs: list[JobsRun], seed: int, lab_algorithm: str,
                       jobs_source: str, regenerate: str | None = None) -> Path:
    """Write summary.json, schedule.csv, the figures and report.md; return the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = jobs_summaries(runs, seed, lab_algorithm, jobs_source)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    rows = [row for r in runs for row in r.stage_rows()]
    _write_rows(out / "schedule.csv", rows)
    figures = write_jobs_figures(out, runs)
    path = out / "report.md"
    path.write_text(jobs_report_markdown(out, runs, figures, seed, lab_algorithm, jobs_source, regenerate),
                    encoding="utf-8")
    return path
