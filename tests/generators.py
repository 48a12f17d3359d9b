"""Hypothesis strategies for random problems and allocations (shared by the property tests),
and a small fixed instance for tests that need a quick, deterministic day."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from gapa.fleet import Fleet, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import PiecewiseLinearModel, ShapeModel, specpower_model, specpower_servers
from gapa.problem import REJECTED, Problem
from gapa.scenario import Scenario
from gapa.workload import Workload


@st.composite
def power_models(draw):
    kind = draw(st.sampled_from(["linear", "square", "cubic", "sqrt", "specpower", "table"]))
    if kind == "specpower":
        return specpower_model(draw(st.sampled_from(sorted(specpower_servers()))))
    if kind == "table":
        inner = draw(st.lists(st.floats(0.01, 0.99), max_size=4, unique=True))
        us = [0.0, *inner, 1.0]
        ws = draw(st.lists(st.floats(0, 400), min_size=len(us), max_size=len(us)))
        return PiecewiseLinearModel(us, ws)
    idle = draw(st.floats(0, 200))
    return ShapeModel(kind, idle, idle + draw(st.floats(0, 300)))


@st.composite
def fleets(draw):
    groups = []
    for g in range(draw(st.integers(1, 3))):
        groups.append(HostGroup(
            name=f"g{g}",
            count=draw(st.integers(1, 4)),
            cores=draw(st.integers(1, 8)),
            mips_per_core=draw(st.sampled_from([1000.0, 2000.0, 2933.0])),
            ram_mb=draw(st.integers(1024, 8192)),
            power=draw(power_models()),
        ))
    return Fleet(groups)


@st.composite
def policies(draw):
    idle = draw(st.sampled_from(["off", "on", "breakeven"]))
    if draw(st.booleans()):
        return PowerPolicy(idle)
    # latencies on the same coarse grids as VM times, so gaps often equal them exactly
    latency = st.one_of(st.sampled_from([0, 30, 60, 100]), st.integers(0, 120))
    return PowerPolicy(idle, draw(latency), draw(st.floats(0, 20000)),
                       draw(latency), draw(st.floats(0, 5000)))


@st.composite
def workloads(draw, max_vms: int = 25):
    n = draw(st.integers(1, max_vms))
    grid = draw(st.sampled_from([1, 30, 100]))  # coarse grids make ties and back-to-back VMs
    starts = draw(st.lists(st.integers(0, 2000 // grid), min_size=n, max_size=n))
    durs = draw(st.lists(st.integers(1, 600 // grid + 1), min_size=n, max_size=n))
    start = np.array(starts) * grid
    end = start + np.array(durs) * grid
    cores = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    ram = draw(st.lists(st.integers(0, 4096), min_size=n, max_size=n))
    mips = draw(st.lists(st.one_of(st.just(float("nan")), st.sampled_from([500.0, 1000.0, 2500.0])),
                         min_size=n, max_size=n))
    util = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    return Workload.from_arrays(start, end, cores, ram, mips, util)


@st.composite
def problems(draw, max_vms: int = 25):
    return Problem(draw(workloads(max_vms)), Scenario(draw(fleets()), draw(policies())))


def fits_with(problem: Problem, allocation: np.ndarray, vm: int, host: int) -> bool:
    """Brute force: would ``vm`` fit ``host`` given the VMs already on it, at every instant?"""
    w, f = problem.workload, problem.fleet
    if not problem.fits_host(vm)[host]:
        return False
    others = np.flatnonzero(allocation == host)
    s, e = w.start_s[vm], w.end_s[vm]
    for t in [s, *[w.start_s[o] for o in others if s < w.start_s[o] < e]]:
        active = [o for o in others if w.start_s[o] <= t < w.end_s[o]]
        if sum(w.cores[o] for o in active) + w.cores[vm] > f.cores[host]:
            return False
        if sum(w.ram_mb[o] for o in active) + w.ram_mb[vm] > f.ram_mb[host]:
            return False
    return True


def random_feasible_allocation(problem: Problem, rng: np.random.Generator, reject_p: float = 0.1):
    """Random placement that breaks no capacity limit (some VMs rejected at random)."""
    alloc = np.full(problem.n_vms, REJECTED, dtype=np.int64)
    for vm in rng.permutation(problem.n_vms):
        if rng.random() < reject_p:
            continue
        for h in rng.permutation(problem.n_hosts):
            if fits_with(problem, alloc, int(vm), int(h)):
                alloc[vm] = h
                break
    return alloc


def small_problem(n: int = 30) -> Problem:
    """A deterministic little day: ``n`` VMs on a 30-minute grid, two host groups of 5 and 4 hosts."""
    rng = np.random.default_rng(7)
    start = rng.integers(0, 16, n) * 1800
    end = start + rng.integers(2, 7, n) * 1800
    cores = rng.integers(1, 5, n)
    ram = rng.integers(1, 9, n) * 1024
    w = Workload.from_arrays(start, end, cores, ram, np.full(n, np.nan), rng.uniform(0.2, 1.0, n))
    fleet = Fleet([HostGroup("a", 5, 8, 3000, 32768, ShapeModel("linear", 60, 200)),
                   HostGroup("b", 4, 16, 3000, 65536, ShapeModel("linear", 90, 300))])
    return Problem(w, Scenario(fleet))



def set_partitions(items: list[int]):
    """Every partition of ``items`` into non-empty blocks (for brute-force optima)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first, *part[i]]] + part[i + 1:]
        yield [[first], *part]
