"""gapa.compare: which runs are made, and the aggregates computed from their records."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from gapa.allocators import GAPA
from gapa.compare import aggregate, compare, representative_runs
from gapa.errors import InputError
from gapa.run import JOULES_PER_KWH, run_allocator
from tests.generators import small_problem

TINY_GA = {"population": 6, "generations": 3}


@pytest.fixture(scope="module")
def problem():
    return small_problem()


@pytest.fixture(scope="module")
def comparison(problem):
    return compare(problem, ["bfd", "gapa"], [0, 1, 2], settings={"gapa": TINY_GA})


def test_deterministic_runs_once_stochastic_once_per_seed(comparison):
    runs = [(r.algorithm, r.seed) for r in comparison.results]
    assert runs == [("bfd", 0), ("gapa", 0), ("gapa", 1), ("gapa", 2)]
    assert comparison.stochastic == {"bfd": False, "gapa": True}
    assert comparison.seeds == [0, 1, 2]
    agg = comparison.aggregates()
    assert agg["bfd"]["runs"] == 1 and agg["bfd"]["seeds"] == [0]
    assert agg["gapa"]["runs"] == 3 and agg["gapa"]["seeds"] == [0, 1, 2]


def test_aggregates_match_the_records(comparison):
    records = comparison.records()
    gapa = [r["energy_j"] for r in records if r["algorithm"] == "gapa"]
    bfd = [r["energy_j"] for r in records if r["algorithm"] == "bfd"]
    a = comparison.aggregates()["gapa"]
    assert a["energy_j_mean"] == pytest.approx(statistics.mean(gapa), rel=1e-12)
    assert a["energy_j_std"] == pytest.approx(statistics.stdev(gapa), rel=1e-9, abs=1e-6)
    assert a["energy_j_best"] == min(gapa) and a["energy_j_worst"] == max(gapa)
    assert a["energy_kwh_mean"] == pytest.approx(statistics.mean(gapa) / JOULES_PER_KWH)
    assert a["saving_vs_bfd_mean"] == pytest.approx(1 - statistics.mean(gapa) / bfd[0])
    assert a["energy_to_bound_mean"] == pytest.approx(statistics.mean(gapa) / comparison.lower.energy_j)
    assert a["gapa_version"] and a["bound_energy_j"] == comparison.lower.energy_j
    for r in records:
        assert r["saving_vs_bfd"] == pytest.approx(1 - r["energy_j"] / bfd[0])
        assert r["bound_energy_j"] == comparison.lower.energy_j


def test_same_seed_same_numbers(problem, comparison):
    again = compare(problem, ["gapa"], [2, 0], settings={"gapa": TINY_GA})
    by_seed = {r.seed: r for r in comparison.results if r.algorithm == "gapa"}
    for r in again.results:
        assert r.simulation.energy_j == by_seed[r.seed].simulation.energy_j
        assert np.array_equal(r.allocation, by_seed[r.seed].allocation)
    alone = run_allocator(problem, GAPA(**TINY_GA), seed=1)
    assert alone.simulation.energy_j == by_seed[1].simulation.energy_j


def test_aggregate_by_hand():
    def rec(algorithm, seed, kwh, rejected=0):
        return {"algorithm": algorithm, "seed": seed, "energy_j": kwh * JOULES_PER_KWH,
                "host_on_s": 3600.0 * kwh, "hosts_used": 2, "rejected": rejected, "solve_s": 0.5,
                "bound_energy_j": 5 * JOULES_PER_KWH, "stochastic": algorithm == "ga"}

    records = [rec("ga", 0, 10), rec("ga", 1, 12, rejected=1), rec("ga", 2, 14), rec("bfd", 0, 20)]
    agg = aggregate(records)
    assert list(agg) == ["ga", "bfd"]
    ga = agg["ga"]
    assert ga["runs"] == 3 and ga["seeds"] == [0, 1, 2] and ga["stochastic"] is True
    assert ga["energy_kwh_mean"] == pytest.approx(12)
    assert ga["energy_kwh_std"] == pytest.approx(2)  # sample standard deviation (n − 1)
    assert (ga["energy_kwh_best"], ga["energy_kwh_worst"]) == pytest.approx((10, 14))
    assert ga["energy_to_bound_mean"] == pytest.approx(12 / 5)
    assert ga["saving_vs_bfd_mean"] == pytest.approx(0.4)
    assert ga["saving_vs_bfd_best"] == pytest.approx(0.5)
    assert ga["saving_vs_bfd_worst"] == pytest.approx(0.3)
    assert ga["host_on_s_mean"] == pytest.approx(12 * 3600)
    assert ga["rejected_max"] == 1 and ga["rejected_mean"] == pytest.approx(1 / 3)
    assert agg["bfd"]["energy_kwh_std"] is None and agg["bfd"]["saving_vs_bfd_mean"] == 0
    assert aggregate([rec("ga", 0, 10)])["ga"]["saving_vs_bfd_mean"] is None  # no BFD: no saving


def test_representative_run_is_the_median(comparison):
    gapa = sorted((r for r in comparison.results if r.algorithm == "gapa"),
                  key=lambda r: r.simulation.energy_j)
    chosen = representative_runs(comparison.results)
    assert chosen["gapa"].simulation.energy_j == gapa[1].simulation.energy_j
    assert chosen["bfd"].algorithm == "bfd"


def test_observer_sees_every_run(problem):
    events = []

    class Observer:
        def run_started(self, algorithm, seed, run, runs):
            events.append(("start", algorithm, seed, run, runs))

        def allocator_progress(self, report):
            events.append(("progress", report["generation"]))

        def run_finished(self, result):
            events.append(("done", result.algorithm, result.seed))

    compare(problem, ["bfd", "gapa"], [0, 1], settings={"gapa": {"population": 4, "generations": 1}},
            observer=Observer())
    starts = [e for e in events if e[0] == "start"]
    assert starts == [("start", "bfd", 0, 1, 3), ("start", "gapa", 0, 2, 3), ("start", "gapa", 1, 3, 3)]
    assert [e for e in events if e[0] == "done"] == [("done", "bfd", 0), ("done", "gapa", 0),
                                                      ("done", "gapa", 1)]
    assert ("progress", 1) in events


def test_bad_settings_fail_before_any_run(problem):
    with pytest.raises(InputError, match="settings of gapa"):
        compare(problem, ["bfd", "gapa"], [0], settings={"gapa": {"populaton": 4}})
    with pytest.raises(InputError, match="unknown algorithm"):
        compare(problem, ["nope"], [0])
    with pytest.raises(ValueError):
        compare(problem, ["bfd"], [])
