"""An allocation being edited: VMs grouped by host, with exact energy-priced insertion.

Genetic operators and constructive heuristics work on a :class:`Packing`: they
take whole host groups out or put them in, and re-insert loose VMs one by one,
each on the host where the fleet's energy rises least (exactly, under the
scenario's power policy: :func:`gapa.evaluator.host_set_costs` prices every
candidate host in one vectorised pass).  Empty hosts of one hardware group are
interchangeable, so only the lowest-numbered empty host of each group is priced.

Prices are cached.  Every host's set of VMs carries a *stamp*, drawn afresh from
a counter shared by all packings of one :class:`PriceCache` whenever the set
changes, so a stamp names one set of VMs on one host.  A host's energy and
on-time, and what adding a VM of a given kind would cost there, are priced once
per stamp — also across the copies a genetic algorithm makes of its individuals.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from gapa.evaluator import host_members_costs, host_set_costs
from gapa.problem import REJECTED, Problem


class OutOfTime(Exception):
    """A construction stopped half way because its time ran out."""


class PriceCache:
    """Prices of "one more VM of kind k on host h" keyed by the host's stamp, shared by
    the packings of one run (and the stamp counter that makes keys unique)."""

    #: most (kind, host) prices kept; the cache starts afresh beyond this (bounds memory)
    MAX_ENTRIES = 1 << 22

    def __init__(self, problem: Problem):
        self.problem = problem
        self.stamps = itertools.count(1)
        #: kind → (stamp, rise in energy J, rise in on-time s, feasible, peak cores), arrays over hosts
        self.by_kind: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        #: stamp sets of host groups that a local-search move found nothing better for
        self.settled: set[tuple[int, ...]] = set()
        #: where exactly priced host groups are offered (a :class:`~gapa.allocators.pool.ColumnPool`)
        self.columns = None

    def of_kind(self, kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The price arrays of one VM kind (stamp 0 = not priced)."""
        entry = self.by_kind.get(kind)
        if entry is None:
            H = self.problem.n_hosts
            if (len(self.by_kind) + 1) * H > self.MAX_ENTRIES:
                self.by_kind.clear()
            entry = (np.zeros(H, dtype=np.int64), np.zeros(H), np.zeros(H), np.zeros(H, dtype=bool), np.zeros(H))
            self.by_kind[kind] = entry
        return entry


class Packing:
    """Host → VMs of one allocation, with cached per-host energies (joules) and on-times (s)."""

    def __init__(self, problem: Problem, allocation: np.ndarray | None = None,
                 cache: PriceCache | None = None):
        self.problem = problem
        self.cache = cache if cache is not None else PriceCache(problem)
        n, H = problem.n_vms, problem.n_hosts
        self.allocation = np.full(n, REJECTED, dtype=np.int64) if allocation is None else allocation.copy()
        self.members: list[list[int]] = [[] for _ in range(H)]
        placed = np.flatnonzero(self.allocation != REJECTED)
        for vm, h in zip(placed.tolist(), self.allocation[placed].tolist()):
            self.members[h].append(vm)
        self._energy = np.full(H, np.nan)  # cached energy per host; NaN = stale
        self._on = np.full(H, np.nan)  # cached on-time per host; NaN = stale
        empty = [h for h in range(H) if not self.members[h]]
        self._energy[empty] = 0.0
        self._on[empty] = 0.0
        self._stamp = np.array([next(self.cache.stamps) for _ in range(H)], dtype=np.int64)

    def copy(self) -> Packing:
        """An independent copy (sharing the price cache)."""
        other = Packing.__new__(Packing)
        other.problem = self.problem
        other.cache = self.cache
        other.allocation = self.allocation.copy()
        other.members = [list(m) for m in self.members]
        other._energy = self._energy.copy()
        other._on = self._on.copy()
        other._stamp = self._stamp.copy()
        return other

    def stamps(self, hosts: list[int]) -> tuple[int, ...]:
        """The stamps of ``hosts``, sorted: names their sets of VMs, in any packing of this cache."""
        return tuple(sorted(int(self._stamp[h]) for h in hosts))

    def _changed(self, host: int) -> None:
        empty = not self.members[host]
        self._energy[host] = 0.0 if empty else np.nan
        self._on[host] = 0.0 if empty else np.nan
        self._stamp[host] = next(self.cache.stamps)

    # -- editing ------------------------------------------------------------
    def used_hosts(self) -> list[int]:
        """Hosts holding at least one VM."""
        return [h for h, m in enumerate(self.members) if m]

    def take_host(self, host: int) -> list[int]:
        """Remove and return every VM of ``host``."""
        vms = self.members[host]
        self.members[host] = []
        self._changed(host)
        self.allocation[vms] = REJECTED
        return vms

    def take_vms(self, vms: list[int]) -> None:
        """Remove the given VMs from wherever they are."""
        for vm in vms:
            h = int(self.allocation[vm])
            if h != REJECTED:
                self.members[h].remove(vm)
                self._changed(h)
                self.allocation[vm] = REJECTED

    def free_host_like(self, host: int) -> int | None:
        """``host`` if empty, else the lowest empty host of the same hardware group, else None."""
        if not self.members[host]:
            return host
        for h in self.problem.hosts_of_group[int(self.problem.fleet.group_of_host[host])]:
            if not self.members[h]:
                return int(h)
        return None

    def put_group(self, host: int, vms: list[int], energy_j: float | None = None,
                  on_s: float | None = None) -> None:
        """Put ``vms`` on the empty ``host`` (the caller guarantees they fit together),
        with their energy (J) and on-time (s) there when the caller knows them."""
        assert not self.members[host]
        self.members[host] = list(vms)
        self.allocation[vms] = host
        self._changed(host)
        if energy_j is not None and on_s is not None:
            self._energy[host], self._on[host] = energy_j, on_s

    # -- pricing ------------------------------------------------------------
    def _refresh(self, hosts: list[int]) -> None:
        stale = [h for h in hosts if np.isnan(self._energy[h])]
        if stale:
            e, on, _ = host_set_costs(self.problem, np.asarray(stale),
                                      [np.asarray(self.members[h]) for h in stale])
            self._energy[stale] = e
            self._on[stale] = on

    def host_energies(self, hosts: list[int]) -> np.ndarray:
        """Energy (J) of each of ``hosts`` with its current VMs (cached)."""
        self._refresh(hosts)
        return self._energy[np.asarray(hosts, dtype=np.intp)]

    def host_on_s(self, hosts: list[int]) -> np.ndarray:
        """On-time (s) of each of ``hosts`` with its current VMs (cached)."""
        self._refresh(hosts)
        return self._on[np.asarray(hosts, dtype=np.intp)]

    def host_fill(self, hosts: list[int]) -> np.ndarray:
        """Fraction of each host's core-seconds on-time that its VMs use, in (0, 1]."""
        w = self.problem.workload
        self._refresh(hosts)
        hosts_arr = np.asarray(hosts, dtype=np.intp)
        placed = self.allocation >= 0
        used = np.bincount(self.allocation[placed], weights=(w.cores * w.duration_s)[placed].astype(float),
                           minlength=self.problem.n_hosts)[hosts_arr]
        return used / np.maximum(self._on[hosts_arr] * self.problem.fleet.cores[hosts_arr], 1.0)

    def candidates(self, vm: int) -> list[int]:
        """Hosts worth pricing for ``vm``: used hosts it fits alone, plus one empty host per group."""
        fits = self.problem.host_fits[vm]
        out = [h for h, m in enumerate(self.members) if m and fits[h]]
        for hosts in self.problem.hosts_of_group:
            if len(hosts) and fits[hosts[0]]:
                for h in hosts:
                    if not self.members[h]:
                        out.append(int(h))
                        break
        return out

    def _nearby(self, vm: int, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each host of ``cand``: its VMs that decide what adding ``vm`` costs there,
        as a flat array of VMs and the index into ``cand`` of each one's host.

        Those are the VMs overlapping ``vm``'s interval, plus the one that ends last
        no later than ``vm`` starts and the one that starts first no earlier than ``vm``
        ends (they bound the gaps ``vm`` may fill).  Adding ``vm`` changes nothing
        outside that stretch, so the change in energy, on-time and capacity use is
        the same for these VMs as for all the host's VMs.
        """
        w = self.problem.workload
        s, e = w.start_s[vm], w.end_s[vm]
        slot = np.full(self.problem.n_hosts + 1, -1, dtype=np.intp)
        slot[cand] = np.arange(len(cand))
        alloc = self.allocation
        where = slot[alloc]  # REJECTED (−1) reads the last entry, −1
        mask = where >= 0
        picked = [np.flatnonzero(mask & (w.start_s < e) & (w.end_s > s))]
        for side, key in ((w.end_s <= s, w.end_s), (w.start_s >= e, -w.start_s)):
            idx = np.flatnonzero(mask & side)
            if len(idx):
                idx = idx[np.lexsort((key[idx], alloc[idx]))]
                last = np.ones(len(idx), dtype=bool)
                last[:-1] = alloc[idx[1:]] != alloc[idx[:-1]]
                picked.append(idx[last])
        vms = np.concatenate(picked)
        return vms, where[vms]

    def _price_adding(self, vm: int, cand: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rise in energy (J) and on-time (s), feasibility and peak cores nearby, for each
        host of ``cand`` if ``vm`` were added; hosts already priced for this VM's kind at
        their current stamp are not priced again."""
        stamp, rise_j, rise_s, feasible, peak = self.cache.of_kind(int(self.problem.vm_kind[vm]))
        stale = cand[stamp[cand] != self._stamp[cand]]
        if len(stale):
            k = len(stale)
            near, slot = self._nearby(vm, stale)
            # pairs 0…k−1: the nearby VMs alone; pairs k…2k−1: the same with ``vm``
            vms = np.concatenate([near, near, np.full(k, vm)])
            pair = np.concatenate([slot, slot + k, np.arange(k, 2 * k)])
            e, on, good, pk = host_members_costs(self.problem, np.concatenate([stale, stale]), vms, pair,
                                                 with_peak=True)
            rise_j[stale], rise_s[stale] = e[k:] - e[:k], on[k:] - on[:k]
            feasible[stale], peak[stale] = good[k:], pk[k:]
            stamp[stale] = self._stamp[stale]
        return rise_j[cand], rise_s[cand], feasible[cand], peak[cand]

    def insert(self, vms: list[int], used_only: bool = False, exclude: int | None = None,
               amortise: float = 0.0, until: float | None = None) -> int:
        """Insert each VM, in the order given, where the energy rises least (ties: the host
        left fullest at its peak, then the lowest index); return how many could not be
        placed (they stay rejected).  With ``used_only``, empty hosts are not considered.

        ``amortise`` in [0, 1] changes the choice, not the prices: of the idle power a VM
        keeps a host on for (``P(0)`` × the rise in on-time), it charges only
        ``1 − amortise × (1 − share)``, where ``share`` is the VM's share of the host's
        cores or RAM, whichever is larger: at 1, switching a host on costs the VM its share
        of the idle power, as if later VMs will fill the rest, so hosts with little idle
        power per core and per GB are preferred to merely cheap ones.

        With ``until`` (a ``time.perf_counter()`` value), raises :class:`OutOfTime` once
        that time has passed (checked every 64 VMs), leaving the packing half built."""
        rejected = 0
        cores_cap = self.problem.fleet.cores
        if amortise:
            f, w = self.problem.fleet, self.problem.workload
        for k, vm in enumerate(vms):
            if until is not None and k % 64 == 63 and time.perf_counter() >= until:
                raise OutOfTime
            cand = self.candidates(vm)
            if used_only:
                cand = [h for h in cand if self.members[h]]
            if exclude is not None:
                cand = [h for h in cand if h != exclude]
            if not cand:
                rejected += 1
                continue
            cand_arr = np.asarray(cand, dtype=np.intp)
            rise_j, rise_s, ok, peak = self._price_adding(vm, cand_arr)
            exact_j = rise_j
            if not ok.any():
                rejected += 1
                continue
            if amortise:
                share = np.maximum(w.cores[vm] / f.cores[cand_arr], w.ram_mb[vm] / f.ram_mb[cand_arr])
                rise_j = rise_j - amortise * (1.0 - np.minimum(share, 1.0)) * f.idle_w[cand_arr] * rise_s
            rise = np.where(ok, rise_j, np.inf)
            tie = np.flatnonzero(rise <= rise.min() + 1e-9 * max(1.0, abs(rise.min())))
            slack = cores_cap[cand_arr[tie]] - peak[tie]
            best = int(tie[np.argmin(slack)])
            h = cand[best]
            self._refresh([h])  # before the VM joins: the rise is added to the old cost
            energy, on = self._energy[h] + exact_j[best], self._on[h] + rise_s[best]
            self.members[h].append(vm)
            self.allocation[vm] = h
            self._changed(h)
            self._energy[h], self._on[h] = energy, on
        return rejected

    def total_energy(self) -> float:
        """Energy (J) of all used hosts."""
        used = self.used_hosts()
        return float(self.host_energies(used).sum()) if used else 0.0

    def try_empty(self, host: int) -> bool:
        """Move every VM of ``host`` to other used hosts if that saves energy; else change nothing."""
        before_total = self.total_energy()
        trial = self.copy()
        vms = trial.take_host(host)
        failed = trial.insert(sorted(vms, key=lambda v: -int(self.problem.workload.cores[v])),
                              used_only=True, exclude=host)
        if failed == 0 and trial.total_energy() < before_total - 1e-9:
            self.__dict__.update(trial.__dict__)
            return True
        return False
