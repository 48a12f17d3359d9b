"""Classic and busy-time-aware constructive heuristics, one VM at a time.

Each takes the VMs in a fixed order and puts each on one host for its whole run,
chosen among the hosts already in use that can hold it at every instant of its run,
plus the first unused host of each hardware group.  They differ in the order and in
the rule that picks the host:

* ``ffd`` — **first-fit decreasing** (Johnson 1974, the bin-packing classic; used for
  VM placement by Beloglazov & Buyya 2012): VMs by decreasing cores (then RAM, then
  earliest start); each on the first host in use, in the order the hosts were
  opened, that can hold it; else on a new host.
* ``wf`` — **worst fit**: VMs by earliest start; each on the host in use with the most
  cores left free over its run (the least loaded); else on a new host.  Spreads load,
  the opposite of consolidation: a baseline from the other end.
* ``pabfd`` — CloudSim's **power-aware best-fit decreasing** (Beloglazov, Abawajy &
  Buyya, FGCS 28(5), 2012, ``PowerVmAllocationPolicyMigrationAbstract``): VMs by
  decreasing CPU demand (cores × MIPS per core × load); each on the host whose power
  draw rises least, ``P(u + share) − P(u)`` at the VM's start, where a host that is off
  then counts from zero, ``P(share)`` (CloudSim decides at the moment of the request:
  the host's state at the VM's start is that moment here).
* ``mindft-st`` / ``mindft-ld`` — **busy-time-aware** placement in the spirit of MinDFT
  (Quang-Hung, Thoai & Son, "Minimizing total busy time…", FDSE 2014): each VM on the
  host where it adds the least *busy time* — the part of its run during which that host
  would otherwise run no VM — weighted by the host's idle power (so, in joules of idle
  power switched on); ties go to the host left with the fewest free cores at the VM's
  start.  ``-st`` takes VMs by earliest start, ``-ld`` by longest duration first.

Where a rule's choice ties, the lowest host index wins.  A new host is the first unused
host of the first group (in the scenario's order) whose empty host scores best; a VM
that fits no host is rejected.  The scores are the heuristics' own models (busy time,
power at the start); the energy reported for their allocations is, as for every
allocator, the exact one under the scenario's power policy.

Cost: the hosts in use keep their cores, RAM and running-VM counts per elementary time
segment in numpy arrays, so each VM costs one vectorised pass over (hosts in use) ×
(segments of its run): O(n · U · s̄) for U hosts in use and runs of s̄ segments on
average, which stays in seconds for 10,000 VMs.
"""

from __future__ import annotations

import numpy as np

from gapa.allocators.base import Allocator, AllocatorResult, Limits
from gapa.allocators.bfd import start_order
from gapa.problem import REJECTED, Problem


class _OpenHosts:
    """Per host in use (a *slot*), cores, RAM, running VMs and utilisation per time segment."""

    GROW = 256

    def __init__(self, problem: Problem, with_util: bool):
        w = problem.workload
        self.problem = problem
        self.cuts = np.unique(np.concatenate([w.start_s, w.end_s]))
        self.seg_len = np.diff(self.cuts).astype(float)
        self.first = np.searchsorted(self.cuts, w.start_s)
        self.last = np.searchsorted(self.cuts, w.end_s)
        T = max(1, len(self.seg_len))
        f = problem.fleet
        ram_dtype = np.int32 if int(f.ram_mb.max()) < 2**31 else np.int64
        self.cores = np.zeros((0, T), dtype=np.int32)
        self.ram = np.zeros((0, T), dtype=ram_dtype)
        self.count = np.zeros((0, T), dtype=np.int32)
        self.util = np.zeros((0, T)) if with_util else None
        self.host_of_slot: list[int] = []
        self.n = 0
        self.next_free = [0] * len(f.groups)  # next unused host, per group
        self.hosts_of_group = problem.hosts_of_group

    def _grow(self) -> None:
        rows = self.cores.shape[0] + self.GROW
        for name in ("cores", "ram", "count", "util"):
            arr = getattr(self, name)
            if arr is None:
                continue
            new = np.zeros((rows, arr.shape[1]), dtype=arr.dtype)
            new[: arr.shape[0]] = arr
            setattr(self, name, new)

    def open(self, host: int) -> int:
        """Put ``host`` in use; return its slot."""
        if self.n == self.cores.shape[0]:
            self._grow()
        self.host_of_slot.append(host)
        g = int(self.problem.fleet.group_of_host[host])
        self.next_free[g] += 1
        self.n += 1
        return self.n - 1

    def new_hosts(self, vm: int) -> list[int]:
        """The first unused host of each group that ``vm`` fits when empty."""
        fits = self.problem.group_fits[vm]
        out = []
        for g, hosts in enumerate(self.hosts_of_group):
            if fits[g] and self.next_free[g] < len(hosts):
                out.append(int(hosts[self.next_free[g]]))
        return out

    def feasible_slots(self, vm: int) -> np.ndarray:
        """Slots in use that can hold ``vm`` over its whole run."""
        if self.n == 0:
            return np.zeros(0, dtype=np.intp)
        p = self.problem
        w, f = p.workload, p.fleet
        a, b = self.first[vm], self.last[vm]
        hosts = np.asarray(self.host_of_slot)
        peak_c = self.cores[: self.n, a:b].max(axis=1)
        peak_r = self.ram[: self.n, a:b].max(axis=1)
        ok = ((peak_c + w.cores[vm] <= f.cores[hosts]) & (peak_r + w.ram_mb[vm] <= f.ram_mb[hosts])
              & p.group_fits[vm, f.group_of_host[hosts]])  # not host_fits: no n × H table
        return np.flatnonzero(ok)

    def place(self, vm: int, slot: int, share: float) -> None:
        w = self.problem.workload
        a, b = self.first[vm], self.last[vm]
        self.cores[slot, a:b] += w.cores[vm]
        self.ram[slot, a:b] += w.ram_mb[vm]
        self.count[slot, a:b] += 1
        if self.util is not None:
            self.util[slot, a:b] += share


def _share(problem: Problem, vm: int, hosts: np.ndarray) -> np.ndarray:
    return problem.utilisation_share(np.full(len(hosts), vm), hosts)


class _Greedy(Allocator):
    """One VM at a time in :meth:`order`, on the host :meth:`choose` picks."""

    stochastic = False
    constructive = True
    needs_util = False

    def order(self, problem: Problem) -> np.ndarray:
        raise NotImplementedError

    def choose(self, state: _OpenHosts, vm: int, slots: np.ndarray, new: list[int]) -> tuple[str, int]:
        """``("slot", i)`` for slot ``slots[i]`` or ``("new", j)`` for host ``new[j]``."""
        raise NotImplementedError

    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        state = _OpenHosts(problem, self.needs_util)
        allocation = np.full(problem.n_vms, REJECTED, dtype=np.int64)
        for vm in self.order(problem).tolist():
            slots = state.feasible_slots(vm)
            new = state.new_hosts(vm)
            if not len(slots) and not new:
                continue
            what, i = self.choose(state, vm, slots, new)
            if what == "slot":
                slot = int(slots[i])
                host = state.host_of_slot[slot]
            else:
                host = new[i]
                slot = state.open(host)
            share = float(_share(problem, vm, np.array([host]))[0]) if self.needs_util else 0.0
            state.place(vm, slot, share)
            allocation[vm] = host
        return AllocatorResult(allocation)


def _decreasing(problem: Problem, key: np.ndarray) -> np.ndarray:
    """VMs by decreasing ``key``, ties by earliest start, then file order."""
    w = problem.workload
    return np.lexsort((np.arange(w.n), w.start_s, -key))


class FirstFitDecreasing(_Greedy):
    name = "ffd"
    summary = "first-fit decreasing: VMs by decreasing cores, each on the first host in use that holds it"

    def order(self, problem: Problem) -> np.ndarray:
        w = problem.workload
        return np.lexsort((np.arange(w.n), w.start_s, -w.ram_mb, -w.cores))

    def choose(self, state, vm, slots, new):
        return ("slot", 0) if len(slots) else ("new", 0)


class WorstFit(_Greedy):
    name = "wf"
    summary = "worst fit: VMs by earliest start, each on the host in use with the most free cores"

    def order(self, problem: Problem) -> np.ndarray:
        return start_order(problem)

    def choose(self, state, vm, slots, new):
        if not len(slots):
            return ("new", 0)
        a, b = state.first[vm], state.last[vm]
        hosts = np.asarray(state.host_of_slot)[slots]
        free = state.problem.fleet.cores[hosts] - state.cores[slots, a:b].max(axis=1)
        return ("slot", int(np.argmax(free)))


class PowerAwareBestFitDecreasing(_Greedy):
    name = "pabfd"
    summary = "CloudSim's power-aware BFD: VMs by decreasing CPU demand, each where power rises least"
    needs_util = True

    def order(self, problem: Problem) -> np.ndarray:
        w = problem.workload
        mips = np.where(np.isnan(w.mips), 1.0, w.mips)
        return _decreasing(problem, w.cores * mips * w.cpu_util)

    def choose(self, state, vm, slots, new):
        p = state.problem
        f = p.fleet
        a = state.first[vm]
        hosts = np.concatenate([np.asarray(state.host_of_slot, dtype=np.intp)[slots],
                                np.asarray(new, dtype=np.intp)])
        share = _share(p, vm, hosts)
        k = len(slots)
        u = np.zeros(len(hosts))
        running = np.zeros(len(hosts), dtype=bool)
        if k:
            u[:k] = state.util[slots, a]
            running[:k] = state.count[slots, a] > 0
        rise = f.watts(hosts, np.minimum(u + share, 1.0)) - np.where(running, f.watts(hosts, u), 0.0)
        free = f.cores[hosts].astype(float)
        if k:
            free[:k] -= state.cores[slots, a]
        best = int(np.lexsort((np.arange(len(hosts)), free, np.round(rise, 9)))[0])
        return ("slot", best) if best < k else ("new", best - k)


class _MinBusyTime(_Greedy):
    """Least added busy time × idle power; ties by fewest free cores at the start."""

    def choose(self, state, vm, slots, new):
        p = state.problem
        f = p.fleet
        a, b = state.first[vm], state.last[vm]
        hosts = np.concatenate([np.asarray(state.host_of_slot, dtype=np.intp)[slots],
                                np.asarray(new, dtype=np.intp)])
        k = len(slots)
        added = np.full(len(hosts), float(state.seg_len[a:b].sum()))
        free = f.cores[hosts].astype(float) - p.workload.cores[vm]
        if k:
            idle_segments = state.count[slots, a:b] == 0
            added[:k] = idle_segments @ state.seg_len[a:b]
            free[:k] -= state.cores[slots, a]
        cost = np.round(added * f.idle_w[hosts], 6)
        best = int(np.lexsort((np.arange(len(hosts)), free, cost))[0])
        return ("slot", best) if best < k else ("new", best - k)


class MinBusyTimeStart(_MinBusyTime):
    name = "mindft-st"
    summary = "busy-time aware (MinDFT): VMs by earliest start, each where it adds least busy time"

    def order(self, problem: Problem) -> np.ndarray:
        return start_order(problem)


class MinBusyTimeLongest(_MinBusyTime):
    name = "mindft-ld"
    summary = "busy-time aware (MinDFT): VMs by longest duration, each where it adds least busy time"

    def order(self, problem: Problem) -> np.ndarray:
        return _decreasing(problem, problem.workload.duration_s.astype(float))


HEURISTICS: tuple[type[_Greedy], ...] = (FirstFitDecreasing, WorstFit, PowerAwareBestFitDecreasing,
                                         MinBusyTimeStart, MinBusyTimeLongest)
