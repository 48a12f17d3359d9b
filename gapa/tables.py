"""The results tables as text cells, rendered by the terminal (rich) and the report (markdown).

One table per command: :func:`simulation_table` (one row per run of ``gapa
simulate``) and :func:`comparison_table` (one row per algorithm of ``gapa
compare``, aggregated over seeds).  Both read only finished results; building
a table never reruns anything.  Energies are shown in kWh, times in hours
(on-time) and seconds (solve time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gapa.compare import best_heuristic, saving
from gapa.lower_bound import LowerBound
from gapa.problem import Problem
from gapa.run import JOULES_PER_KWH, RunResult

Justify = Literal["left", "right"]

DASH = "–"


@dataclass(frozen=True)
class TextTable:
    """A table ready to print: a title, columns ``(name, justify)`` (a name may hold a line
    break, for narrow columns), rows of cells, notes below, what the less obvious columns
    mean (for the report), and whether to print it with narrow gaps (many columns)."""

    title: str
    columns: list[tuple[str, Justify]]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)
    compact: bool = False


def instance_title(problem: Problem) -> str:
    """``714 VMs on 86 hosts (oneday.csv, lab.toml, idle=off)``."""
    return (f"{problem.n_vms} VMs on {problem.n_hosts} hosts ({Path(problem.workload.source).name}, "
            f"{Path(problem.scenario.source).name}, idle={problem.policy.idle})")


def bound_note(lower: LowerBound) -> str:
    """``lower bound: 21.974 kWh, 265.6 host-hours on``."""
    return (f"lower bound: {lower.energy_j / JOULES_PER_KWH:,.3f} kWh, "
            f"{lower.on_s / 3600:,.1f} host-hours on")


def seeds_text(seeds: list[int]) -> str:
    """``0``, ``0–4`` for a run of consecutive seeds, else ``0, 3, 7``."""
    if not seeds:
        return DASH
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}{DASH}{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def _kwh(joules: float | None) -> str:
    return DASH if joules is None else f"{joules / JOULES_PER_KWH:,.3f}"


def _change(fraction: float | None) -> str:
    """A signed change in percent (energy relative to BFD: −0.8 % means 0.8 % less)."""
    return DASH if fraction is None else f"{100 * fraction + 0.0:+.1f} %"  # + 0.0: no "-0.0"


def _negated(value: float | None) -> float | None:
    return None if value is None else -value


def _heuristic_note(best: tuple[str, float] | None) -> list[str]:
    """``best heuristic: bfd (31.684 kWh)``, or nothing when no constructive heuristic ran."""
    return [] if best is None else [f"best heuristic: {best[0]} ({_kwh(best[1])} kWh)"]


def _rejected_note(name: str, rejected: int, in_a_run: bool = False) -> list[str]:
    """``gapa: 3 VM(s) rejected (its energy leaves them out)``, or nothing."""
    if not rejected:
        return []
    return [(f"{name}: {'up to ' if in_a_run else ''}{rejected} VM(s) rejected{' in a run' if in_a_run else ''} "
             "(its energy leaves them out)")]


HEURISTIC_LEGEND = ("vs best heuristic: change of energy against the best constructive heuristic that "
                    "ran (of bfd, ffd, wf, pabfd, mindft-st, mindft-ld: the fewest rejected VMs, then "
                    "the least energy; named below the table); – when none ran")


def simulation_table(problem: Problem, results: list[RunResult], lower: LowerBound) -> TextTable:
    """One row per run: kWh, ratio to the lower bound, change against BFD and against the best
    constructive heuristic of the run, on-time (h), hosts used, solve time (s).  Notes below:
    the lower bound, the best heuristic and any rejected VMs (a note, not a column, so the
    terminal table stays within 80 columns)."""
    baseline = next((r for r in results if r.algorithm == "bfd"), None)
    best = best_heuristic((r.algorithm, int((r.allocation < 0).sum()), r.simulation.energy_j) for r in results)
    columns: list[tuple[str, Justify]] = [
        ("algorithm", "left"), ("kWh", "right"), ("×\nbound", "right"), ("vs bfd", "right"),
        ("vs best\nheuristic", "right"), ("on-time\nh", "right"), ("hosts", "right"), ("solve\ns", "right")]
    rows = []
    notes = [bound_note(lower), *_heuristic_note(best)]
    for r in results:
        sim = r.simulation
        ratio = f"{sim.energy_j / lower.energy_j:.3f}" if lower.energy_j > 0 else DASH
        change = None
        if baseline is not None and r is not baseline and baseline.simulation.energy_j > 0:
            change = sim.energy_j / baseline.simulation.energy_j - 1
        vs_best = None
        if best is not None and r.algorithm != best[0]:
            vs_best = _negated(saving(sim.energy_j, best[1]))
        rows.append([r.algorithm, _kwh(sim.energy_j), ratio, _change(change), _change(vs_best),
                     f"{sim.on_s / 3600:,.1f}", str(sim.hosts_used), f"{r.solve_s:.2f}"])
        notes += _rejected_note(r.algorithm, int((r.allocation < 0).sum()))
    legend = ["kWh: energy of the whole fleet over the day",
              "× bound: energy over the lower bound (1 would be optimal; the bound may be loose)",
              "vs bfd: change of energy against BFD (negative: less energy)",
              HEURISTIC_LEGEND,
              "on-time h: total host on-time, boots and shutdowns included, hours",
              ("hosts: hosts used; solve s: the allocator's wall-clock time, seconds; VMs no host "
               "could hold are rejected and named below the table")]
    return TextTable(instance_title(problem), columns, rows, notes, legend, compact=True)


def _run_spread_notes(name: str, a: Mapping[str, Any], best_h: str | None) -> list[str]:
    """``gapa best run: 27.111 kWh, -14.4 % vs bfd, -3.0 % vs best heuristic`` and the worst run's."""
    lines = []
    for which in ("best", "worst"):
        parts = [f"{_kwh(a[f'energy_j_{which}'])} kWh"]
        if name != "bfd" and a.get(f"saving_vs_bfd_{which}") is not None:
            parts.append(f"{_change(-a[f'saving_vs_bfd_{which}'])} vs bfd")
        if name != best_h and a.get(f"saving_vs_best_heuristic_{which}") is not None:
            parts.append(f"{_change(-a[f'saving_vs_best_heuristic_{which}'])} vs best heuristic")
        lines.append(f"{name} {which} run: {', '.join(parts)}")
    return lines


def comparison_table(problem: Problem, aggregates: Mapping[str, Mapping[str, Any]],
                     lower: LowerBound, seeds: list[int]) -> TextTable:
    """One row per algorithm, from :func:`gapa.compare.aggregate`'s records.

    Columns: runs; mean and sample standard deviation of the energy (kWh); mean
    energy over the lower bound; change of the mean energy against BFD's and against
    the best constructive heuristic's (percent); mean host on-time (h); mean solve
    time (s).  Notes below: the lower bound, the best heuristic, the best and worst
    run (kWh and changes) of algorithms with several runs, and any rejected VMs.
    """
    columns: list[tuple[str, Justify]] = [
        ("algorithm", "left"), ("runs", "right"), ("mean\nkWh", "right"), ("std", "right"),
        ("×\nbound", "right"), ("vs bfd", "right"), ("vs best\nheuristic", "right"),
        ("on-time\nh", "right"), ("solve\ns", "right")]
    rows = []
    best_h = next((a["best_heuristic"] for a in aggregates.values() if a.get("best_heuristic")), None)
    notes = [bound_note(lower)]
    if best_h is not None and best_h in aggregates:
        notes += _heuristic_note((best_h, aggregates[best_h]["energy_j_mean"]))
    for name, a in aggregates.items():
        saving_bfd = None if name == "bfd" else a.get("saving_vs_bfd_mean")
        saving_h = None if name == best_h else a.get("saving_vs_best_heuristic_mean")
        ratio = a.get("energy_to_bound_mean")
        rows.append([
            name, str(a["runs"]), _kwh(a["energy_j_mean"]), _kwh(a["energy_j_std"]),
            DASH if ratio is None else f"{ratio:.3f}", _change(_negated(saving_bfd)),
            _change(_negated(saving_h)), f"{a['host_on_s_mean'] / 3600:,.1f}", f"{a['solve_s_mean']:.2f}"])
        if a["runs"] > 1:
            notes += _run_spread_notes(name, a, best_h)
        notes += _rejected_note(name, int(a["rejected_max"]), in_a_run=True)
    title = f"{instance_title(problem)}, seeds {seeds_text(seeds)}"
    legend = ["runs: one per seed for a stochastic algorithm, one for a deterministic one",
              ("mean kWh, std: mean and sample standard deviation of the energy of the whole fleet "
               "over the day, kWh; the best and worst run are given below the table"),
              "× bound: mean energy over the lower bound (1 would be optimal; the bound may be loose)",
              "vs bfd: change of the mean energy against BFD's (negative: less energy)",
              HEURISTIC_LEGEND.replace("change of energy against the best", "change of the mean energy against the best"),
              "on-time h: mean total host on-time, boots and shutdowns included, hours",
              "solve s: mean wall-clock time of the allocator, seconds"]
    return TextTable(title, columns, rows, notes, legend, compact=True)


def to_markdown(table: TextTable) -> str:
    """The table as GitHub-flavoured markdown (no title; notes as a paragraph below)."""

    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|")

    head = "| " + " | ".join(cell(name.replace("\n", " ")) for name, _ in table.columns) + " |"
    rule = "|" + "|".join("---:" if j == "right" else ":---" for _, j in table.columns) + "|"
    body = ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
    text = "\n".join([head, rule, *body]) + "\n"
    if table.notes:
        text += "\n" + "  \n".join(table.notes) + "\n"
    return text


def percent(fraction: float | None) -> str:
    """``12.34 %`` for 0.1234; a dash for None."""
    return DASH if fraction is None else f"{100 * fraction:.2f} %"


def benchmark_table(title: str, summary: list[Mapping[str, Any]]) -> TextTable:
    """One row per (instance set, algorithm) of a benchmark suite (:func:`gapa.bench.summarise`)."""
    columns: list[tuple[str, Justify]] = [
        ("set", "left"), ("algorithm", "left"), ("instances", "right"), ("mean ratio", "right"),
        ("mean vs best", "right"), ("best", "right"), ("optimal", "right"), ("mean gap", "right"),
        ("mean s", "right"), ("max s", "right")]
    rows = [[s["set"], s["algorithm"], str(s["instances"]), f"{s['mean_ratio']:.4f}", percent(s["mean_vs_best"]),
             str(s["best"]), "" if s["optimal"] is None else str(s["optimal"]),
             "" if s["mean_gap"] is None else percent(s["mean_gap"]), f"{s['mean_s']:.2f}", f"{s['max_s']:.2f}"]
            for s in summary]
    return TextTable(title, columns, rows)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def jobs_table(runs: list[Any], baseline: str = "asap") -> TextTable:
    """``gapa jobs``: one row per policy — total, lab share, GPU share (and its change against
    ``baseline``), the GPUs' own energy, makespan, deadlines met, GPU-hours inside lab hours,
    mean power cap.  ``runs`` are :class:`gapa.jobs.run.JobsRun` objects."""
    base = next((r for r in runs if r.policy == baseline), None)
    rows = []
    for r in runs:
        s = r.summary()
        change = None if base is None or r is base or base.gpu_share_j <= 0 else r.gpu_share_j / base.gpu_share_j - 1
        rows.append([
            r.policy, _kwh(s["total_j"]), _kwh(s["lab_j"]), _kwh(s["gpu_share_j"]), _change(change),
            _kwh(s["gpu_own_j"]), _hours(s["makespan_s"]), f"{s['deadlines_met']}/{s['jobs']}",
            f"{s['gpu_hours_in_lab_hours']:.1f}/{s['gpu_hours']:.1f}",
            DASH if s["mean_cap_share"] is None else f"{100 * s['mean_cap_share']:.0f}", str(s["hosts_used_for_gpu"]),
            f"{s['schedule_s']:.2f}",
        ])
    first = runs[0] if runs else None
    title = "GPU jobs beside the lab VMs"
    if first is not None:
        title = (f"{len(first.jobs)} GPU jobs ({sum(len(j.stages) for j in first.jobs)} stages) beside "
                 f"{Path(first.problem.workload.source).name} on {Path(first.problem.scenario.source).name}")
    notes = []
    for r in runs:
        s = r.summary()
        if s["missed_jobs"]:
            notes.append(f"{r.policy}: missed the deadline of {', '.join(s['missed_jobs'])}")
        for job, why in s["rejected_jobs"].items():
            notes.append(f"{r.policy}: rejected {job}: {why}")
    legend = [
        "lab: the lab VMs simulated alone (same placement); GPU share = total − lab, the marginal energy of the GPU work",
        f"change: GPU share against {baseline}",
        "GPUs own: the stages' GPUs at their profiled watts × time",
        "GPU-h in lab hours: GPU-hours run while the host was on for labs anyway / all GPU-hours",
        "cap % of max: the power caps as a share of each GPU's board limit, weighted by GPU-hours",
    ]
    return TextTable(
        title,
        [("policy", "left"), ("total\nkWh", "right"), ("lab\nkWh", "right"), ("GPU share\nkWh", "right"),
         ("change", "right"), ("GPUs own\nkWh", "right"), ("makespan\nh", "right"), ("deadlines\nmet", "right"),
         ("GPU-h in\nlab hours", "right"), ("cap %\nof max", "right"), ("GPU\nhosts", "right"),
         ("schedule\ns", "right")],
        rows, notes, legend, compact=True)


def jobs_breakdown_table(runs: list[Any]) -> TextTable:
    """Where each policy's GPU share goes (kWh): GPUs above idle, hosts on for GPU work only, the rest."""
    rows = []
    for r in runs:
        parts = r.breakdown_j()
        rows.append([r.policy, _kwh(parts["gpu_above_idle"]), _kwh(parts["hosts_on_for_gpu"]), _kwh(parts["rest"]),
                     _kwh(r.gpu_share_j), _hours(float((r.simulation.host_on_s - r.lab.host_on_s).sum()))])
    return TextTable(
        "Where the GPU share goes",
        [("policy", "left"), ("GPUs above idle\nkWh", "right"), ("hosts on for GPU\nkWh", "right"),
         ("rest\nkWh", "right"), ("GPU share\nkWh", "right"), ("host-h on\nfor GPU", "right")],
        rows, [], [
            "GPUs above idle: the stages' GPUs at their profiled watts minus the idle watts they would draw anyway",
            "hosts on for GPU: host-hours on beyond the lab-only run, at each host's idle power (its idle GPUs included)",
            "rest: the stages' CPU load, boots and shutdowns (total − the two before)",
        ])
