"""Exact joules on a hand-computed example, for the simulation and the fast evaluator.

Two hosts of 4 cores, 1000 MIPS per core, 1000 MB RAM, linear power 100 W idle, 200 W peak:
P(u) = 100 + 100 u.  Four VMs (times in seconds):

    vm   interval     cores  cpu_util  host   utilisation it adds
    a    [0, 200)     1      1.0       0      1·1.0/4 = 0.25
    b    [100, 300)   1      0.5       0      1·0.5/4 = 0.125
    c    [100, 250)   2      1.0       1      2·1.0/4 = 0.5
    d    [400, 500)   1      1.0       0      0.25

Host 0:  [0,100) u=.25 → 125 W × 100 s = 12 500 J
         [100,200) u=.375 → 137.5 W × 100 s = 13 750 J
         [200,300) u=.125 → 112.5 W × 100 s = 11 250 J
         [300,400) empty: a 100 s gap
         [400,500) u=.25 → 125 W × 100 s = 12 500 J        busy total 50 000 J, 400 s
Host 1:  [100,250) u=.5 → 150 W × 150 s = 22 500 J                       150 s
Busy energy 72 500 J; busy time 550 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from gapa.evaluator import evaluate
from gapa.fleet import Fleet, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import ShapeModel
from gapa.problem import Problem
from gapa.scenario import Scenario
from gapa.simulation import simulate
from gapa.workload import Workload

WORKLOAD = Workload.from_arrays(
    start_s=[0, 100, 100, 400], end_s=[200, 300, 250, 500], cores=[1, 1, 2, 1],
    ram_mb=[100, 100, 100, 100], cpu_util=[1.0, 0.5, 1.0, 1.0], vm_ids=["a", "b", "c", "d"])
FLEET = Fleet([HostGroup("h", 2, 4, 1000, 1000, ShapeModel("linear", 100, 200))])
ALLOCATION = np.array([0, 0, 1, 0])


def problem(policy: PowerPolicy) -> Problem:
    return Problem(WORKLOAD, Scenario(FLEET, policy))


@pytest.mark.parametrize(
    ("policy", "energy_j", "on_s"),
    [
        # off: the 100 s gap on host 0 is spent off, for free
        (PowerPolicy("off"), 72_500.0, 550.0),
        # on: host 0 idles through the gap at P(0) = 100 W: +10 000 J, +100 s
        (PowerPolicy("on"), 82_500.0, 650.0),
        # off with boot 10 s / 500 J and shutdown 5 s / 100 J: host 0 boots twice and
        # shuts down twice, host 1 once each: 3 × 600 J; on-time 3 × 15 s more
        (PowerPolicy("off", 10, 500.0, 5, 100.0), 74_300.0, 595.0),
        # off, but the gap (100 s) is shorter than boot + shutdown (60 + 50 s): idle through
        # it at 100 W (+10 000 J, +100 s); two boots and two shutdowns (2 × 300 J, 2 × 110 s)
        (PowerPolicy("off", 60, 200.0, 50, 100.0), 83_100.0, 870.0),
        # break-even: (1000 + 500) J / 100 W = 15 s < 100 s gap: switch off (3 × 1 500 J)
        (PowerPolicy("breakeven", 10, 1000.0, 5, 500.0), 77_000.0, 595.0),
        # break-even: (9000 + 2000) J / 100 W = 110 s > 100 s gap: idle through (+10 000 J)
        # and pay two boot/shutdown pairs (2 × 11 000 J); on-time 650 + 2 × 15 s
        (PowerPolicy("breakeven", 10, 9000.0, 5, 2000.0), 104_500.0, 680.0),
    ],
)
def test_exact_joules(policy, energy_j, on_s):
    p = problem(policy)
    sim = simulate(p, ALLOCATION)
    fast = evaluate(p, ALLOCATION)
    assert sim.energy_j == energy_j
    assert fast.energy_j == energy_j
    assert sim.on_s == on_s
    assert fast.on_s == on_s
    assert sim.hosts_used == fast.hosts_used == 2


def test_power_trace_of_host_0_is_exact():
    sim = simulate(problem(PowerPolicy("off")), ALLOCATION)
    host0 = next(tl for tl in sim.timelines if tl.host == 0)
    assert host0.power == [(0, 125.0), (100, 137.5), (200, 112.5), (300, 0.0), (400, 125.0), (500, 0.0)]
    assert host0.on_periods == [(0, 300), (400, 500)]
    assert host0.energy_j == 50_000.0


def test_boot_ends_when_the_vm_starts_and_shutdown_starts_when_it_ends():
    sim = simulate(problem(PowerPolicy("off", 10, 500.0, 5, 100.0)), ALLOCATION)
    host1 = next(tl for tl in sim.timelines if tl.host == 1)
    # boot at 500 J / 10 s = 50 W over [90, 100); VM c at 150 W; shutdown 20 W over [250, 255)
    assert host1.power == [(90, 50.0), (100, 150.0), (250, 20.0), (255, 0.0)]
    assert host1.on_periods == [(90, 255)]


def test_fleet_power_and_hosts_on_are_step_functions():
    sim = simulate(problem(PowerPolicy("off")), ALLOCATION)
    times, watts = sim.fleet_power()
    assert list(zip(times.tolist(), watts.tolist())) == [
        (0, 125.0), (100, 287.5), (200, 262.5), (250, 112.5), (300, 0.0), (400, 125.0), (500, 0.0)]
    t, on = sim.hosts_on()
    assert list(zip(t.tolist(), on.tolist())) == [(0, 1), (100, 2), (250, 1), (300, 0), (400, 1), (500, 0)]
    assert sim.peak_hosts_on == 2


def test_back_to_back_vms_leave_no_gap():
    w = Workload.from_arrays([0, 100], [100, 200], [4, 4], [1000, 1000])
    p = Problem(w, Scenario(FLEET, PowerPolicy("off", 30, 3000.0, 30, 3000.0)))
    alloc = np.array([0, 0])
    sim = simulate(p, alloc)
    fast = evaluate(p, alloc)
    # one boot and one shutdown; a full host (u = 1) for 200 s at 200 W
    assert sim.energy_j == fast.energy_j == 200 * 200.0 + 6000.0
    assert sim.on_s == fast.on_s == 260.0
    assert fast.violations == 0


def test_idle_host_draws_idle_power_not_zero():
    w = Workload.from_arrays([0], [100], [1], [10], cpu_util=[0.0])
    p = Problem(w, Scenario(FLEET, PowerPolicy()))
    assert simulate(p, np.array([0])).energy_j == 100 * 100.0


def test_unused_hosts_cost_nothing_and_rejected_vms_are_not_simulated():
    p = problem(PowerPolicy("on", 10, 500.0, 5, 100.0))
    alloc = np.array([0, 0, -1, 0])  # c rejected: host 1 unused
    sim = simulate(p, alloc)
    assert sim.hosts_used == 1
    assert sim.host_energy_j[1] == 0.0
    # host 0 as before (50 000 J) + idling through the gap (10 000 J) + one boot/shutdown (600 J)
    assert sim.energy_j == evaluate(p, alloc).energy_j == 60_600.0


def test_shutdown_ending_exactly_when_the_next_vm_starts():
    """boot_s = 0, shutdown 60 s, gap of exactly 60 s: shut down, then boot at once."""
    w = Workload.from_arrays([0, 160], [100, 200], [1, 1], [10, 10])
    p = Problem(w, Scenario(FLEET, PowerPolicy("off", 0, 0.0, 60, 600.0)))
    alloc = np.array([0, 0])
    sim = simulate(p, alloc)
    # busy 140 s at P(.25) = 125 W; two shutdowns of 600 J; on-time 140 + 2 × 60 s
    assert sim.energy_j == evaluate(p, alloc).energy_j == 140 * 125.0 + 1200.0
    assert sim.on_s == 260.0
