"""Best-fit decreasing (BFD) as the GAPA paper uses it as its baseline.

VMs are taken in order of earliest start time (ties: more cores first, then
more RAM, then file order).  Each is placed on the feasible host whose power
draw rises least at the VM's start: on a host that is running VMs then, the
rise is ``P(u + share) − P(u)``; on a host that is off then, it is
``P(share)`` — its idle power P(0) comes on top.  Ties (within 1e-9 W) go to
the host left with the fewest free cores, then the least free RAM, then the
lowest host index.  A VM that no host can hold at its start is rejected.

Because VMs are placed in start order, every VM already placed on a host
started no later than the new one, so a host's load over the new VM's whole
interval is at most its load at the VM's start: checking capacity at the start
is enough.  Cost: O(n log n + n·H) with numpy over the hosts.
"""

from __future__ import annotations

import heapq

import numpy as np

from gapa.allocators.base import Allocator, AllocatorResult, Limits
from gapa.problem import REJECTED, Problem


def start_order(problem: Problem) -> np.ndarray:
    """VM indices by earliest start, then more cores, then more RAM, then file order."""
    w = problem.workload
    idx = np.arange(w.n)
    return np.lexsort((idx, -w.ram_mb, -w.cores, w.start_s))


def power_increase(problem: Problem, vm: int, hosts: np.ndarray, util: np.ndarray,
                   running: np.ndarray) -> np.ndarray:
    """Watts by which each of ``hosts`` would draw more if ``vm`` started on it now.

    Args:
        hosts: candidate host indices.
        util: current CPU utilisation of those hosts.
        running: True where the host is running a VM now (is on); an off host adds P(0).
    """
    fleet = problem.fleet
    share = problem.utilisation_share(np.full(len(hosts), vm), hosts)
    after = fleet.watts(hosts, np.minimum(util + share, 1.0))
    before = np.where(running, fleet.watts(hosts, util), 0.0)
    return after - before


class BestFitDecreasing(Allocator):
    """GAPA paper's BFD baseline: earliest start first, least power increase."""

    name = "bfd"
    stochastic = False
    constructive = True
    summary = "best-fit decreasing: VMs by earliest start, each where power rises least"

    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        w = problem.workload
        f = problem.fleet
        H = f.size
        cores_used = np.zeros(H, dtype=np.int64)
        ram_used = np.zeros(H, dtype=np.int64)
        util = np.zeros(H)
        running = np.zeros(H, dtype=np.int64)
        allocation = np.full(w.n, REJECTED, dtype=np.int64)
        ends: list[tuple[int, int]] = []  # heap of (end time, vm) for placed VMs
        all_hosts = np.arange(H)
        for vm in start_order(problem):
            vm = int(vm)
            start = w.start_s[vm]
            while ends and ends[0][0] <= start:
                _, old = heapq.heappop(ends)
                h = allocation[old]
                cores_used[h] -= w.cores[old]
                ram_used[h] -= w.ram_mb[old]
                running[h] -= 1
                util[h] = 0.0 if running[h] == 0 else util[h] - problem.utilisation_share(
                    np.array([old]), np.array([h]))[0]
            free_cores = f.cores - cores_used - w.cores[vm]
            free_ram = f.ram_mb - ram_used - w.ram_mb[vm]
            ok = problem.fits_host(vm) & (free_cores >= 0) & (free_ram >= 0)
            if not ok.any():
                continue
            cand = all_hosts[ok]
            rise = power_increase(problem, vm, cand, util[cand], running[cand] > 0)
            best = _best_fit(rise, free_cores[cand], free_ram[cand])
            h = int(cand[best])
            allocation[vm] = h
            cores_used[h] += w.cores[vm]
            ram_used[h] += w.ram_mb[vm]
            running[h] += 1
            util[h] += problem.utilisation_share(np.array([vm]), np.array([h]))[0]
            heapq.heappush(ends, (int(w.end_s[vm]), vm))
        return AllocatorResult(allocation)


def _best_fit(rise: np.ndarray, free_cores: np.ndarray, free_ram: np.ndarray) -> int:
    """Index of the least power rise; ties by fewest free cores, then RAM, then position."""
    tie = rise <= rise.min() + 1e-9
    if tie.sum() == 1:
        return int(np.argmax(tie))
    idx = np.flatnonzero(tie)
    order = np.lexsort((idx, free_ram[idx], free_cores[idx]))
    return int(idx[order[0]])
