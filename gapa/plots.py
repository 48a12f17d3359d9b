"""Figures of finished runs, written as PNG files — the one module that imports matplotlib.

It draws on ``matplotlib.figure.Figure`` objects with the Agg canvas
(``FigureCanvasAgg``) and never touches ``pyplot``, so it selects no global
backend, opens no window and keeps no figure alive after writing it.  Every
figure reads results only (records and :class:`~gapa.run.RunResult` objects);
nothing is rerun.  Energies are drawn in kWh, power in kW, times in hours from
time 0 (midnight for ``HH:MM`` start times).  Figures draw whole arrays at once (one step
line per algorithm, one collection of bars for all VMs), never an artist per VM, so
they stay quick at 100,000 VMs.

* :func:`energy_figure` — energy per algorithm, spread over seeds, lower bound as a line;
* :func:`power_figure` — the whole fleet's power over the day, a step line per algorithm;
* :func:`hosts_on_figure` — the number of hosts on over the day, per algorithm;
* :func:`gantt_figure` — one run's VMs on each used host, host on-periods behind (at most
  :data:`MAX_GANTT_HOSTS` rows: the hosts with the most on-time, as the title says);
* :func:`convergence_figure` — best and mean energy per generation of iterative runs;
* :func:`write_figures` — all of them into a folder, for ``--out DIR``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from gapa.compare import BASELINE, representative_runs
from gapa.lower_bound import LowerBound
from gapa.problem import REJECTED, Problem
from gapa.report import FigureFile
from gapa.run import JOULES_PER_KWH, RunResult

DPI = 110
TIME_LABEL = "time (h)"
BOUND_COLOUR = "#c0392b"
_TAB10 = colormaps["tab10"]
#: most hosts a Gantt chart shows (rows stay readable); beyond it, those with the most on-time
MAX_GANTT_HOSTS = 60


def algorithm_colours(names: Sequence[str]) -> dict[str, Any]:
    """One colour per algorithm, stable for a given order of names."""
    return {name: _TAB10(i % 10) for i, name in enumerate(dict.fromkeys(names))}


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def _run_label(run: RunResult, runs_of_algorithm: int) -> str:
    seed = f", seed {run.seed}" if runs_of_algorithm > 1 or run.allocator.logbook else ""
    median = f", median of {runs_of_algorithm} runs" if runs_of_algorithm > 2 else ""
    return f"{run.algorithm}{seed}{median} ({run.simulation.energy_j / JOULES_PER_KWH:,.3f} kWh)"


def energy_figure(records: Sequence[Mapping[str, Any]], lower_bound_j: float | None,
                  path: str | Path, title: str) -> Path:
    """Energy per algorithm: left, the mean (bar, from 0) with the best…worst range and the
    lower bound as a line; right, every run's energy on a zoomed axis (kWh)."""
    by_algorithm: dict[str, list[float]] = {}
    for r in records:
        by_algorithm.setdefault(str(r["algorithm"]), []).append(float(r["energy_j"]) / JOULES_PER_KWH)
    names = list(by_algorithm)
    colours = algorithm_colours(names)
    x = np.arange(len(names))
    means = np.array([np.mean(by_algorithm[n]) for n in names])
    lows = np.array([min(by_algorithm[n]) for n in names])
    highs = np.array([max(by_algorithm[n]) for n in names])
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.2])
    left.bar(x, means, color=[colours[n] for n in names], width=0.6, label="mean over runs")
    spread = highs > lows
    if spread.any():
        left.errorbar(x[spread], means[spread], yerr=[means[spread] - lows[spread],
                                                      highs[spread] - means[spread]],
                      fmt="none", ecolor="black", capsize=5, label="best…worst run")
    for xi, m in zip(x, means):
        left.annotate(f"{m:,.3f}", (xi, m), xytext=(0, 3), textcoords="offset points",
                      ha="center", va="bottom", fontsize=9)
    top = float(highs.max()) if len(highs) else 1.0
    if lower_bound_j is not None and lower_bound_j > 0:
        bound = lower_bound_j / JOULES_PER_KWH
        left.axhline(bound, color=BOUND_COLOUR, linestyle="--", linewidth=1.2,
                     label=f"lower bound ({bound:,.3f} kWh)")
        top = max(top, bound)
    left.set_ylim(0, top * 1.4 if top > 0 else 1.0)  # room for the legend above the bars
    left.set_xticks(x, names)
    left.set_ylabel("energy (kWh)")
    left.set_title("mean energy", fontsize=10)
    left.legend(loc="upper center", fontsize=8, ncol=2 if spread.any() else 1)
    for xi, name in zip(x, names):
        values = by_algorithm[name]
        offsets = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else np.zeros(1)
        right.scatter(xi + offsets, values, color=colours[name], s=22, zorder=3,
                      edgecolors="black", linewidths=0.4)
        right.hlines(np.mean(values), xi - 0.28, xi + 0.28, color="black", linewidth=1.2, zorder=2)
    right.set_xticks(x, names)
    right.set_xlim(-0.6, len(names) - 0.4)
    right.ticklabel_format(axis="y", useOffset=False, style="plain")
    right.set_ylabel("energy (kWh)")
    right.set_title("every run (zoomed; line = mean)", fontsize=10)
    right.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)


def _from_zero(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A step function that starts at 0 before its first change, so the first rise is drawn."""
    return np.concatenate([times[:1], times]), np.concatenate([np.zeros(1, values.dtype), values])


def _step_figure(runs: Mapping[str, RunResult], title: str,
                 runs_per_algorithm: Mapping[str, int] | None,
                 series: Callable[[RunResult], tuple[np.ndarray, np.ndarray]], ylabel: str) -> tuple[Figure, Any]:
    """A step line per algorithm's run of ``series(run)`` (times in s, values) over the day."""
    colours = algorithm_colours(list(runs))
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.subplots()
    for i, (name, run) in enumerate(runs.items()):
        t, v = _from_zero(*series(run))
        ax.step(t / 3600, v, where="post", color=colours[name], linewidth=max(1.0, 2.2 - 0.6 * i),
                label=_run_label(run, (runs_per_algorithm or {}).get(name, 1)))
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title)
    return fig, ax


def power_figure(runs: Mapping[str, RunResult], path: str | Path, title: str,
                 runs_per_algorithm: Mapping[str, int] | None = None) -> Path:
    """The whole fleet's power over the day (kW), a step line per algorithm's run."""
    def kilowatts(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
        t, w = run.simulation.fleet_power()
        return t, w / 1000

    fig, _ = _step_figure(runs, title, runs_per_algorithm, kilowatts, "fleet power (kW)")
    return _save(fig, path)


def hosts_on_figure(runs: Mapping[str, RunResult], path: str | Path, title: str,
                    runs_per_algorithm: Mapping[str, int] | None = None) -> Path:
    """The number of hosts on (booting and shutting down included) over the day, per algorithm."""
    fig, ax = _step_figure(runs, title, runs_per_algorithm, lambda run: run.simulation.hosts_on(),
                           "hosts on")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, path)


def _lanes(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, int]:
    """Give overlapping intervals different lanes (greedy by start: as few lanes as the most
    intervals that overlap at one instant); return each interval's lane and the lane count.

    Each interval takes the lowest-numbered lane free at its start (two heaps: lanes free
    now, and busy lanes by the time they free up), so n intervals cost O(n log n)."""
    lane = np.zeros(len(starts), dtype=np.int64)
    s, e = np.asarray(starts, float).tolist(), np.asarray(ends, float).tolist()
    free: list[int] = []
    busy: list[tuple[float, int]] = []
    n_lanes = 0
    for i in np.lexsort((ends, starts)).tolist():
        while busy and busy[0][0] <= s[i]:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            k = heapq.heappop(free)
        else:
            k, n_lanes = n_lanes, n_lanes + 1
        lane[i] = k
        heapq.heappush(busy, (e[i], k))
    return lane, max(1, n_lanes)


def gantt_hosts(run: RunResult, limit: int | None = None) -> tuple[np.ndarray, int]:
    """The used hosts a Gantt chart shows, in fleet order, and how many hosts were used.

    All of them when at most ``limit`` (default :data:`MAX_GANTT_HOSTS`); else the
    ``limit`` hosts with the most on-time (ties: the lower host index), so the chart
    stays readable."""
    limit = MAX_GANTT_HOSTS if limit is None else limit
    sim = run.simulation
    hosts = np.array(sorted(tl.host for tl in sim.timelines), dtype=np.int64)
    if len(hosts) <= limit:
        return hosts, len(hosts)
    top = np.lexsort((hosts, -sim.host_on_s[hosts]))[:limit]
    return np.sort(hosts[top]), len(hosts)


def _rectangles(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Vertices (N × 4 × 2) of axis-aligned rectangles, for one :class:`PolyCollection`."""
    return np.stack([np.column_stack([x0, y0]), np.column_stack([x0, y1]),
                     np.column_stack([x1, y1]), np.column_stack([x1, y0])], axis=1)


def gantt_figure(problem: Problem, run: RunResult, path: str | Path, title: str,
                 max_hosts: int | None = None) -> Path | None:
    """VM placements of one run: a row per used host (fleet order, top down), each VM a bar
    from its start to its end in a lane of its host's row, coloured by host group; the
    host's on-periods (boots and shutdowns included) shaded behind.  With more than
    ``max_hosts`` (default :data:`MAX_GANTT_HOSTS`) used hosts, only the ``max_hosts``
    with the most on-time are drawn (:func:`gantt_hosts`) and the title says so.
    ``None`` if no VM was placed (nothing written).

    All VMs are one :class:`~matplotlib.collections.PolyCollection` and all on-periods
    another, so drawing costs little per VM."""
    sim = run.simulation
    hosts, n_used = gantt_hosts(run, max_hosts)
    if not len(hosts):
        return None
    w = problem.workload
    fleet = problem.fleet
    row_of = np.full(fleet.size, -1, dtype=np.int64)
    row_of[hosts] = np.arange(len(hosts))
    group_names = [g.name for g in fleet.groups]
    group_of_host = fleet.group_of_host
    used_groups = sorted({int(group_of_host[h]) for h in hosts})
    colours = {g: _TAB10(k % 10) for k, g in enumerate(used_groups)}
    n = len(hosts)
    fig = Figure(figsize=(11, min(40.0, max(3.5, 1.6 + 0.17 * n))), layout="constrained")
    ax = fig.subplots()
    row_h = 0.84

    # on-periods of the shown hosts, shaded behind
    shown = [tl for tl in sim.timelines if row_of[tl.host] >= 0]
    period_host = np.repeat([tl.host for tl in shown], [len(tl.on_periods) for tl in shown]).astype(np.int64)
    periods = np.array([p for tl in shown for p in tl.on_periods], dtype=float).reshape(-1, 2)
    y = row_of[period_host] - 0.46
    on = PolyCollection(_rectangles(periods[:, 0] / 3600, periods[:, 1] / 3600, y, y + 0.92),
                        facecolors=[colours[int(g)] for g in group_of_host[period_host]],
                        alpha=0.16, linewidths=0, zorder=1)
    ax.add_collection(on)

    # the VMs of the shown hosts, grouped by host in one sort (no per-host filtering)
    alloc = run.allocation
    vms = np.flatnonzero((alloc != REJECTED) & (row_of[np.maximum(alloc, 0)] >= 0))
    vms = vms[np.argsort(alloc[vms], kind="stable")]
    starts, ends = w.start_s[vms].astype(float), w.end_s[vms].astype(float)
    cuts = np.flatnonzero(np.diff(alloc[vms])) + 1
    lane = np.zeros(len(vms), dtype=np.int64)
    lanes_of_vm = np.ones(len(vms), dtype=np.int64)
    for a, b in zip(np.concatenate([[0], cuts]).tolist(), np.concatenate([cuts, [len(vms)]]).tolist()):
        lane[a:b], lanes_of_vm[a:b] = _lanes(starts[a:b], ends[a:b])
    lane_h = row_h / lanes_of_vm
    y = row_of[alloc[vms]] - row_h / 2 + lane * lane_h
    bars = PolyCollection(_rectangles(starts / 3600, ends / 3600, y, y + lane_h),
                          facecolors=[colours[int(g)] for g in group_of_host[alloc[vms]]],
                          edgecolors="white", linewidths=np.where(lanes_of_vm < 12, 0.3, 0.15), zorder=2)
    ax.add_collection(bars)
    lefts = np.concatenate([periods[:, 0], starts]) / 3600
    if len(lefts):
        bars.sticky_edges.x.append(float(lefts.min()))  # as bars drawn one by one: no margin left of 0
    ax.autoscale_view()

    ax.set_yticks(np.arange(n), [str(fleet.host_ids[h]) for h in hosts],
                  fontsize=8 if n <= 40 else 6)
    ax.set_ylim(n - 0.5, -0.5)  # first host at the top
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("host (used hosts only)" if n == n_used else "host (the most on-time)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(color=colours[g], label=f"{group_names[g]} (VM)") for g in used_groups]
    handles.append(Patch(color="grey", alpha=0.3, label="host on"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0)
    placed = int((alloc != REJECTED).sum())
    subtitle = f"{placed:,} VMs on {n_used:,} hosts"
    if n < n_used:
        subtitle += (f"; {n} of {n_used:,} hosts shown: the {n} with the most on-time "
                     f"({len(vms):,} VMs)")
    ax.set_title(f"{title}\n{subtitle}", fontsize=11)
    return _save(fig, path)


def convergence_figure(results: Sequence[RunResult], path: str | Path, title: str,
                       baseline_j: float | None = None) -> Path | None:
    """Best (top) and mean (bottom) energy of the population per generation, kWh, one line
    per run with a logbook (per island, for GAPA with several; a restarted population
    shows as a jump up); BFD's energy as a dotted reference line.  ``None`` if no run
    has a logbook with ``best_j`` (nothing written)."""
    runs = [r for r in results if r.allocator.logbook and "best_j" in r.allocator.logbook[0]]
    if not runs:
        return None
    has_mean = all("mean_j" in r.allocator.logbook[0] for r in runs)
    several_algorithms = len({r.algorithm for r in runs}) > 1
    fig = Figure(figsize=(10, 6.5 if has_mean else 4.2), layout="constrained")
    axes = fig.subplots(2 if has_mean else 1, 1, sharex=True, squeeze=False)[:, 0]
    cmap = _TAB10 if len(runs) <= 10 else colormaps["viridis"]
    styles = ["-", "--", ":", "-."]
    for i, r in enumerate(runs):
        colour = cmap(i % 10) if len(runs) <= 10 else cmap(i / max(1, len(runs) - 1))
        label = f"{r.algorithm} seed {r.seed}" if several_algorithms else f"seed {r.seed}"
        islands = sorted({rec.get("island", 0) for rec in r.allocator.logbook})
        for island in islands:  # one line per island of a GA run (GAPA's ``islands``)
            book = [rec for rec in r.allocator.logbook if rec.get("island", 0) == island]
            gen = np.array([rec.get("gen", k) for k, rec in enumerate(book)], dtype=float)
            marker = "o" if len(book) < 2 else None
            keys = ["best_j", "mean_j"] if has_mean else ["best_j"]
            for ax, key in zip(axes, keys):
                ax.plot(gen, np.array([rec[key] for rec in book], dtype=float) / JOULES_PER_KWH,
                        color=colour, linewidth=1.3, linestyle=styles[island % len(styles)], marker=marker,
                        markersize=4, label=label + (f", island {island}" if len(islands) > 1 else ""))
    if baseline_j is not None:
        axes[0].axhline(baseline_j / JOULES_PER_KWH, color="grey", linestyle=":", linewidth=1.5, zorder=1,
                        label=f"{BASELINE} ({baseline_j / JOULES_PER_KWH:,.3f} kWh)")
    axes[0].set_ylabel("best energy (kWh)")
    axes[0].set_title("best individual of the population", fontsize=10)
    if has_mean:
        axes[1].set_ylabel("mean energy (kWh)")
        axes[1].set_title("population mean", fontsize=10)
    for ax in axes:
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("generation")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    ncol = 1 if len(runs) <= 8 else 2
    axes[0].legend(fontsize=8, ncol=ncol, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.suptitle(title)
    return _save(fig, path)


def write_figures(out_dir: str | Path, problem: Problem, results: Sequence[RunResult],
                  lower: LowerBound | None, records: Sequence[Mapping[str, Any]] | None = None,
                  folder: str = "figures") -> list[FigureFile]:
    """Write every figure that applies to ``out_dir/folder/*.png`` and return them in order.

    ``records`` (one per run, with ``algorithm`` and ``energy_j``) default to the
    runs' summaries.  Per-run figures (power, hosts on, Gantt) show each
    algorithm's median-energy run.
    """
    out = Path(out_dir) / folder
    out.mkdir(parents=True, exist_ok=True)
    if records is None:
        records = [{"algorithm": r.algorithm, "energy_j": r.simulation.energy_j, "seed": r.seed}
                   for r in results]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.algorithm] = counts.get(r.algorithm, 0) + 1
    chosen = representative_runs(results)
    name = Path(problem.workload.source).name
    several = any(c > 1 for c in counts.values())
    shown = "median run per algorithm" if several else "one run per algorithm"
    files = [FigureFile(energy_figure(records, lower.energy_j if lower else None, out / "energy.png",
                                      f"Energy per algorithm — {name}"),
                        "Energy per algorithm",
                        "Left: mean energy over the runs (bar) with the best…worst run (whisker) "
                        "and the lower bound (dashed); right: every run's energy."),
             FigureFile(power_figure(chosen, out / "power.png", f"Fleet power — {name}", counts),
                        "Fleet power over the day",
                        f"Power drawn by all hosts together, kW ({shown}); "
                        "time in hours from time 0 (midnight for HH:MM starts)."),
             FigureFile(hosts_on_figure(chosen, out / "hosts_on.png", f"Hosts on — {name}", counts),
                        "Hosts on over the day",
                        f"Number of hosts switched on, boots and shutdowns included ({shown}).")]
    for algorithm, run in chosen.items():
        seed = f", seed {run.seed}" if counts[algorithm] > 1 or run.allocator.logbook else ""
        path = gantt_figure(problem, run, out / f"gantt-{algorithm}.png",
                            f"VM placements — {algorithm}{seed} — {name}")
        if path is not None:
            shown_hosts, used = gantt_hosts(run)
            rows = ("One row per used host" if len(shown_hosts) == used else
                    f"One row per host for the {len(shown_hosts)} of the {used:,} used hosts with the most "
                    "on-time")
            files.append(FigureFile(path, f"VM placements: {algorithm}{seed}",
                                    f"{rows}; each bar is a VM from its start to its "
                                    "end, coloured by host group; shading shows when the host is on."))
    baseline = [r.simulation.energy_j for r in results if r.algorithm == BASELINE]
    path = convergence_figure(results, out / "convergence.png", f"Convergence — {name}",
                              float(np.mean(baseline)) if baseline else None)
    if path is not None:
        files.append(FigureFile(path, "Convergence",
                                "Best and mean energy of the population per generation, one line "
                                "per seed; dotted: BFD's energy."))
    return files


def benchmark_figure(records: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Benchmark suite: per set, each allocator's energy as a ratio to the instance's lower
    bound, one box per allocator (a dot per instance)."""
    sets = list(dict.fromkeys(r["set"] for r in records))
    names = list(dict.fromkeys(r["algorithm"] for r in records))
    colours = algorithm_colours(names)
    fig = Figure(figsize=(max(6.0, 2.2 * len(sets) + 2), 4.2))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(names))
    for si, s in enumerate(sets):
        for ai, name in enumerate(names):
            ratios = [r["ratio"] for r in records if r["set"] == s and r["algorithm"] == name]
            if not ratios:
                continue
            x = si + (ai - (len(names) - 1) / 2) * width
            ax.boxplot([ratios], positions=[x], widths=width * 0.85, patch_artist=True,
                       showfliers=False, medianprops={"color": "black"},
                       boxprops={"facecolor": colours[name], "alpha": 0.6})
            ax.plot(np.full(len(ratios), x), ratios, ".", color=colours[name], markersize=3)
    ax.set_xticks(range(len(sets)), sets)
    ax.axhline(1.0, color=BOUND_COLOUR, linewidth=1, linestyle="--")
    ax.set_ylabel("energy / lower bound")
    ax.set_title("energy against the lower bound, per instance set")
    ax.legend(handles=[Patch(facecolor=colours[n], alpha=0.6, label=n) for n in names],
              fontsize="small", ncol=min(4, len(names)), loc="upper left")
    fig.tight_layout()
    return _save(fig, path)


# -- GPU jobs (gapa jobs) ---------------------------------------------------------------

def _on_grid(grid: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values of a step function ``(times, values)`` (0 before its first change) at ``grid``."""
    idx = np.searchsorted(times, grid, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0.0)


def jobs_power_figure(runs: Sequence[Any], path: str | Path) -> Path:
    """Fleet power over time per policy (one panel each): the lab VMs' share (what they
    draw alone) and the GPU work's share stacked on it.  ``runs``: :class:`gapa.jobs.run.JobsRun`."""
    n = len(runs)
    fig = Figure(figsize=(11, 1.2 + 2.4 * n), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, sharey=True))
    lab_t, lab_w = runs[0].lab.fleet_power()
    for ax, run in zip(axes, runs, strict=True):
        t, w = run.simulation.fleet_power()
        grid = np.unique(np.concatenate([t, lab_t]))
        lab = _on_grid(grid, lab_t, lab_w) / 1000
        total = _on_grid(grid, t, w) / 1000
        gx, lab_p = _from_zero(grid, lab)
        _, total_p = _from_zero(grid, total)
        ax.fill_between(gx / 3600, 0, lab_p, step="post", color="#7f8c8d", alpha=0.55,
                        label=f"lab share ({run.lab.energy_j / JOULES_PER_KWH:,.1f} kWh)")
        ax.fill_between(gx / 3600, lab_p, np.maximum(total_p, lab_p), step="post", color="#e67e22", alpha=0.8,
                        label=f"GPU share ({run.gpu_share_j / JOULES_PER_KWH:,.2f} kWh)")
        ax.set_ylabel("fleet power (kW)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
        ax.set_title(f"{run.policy}: {run.total_j / JOULES_PER_KWH:,.1f} kWh in all", fontsize=10)
    axes[-1].set_xlabel(TIME_LABEL)
    return _save(fig, path)


def _gpu_lanes(placements: Sequence[Any], gpus_of_host: Mapping[int, int]) -> list[list[int]]:
    """Give each stage concrete GPU indices on its host (lowest free first)."""
    free_at: dict[int, list[int]] = {h: [-1] * g for h, g in gpus_of_host.items()}
    lanes: list[list[int]] = [[] for _ in placements]
    for i in sorted(range(len(placements)), key=lambda i: (placements[i].start_s, i)):
        p = placements[i]
        slots = [k for k, t in enumerate(free_at[p.host]) if t <= p.start_s][:p.gpus]
        for k in slots:
            free_at[p.host][k] = p.end_s
        lanes[i] = slots
    return lanes


def gpu_gantt_figure(run: Any, path: str | Path) -> Path | None:
    """The GPU stages of one policy on each GPU host (a lane per GPU), coloured by job; the
    hours the host was on for labs anyway shaded behind.  ``None`` if nothing was placed."""
    pl = run.schedule.placements
    if not pl:
        return None
    fleet = run.problem.fleet
    hosts = [int(h) for h in np.flatnonzero(fleet.gpus > 0)]
    gpus = {h: int(fleet.gpus[h]) for h in hosts}
    base = {}
    y = 0
    for h in hosts:
        base[h] = y
        y += gpus[h] + 1
    fig = Figure(figsize=(11, max(3.5, 1.5 + 0.2 * y)), layout="constrained")
    ax = fig.subplots()
    for tl in run.lab.timelines:
        if tl.host in base:
            for a, b in tl.on_periods:
                ax.barh(base[tl.host] - 0.5, (b - a) / 3600, left=a / 3600, height=gpus[tl.host], align="edge",
                        color="#7f8c8d", alpha=0.25, linewidth=0, zorder=1)
    jobs_placed = sorted({p.job for p in pl})
    palette = _TAB10 if len(jobs_placed) <= 10 else colormaps["tab20"]
    colours = {j: palette(k % palette.N) for k, j in enumerate(jobs_placed)}
    for p, lanes in zip(pl, _gpu_lanes(pl, gpus), strict=True):
        for k in lanes:
            ax.barh(base[p.host] + k - 0.42, (p.end_s - p.start_s) / 3600, left=p.start_s / 3600, height=0.84,
                    align="edge", color=colours[p.job], edgecolor="white", linewidth=0.4, zorder=2)
    ticks = [base[h] + k for h in hosts for k in range(gpus[h])]
    labels = [f"{fleet.host_ids[h]} gpu{k}" for h in hosts for k in range(gpus[h])]
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_ylim(y - 0.5, -1.0)
    ax.set_xlabel(TIME_LABEL)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(color=colours[j], label=run.jobs[j].job_id) for j in colours]
    handles.append(Patch(color="#7f8c8d", alpha=0.35, label="host on for labs"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    caps = sorted({p.cap_w for p in pl})
    ax.set_title(f"{run.policy}: {len(pl)} stages of {len({p.job for p in pl})} jobs; "
                 f"power caps used {', '.join(f'{c:g}' for c in caps)} W", fontsize=10)
    return _save(fig, path)


def jobs_energy_figure(runs: Sequence[Any], path: str | Path) -> Path:
    """Each policy's GPU share split into where it goes (stacked bars, kWh)."""
    parts = [("gpu_above_idle", "GPUs above idle", "#e67e22"),
             ("hosts_on_for_gpu", "hosts on for GPU work only", "#2980b9"),
             ("rest", "CPU load of stages, boots", "#95a5a6")]
    fig = Figure(figsize=(9, 1.4 + 0.6 * len(runs)), layout="constrained")
    ax = fig.subplots()
    names = [r.policy for r in runs]
    left = np.zeros(len(runs))
    for key, label, colour in parts:
        values = np.array([r.breakdown_j()[key] for r in runs]) / JOULES_PER_KWH
        ax.barh(names, values, left=left, color=colour, label=label)
        left += values
    for i, r in enumerate(runs):
        s = r.summary()
        ax.text(left[i], i, f"  {r.gpu_share_j / JOULES_PER_KWH:,.2f} kWh; caps {100 * s['mean_cap_share']:.0f} % of max; "
                f"{s['gpu_hours_in_lab_hours']:.1f} GPU-h in lab hours", va="center", fontsize=8)
    ax.set_xlim(0, left.max() * 1.6 if len(left) and left.max() > 0 else 1)
    ax.invert_yaxis()
    ax.set_xlabel("GPU share (kWh)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Where the GPU work's energy goes, per policy", fontsize=10)
    return _save(fig, path)


# -- sweeps (gapa sweep --report) -----------------------------------------------------------

def sweep_saving_figure(savings: Any, axis: str, axis_values: Sequence[str], baseline: str, path: str | Path,
                        title: str) -> Path:
    """Saving against ``baseline`` (percent) per value of the swept ``axis``, a line per
    algorithm (and workload/scenario when those do not vary on x): the mean over seeds,
    a bar from the worst to the best seed.  ``savings`` is :func:`gapa.sweep.report.savings_table`."""
    numeric = axis == "power" and savings["idle_share"].notna().all()
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.subplots()
    others = [c for c in ("workload", "scenario", "power") if c != axis and savings[c].nunique() > 1]
    series = [(k if isinstance(k, tuple) else (k,), g) for k, g in savings.groupby(["algorithm", *others], sort=False)]
    colours = algorithm_colours([str(k) for k, _ in series])
    order = {v: i for i, v in enumerate(axis_values)}
    for key, g in series:
        g = g.sort_values(axis, key=lambda c: c.map(order))
        x = g["idle_share"] * 100 if numeric else g[axis].map(order)
        label = " · ".join(str(k) for k in key if str(k) not in ("as given", "default"))
        colour = colours[str(key)]
        ax.plot(x, g["saving_mean"] * 100, "o-", color=colour, label=label)
        ax.vlines(x, g["saving_worst"] * 100, g["saving_best"] * 100, color=colour, alpha=0.6, linewidth=3)
    if not numeric:
        ax.set_xticks(range(len(axis_values)), list(axis_values), rotation=20, ha="right", fontsize=8)
    ax.set_xlabel("idle power, % of peak" if numeric else axis)
    ax.set_ylabel(f"energy saved against {baseline} (%)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)
