"""The shipped semester workload (workloads/semester.csv, week.csv) and its fleet
(scenarios/semester.toml)."""

from __future__ import annotations

import csv
import importlib.util
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gapa import Problem, load_scenario, load_workload
from gapa.allocators.base import Limits
from gapa.run import run_allocator

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ROOT / "workloads"
SEMESTER = WORKLOADS / "semester.csv"
WEEK = WORKLOADS / "week.csv"
SCENARIO = ROOT / "scenarios" / "semester.toml"
FIRST_MONDAY = date(2027, 2, 15)
WEEK_NUMBER = 3
DAY_S = 86400


@pytest.fixture(scope="module")
def generator():
    path = WORKLOADS / "generate_semester.py"
    spec = importlib.util.spec_from_file_location("generate_semester", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def semester():
    return load_workload(SEMESTER)


@pytest.fixture(scope="module")
def week():
    return load_workload(WEEK)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _peaks(w) -> tuple[int, int, int]:
    """Peak concurrent VMs, cores and RAM (MB) on [start, end)."""
    times = np.concatenate([w.start_s, w.end_s])
    sign = np.concatenate([np.ones(w.n, np.int64), -np.ones(w.n, np.int64)])
    order = np.lexsort((sign, times))  # ends (−1) before starts at equal times
    out = []
    for demand in (np.ones(w.n, np.int64), w.cores, w.ram_mb):
        out.append(int(np.cumsum(np.concatenate([demand, demand])[order] * sign[order]).max()))
    return tuple(out)


def test_shipped_files_load_with_counts_in_range(semester, week, scenario):
    assert 50_000 <= semester.n <= 100_000
    assert 3_000 <= week.n <= 8_000
    assert scenario.fleet.size == 38
    assert {"course", "room", "week"} <= set(semester.extra)
    assert SEMESTER.stat().st_size < 8_000_000


def test_week_is_week_3_of_the_semester_row_for_row(semester, week):
    sem_lines = SEMESTER.read_text(encoding="utf-8").splitlines()
    week_lines = WEEK.read_text(encoding="utf-8").splitlines()
    assert week_lines[0] == sem_lines[0]
    in_week = [ln for ln in sem_lines[1:] if ln.rsplit(",", 1)[1] == str(WEEK_NUMBER)]
    assert week_lines[1:] == in_week
    # and as loaded: the same VMs with the same demands, times shifted by two weeks
    index = {v: i for i, v in enumerate(semester.vm_ids.tolist())}
    at = np.array([index[v] for v in week.vm_ids.tolist()])
    shift = 7 * DAY_S * (WEEK_NUMBER - 1)
    assert np.array_equal(semester.start_s[at], week.start_s + shift)
    assert np.array_equal(semester.end_s[at], week.end_s + shift)
    for name in ("cores", "ram_mb", "cpu_util"):
        assert np.array_equal(getattr(semester, name)[at], getattr(week, name))
    assert np.array_equal(np.isnan(semester.mips[at]), np.isnan(week.mips))
    assert np.array_equal(np.nan_to_num(semester.mips[at]), np.nan_to_num(week.mips))


def test_regenerating_gives_identical_files(generator, tmp_path):
    generator.main(["--out", str(tmp_path), "--quiet"])
    assert (tmp_path / "semester.csv").read_bytes() == SEMESTER.read_bytes()
    assert (tmp_path / "week.csv").read_bytes() == WEEK.read_bytes()


def test_cancellations_between_3_and_8_percent(generator):
    _, sessions, timetable = generator.build(np.random.default_rng(generator.SEED))
    assert len(sessions) == len(timetable) * generator.WEEKS
    cancelled = sum(s["fate"] != "held" for s in sessions)
    assert 0.03 <= cancelled / len(sessions) <= 0.08
    assert {s["date"] for s in sessions if s["fate"] == "holiday"} == set(generator.HOLIDAYS)


def test_heterogeneous_demands(semester):
    assert set(semester.cores.tolist()) == {1, 2, 4, 8}
    ram_gb = semester.ram_mb / 1024
    assert ram_gb.min() == 1 and ram_gb.max() == 16
    assert (ram_gb / semester.cores >= 4).mean() > 0.1  # RAM-heavy courses
    assert 0 < np.isfinite(semester.mips).mean() < 0.2   # a few courses need a core speed
    assert 0.03 < semester.cpu_util.mean() < 0.5
    assert 20 <= len(set(semester.extra["course"].tolist())) <= 25


def test_every_vm_fits_some_host_group(semester, scenario):
    fleet = scenario.fleet
    fits = ((semester.cores[:, None] <= fleet.cores[None, :])
            & (semester.ram_mb[:, None] <= fleet.ram_mb[None, :])
            & ~(semester.mips[:, None] > fleet.mips_per_core[None, :]))
    assert fits.any(axis=1).all()
    assert Problem(semester, scenario).group_fits.any(axis=1).all()


def test_fleet_has_headroom_over_the_peaks_it_states(semester, scenario):
    vms, cores, ram_mb = _peaks(semester)
    fleet = scenario.fleet
    assert 1.25 <= fleet.cores.sum() / cores <= 1.40
    assert 1.25 <= fleet.ram_mb.sum() / ram_mb <= 1.40
    text = SCENARIO.read_text(encoding="utf-8")
    assert f"{cores} cores booked at once" in text
    assert f"{ram_mb // 1024} GB of RAM" in text
    assert f"{vms} VMs" in text
    # three generations, one per kind of curve, with different RAM per core
    assert sorted(group.power.kind for group in fleet.groups) == ["python", "specpower", "table"]
    assert len({group.ram_mb / group.cores for group in fleet.groups}) >= 2


def test_no_vm_at_night_nor_on_weekends(semester, week):
    for w in (semester, week):  # time 0 is midnight of a Monday in both files
        day = w.start_s // DAY_S
        assert np.array_equal((w.end_s - 1) // DAY_S, day)  # ends the day it starts
        assert (day % 7 < 5).all()
        assert (w.start_s - day * DAY_S >= 6 * 3600).all()
        assert (w.end_s - day * DAY_S <= 23 * 3600).all()
    starts = [datetime.fromisoformat(r["start"]) for r in _rows(WEEK)]
    assert min(starts).date() == FIRST_MONDAY + timedelta(weeks=WEEK_NUMBER - 1)
    assert all(s.weekday() < 5 for s in starts)


def test_week_allocates_without_rejections(week, scenario):
    problem = Problem(week, scenario)
    result = run_allocator(problem, "ffd")
    assert result.summary(problem)["rejected"] == 0


def test_python_curve_works_in_worker_processes(week, scenario):
    """The fleet's python curve lives beside the scenario (scenarios/semester_curves.py):
    worker processes that allocate blocks must find it too."""
    first_two_days = np.flatnonzero(week.start_s < 2 * DAY_S)
    problem = Problem(week.subset(first_two_days), scenario)
    one = run_allocator(problem, "ffd")
    two = run_allocator(problem, "ffd", limits=Limits(processes=2))
    assert np.array_equal(one.allocation, two.allocation)
