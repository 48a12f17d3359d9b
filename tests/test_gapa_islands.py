"""GAPA's restarts and islands: reproducible, and the same wherever the islands run."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from gapa.allocators import GAPA, Limits, get_allocator
from gapa.evaluator import evaluate
from gapa.power import ShapeModel
from gapa.problem import Problem
from gapa.readers.tbpp import read_tbpp

ROOT = Path(__file__).resolve().parent.parent
A1 = ROOT / "benchmarks/data/tbpp/a1/cap100_n50_t50_LonSm_1.txt"
#: small enough to be quick, stagnating often enough to restart
SMALL = {"population": 8, "generations": 10, "stagnation": 3, "restarts": True}


@pytest.fixture(scope="module")
def problem() -> Problem:
    return Problem(*read_tbpp(A1))


def _run(problem: Problem, settings: dict, processes: int = 1, seed: int = 5):
    return get_allocator("gapa", settings).allocate(problem, np.random.default_rng(seed), Limits(processes=processes))


def _without_times(logbook: list[dict]) -> list[dict]:
    return [{k: v for k, v in rec.items() if k != "elapsed_s"} for rec in logbook]


def test_a_stagnating_population_restarts_and_the_run_stays_reproducible(problem):
    first, second = _run(problem, SMALL), _run(problem, SMALL)
    assert first.info["restarts_run"] >= 1
    restarts = [rec["restart"] for rec in first.logbook]
    assert restarts == sorted(restarts) and restarts[-1] == first.info["restarts_run"]
    assert [rec["gen"] for rec in first.logbook] == list(range(len(first.logbook)))
    np.testing.assert_array_equal(first.allocation, second.allocation)
    assert _without_times(first.logbook) == _without_times(second.logbook)
    # the result is the best the run saw: no population's best beats it
    energy = evaluate(problem, first.allocation).energy_j
    assert energy <= min(rec["best_j"] for rec in first.logbook) * (1 + 1e-12)


def test_without_restarts_a_stagnating_run_stops(problem):
    result = _run(problem, {**SMALL, "restarts": False})
    assert result.status == "stagnation" and result.info["restarts_run"] == 0
    assert {rec["restart"] for rec in result.logbook} == {0}


def test_islands_give_the_same_result_in_worker_processes_and_here(problem):
    settings = {**SMALL, "islands": 3}
    here = _run(problem, settings, processes=1)
    there = _run(problem, settings, processes=2)  # islands 1 and 2 in one worker, one after the other
    wide = _run(problem, settings, processes=3)  # one worker each
    assert here.info["islands_in_workers"] == 0
    assert there.info["islands_in_workers"] == 2 and wide.info["islands_in_workers"] == 2
    for other in (there, wide):
        np.testing.assert_array_equal(here.allocation, other.allocation)
        assert _without_times(here.logbook) == _without_times(other.logbook)
        assert other.info["pool_columns"] == here.info["pool_columns"]
    assert sorted({rec["island"] for rec in here.logbook}) == [0, 1, 2]
    assert not multiprocessing.active_children()  # the workers are gone


def test_islands_explore_differently_and_the_best_island_wins(problem):
    # seed 1: island 1 ends better than island 0 (checked below), so "take island 0" fails
    result = _run(problem, {**SMALL, "islands": 2, "pool_every": 0}, seed=1)  # no covering MILP at the end
    books = [[rec["mean_j"] for rec in result.logbook if rec["island"] == i] for i in (0, 1)]
    assert books[0] != books[1]
    best = [min(rec["best_j"] for rec in result.logbook if rec["island"] == i) for i in (0, 1)]
    assert best[1] < best[0]
    assert evaluate(problem, result.allocation).energy_j == pytest.approx(best[1], rel=1e-12)


def test_the_last_recombination_sees_every_islands_host_groups(problem, monkeypatch):
    seen = {}
    original = GAPA._polish

    def spy(self, problem, pool, *args, **kwargs):
        seen["keys"] = set(pool._index)
        return original(self, problem, pool, *args, **kwargs)

    monkeypatch.setattr(GAPA, "_polish", spy)
    _run(problem, {**SMALL, "islands": 2}, seed=5)
    # island 1 alone, from the same spawned generator the run gave it
    alone = GAPA(**{**SMALL, "islands": 2})._evolve(problem, np.random.default_rng(5).spawn(2)[1], Limits(), 0.0,
                                                    island=1)
    keys = set(alone.pool._index)
    assert keys and keys <= seen["keys"]


def test_restarts_rebuild_the_population(problem, monkeypatch):
    calls = []
    original = GAPA._initial

    def spy(self, *args, **kwargs):
        pop = original(self, *args, **kwargs)
        calls.append([p.allocation.copy() for p in pop])
        return pop

    monkeypatch.setattr(GAPA, "_initial", spy)
    result = _run(problem, SMALL)
    assert len(calls) == 1 + result.info["restarts_run"] >= 2
    # the rebuilt population has fresh random individuals (the heuristic seeds repeat)
    assert any(not np.array_equal(a, b) for a, b in zip(calls[0], calls[1]))


def test_pool_absorb_adds_only_new_columns_in_order(problem):
    from gapa.allocators.packing import Packing
    from gapa.allocators.pool import ColumnPool

    bfd = get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits()).allocation
    ffd = get_allocator("ffd").allocate(problem, np.random.default_rng(0), Limits()).allocation
    first, second = ColumnPool(problem), ColumnPool(problem)
    first.add(Packing(problem, bfd))
    second.add(Packing(problem, ffd))
    union = {(g, k): e for g, k, e in first.columns() + second.columns()}
    before = first.columns()
    first.absorb(second.columns())
    assert first.columns()[:len(before)] == before
    assert {(g, k): e for g, k, e in first.columns()} == union
    assert len(first) == len(union)


def test_islands_run_here_when_workers_cannot_start(problem, monkeypatch):
    settings = {**SMALL, "islands": 2}
    expected = _run(problem, settings, processes=1)

    def refuse(self):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", refuse)
    result = _run(problem, settings, processes=2)
    assert result.info["islands_in_workers"] == 0
    np.testing.assert_array_equal(expected.allocation, result.allocation)


def test_an_interrupted_run_stops_its_workers(problem, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(GAPA, "_evolve", interrupted)  # island 0, here; the worker runs the real one
    with pytest.raises(KeyboardInterrupt):
        _run(problem, {**SMALL, "islands": 2, "generations": 200, "stagnation": 200}, processes=2)
    assert not multiprocessing.active_children()


def test_islands_setting_is_checked():
    with pytest.raises(ValueError, match="islands"):
        GAPA(islands=0)


@pytest.mark.parametrize("kind", ["linear", "square", "cubic", "sqrt"])
def test_shaped_power_models_pickle(kind):
    """Island workers receive the problem pickled, power models included."""
    model = ShapeModel(kind, 100.0, 250.0)
    copy = pickle.loads(pickle.dumps(model))
    u = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(model.watts(u), copy.watts(u))


class FailsInWorkers(GAPA):
    """A GAPA whose islands fail in any process but the test's (a worker's failure)."""

    def _evolve(self, *args, **kwargs):
        if str(os.getpid()) != os.environ.get("GAPA_TEST_PARENT"):
            raise RuntimeError("broken in the worker")
        return super()._evolve(*args, **kwargs)


def test_a_failing_worker_is_reported_and_its_islands_run_here(problem, monkeypatch):
    monkeypatch.setenv("GAPA_TEST_PARENT", str(os.getpid()))
    settings = {**SMALL, "islands": 3}
    expected = _run(problem, settings, processes=1)
    result = FailsInWorkers(**settings).allocate(problem, np.random.default_rng(5), Limits(processes=2))
    assert result.info["islands_in_workers"] == 0
    assert "island 1: RuntimeError: broken in the worker" in result.info["island_errors"]
    assert "island 2: RuntimeError" in result.info["island_errors"]
    np.testing.assert_array_equal(expected.allocation, result.allocation)
    assert expected.info["island_errors"] == ""


def test_islands_run_one_after_another_share_the_time_limit(problem):
    import time

    t0 = time.perf_counter()
    result = _run(problem, {**SMALL, "islands": 3, "generations": 10_000, "stagnation": 10_000,
                            "time_limit": 1.5}, processes=1)
    took = time.perf_counter() - t0
    assert result.status == "time_limit"
    assert took < 1.5 * 1.3 + 1.0
    gens = [max(rec["gen"] for rec in result.logbook if rec["island"] == i) for i in range(3)]
    assert min(gens) >= 2  # every island had its share, none only its initial population
