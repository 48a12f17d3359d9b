"""The segment lower bound (gapa.lower_bound): never above the optimum (brute force over
every allocation of small random instances, host counts respected), never below the
simple bound, exact where it should be."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapa.evaluator import evaluate, host_set_costs
from gapa.fleet import Fleet, HostGroup
from gapa.lower_bound import (
    lower_bound,
    lower_curve,
    segment_lower_bound,
    simple_lower_bound,
    split_curve,
)
from gapa.policy import PowerPolicy
from gapa.power import CallableModel, PiecewiseLinearModel, ShapeModel, specpower_model
from gapa.problem import REJECTED, UTIL_UNITS, Problem
from gapa.scenario import Scenario
from gapa.workload import Workload
from tests.generators import policies, set_partitions


def brute_force(problem: Problem) -> float:
    """Least energy (J) over every allocation that places every placeable VM, with at most
    ``count`` hosts per group (inf if there is none): every set partition of the VMs, every
    block on every group."""
    vms = [v for v in range(problem.n_vms) if problem.group_fits[v].any()]
    if not vms:
        return 0.0
    G = len(problem.fleet.groups)
    counts = np.array([g.count for g in problem.fleet.groups])
    # the energy of every subset of the VMs alone on a host of every group
    subsets = [s for k in range(1, len(vms) + 1) for s in itertools.combinations(vms, k)]
    index = {s: i for i, s in enumerate(subsets)}
    hosts = np.array([int(problem.hosts_of_group[g][0]) for _ in subsets for g in range(G)])
    sets = [np.array(s) for s in subsets for _ in range(G)]
    energy, _, ok = host_set_costs(problem, hosts, sets)
    table = np.where(ok, energy, np.inf).reshape(len(subsets), G)
    best = math.inf
    for part in set_partitions(vms):
        k = len(part)
        rows = np.array([index[tuple(sorted(b))] for b in part])
        assign = np.array(list(itertools.product(range(G), repeat=k)))  # (G^k, k)
        cost = table[rows[None, :], assign].sum(axis=1)
        used = np.stack([(assign == g).sum(axis=1) for g in range(G)], axis=1)
        cost = np.where((used <= counts).all(axis=1), cost, np.inf)
        best = min(best, float(cost.min()))
    return best


def _step(u):
    """A non-decreasing step curve in Python: 40 W idle, +50 W at each quarter of load."""
    return 40.0 + 50.0 * np.floor(np.asarray(u, dtype=float) * 4.0)


def _concave(u):
    u = np.asarray(u, dtype=float)
    return 60.0 + 200.0 * (0.7 * u + 0.3 * (1 - np.exp(-5 * u)) / (1 - np.exp(-5)))


def _convex(u):
    return 30.0 + 250.0 * np.asarray(u, dtype=float) ** 2.5


def _dipping(u):
    """Not monotone: the bound may assume nothing but P ≥ 0."""
    u = np.asarray(u, dtype=float)
    return 100.0 - 90.0 * np.sin(np.pi * u) ** 2 + 20.0 * u


PYTHON_CURVES = [_step, _concave, _convex, _dipping]


@st.composite
def curves(draw):
    kind = draw(st.sampled_from(["linear", "sqrt", "square", "cubic", "table", "step", "specpower", "python"]))
    if kind == "python":
        func = draw(st.sampled_from(PYTHON_CURVES))
        return CallableModel(func, func.__name__)
    if kind == "specpower":
        return specpower_model(draw(st.sampled_from(["IbmX3550XeonX5675", "HpProLiantMl110G5Xeon3075"])))
    if kind == "table":
        inner = draw(st.lists(st.floats(0.01, 0.99), max_size=4, unique=True))
        us = [0.0, *inner, 1.0]
        ws = draw(st.lists(st.floats(0, 400), min_size=len(us), max_size=len(us)))
        return PiecewiseLinearModel(us, ws)
    if kind == "step":  # near-vertical jumps between flat parts
        idle = draw(st.floats(0, 150))
        jumps = draw(st.lists(st.floats(5, 100), min_size=1, max_size=3))
        at = sorted(draw(st.lists(st.floats(0.05, 0.9), min_size=len(jumps), max_size=len(jumps), unique=True)))
        us, ws, level = [0.0], [idle], idle
        for x, j in zip(at, jumps):
            if x - 1e-3 > us[-1] + 1e-9:
                us.append(x - 1e-3)
                ws.append(level)
            level += j
            us.append(x)
            ws.append(level)
        us.append(1.0)
        ws.append(level)
        return PiecewiseLinearModel(us, ws)
    idle = draw(st.floats(0, 200))
    return ShapeModel(kind, idle, idle + draw(st.floats(0, 300)))


@st.composite
def small_problems(draw, max_vms: int = 6, boots: bool = True):
    n = draw(st.integers(1, max_vms))
    grid = draw(st.sampled_from([1, 30, 100]))
    start = np.array(draw(st.lists(st.integers(0, 1200 // grid), min_size=n, max_size=n))) * grid
    end = start + np.array(draw(st.lists(st.integers(1, 600 // grid + 1), min_size=n, max_size=n))) * grid
    cores = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    ram = draw(st.lists(st.integers(0, 8192), min_size=n, max_size=n))  # often the binding resource
    mips = draw(st.lists(st.one_of(st.just(float("nan")), st.sampled_from([500.0, 1000.0, 2500.0])),
                         min_size=n, max_size=n))
    util = draw(st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.05, 1.0])), min_size=n, max_size=n))
    workload = Workload.from_arrays(start, end, cores, ram, mips, util)
    groups = [HostGroup(f"g{g}", draw(st.integers(1, 3)), draw(st.integers(1, 8)),
                        draw(st.sampled_from([1000.0, 2500.0, 2933.0])), draw(st.integers(1024, 8192)),
                        draw(curves()))
              for g in range(draw(st.integers(1, 3)))]
    policy = draw(policies()) if boots else PowerPolicy("off")
    return Problem(workload, Scenario(Fleet(groups), policy))


def _tol(x: float) -> float:
    return 1e-7 * max(1.0, abs(x))


@settings(max_examples=300, deadline=None)
@given(problem=small_problems())
def test_segment_bound_never_above_the_optimum(problem):
    optimum = brute_force(problem)
    seg = segment_lower_bound(problem)
    assert seg.energy_j >= 0
    if math.isfinite(optimum):
        assert seg.energy_j <= optimum + _tol(optimum)
        assert lower_bound(problem).energy_j <= optimum + _tol(optimum)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(problem=small_problems())
def test_segment_bound_never_above_the_optimum_more_examples(problem):
    """The same on many more instances (``pytest -m slow``)."""
    test_segment_bound_never_above_the_optimum.hypothesis.inner_test(problem)


def _busy_power(problem: Problem, alloc: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Watts the hosts holding VMs draw under ``alloc`` on each ``[time_s[i], time_s[i + 1])``."""
    w, f = problem.workload, problem.fleet
    out = np.zeros(len(time_s) - 1)
    for i, t in enumerate(time_s[:-1]):
        vms = np.flatnonzero((w.start_s <= t) & (t < w.end_s) & (alloc >= 0))
        if not len(vms):
            continue
        hosts = alloc[vms]
        units = np.bincount(hosts, weights=problem.utilisation_units(vms, hosts), minlength=f.size)
        on = np.unique(hosts)
        out[i] = f.watts(on, np.minimum(units[on] / UTIL_UNITS, 1.0)).sum()
    return out


@settings(max_examples=60, deadline=None)
@given(problem=small_problems(max_vms=12), seed=st.integers(0, 2**32 - 1))
def test_segment_power_never_above_a_feasible_allocations(problem, seed):
    """Segment by segment, the bound's power is at most what a random feasible allocation
    that places every placeable VM draws then (more VMs than brute force can take)."""
    from tests.generators import random_feasible_allocation

    alloc = random_feasible_allocation(problem, np.random.default_rng(seed), reject_p=0.0)
    placeable = problem.group_fits.any(axis=1)
    if np.any(alloc[placeable] == REJECTED):
        return  # the fleet was too small for this placement order
    ev = evaluate(problem, alloc)
    assert ev.violations == 0
    seg = segment_lower_bound(problem)
    power = _busy_power(problem, alloc, seg.time_s)
    moving = np.diff(seg.time_s) > 0  # (segments of no length, between tied events, cost nothing)
    assert np.all((seg.power_w <= power + 1e-9 * np.maximum(1.0, power))[moving])
    assert lower_bound(problem).energy_j <= ev.energy_j + _tol(ev.energy_j)


@settings(max_examples=40, deadline=None)
@given(problem=small_problems(max_vms=10))
def test_combined_bound_is_the_higher_of_both(problem):
    simple = simple_lower_bound(problem)
    seg = segment_lower_bound(problem)
    lb = lower_bound(problem)
    assert lb.energy_j == max(simple.energy_j, seg.energy_j)
    assert lb.simple_energy_j == simple.energy_j
    assert lb.segment_energy_j == seg.energy_j
    assert lb.on_s == simple.on_s


@settings(max_examples=60, deadline=None)
@given(model=curves())
def test_lower_curve_is_below_the_curve_and_splits_exactly(model):
    u, w = lower_curve(model)
    assert u[0] == 0.0 and u[-1] == 1.0 and np.all(np.diff(u) > 0)
    x = np.concatenate([np.linspace(0, 1, 20001), np.geomspace(1e-9, 1, 2000)])
    assert np.all(np.interp(x, u, w) <= np.asarray(model.watts(x)) + 1e-9 * max(1.0, float(np.max(w))))
    sp = split_curve(u, w)
    assert np.allclose(sp.idle + sp.q + sp.r, w, rtol=1e-9, atol=1e-9)
    assert np.all(np.diff(sp.r_slope) >= -1e-9) and sp.r_slope[0] == 0  # r convex, non-decreasing
    q_slope = np.diff(sp.q) / np.diff(u)
    assert np.all(np.diff(q_slope) <= 1e-6 * (1 + np.abs(q_slope[1:])))  # q concave


def _one_group(power, count=4, cores=8, ram=16384):
    return Fleet([HostGroup("g", count, cores, 3000.0, ram, power)])


@pytest.mark.parametrize("power, rel", [
    (ShapeModel("linear", 70, 250), 1e-8),
    (ShapeModel("sqrt", 70, 250), 1e-5),  # chords of √u on a fine grid
    (specpower_model("IbmX3550XeonX5675"), 1e-8),
    (PiecewiseLinearModel([0, 0.3, 1], [50, 200, 210]), 1e-8),
    (PiecewiseLinearModel([0, 0.5, 1], [50, 60, 210]), 1e-8),  # convex: tangent at 0.5 is exact on [0.5, 1]
    (ShapeModel("square", 70, 250), 2e-3),  # tangents of u² at 0, 0.1, …, 1 only: 0.37 is 0.03 off
])
def test_exact_for_one_vm_filling_one_host(power, rel):
    """A VM that takes all of a host's cores: the bound is its energy."""
    w = Workload.from_arrays([0], [3600], [8], [1024], [float("nan")], [0.37])
    problem = Problem(w, Scenario(_one_group(power)))
    energy = evaluate(problem, np.array([0])).energy_j
    bound = lower_bound(problem).energy_j
    assert bound <= energy
    assert bound == pytest.approx(energy, rel=rel)


def test_exact_for_identical_linear_hosts():
    """Lab-like batches (VMs of a batch start and end together) of one-core VMs on identical
    linear hosts: ceil(cores / host cores) hosts per batch and the dynamic energy, which
    first fit reaches; the simple bound is exact here too."""
    rng = np.random.default_rng(3)
    sizes = [7, 13, 1, 22, 9]
    start = np.repeat(np.arange(len(sizes)) * 7200, sizes)
    end = start + np.repeat(rng.integers(1, 6, len(sizes)) * 1200, sizes)
    n = int(sum(sizes))
    w = Workload.from_arrays(start, end, np.ones(n, int), np.full(n, 512), np.full(n, np.nan), rng.random(n))
    problem = Problem(w, Scenario(_one_group(ShapeModel("linear", 100, 300), count=8, cores=4)))
    first_fit = np.arange(n) - np.repeat(np.cumsum([0, *sizes[:-1]]), sizes)  # position in its batch
    energy = evaluate(problem, first_fit // 4).energy_j
    lb = lower_bound(problem)
    assert lb.energy_j <= energy
    assert lb.segment_energy_j == pytest.approx(energy, rel=1e-7)
    assert lb.simple_energy_j == pytest.approx(energy, rel=1e-9)


def test_boots_forced_by_the_policy():
    """Two VMs on one host each day with the host switched off between them: each day's
    start needs a boot (first) or min(boot+shutdown, P(0) × gap) (later)."""
    w = Workload.from_arrays([0, 10_000], [1000, 11_000], [8, 8], [1024, 1024], [float("nan")] * 2, [1.0, 1.0])
    fleet = _one_group(ShapeModel("linear", 50, 150))
    busy_j = 150.0 * 2000  # two VMs at full load for 1000 s each
    for policy, forced, exact in [(PowerPolicy("off", 10, 3000.0, 10, 1000.0), 2 * 4000.0, True),
                                  # the host idles through the gap (450 kJ); the bound only knows
                                  # that a second start costs at least min(4 kJ, P(0) × gap)
                                  (PowerPolicy("on", 10, 3000.0, 10, 1000.0), 2 * 4000.0, False),
                                  (PowerPolicy("off", 0, 100.0, 0, 0.0), 200.0, True),
                                  (PowerPolicy("off", 0, 1e6, 0, 0.0), 1e6 + 50 * 9000.0, False)]:
        problem = Problem(w, Scenario(fleet, policy))
        lb = lower_bound(problem)
        optimum = min(evaluate(problem, np.array(a)).energy_j for a in ([0, 0], [0, 1]))
        assert lb.boot_j == pytest.approx(forced)
        assert lb.energy_j <= optimum
        if exact:
            assert lb.energy_j == pytest.approx(busy_j + forced, rel=1e-8)
            assert lb.energy_j == pytest.approx(optimum, rel=1e-8)


def test_unplaceable_vms_and_empty_workloads():
    fleet = _one_group(ShapeModel("linear", 50, 150), count=1, cores=2)
    too_big = Workload.from_arrays([0], [100], [4], [0], [float("nan")], [1.0])
    assert segment_lower_bound(Problem(too_big, Scenario(fleet))).energy_j == 0.0
    none = Workload.from_arrays([], [], [], [], [], [])
    assert lower_bound(Problem(none, Scenario(fleet))).energy_j == 0.0


def test_non_monotone_python_curve_assumes_only_non_negative_watts():
    model = CallableModel(_dipping, "dipping")
    u, w = lower_curve(model)
    assert np.all(w == 0)
    mono = CallableModel(_concave, "concave")
    u, w = lower_curve(mono)
    assert w[0] == pytest.approx(60.0)
    assert np.all(np.interp(np.linspace(0, 1, 1001), u, w) <= _concave(np.linspace(0, 1, 1001)) + 1e-9)
    assert np.max(_concave(u) - w) < 0.2  # within a sample step of the curve
