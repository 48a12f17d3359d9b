"""Figures and --out files at scale: a bounded Gantt chart drawn as collections, exact lanes,
hosts.csv touching only used hosts (issue 16)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from gapa import plots
from gapa.outputs import write_hosts_csv
from gapa.problem import Problem
from gapa.run import run_allocator
from gapa.scenario import Scenario
from gapa.synthetic import peak_demand, synthetic_fleet, synthetic_workload
from tests.generators import small_problem

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def many_hosts():
    """2,000 VMs over a few days: BFD uses a few dozen hosts."""
    w = synthetic_workload(2_000, np.random.default_rng(5))
    problem = Problem(w, Scenario(synthetic_fleet(*peak_demand(w))))
    return problem, run_allocator(problem, "bfd", seed=0)


def _lanes_by_scan(starts, ends):
    """The first version of plots._lanes: each interval on the lowest lane free at its start."""
    lane = np.zeros(len(starts), dtype=np.int64)
    lane_end: list[float] = []
    for i in np.lexsort((ends, starts)):
        for k, free_at in enumerate(lane_end):
            if free_at <= starts[i]:
                lane[i], lane_end[k] = k, ends[i]
                break
        else:
            lane[i] = len(lane_end)
            lane_end.append(ends[i])
    return lane, max(1, len(lane_end))


@pytest.mark.parametrize("seed", range(20))
def test_lanes_with_heaps_equal_the_scan(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200))
    starts = rng.integers(0, 50, n).astype(float) * 10
    ends = starts + rng.integers(1, 30, n) * 10
    lane, count = plots._lanes(starts, ends)
    expected, expected_count = _lanes_by_scan(starts, ends)
    assert count == expected_count
    assert np.array_equal(lane, expected)


def test_gantt_shows_the_hosts_with_the_most_on_time(many_hosts):
    _, run = many_hosts
    sim = run.simulation
    used = sorted(tl.host for tl in sim.timelines)
    assert len(used) > 10
    shown, n_used = plots.gantt_hosts(run, limit=10)
    assert n_used == len(used) and len(shown) == 10
    assert list(shown) == sorted(shown)  # fleet order, top down
    least_shown = sim.host_on_s[shown].min()
    hidden = np.setdiff1d(used, shown)
    assert (sim.host_on_s[hidden] <= least_shown).all()
    every, n_used = plots.gantt_hosts(run, limit=len(used))
    assert list(every) == used and n_used == len(used)


def test_gantt_draws_collections_not_an_artist_per_vm(many_hosts, tmp_path, monkeypatch):
    problem, run = many_hosts
    drawn = []
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or save(fig, path))
    path = plots.gantt_figure(problem, run, tmp_path / "g.png", "t", max_hosts=12)
    assert path.read_bytes()[:8] == PNG_MAGIC
    ax = drawn[0].axes[0]
    assert len(ax.patches) == 0
    collections = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(collections) == 2  # on-periods, VMs
    shown, n_used = plots.gantt_hosts(run, limit=12)
    on_shown = np.isin(run.allocation, shown)
    assert len(collections[1].get_paths()) == int(on_shown.sum())
    assert len(ax.get_yticks()) == 12
    title = ax.get_title()
    assert f"12 of {n_used} hosts shown: the 12 with the most on-time" in title
    assert f"({int(on_shown.sum()):,} VMs)" in title


def test_write_figures_caption_names_the_hosts_shown(many_hosts, tmp_path, monkeypatch):
    problem, run = many_hosts
    monkeypatch.setattr(plots, "MAX_GANTT_HOSTS", 7)
    files = plots.write_figures(tmp_path, problem, [run], None)
    gantt = next(f for f in files if f.path.name == "gantt-bfd.png")
    assert gantt.caption.startswith(f"One row per host for the 7 of the {run.simulation.hosts_used} used hosts "
                                    "with the most on-time")


def test_small_runs_show_every_used_host(tmp_path, monkeypatch):
    problem = small_problem(20)
    run = run_allocator(problem, "bfd", seed=0)
    shown, n_used = plots.gantt_hosts(run)
    assert n_used <= plots.MAX_GANTT_HOSTS and list(shown) == sorted(tl.host for tl in run.simulation.timelines)
    drawn = []
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or save(fig, path))
    plots.gantt_figure(problem, run, tmp_path / "g.png", "t")
    ax = drawn[0].axes[0]
    assert ax.get_title() == f"t\n{problem.n_vms} VMs on {n_used} hosts"
    assert ax.get_ylabel() == "host (used hosts only)"


def test_hosts_csv_lists_the_used_hosts_exactly(many_hosts, tmp_path):
    problem, run = many_hosts
    sim = run.simulation
    write_hosts_csv(tmp_path / "hosts.csv", problem, run)
    with (tmp_path / "hosts.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["host", "energy_j", "on_s", "vms"]
    expected = [[problem.fleet.host_ids[h], repr(float(sim.host_energy_j[h])), repr(float(sim.host_on_s[h])),
                 str(int(sim.host_vms[h]))] for h in range(problem.n_hosts) if sim.host_vms[h]]
    assert rows[1:] == expected
