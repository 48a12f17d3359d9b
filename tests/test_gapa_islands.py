"""GAPA's restarts and islands: reproducible, and the same wherever the islands run."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
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
SMALL = {"population": 8, "generations": 14, "stagnation": 3, "restarts": True}


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
    result = _run(problem, {**SMALL, "islands": 2, "pool_every": 0})  # no covering MILP at the end
    books = [[rec["mean_j"] for rec in result.logbook if rec["island"] == i] for i in (0, 1)]
    assert books[0] != books[1]
    best_seen = min(rec["best_j"] for rec in result.logbook)
    assert evaluate(problem, result.allocation).energy_j == pytest.approx(best_seen, rel=1e-12)


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
