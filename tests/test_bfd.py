"""The BFD baseline: order, least power rise, tie-breaking, rejection."""

from __future__ import annotations

import numpy as np

from gapa.allocators import Limits, get_allocator
from gapa.allocators.bfd import start_order
from gapa.fleet import Fleet, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import ShapeModel
from gapa.problem import REJECTED, Problem
from gapa.scenario import Scenario
from gapa.workload import Workload


def bfd(problem: Problem) -> np.ndarray:
    return get_allocator("bfd").allocate(problem, np.random.default_rng(0), Limits()).allocation


def test_order_is_earliest_start_then_larger_first():
    w = Workload.from_arrays([10, 0, 10, 10], [20, 5, 20, 20], [1, 1, 2, 2], [512, 512, 256, 1024])
    p = Problem(w, Scenario(Fleet([HostGroup("h", 1, 8, 1000, 4096, ShapeModel("linear", 1, 2))])))
    assert start_order(p).tolist() == [1, 3, 2, 0]


def test_prefers_the_host_whose_power_rises_least():
    # an efficient host (idle 50 W, peak 100 W) and a hungry one (idle 50 W, peak 300 W)
    fleet = Fleet([HostGroup("hungry", 1, 4, 1000, 4096, ShapeModel("linear", 50, 300)),
                   HostGroup("frugal", 1, 4, 1000, 4096, ShapeModel("linear", 50, 100))])
    w = Workload.from_arrays([0], [100], [2], [100])
    assert bfd(Problem(w, Scenario(fleet))).tolist() == [1]


def test_an_off_host_pays_its_idle_power():
    # a (u = .25) at t=0, both hosts off: host 0 rises by P(.25) = 125 W, host 1 by 85 W → host 1.
    # b at t=10: host 1 is on and rises by .25 × 20 = 5 W; host 0 is off and would rise by 125 W.
    fleet = Fleet([HostGroup("a", 1, 4, 1000, 4096, ShapeModel("linear", 100, 200)),
                   HostGroup("b", 1, 4, 1000, 4096, ShapeModel("linear", 80, 100))])
    w = Workload.from_arrays([0, 10], [100, 50], [1, 1], [100, 100])
    assert bfd(Problem(w, Scenario(fleet))).tolist() == [1, 1]
    # with a filling host 1, b must go to host 0, an off host, and pays its idle power:
    w = Workload.from_arrays([0, 10], [100, 50], [4, 1], [100, 100])
    fleet = Fleet([HostGroup("a", 1, 8, 1000, 4096, ShapeModel("linear", 100, 200)),
                   HostGroup("b", 1, 4, 1000, 4096, ShapeModel("linear", 80, 100))])
    # a: host 0 → 150 W rise, host 1 → 100 W rise: host 1.  b then: host 1 is full (4 cores),
    # host 0 off → 100 + 12.5 W.
    assert bfd(Problem(w, Scenario(fleet))).tolist() == [1, 0]


def test_ties_go_to_the_fullest_host_then_lowest_index():
    fleet = Fleet([HostGroup("h", 3, 4, 1000, 4096, ShapeModel("linear", 100, 100))])  # flat power
    # a on host 0 (all off → tie, lowest index). b: on hosts add 0 W; off hosts add 100 W;
    # host 0 is the only on host → b on host 0.  c [50, 60) with 3 cores: host 0 has 2 free
    # cores → the off hosts tie at 100 W → lowest index, host 1.
    w = Workload.from_arrays([0, 10, 50], [100, 100, 60], [1, 1, 3], [100, 100, 100])
    assert bfd(Problem(w, Scenario(fleet))).tolist() == [0, 0, 1]


def test_rejects_what_no_host_can_hold_and_places_the_rest():
    fleet = Fleet([HostGroup("h", 1, 2, 1000, 1024, ShapeModel("linear", 10, 20))])
    w = Workload.from_arrays([0, 0, 0, 0], [10, 10, 10, 10], [4, 1, 1, 1], [100, 100, 100, 2048])
    alloc = bfd(Problem(w, Scenario(fleet)))
    # vm0 needs 4 cores (host has 2): rejected; vm3 needs 2 GB: rejected; vm1, vm2 fit
    assert alloc.tolist() == [REJECTED, 0, 0, REJECTED]


def test_mips_limit_is_respected():
    fleet = Fleet([HostGroup("slow", 1, 4, 1000, 4096, ShapeModel("linear", 10, 20)),
                   HostGroup("fast", 1, 4, 3000, 4096, ShapeModel("linear", 50, 300))])
    w = Workload.from_arrays([0], [10], [1], [100], mips=[2500.0])
    assert bfd(Problem(w, Scenario(fleet, PowerPolicy()))).tolist() == [1]
