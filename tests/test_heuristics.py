"""The constructive heuristics follow their rules, on small days worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gapa.allocators import ALLOCATORS, Limits, get_allocator
from gapa.evaluator import evaluate
from gapa.fleet import Fleet, HostGroup
from gapa.power import ShapeModel
from gapa.problem import REJECTED, Problem
from gapa.scenario import Scenario
from gapa.workload import Workload

H = 3600


def problem(start_h, end_h, cores, hosts=3, host_cores=4, groups=None):
    w = Workload.from_arrays(np.array(start_h) * H, np.array(end_h) * H, cores, [1024] * len(cores))
    groups = groups or [HostGroup("a", hosts, host_cores, 1000.0, 65536, ShapeModel("linear", 100, 200))]
    return Problem(w, Scenario(Fleet(groups)))


def place(name, p):
    return get_allocator(name).allocate(p, np.random.default_rng(0), Limits()).allocation


def test_all_registered():
    for name in ("ffd", "wf", "pabfd", "mindft-st", "mindft-ld", "exact"):
        assert name in ALLOCATORS


def test_ffd_largest_first_on_the_first_host_that_holds_it():
    # VM1 (3 cores) goes first to host 0; VM0 (2 cores) overlaps it and cannot join: host 1;
    # VM2 (1 core) fits host 0 beside VM1 (first fit, in opening order)
    p = problem([0, 0, 0], [2, 2, 2], [2, 3, 1])
    np.testing.assert_array_equal(place("ffd", p), [1, 0, 0])


def test_ffd_checks_the_whole_run_not_only_the_start():
    # VM0 (4 cores, 0–1 h) fills host 0 after VM1 (2 cores, 0.5–2 h)? No: VM0 is placed first
    # (bigger), then VM1 overlaps it at 0.5–1 h, so it must open host 1 although host 0 is
    # free at... VM1 starts at 1 h here: back-to-back, it joins host 0.
    p = problem([0, 1], [1, 2], [4, 2])
    np.testing.assert_array_equal(place("ffd", p), [0, 0])
    p = problem([1, 0], [3, 2], [4, 2])  # VM1 (2 cores) placed second overlaps VM0 at 1–2 h
    np.testing.assert_array_equal(place("ffd", p), [0, 1])


def test_worst_fit_spreads_over_hosts_in_use():
    # start order: VM0 opens host 0 (1 core), VM1 (3 cores) fits beside it, VM2 opens host 1 (no
    # room left on host 0), VM3 (1 core) goes to the host with most free cores: host 1
    p = problem([0, 1, 2, 3], [4, 4, 4, 4], [1, 3, 2, 1])
    alloc = place("wf", p)
    assert alloc[0] == alloc[1] == 0 and alloc[2] == 1 and alloc[3] == 1


def test_pabfd_prefers_the_host_already_on_at_the_start():
    # VM0 (4 cores, 0–2 h) first (largest), VM1 (2 cores, 2–4 h) starts when host 0 is off:
    # both rise by P(share) from zero… equal, so the tie goes to fewest free cores (same) then
    # lowest index: host 0.  VM2 (1 core, 1–3 h) must avoid host 0 at 1–2 h → new host 1.
    p = problem([0, 2, 1], [2, 4, 3], [4, 2, 1])
    alloc = place("pabfd", p)
    assert alloc[0] == 0 and alloc[1] == 0 and alloc[2] == 1


def test_mindft_adds_the_least_busy_time():
    # VM0 0–4 h on host 0; VM1 (4 cores) 0–2 h cannot share; VM2 (1 core) 1–3 h fits host 0
    # (adds no busy time) rather than host 1 (adds 1 h) — mindft-st
    p = problem([0, 0, 1], [4, 2, 3], [2, 4, 1])
    alloc = place("mindft-st", p)
    assert alloc[2] == alloc[0] != alloc[1]
    # longest first: VM0 (4 h), VM2 (2 h)… same answer, other order
    alloc = place("mindft-ld", p)
    assert alloc[2] == alloc[0] != alloc[1]


def test_mindft_weighs_busy_time_by_idle_power():
    # two groups: an idle-hungry host and a frugal one; an empty frugal host wins
    groups = [HostGroup("hungry", 1, 4, 1000.0, 65536, ShapeModel("linear", 300, 400)),
              HostGroup("frugal", 1, 4, 1000.0, 65536, ShapeModel("linear", 50, 150))]
    p = problem([0], [1], [1], groups=groups)
    assert place("mindft-st", p)[0] == 1


@pytest.mark.parametrize("name", ["ffd", "wf", "pabfd", "mindft-st", "mindft-ld"])
def test_reject_only_what_fits_nowhere(name):
    p = problem([0, 0, 0], [1, 1, 1], [4, 4, 5], hosts=2)
    alloc = place(name, p)
    assert alloc[2] == REJECTED and alloc[0] != REJECTED and alloc[1] != REJECTED
    assert evaluate(p, alloc).violations == 0
