"""An allocation being edited: VMs grouped by host, with exact energy-priced insertion.

Genetic operators and constructive heuristics work on a :class:`Packing`: they
take whole host groups out or put them in, and re-insert loose VMs one by one,
each on the host where the fleet's energy rises least (exactly, under the
scenario's power policy: :func:`gapa.evaluator.host_set_costs` prices every
candidate host in one vectorised pass).  Empty hosts of one hardware group are
interchangeable, so only the lowest-numbered empty host of each group is priced.
"""

from __future__ import annotations

import numpy as np

from gapa.evaluator import host_set_costs
from gapa.problem import REJECTED, Problem


class Packing:
    """Host → VMs of one allocation, with cached per-host energies (joules)."""

    def __init__(self, problem: Problem, allocation: np.ndarray | None = None):
        self.problem = problem
        n, H = problem.n_vms, problem.n_hosts
        self.allocation = np.full(n, REJECTED, dtype=np.int64) if allocation is None else allocation.copy()
        self.members: list[list[int]] = [[] for _ in range(H)]
        placed = np.flatnonzero(self.allocation != REJECTED)
        for vm, h in zip(placed.tolist(), self.allocation[placed].tolist()):
            self.members[h].append(vm)
        self._energy = np.full(H, np.nan)  # cached energy per host; NaN = stale
        self._energy[[h for h in range(H) if not self.members[h]]] = 0.0
        self._group_hosts = problem.hosts_of_group
        self._fits_host = problem.host_fits
        self._kind = problem.vm_kind
        # what adding one VM of a kind to a host would cost, valid while that host's
        # version (bumped on every change to its VMs) is the one recorded
        self._version = np.zeros(H, dtype=np.int64)
        self._priced: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    # -- editing ------------------------------------------------------------
    def used_hosts(self) -> list[int]:
        """Hosts holding at least one VM."""
        return [h for h, m in enumerate(self.members) if m]

    def take_host(self, host: int) -> list[int]:
        """Remove and return every VM of ``host``."""
        vms = self.members[host]
        self.members[host] = []
        self._energy[host] = 0.0
        self._version[host] += 1
        self.allocation[vms] = REJECTED
        return vms

    def take_vms(self, vms: list[int]) -> None:
        """Remove the given VMs from wherever they are."""
        for vm in vms:
            h = int(self.allocation[vm])
            if h != REJECTED:
                self.members[h].remove(vm)
                self._energy[h] = np.nan if self.members[h] else 0.0
                self._version[h] += 1
                self.allocation[vm] = REJECTED

    def free_host_like(self, host: int) -> int | None:
        """``host`` if empty, else the lowest empty host of the same hardware group, else None."""
        if not self.members[host]:
            return host
        for h in self._group_hosts[int(self.problem.fleet.group_of_host[host])]:
            if not self.members[h]:
                return int(h)
        return None

    def put_group(self, host: int, vms: list[int]) -> None:
        """Put ``vms`` on the empty ``host`` (the caller guarantees they fit together)."""
        assert not self.members[host]
        self.members[host] = list(vms)
        self.allocation[vms] = host
        self._energy[host] = np.nan
        self._version[host] += 1

    # -- pricing ------------------------------------------------------------
    def host_energies(self, hosts: list[int]) -> np.ndarray:
        """Energy (J) of each of ``hosts`` with its current VMs (cached)."""
        hosts_arr = np.asarray(hosts, dtype=np.intp)
        stale = [h for h in hosts if np.isnan(self._energy[h])]
        if stale:
            e, _, _ = host_set_costs(self.problem, np.asarray(stale),
                                     [np.asarray(self.members[h]) for h in stale])
            self._energy[stale] = e
        return self._energy[hosts_arr]

    def host_fill(self, hosts: list[int]) -> np.ndarray:
        """Fraction of each host's core-seconds on-time that its VMs use, in (0, 1]."""
        w = self.problem.workload
        f = self.problem.fleet
        _, on, _ = host_set_costs(self.problem, np.asarray(hosts), [np.asarray(self.members[h]) for h in hosts])
        used = np.array([float((w.cores[m] * w.duration_s[m]).sum()) for m in (self.members[h] for h in hosts)])
        return used / np.maximum(on * f.cores[np.asarray(hosts)], 1.0)

    def candidates(self, vm: int) -> list[int]:
        """Hosts worth pricing for ``vm``: used hosts it fits alone, plus one empty host per group."""
        fits = self._fits_host[vm]
        out = [h for h, m in enumerate(self.members) if m and fits[h]]
        for hosts in self._group_hosts:
            if len(hosts) and fits[hosts[0]]:
                for h in hosts:
                    if not self.members[h]:
                        out.append(int(h))
                        break
        return out

    def _price_adding(self, vm: int, cand: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Energy (J), feasibility and peak cores of each host of ``cand`` with ``vm`` added.

        Cached per VM kind and host; only hosts changed since they were last priced
        for this kind are priced again (in one vectorised call)."""
        kind = int(self._kind[vm])
        cache = self._priced.get(kind)
        if cache is None:
            H = self.problem.n_hosts
            cache = (np.full(H, -1, dtype=np.int64), np.zeros(H), np.zeros(H, dtype=bool), np.zeros(H))
            self._priced[kind] = cache
        version, after, ok, peak = cache
        cand_arr = np.asarray(cand, dtype=np.intp)
        stale = cand_arr[version[cand_arr] != self._version[cand_arr]]
        if len(stale):
            e, _, good, pk = host_set_costs(self.problem, stale,
                                            [np.asarray(self.members[h] + [vm]) for h in stale.tolist()],
                                            with_peak=True)
            after[stale], ok[stale], peak[stale] = e, good, pk
            version[stale] = self._version[stale]
        return after[cand_arr], ok[cand_arr], peak[cand_arr]

    def insert(self, vms: list[int], used_only: bool = False, exclude: int | None = None) -> int:
        """Insert each VM, in the order given, where the energy rises least (ties: the host
        left fullest at its peak, then the lowest index); return how many could not be
        placed (they stay rejected).  With ``used_only``, empty hosts are not considered."""
        rejected = 0
        cores_cap = self.problem.fleet.cores
        for vm in vms:
            cand = self.candidates(vm)
            if used_only:
                cand = [h for h in cand if self.members[h]]
            if exclude is not None:
                cand = [h for h in cand if h != exclude]
            if not cand:
                rejected += 1
                continue
            before = self.host_energies(cand)
            after, ok, peak = self._price_adding(vm, cand)
            if not ok.any():
                rejected += 1
                continue
            rise = np.where(ok, after - before, np.inf)
            tie = np.flatnonzero(rise <= rise.min() + 1e-9 * max(1.0, abs(rise.min())))
            slack = cores_cap[np.asarray(cand)[tie]] - peak[tie]
            best = int(tie[np.argmin(slack)])
            h = cand[best]
            self.members[h].append(vm)
            self.allocation[vm] = h
            self._energy[h] = after[best]
            self._version[h] += 1
        return rejected

    def total_energy(self) -> float:
        """Energy (J) of all used hosts."""
        used = self.used_hosts()
        return float(self.host_energies(used).sum()) if used else 0.0

    def try_empty(self, host: int) -> bool:
        """Move every VM of ``host`` to other used hosts if that saves energy; else change nothing."""
        before_total = self.total_energy()
        saved_alloc = self.allocation.copy()
        saved_members = [list(m) for m in self.members]
        saved_energy = self._energy.copy()
        saved_version = self._version.copy()
        vms = self.take_host(host)
        failed = self.insert(sorted(vms, key=lambda v: -int(self.problem.workload.cores[v])),
                             used_only=True, exclude=host)
        if failed == 0 and self.total_energy() < before_total - 1e-9:
            return True
        self.allocation, self.members, self._energy = saved_alloc, saved_members, saved_energy
        self._version[self._version != saved_version] += 1  # cached prices describe the trial
        return False
