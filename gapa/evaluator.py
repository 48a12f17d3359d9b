"""Fast energy evaluation of allocations: vectorised numpy, no simulation.

For a batch of allocations (B × n host indices) it gives each allocation's
total energy (joules), total host on-time (seconds), hosts used, rejected VMs
and capacity violations, honouring the scenario's power policy exactly as the
SimPy simulation (:mod:`gapa.simulation`) does: tests assert both agree to
1e-9 relative.

How: the 2n start/end events are in global time order (ends first at equal
times).  For each allocation, events are stably sorted by host, so every host
sees its own events in time order; cumulative sums then give each host's
utilisation, core and RAM use and number of running VMs after each event, and
the time to the host's next event is the length of a constant-power segment.
Segments with running VMs cost P(u) × length; an empty segment between two
VMs is a *gap*, idled through at P(0) when shorter than the policy's threshold
and otherwise bridged by a shutdown and a boot.  Every used host pays one boot
and one shutdown more.  Energy is therefore exact for piecewise-constant power:
a sum of watts × whole seconds, plus fixed boot/shutdown joules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapa.problem import Problem

_CHUNK_EVENTS = 1 << 21  # events per chunk of a batch, to bound memory


@dataclass(frozen=True)
class BatchEvaluation:
    """Per-allocation results of :func:`evaluate_batch` (arrays of length B).

    Attributes:
        energy_j: total energy, joules.
        on_s: total host on-time, seconds (boots and shutdowns included).
        hosts_used: number of hosts that hold at least one VM.
        rejected: number of VMs not placed.
        violations: number of VM starts at which a capacity limit (cores, RAM) is
            exceeded, plus VMs placed on a host whose cores are too slow for them.
    """

    energy_j: np.ndarray
    on_s: np.ndarray
    hosts_used: np.ndarray
    rejected: np.ndarray
    violations: np.ndarray

    @property
    def feasible(self) -> np.ndarray:
        """True where the allocation breaks no capacity limit."""
        return self.violations == 0


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate` for one allocation.

    Attributes:
        energy_j: total energy, joules.
        on_s: total host on-time, seconds.
        host_energy_j: energy per host, joules (0 for unused hosts).
        host_on_s: on-time per host, seconds.
        host_vms: number of VMs per host.
        hosts_used: hosts with at least one VM.
        rejected: VMs not placed.
        violations: capacity violations (0 for a feasible allocation).
    """

    energy_j: float
    on_s: float
    host_energy_j: np.ndarray
    host_on_s: np.ndarray
    host_vms: np.ndarray
    hosts_used: int
    rejected: int
    violations: int


def _evaluate_rows(problem: Problem, allocs: np.ndarray, per_host: bool):
    """Core of the evaluator for a (B, n) block of allocations."""
    fleet = problem.fleet
    policy = problem.policy
    w = problem.workload
    H = fleet.size
    B = allocs.shape[0]
    ev_vm = problem.event_vm
    key_dtype = np.int16 if H < np.iinfo(np.int16).max else np.int32
    ev_host = allocs[:, ev_vm]  # (B, E)
    ev_host = np.where(ev_host < 0, H, ev_host).astype(key_dtype)  # rejected → sentinel host H
    order = np.argsort(ev_host, axis=1, kind="stable")
    hosts = np.take_along_axis(ev_host, order, axis=1).astype(np.int64)
    vms = ev_vm[order]
    times = problem.event_time_s[order]
    sign = problem.event_sign[order]
    placed = hosts < H
    safe_hosts = np.where(placed, hosts, 0)

    # running VMs, cores and RAM after each event: each host's events sum to zero,
    # so a plain running sum along the row restarts at 0 for every host.
    count = np.cumsum(sign, axis=1)
    cores = np.cumsum(sign * w.cores[vms], axis=1)
    ram = np.cumsum(sign * w.ram_mb[vms], axis=1)
    is_start = sign > 0
    over = is_start & placed & ((cores > fleet.cores[safe_hosts]) | (ram > fleet.ram_mb[safe_hosts]))
    vm_mips = w.mips[vms]
    slow = is_start & placed & (vm_mips > fleet.mips_per_core[safe_hosts])  # NaN compares False
    violations = over.sum(axis=1) + slow.sum(axis=1)

    share = problem.utilisation_share(vms, safe_hosts)
    util = np.cumsum(np.where(placed, sign * share, 0.0), axis=1)

    same_next = np.zeros(hosts.shape, dtype=bool)
    same_next[:, :-1] = (hosts[:, 1:] == hosts[:, :-1]) & placed[:, :-1]
    dt = np.zeros(hosts.shape, dtype=np.int64)
    dt[:, :-1] = times[:, 1:] - times[:, :-1]
    dt = np.where(same_next, dt, 0)

    busy = (count > 0) & (dt > 0)
    gap = (count == 0) & (dt > 0)

    energy = np.zeros(hosts.shape, dtype=float)
    on = np.zeros(hosts.shape, dtype=float)
    if busy.any():
        energy[busy] = fleet.watts(hosts[busy], np.clip(util[busy], 0.0, 1.0)) * dt[busy]
        on[busy] = dt[busy]
    if gap.any():
        g_hosts = hosts[gap]
        g_len = dt[gap]
        idle_through = g_len < problem.idle_threshold_s[g_hosts]
        energy[gap] = np.where(idle_through, fleet.idle_w[g_hosts] * g_len,
                               policy.boot_j + policy.shutdown_j)
        on[gap] = np.where(idle_through, g_len, policy.boot_s + policy.shutdown_s)

    # one boot before each used host's first VM and one shutdown after its last
    first = np.zeros(hosts.shape, dtype=bool)
    first[:, 0] = True
    first[:, 1:] = hosts[:, 1:] != hosts[:, :-1]
    first &= placed
    energy[first] += policy.boot_j + policy.shutdown_j
    on[first] += policy.boot_s + policy.shutdown_s

    rejected = (allocs < 0).sum(axis=1)
    if not per_host:
        return (energy.sum(axis=1), on.sum(axis=1), first.sum(axis=1), rejected, violations)
    assert B == 1
    h = hosts[0][placed[0]]
    host_energy = np.bincount(h, weights=energy[0][placed[0]], minlength=H)[:H]
    host_on = np.bincount(h, weights=on[0][placed[0]], minlength=H)[:H]
    host_vms = np.bincount(allocs[0][allocs[0] >= 0], minlength=H)[:H]
    return (energy.sum(axis=1), on.sum(axis=1), first.sum(axis=1), rejected, violations,
            host_energy, host_on, host_vms)


def evaluate_batch(problem: Problem, allocations: np.ndarray) -> BatchEvaluation:
    """Evaluate a batch of allocations (shape ``(B, n)``; −1 = rejected) at once.

    Energy in joules and on-time in seconds, per allocation; see :class:`BatchEvaluation`.
    """
    allocs = problem.check_allocation_shape(np.atleast_2d(allocations))
    B = allocs.shape[0]
    rows = max(1, _CHUNK_EVENTS // max(1, 2 * problem.n_vms))
    parts = [_evaluate_rows(problem, allocs[i:i + rows], per_host=False) for i in range(0, B, rows)]
    if not parts:
        z = np.zeros(0)
        return BatchEvaluation(z, z, z.astype(np.int64), z.astype(np.int64), z.astype(np.int64))
    cat = [np.concatenate([p[k] for p in parts]) for k in range(5)]
    return BatchEvaluation(cat[0], cat[1], cat[2].astype(np.int64), cat[3].astype(np.int64),
                           cat[4].astype(np.int64))


def evaluate(problem: Problem, allocation: np.ndarray) -> Evaluation:
    """Evaluate one allocation, with per-host energy (J), on-time (s) and VM counts."""
    a = problem.check_allocation_shape(np.asarray(allocation)).reshape(1, -1)
    e, on, used, rej, viol, he, hon, hv = _evaluate_rows(problem, a, per_host=True)
    return Evaluation(float(e[0]), float(on[0]), he, hon, hv.astype(np.int64), int(used[0]),
                      int(rej[0]), int(viol[0]))
