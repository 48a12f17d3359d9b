"""gapa.plots: figures from finished runs (PNG files), edge cases drawn or skipped cleanly."""

from __future__ import annotations

import numpy as np
import pytest

from gapa import plots
from gapa.allocators import AllocatorResult, GivenAllocation
from gapa.compare import compare
from gapa.run import run_allocator
from tests.generators import small_problem

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def problem():
    return small_problem(20)


def test_lanes_never_overlap_and_use_the_fewest():
    starts = np.array([0, 0, 10, 5, 20, 20, 20], float)
    ends = np.array([10, 30, 20, 15, 30, 25, 21], float)
    lane, n = plots._lanes(starts, ends)
    for i in range(len(starts)):
        for j in range(i):
            if lane[i] == lane[j]:
                assert ends[i] <= starts[j] or ends[j] <= starts[i]
    assert n == 4  # at t = 20: VMs 1, 4, 5, 6


def test_every_figure_is_a_png(problem, tmp_path):
    comparison = compare(problem, ["bfd", "gapa"], [0, 1], settings={"gapa": {"population": 4,
                                                                              "generations": 2}})
    files = plots.write_figures(tmp_path, problem, comparison.results, comparison.lower,
                                comparison.records())
    names = [f.path.name for f in files]
    assert names == ["energy.png", "power.png", "hosts_on.png", "gantt-bfd.png", "gantt-gapa.png",
                     "convergence.png"]
    for f in files:
        assert f.path.parent == tmp_path / "figures" and f.path.read_bytes()[:8] == PNG_MAGIC
        assert f.title and f.caption


def test_nothing_placed_and_no_logbook_skip_their_figures(problem, tmp_path):
    nothing = run_allocator(problem, GivenAllocation(np.full(problem.n_vms, -1)), seed=0)
    assert plots.gantt_figure(problem, nothing, tmp_path / "g.png", "t") is None
    assert plots.convergence_figure([nothing], tmp_path / "c.png", "t") is None
    files = plots.write_figures(tmp_path, problem, [nothing], None)
    assert [f.path.name for f in files] == ["energy.png", "power.png", "hosts_on.png"]
    assert not (tmp_path / "g.png").exists() and not (tmp_path / "c.png").exists()


def test_single_generation_logbook_is_drawn(problem, tmp_path):
    run = run_allocator(problem, "gapa", seed=0, settings={"population": 3, "generations": 0})
    assert len(run.allocator.logbook) == 1
    assert plots.convergence_figure([run], tmp_path / "c.png", "t").read_bytes()[:8] == PNG_MAGIC


def test_logbook_without_mean_is_drawn(problem, tmp_path):
    run = run_allocator(problem, "bfd", seed=0)
    book = [{"gen": 0, "best_j": 10.0}, {"gen": 1, "best_j": 9.0}]
    fake = type(run)(run.algorithm, 0, run.allocation, AllocatorResult(run.allocation, logbook=book),
                     run.simulation, run.evaluation, 0.0)
    assert plots.convergence_figure([fake], tmp_path / "c.png", "t") is not None


def test_each_island_gets_its_own_line(problem, tmp_path, monkeypatch):
    run = run_allocator(problem, "gapa", seed=0, settings={"population": 4, "generations": 3, "islands": 2})
    assert {rec["island"] for rec in run.allocator.logbook} == {0, 1}
    drawn = []
    original = plots.Figure.subplots

    def spy(self, *args, **kwargs):
        axes = original(self, *args, **kwargs)
        drawn.append(axes)
        return axes

    monkeypatch.setattr(plots.Figure, "subplots", spy)
    assert plots.convergence_figure([run], tmp_path / "c.png", "t") is not None
    top = drawn[0][0, 0]
    labels = [line.get_label() for line in top.get_lines()]
    assert labels == ["seed 0, island 0", "seed 0, island 1"]
    for line, island in zip(top.get_lines(), (0, 1)):
        assert len(line.get_xdata()) == sum(rec["island"] == island for rec in run.allocator.logbook)
