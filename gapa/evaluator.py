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

from gapa.problem import UTIL_UNITS, Problem

_CHUNK_EVENTS = 1 << 13  # events per chunk: keeps temporaries small (< 128 KiB) and in cache


@dataclass(frozen=True)
class BatchEvaluation:
    """Per-allocation results of :func:`evaluate_batch` (arrays of length B).

    Attributes:
        energy_j: total energy, joules.
        on_s: total host on-time, seconds (boots and shutdowns included).
        hosts_used: number of hosts that hold at least one VM.
        rejected: number of VMs not placed.
        violations: number of hosts over a capacity limit (cores, RAM) at some
            instant, plus VMs placed on a host that cannot hold them even alone (too
            few cores, RAM, or MIPS per core); 0 exactly when feasible.
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


class _Tables:
    """Per-problem arrays the evaluator gathers from, padded with a sentinel host H
    (index H) that holds rejected VMs, has no capacity limit and draws no power."""

    def __init__(self, problem: Problem):
        f = problem.fleet
        w = problem.workload
        G = len(f.groups)
        H = f.size
        self.H = H
        self.group = np.append(f.group_of_host, G).astype(np.intp)
        self.model = np.append(f.model_of_host, len(f.models)).astype(np.int8 if len(f.models) < 127 else np.int32)
        self.cores_cap = np.append(f.cores, np.iinfo(np.int32).max).astype(np.int32)
        self.ram_cap = np.append(f.ram_mb, np.iinfo(np.int64).max).astype(np.int64)
        self.idle_w = np.append(f.idle_w, 0.0)
        self.threshold_s = np.append(problem.idle_threshold_s, np.inf)
        # whether VM v statically fits group g (the sentinel "group" G fits everything)
        self.fits = np.concatenate([problem.group_fits, np.ones((w.n, 1), bool)], axis=1)
        # utilisation units VM v adds to a host of group g (0 on the sentinel)
        g_host = np.array([int(np.flatnonzero(f.group_of_host == g)[0]) for g in range(G)])
        units = np.zeros((w.n, G + 1), dtype=np.int64)
        for g in range(G):
            units[:, g] = problem.utilisation_units(np.arange(w.n), np.full(w.n, g_host[g]))
        ev = problem.event_vm
        sign = problem.event_sign
        # narrow integer types where the totals fit: less memory traffic per batch
        self.cores_dtype = np.int32 if w.cores.sum() < 2**31 else np.int64
        self.ram_dtype = np.int32 if w.ram_mb.sum() < 2**31 else np.int64
        self.ev_cores = (sign * w.cores[ev]).astype(self.cores_dtype)
        self.ev_ram = (sign * w.ram_mb[ev]).astype(self.ram_dtype)
        self.cores_cap = self.cores_cap.astype(self.cores_dtype)
        self.ram_cap = np.minimum(self.ram_cap, np.iinfo(self.ram_dtype).max).astype(self.ram_dtype)
        self.ev_units_flat = (sign[:, None] * units[ev]).ravel()  # (E × (G+1))
        self.fits_flat = self.fits.ravel()
        self.vm_offsets = np.arange(w.n) * (G + 1)
        self.event_pos_of_vm = np.zeros((w.n, 2), dtype=np.intp)
        self.event_pos_of_vm[ev[sign > 0], 0] = np.flatnonzero(sign > 0)
        self.event_pos_of_vm[ev[sign < 0], 1] = np.flatnonzero(sign < 0)
        self.key_dtype = np.int16 if H < np.iinfo(np.int16).max else np.int32


def _tables(problem: Problem) -> _Tables:
    tables = problem.__dict__.get("_evaluator_tables")
    if tables is None:
        tables = _Tables(problem)
        problem.__dict__["_evaluator_tables"] = tables
    return tables


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Float sums of ``values`` grouped by ``index`` into ``size`` bins."""
    return np.bincount(index, weights=np.asarray(values, dtype=float), minlength=size).astype(float, copy=False)


@dataclass(frozen=True)
class _Segments:
    """Costs of the segments of an event stream (one segment = one host's VMs)."""

    start: np.ndarray  # position in the stream of each segment's first event
    host: np.ndarray  # host of each segment (H = the sentinel of rejected VMs)
    energy_j: np.ndarray
    on_s: np.ndarray
    over: np.ndarray  # True where the host is over a capacity limit at some instant
    peak_cores: np.ndarray  # most cores in use at one instant


def _segment_costs(problem: Problem, hosts: np.ndarray, events: np.ndarray,
                   first: np.ndarray) -> _Segments:
    """Energy, on-time and overload of every segment of a 1-D event stream.

    Args:
        hosts: host of each element (H for rejected VMs).
        events: global event index (into ``problem.event_*``) of each element; within a
            segment, in increasing order (that is, in time order, ends first at ties).
        first: True where a new segment starts (the first element must be True).
    """
    fleet = problem.fleet
    policy = problem.policy
    tb = _tables(problem)
    H = tb.H
    n_groups = tb.fits.shape[1]
    grp = tb.group[hosts]
    times = problem.event_time_s[events]
    # (method calls, not np.flatnonzero/np.cumsum: these arrays are small and called
    # for every insertion, where numpy's Python wrappers cost as much as the work)
    seg = first.nonzero()[0]
    n_seg = len(seg)
    seg_id = first.cumsum() - 1
    seg_host = hosts[seg]

    # cores, RAM and utilisation in use after each event: each segment's events sum to
    # zero, so plain running sums restart at 0 for every segment.  Every VM takes at
    # least one core, so a host runs VMs exactly when its cores in use > 0.
    cores = tb.ev_cores[events].cumsum(dtype=tb.cores_dtype)
    ram = tb.ev_ram[events].cumsum(dtype=tb.ram_dtype)
    units = tb.ev_units_flat[events * n_groups + grp].cumsum()  # exact integers
    peak_cores = np.maximum.reduceat(cores, seg)
    over = (peak_cores > tb.cores_cap[seg_host]) | (np.maximum.reduceat(ram, seg) > tb.ram_cap[seg_host])

    same_next = np.zeros(len(hosts), dtype=bool)
    same_next[:-1] = ~first[1:]
    same_next &= hosts < H
    dt = np.zeros(len(hosts), dtype=np.int64)
    dt[:-1] = times[1:] - times[:-1]
    dt *= same_next
    running = cores > 0
    moving = dt > 0
    busy = (running & moving).nonzero()[0]
    gap = (~running & moving).nonzero()[0]

    # busy pieces: P(u) × length, evaluated model by model
    b_hosts = hosts[busy]
    b_u = np.minimum(units[busy] / UTIL_UNITS, 1.0)
    b_dt = dt[busy]
    if len(fleet.models) == 1:
        b_energy = np.asarray(fleet.models[0].watts(b_u), dtype=float) * b_dt
    else:
        b_energy = np.empty(len(busy))
        which = tb.model[b_hosts]
        for k, model in enumerate(fleet.models):
            sel = np.flatnonzero(which == k)
            if len(sel):
                b_energy[sel] = np.asarray(model.watts(b_u[sel]), dtype=float) * b_dt[sel]
    b_seg = seg_id[busy]

    # gaps between VMs on one host: idle through at P(0), or shut down and boot again
    g_hosts = hosts[gap]
    g_len = dt[gap]
    idle_through = g_len < tb.threshold_s[g_hosts]
    g_energy = np.where(idle_through, tb.idle_w[g_hosts] * g_len, policy.boot_j + policy.shutdown_j)
    g_on = np.where(idle_through, g_len, policy.boot_s + policy.shutdown_s)
    g_seg = seg_id[gap]

    # one boot before each used host's first VM and one shutdown after its last
    real = seg_host < H
    energy = (_sum_by(b_seg, b_energy, n_seg) + _sum_by(g_seg, g_energy, n_seg)
              + real * (policy.boot_j + policy.shutdown_j))
    on = (_sum_by(b_seg, b_dt, n_seg) + _sum_by(g_seg, g_on, n_seg)
          + real * float(policy.boot_s + policy.shutdown_s))
    return _Segments(seg, seg_host, energy, on, over & real, peak_cores)


def _evaluate_rows(problem: Problem, allocs: np.ndarray, per_host: bool):
    """Core of the evaluator for a (B, n) block of allocations."""
    tb = _tables(problem)
    H = tb.H
    B, E = allocs.shape[0], len(problem.event_vm)
    key = allocs.astype(tb.key_dtype)
    key[allocs < 0] = H  # rejected → sentinel host H
    static_bad = ~tb.fits_flat[tb.vm_offsets + tb.group[key]]
    ev_host = key[:, problem.event_vm]  # (B, E)
    order = np.argsort(ev_host, axis=1, kind="stable")  # radix sort; keeps time order per host
    hosts = np.take_along_axis(ev_host, order, axis=1)
    first = np.ones((B, E), dtype=bool)
    np.not_equal(hosts[:, 1:], hosts[:, :-1], out=first[:, 1:])
    segs = _segment_costs(problem, hosts.ravel().astype(np.intp), order.ravel(), first.ravel())
    seg_rows = segs.start // E
    energy = _sum_by(seg_rows, segs.energy_j, B)
    on = _sum_by(seg_rows, segs.on_s, B)
    violations = _sum_by(seg_rows, segs.over, B).astype(np.int64) + static_bad.sum(axis=1)
    hosts_used = _sum_by(seg_rows, segs.host < H, B).astype(np.int64)
    rejected = (allocs < 0).sum(axis=1)
    if not per_host:
        return energy, on, hosts_used, rejected, violations
    assert B == 1
    host_energy = _sum_by(segs.host, segs.energy_j, H + 1)
    host_on = _sum_by(segs.host, segs.on_s, H + 1)
    host_vms = np.bincount(allocs[0][allocs[0] >= 0], minlength=H)[:H]
    return (energy, on, hosts_used, rejected, violations, host_energy[:H], host_on[:H], host_vms)


def host_set_costs(problem: Problem, hosts: np.ndarray, vm_sets: list[np.ndarray], *,
                   with_peak: bool = False) -> tuple[np.ndarray, ...]:
    """Energy (J), on-time (s) and feasibility of putting exactly ``vm_sets[i]`` on ``hosts[i]``
    (and, with ``with_peak``, the most cores in use at one instant).

    Each pair is costed alone (as if that host held those VMs and nothing else), all
    pairs in one vectorised pass; used by allocators to price candidate moves.
    Feasible means: within capacity at every instant, and every VM fits the host alone.
    """
    hosts = np.asarray(hosts, dtype=np.intp)
    sizes = np.array([len(v) for v in vm_sets], dtype=np.intp)
    vms = np.concatenate(vm_sets).astype(np.intp) if sizes.sum() else np.zeros(0, np.intp)
    return host_members_costs(problem, hosts, vms, np.repeat(np.arange(len(hosts)), sizes), with_peak=with_peak)


def host_members_costs(problem: Problem, hosts: np.ndarray, vms: np.ndarray, pair_of_vm: np.ndarray, *,
                       with_peak: bool = False) -> tuple[np.ndarray, ...]:
    """:func:`host_set_costs` with the sets given flat: VM ``vms[i]`` belongs to pair
    ``pair_of_vm[i]`` (an index into ``hosts``; any order)."""
    tb = _tables(problem)
    hosts = np.asarray(hosts, dtype=np.intp)
    if len(hosts) == 0:
        z = np.zeros(0)
        return (z, z, np.zeros(0, dtype=bool)) + ((z,) if with_peak else ())
    vms = np.asarray(vms, dtype=np.intp)
    seg_of_vm = np.asarray(pair_of_vm, dtype=np.intp)
    sizes = np.bincount(seg_of_vm, minlength=len(hosts))
    static_ok = tb.fits[vms, tb.group[hosts[seg_of_vm]]]
    bad = np.bincount(seg_of_vm[~static_ok], minlength=len(hosts)) > 0
    energy = np.zeros(len(hosts))
    on = np.zeros(len(hosts))
    peak = np.zeros(len(hosts))
    nonempty = sizes > 0
    if vms.size:
        pos = tb.event_pos_of_vm  # (n, 2): positions of each VM's start and end events
        ev = pos[vms].ravel()
        seg = np.repeat(seg_of_vm, 2)
        # by pair, then by event (one sort of one key: a VM is in a pair at most once)
        order = (seg * len(problem.event_vm) + ev).argsort(kind="stable")
        ev, seg = ev[order], seg[order]
        first = np.ones(len(ev), dtype=bool)
        first[1:] = seg[1:] != seg[:-1]
        segs = _segment_costs(problem, hosts[seg], ev, first)
        idx = nonempty.nonzero()[0]
        energy[idx] = segs.energy_j
        on[idx] = segs.on_s
        bad[idx] |= segs.over
        peak[idx] = segs.peak_cores
    return (energy, on, ~bad) + ((peak,) if with_peak else ())


def evaluate_batch(problem: Problem, allocations: np.ndarray) -> BatchEvaluation:
    """Evaluate a batch of allocations (shape ``(B, n)``; −1 = rejected) at once.

    Energy in joules and on-time in seconds, per allocation; see :class:`BatchEvaluation`.
    """
    allocs = problem.check_allocation_shape(np.atleast_2d(allocations))
    B = allocs.shape[0]
    if problem.n_vms == 0:
        z = np.zeros(B)
        zi = np.zeros(B, dtype=np.int64)
        return BatchEvaluation(z, z.copy(), zi, zi.copy(), zi.copy())
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
    if problem.n_vms == 0:
        z = np.zeros(problem.n_hosts)
        return Evaluation(0.0, 0.0, z, z.copy(), z.astype(np.int64), 0, 0, 0)
    e, on, used, rej, viol, he, hon, hv = _evaluate_rows(problem, a, per_host=True)
    return Evaluation(float(e[0]), float(on[0]), he, hon, hv.astype(np.int64), int(used[0]),
                      int(rej[0]), int(viol[0]))
