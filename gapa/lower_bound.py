"""A lower bound on the energy of any allocation of a problem.

At every instant the VMs running then need hosts: at least enough cores and,
separately, enough RAM.  The cheapest way to have that much capacity switched on
is a covering problem over the fleet's host groups (each host costs its idle
power P(0)), solved exactly by dynamic programming over capacity.  On top of
idle power, each VM adds at least ``s × share`` watts on any host, where ``s`` is
the least average slope ``(P(u) − P(0)) / u`` of that host's curve (exact for
piecewise-linear and CloudSim-shaped curves; taken as 0 for user functions, which
keeps the bound valid).  Boot and shutdown energy, MIPS limits and the packing
of VMs into whole hosts are relaxed away, so the bound never exceeds the energy
of a feasible allocation.

For a fleet of identical hosts with a linear curve this is the bound "at every
instant ceil(load / capacity) hosts on" plus the (placement-independent) dynamic
energy.  The same covering gives a bound on total host on-time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapa.power import PiecewiseLinearModel, PowerModel, ShapeModel
from gapa.problem import Problem


@dataclass(frozen=True)
class LowerBound:
    """Lower bounds on energy (joules) and total host on-time (seconds)."""

    energy_j: float
    on_s: float
    idle_j: float
    dynamic_j: float


def min_average_slope(model: PowerModel) -> float:
    """The least ``(P(u) − P(0)) / u`` over u in (0, 1], in watts per unit utilisation
    (so ``P(u) ≥ P(0) + slope · u`` for every u; negative for a curve that dips below P(0))."""
    if isinstance(model, ShapeModel):
        span = model.max_w - model.idle_w
        return span if model.kind in ("linear", "sqrt") else 0.0
    if isinstance(model, PiecewiseLinearModel):
        u, w = model.points_u[1:], model.points_w[1:]
        # negative when the curve dips below P(0): P(u) ≥ P(0) + slope · u still holds
        return float(np.min((w - model.points_w[0]) / u))
    return 0.0


def _cover_cost(counts: list[int], sizes: list[int], costs: list[float], need: np.ndarray) -> np.ndarray:
    """Least total cost of hosts (``counts[g]`` hosts of ``sizes[g]`` capacity and ``costs[g]``
    each) whose capacity is at least each value of ``need``; +inf where impossible."""
    top = int(need.max()) if need.size else 0
    best = np.full(top + 1, np.inf)
    best[0] = 0.0
    for count, size, cost in zip(counts, sizes, costs):
        if size <= 0:
            continue
        k = 1
        while count > 0:  # bounded knapsack cover: items of 1, 2, 4, … hosts
            take = min(k, count)
            count -= take
            k *= 2
            step = take * size
            shifted = np.full(top + 1, best[0])
            if step <= top:
                shifted[step:] = best[: top + 1 - step]
            best = np.minimum(best, shifted + take * cost)
    # best[c] = least cost for capacity ≥ c: make it non-increasing from the top
    best = np.minimum.accumulate(best[::-1])[::-1]
    return best[np.minimum(need, top)]


def lower_bound(problem: Problem) -> LowerBound:
    """Lower bounds on energy and host on-time for ``problem`` (see the module docstring)."""
    w = problem.workload
    f = problem.fleet
    if w.n == 0:
        return LowerBound(0.0, 0.0, 0.0, 0.0)
    # VMs that fit no host are always rejected: they load no host
    keep = problem.group_fits.any(axis=1)[problem.event_vm]
    times = problem.event_time_s[keep]
    sign = problem.event_sign[keep]
    ev = problem.event_vm[keep]
    if not len(ev):
        return LowerBound(0.0, 0.0, 0.0, 0.0)
    cores_now = np.cumsum(sign * w.cores[ev])
    ram_now = np.cumsum(sign * w.ram_mb[ev])
    dt = np.diff(times)
    cores_now, ram_now = cores_now[:-1], ram_now[:-1]
    groups = f.groups
    counts = [g.count for g in groups]
    idle = [g.power.idle_w for g in groups]
    # cores: capacity in cores; RAM: in MB, scaled down to keep the table small
    core_sizes = [g.cores for g in groups]
    ram_unit = max(1, int(np.gcd.reduce([g.ram_mb for g in groups] + [1024])))
    ram_sizes = [g.ram_mb // ram_unit for g in groups]
    ram_need = -(-ram_now // ram_unit)
    core_cost = _cover_cost(counts, core_sizes, idle, cores_now)
    ram_cost = _cover_cost(counts, ram_sizes, idle, ram_need)
    power_idle = np.maximum(core_cost, ram_cost)
    power_idle = np.where(np.isfinite(power_idle), power_idle, 0.0)  # overload: relax (VMs get rejected)
    idle_j = float((power_idle * dt).sum())
    ones = [1.0] * len(groups)
    hosts_on = np.maximum(_cover_cost(counts, core_sizes, ones, cores_now),
                          _cover_cost(counts, ram_sizes, ones, ram_need))
    on_s = float((np.where(np.isfinite(hosts_on), hosts_on, 0.0) * dt).sum())
    # dynamic: each VM on the group where it adds the least, at the least average slope
    slopes = np.array([min_average_slope(g.power) for g in groups])
    per_vm = np.full(w.n, np.inf)
    for gi, g in enumerate(groups):
        host = int(np.flatnonzero(f.group_of_host == gi)[0])
        share = problem.utilisation_share(np.arange(w.n), np.full(w.n, host))
        cost = np.where(problem.group_fits[:, gi], slopes[gi] * share, np.inf)
        per_vm = np.minimum(per_vm, cost)
    per_vm = np.where(np.isfinite(per_vm), per_vm, 0.0)  # unplaceable VMs are rejected anyway
    dynamic_j = float((per_vm * w.duration_s).sum())
    return LowerBound(idle_j + dynamic_j, on_s, idle_j, dynamic_j)
