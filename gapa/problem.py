"""A problem instance of the static VM allocation problem (SVMAP).

A :class:`Problem` joins a workload (the VM requests) and a scenario (the fleet
and its power policy), and precomputes what every allocator and the fast
evaluator need: the global event order and which host groups can hold which VM.

An *allocation* is an integer numpy array with one entry per VM: the index of
its host in the fleet, or :data:`REJECTED` (−1) for a VM placed nowhere.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from gapa.fleet import Fleet
from gapa.policy import PowerPolicy
from gapa.scenario import Scenario
from gapa.workload import Workload

REJECTED = -1

#: CPU utilisation is counted in exact units of 2**-40 (about 1e-12), so that sums of
#: VM shares are exact integers whatever order VMs arrive and leave in; the fast
#: evaluator and the simulation then see bit-identical utilisations.
UTIL_UNITS = 1 << 40


class Problem:
    """Workload + fleet + power policy, with precomputed arrays.

    Attributes:
        workload: the VM requests.
        scenario: the fleet, its power policy and allocator settings.
        fleet: shortcut for ``scenario.fleet``.
        policy: shortcut for ``scenario.policy``.
        event_vm: VM of each of the 2n events, in time order (ends before starts
            at equal times, so back-to-back VMs never overlap).
        event_time_s: time of each event, seconds.
        event_sign: +1 for a start, −1 for an end.
        idle_threshold_s: per host, gaps shorter than this (s) are idled through.
        group_fits: ``group_fits[v, g]`` is True when VM ``v`` fits an empty host of group ``g``.
    """

    def __init__(self, workload: Workload, scenario: Scenario):
        self.workload = workload
        self.scenario = scenario
        self.fleet: Fleet = scenario.fleet
        self.policy: PowerPolicy = scenario.policy
        w = workload
        n = w.n
        times = np.concatenate([w.start_s, w.end_s])
        is_start = np.concatenate([np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)])
        vms = np.concatenate([np.arange(n), np.arange(n)])
        order = np.lexsort((vms, is_start, times))  # by time, then ends first, then VM
        self.event_vm = vms[order]
        self.event_time_s = times[order]
        self.event_sign = np.where(is_start[order] == 1, 1, -1).astype(np.int64)
        self.idle_threshold_s = self.policy.idle_threshold_s(self.fleet.idle_w)
        f = self.fleet
        g_cores = np.array([g.cores for g in f.groups])
        g_ram = np.array([g.ram_mb for g in f.groups])
        g_mips = np.array([float(g.mips_per_core) for g in f.groups])
        mips_ok = np.isnan(w.mips)[:, None] | (w.mips[:, None] <= g_mips[None, :])
        self.group_fits = (w.cores[:, None] <= g_cores[None, :]) & (w.ram_mb[:, None] <= g_ram[None, :]) & mips_ok

    @property
    def n_vms(self) -> int:
        """Number of VMs."""
        return self.workload.n

    @property
    def n_hosts(self) -> int:
        """Number of hosts."""
        return self.fleet.size

    @cached_property
    def unplaceable(self) -> np.ndarray:
        """Indices of VMs that fit no host of the fleet even when it is empty."""
        return np.flatnonzero(~self.group_fits.any(axis=1))

    @cached_property
    def host_fits(self) -> np.ndarray:
        """``host_fits[v, h]``: VM ``v`` fits host ``h`` when the host is empty (n × H booleans)."""
        return self.group_fits[:, self.fleet.group_of_host]

    @cached_property
    def hosts_of_group(self) -> list[np.ndarray]:
        """Host indices of each host group, in order."""
        return [np.flatnonzero(self.fleet.group_of_host == g) for g in range(len(self.fleet.groups))]

    @cached_property
    def vm_kind(self) -> np.ndarray:
        """Kind of each VM: VMs of one kind have the same start, end, cores, RAM, MIPS and
        CPU load, so they cost the same on any host (a class books many alike)."""
        w = self.workload
        if w.n == 0:
            return np.zeros(0, dtype=np.intp)
        rows = np.column_stack([w.start_s, w.end_s, w.cores, w.ram_mb,
                                np.nan_to_num(w.mips, nan=-1.0), w.cpu_util])
        _, kind = np.unique(rows, axis=0, return_inverse=True)
        return kind.ravel().astype(np.intp)

    def fits_host(self, vm: int) -> np.ndarray:
        """Boolean per host: VM ``vm`` fits that host when the host is empty."""
        return self.group_fits[vm][self.fleet.group_of_host]

    def utilisation_units(self, vms: np.ndarray, hosts: np.ndarray) -> np.ndarray:
        """CPU utilisation that VMs ``vms`` add to hosts ``hosts`` (element-wise), in units of
        ``1 / UTIL_UNITS`` (int64).

        ``cores × MIPS per core × cpu_util / (host cores × host MIPS per core)``, where a
        VM with no MIPS given runs at the host's full core speed, rounded to the nearest unit.
        """
        w = self.workload
        f = self.fleet
        mips = w.mips[vms]
        ratio = np.where(np.isnan(mips), 1.0, mips / f.mips_per_core[hosts])
        share = w.cores[vms] * w.cpu_util[vms] * ratio / f.cores[hosts]
        return np.rint(share * UTIL_UNITS).astype(np.int64)

    def utilisation_share(self, vms: np.ndarray, hosts: np.ndarray) -> np.ndarray:
        """The same as :meth:`utilisation_units`, as a fraction of the host in [0, 1]."""
        return self.utilisation_units(vms, hosts) / UTIL_UNITS

    def check_allocation_shape(self, allocation: np.ndarray) -> np.ndarray:
        """Return ``allocation`` as an int64 array, checking its length and host range."""
        a = np.asarray(allocation)
        if a.shape[-1] != self.n_vms:
            raise ValueError(f"allocation has {a.shape[-1]} entries for {self.n_vms} VMs")
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError("allocation must hold integer host indices")
        if a.size and (a.min() < REJECTED or a.max() >= self.n_hosts):
            raise ValueError(f"allocation holds host indices outside -1 … {self.n_hosts - 1}")
        return a.astype(np.int64, copy=False)
