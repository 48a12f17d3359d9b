"""The day, simulated in SimPy: VMs arrive and leave, hosts boot, idle and shut down.

Processes:

* a *timetable* process releases each placed VM at its start time;
* one *VM* process per VM is admitted to its host, runs for its duration and
  leaves (a VM arriving at ``t`` is admitted after every VM leaving at ``t``:
  it first yields a zero-delay timeout, and SimPy fires events of one instant
  in the order they were scheduled, so back-to-back VMs never overlap);
* one *lifecycle* process per used host runs the power policy: it boots the host
  so that the boot ends exactly when its next VM starts, and when the host
  empties it looks up the host's next booked VM and either idles through the gap
  at P(0) or shuts down.

Every host integrates its own energy exactly: power is constant between events
and each change adds ``watts × seconds`` since the previous one (no polling, no
sampling).  Admission checks capacity (cores, RAM, MIPS per core) and that the
host is on; any breach raises :class:`~gapa.errors.InfeasibleAllocation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from gapa.errors import InfeasibleAllocation
from gapa.problem import REJECTED, UTIL_UNITS, Problem
from gapa.timeparse import format_seconds

OFF, BOOTING, ON, SHUTTING_DOWN = "off", "booting", "on", "shutting down"


@dataclass(frozen=True)
class HostTimeline:
    """What one used host did over the day.

    Attributes:
        host: host index in the fleet.
        power: ``(time_s, watts)`` change points; power holds from one point to the
            next and is 0 W after the last (the host is off).
        on_periods: ``(start_s, end_s)`` intervals during which the host was not
            off (boots and shutdowns included).
        energy_j: energy, joules (including lump-sum boot/shutdown joules when
            those take no time).
        vms: number of VMs (and GPU job stages) the host ran.
    """

    host: int
    power: list[tuple[float, float]]
    on_periods: list[tuple[float, float]]
    energy_j: float
    vms: int

    @property
    def on_s(self) -> float:
        """Seconds the host was on, boots and shutdowns included."""
        return float(sum(b - a for a, b in self.on_periods))


@dataclass(frozen=True)
class SimulationResult:
    """Energy and timelines of one simulated allocation.

    Attributes:
        energy_j: total energy of the fleet, joules.
        on_s: total host on-time, seconds.
        host_energy_j: energy per host (0 for unused hosts), joules.
        host_on_s: on-time per host, seconds.
        host_vms: VMs run per host.
        hosts_used: hosts that ran at least one VM.
        peak_hosts_on: largest number of hosts on at one instant.
        timelines: one :class:`HostTimeline` per used host.
    """

    energy_j: float
    on_s: float
    host_energy_j: np.ndarray
    host_on_s: np.ndarray
    host_vms: np.ndarray
    hosts_used: int
    peak_hosts_on: int
    timelines: list[HostTimeline]

    def fleet_power(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole fleet's power as a step function: ``(times_s, watts)``.

        ``watts[i]`` holds on ``[times_s[i], times_s[i+1])``; the last value is 0.
        """
        times, deltas = [], []
        for tl in self.timelines:
            prev = 0.0
            for t, w in tl.power:
                times.append(t)
                deltas.append(w - prev)
                prev = w
        return _step(np.asarray(times, float), np.asarray(deltas, float))

    def hosts_on(self) -> tuple[np.ndarray, np.ndarray]:
        """Number of hosts on as a step function: ``(times_s, count)``."""
        return _hosts_on(self.timelines)


def _hosts_on(timelines: list[HostTimeline]) -> tuple[np.ndarray, np.ndarray]:
    times: list[float] = []
    deltas: list[float] = []
    for tl in timelines:
        for a, b in tl.on_periods:
            times += [a, b]
            deltas += [1, -1]
    t, c = _step(np.asarray(times, float), np.asarray(deltas, float))
    return t, np.rint(c).astype(np.int64)


def _step(times: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(times) == 0:
        return np.zeros(1), np.zeros(1)
    order = np.argsort(times, kind="stable")
    t, d = times[order], deltas[order]
    uniq, idx = np.unique(t, return_index=True)
    sums = np.add.reduceat(d, idx)
    return uniq, np.cumsum(sums)


@dataclass(frozen=True)
class StageLoad:
    """Fixed-time work beside the VMs, run as chains: the stages of GPU jobs.

    One entry per stage (parallel arrays).  Stages of one chain run in the order
    given, each starting only when its predecessor has ended.

    Attributes:
        names: stage names for messages.
        chain: chain (job) index of each stage; a chain's stages are consecutive.
        host: host index.
        start_s: start, whole seconds.
        end_s: end (exclusive), whole seconds.
        cores: host cores taken.
        ram_mb: host RAM taken, MB.
        gpus: GPUs taken.
        cpu_util: average load of those cores in [0, 1].
        extra_w: watts the stage adds while it runs above its GPUs' idle draw
            (GPUs × (stage watts − idle watts)).
    """

    names: np.ndarray
    chain: np.ndarray
    host: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    cores: np.ndarray
    ram_mb: np.ndarray
    gpus: np.ndarray
    cpu_util: np.ndarray
    extra_w: np.ndarray

    @property
    def n(self) -> int:
        """Number of stages."""
        return len(self.names)

    def utilisation_units(self, problem: Problem) -> np.ndarray:
        """CPU utilisation each stage adds to its host, in units of ``1 / UTIL_UNITS``."""
        f = problem.fleet
        share = self.cores * self.cpu_util / f.cores[self.host]
        return np.rint(share * UTIL_UNITS).astype(np.int64)


@dataclass(frozen=True)
class _Items:
    """Everything a host can run, VMs first, then stages: demands per item."""

    names: list[str]
    cores: list[int]
    ram_mb: list[int]
    mips: list[float]
    gpus: list[int]
    share: list[int]
    extra_w: list[float]


class _SimHost:
    """A host in the simulation: state, running items (VMs, GPU stages), and its own energy meter."""

    def __init__(self, env: simpy.Environment, problem: Problem, index: int, starts: list[int],
                 items: _Items):
        self.env = env
        self.problem = problem
        self.index = index
        self.name = problem.fleet.host_ids[index]
        f = problem.fleet
        self.cores_cap = int(f.cores[index])
        self.ram_cap = int(f.ram_mb[index])
        self.mips_cap = float(f.mips_per_core[index])
        self.gpus_cap = int(f.gpus[index])
        self.model = f.models[int(f.model_of_host[index])]
        self.idle_w = float(f.idle_w[index])
        self.threshold_s = float(problem.idle_threshold_s[index])
        self.calendar = starts  # sorted start times of the host's items
        self.items = items
        self.arrived = 0  # how many of them have been admitted
        self.state = OFF
        self.cores = 0
        self.ram = 0
        self.gpus = 0
        self.extra_w = 0.0  # watts of running GPU stages above their GPUs' idle draw
        self.util = 0  # utilisation in units of 1 / UTIL_UNITS (exact)
        self.running = 0
        self.watts = 0.0
        self.since = env.now
        self.energy_j = 0.0
        self.power_log: list[tuple[float, float]] = []
        self.on_periods: list[tuple[float, float]] = []
        self._on_since = 0.0
        self._emptied = env.event()
        env.process(self.lifecycle())

    # -- energy meter -------------------------------------------------------
    def _set_power(self, watts: float) -> None:
        now = self.env.now
        self.energy_j += self.watts * (now - self.since)
        self.since = now
        self.watts = watts
        if self.power_log and self.power_log[-1][0] == now:
            self.power_log[-1] = (now, watts)
        elif not self.power_log or self.power_log[-1][1] != watts:
            self.power_log.append((now, watts))

    def _power_now(self) -> float:
        if not self.running:
            return self.idle_w
        return float(self.model.watts(min(self.util / UTIL_UNITS, 1.0))) + self.extra_w

    # -- power policy ---------------------------------------------------------
    def lifecycle(self):
        env = self.env
        policy = self.problem.policy
        while self.arrived < len(self.calendar):
            boot_at = self.calendar[self.arrived] - policy.boot_s
            if boot_at < env.now:
                raise InfeasibleAllocation(f"{self.name}: boot would have to start at "
                                           f"{format_seconds(boot_at)}, before {format_seconds(env.now)}")
            if boot_at > env.now:
                yield env.timeout(boot_at - env.now)
            # (a boot due now starts at once: a shutdown that ends exactly when the next VM
            # starts, with boot_s = 0, must not let that VM arrive at an off host)
            self.state = BOOTING
            self._on_since = env.now
            if policy.boot_s > 0:
                self._set_power(policy.boot_j / policy.boot_s)
                yield env.timeout(policy.boot_s)
            else:
                self.energy_j += policy.boot_j
            self.state = ON
            self._set_power(self.idle_w)
            while True:
                yield self._emptied
                self._emptied = env.event()
                if self.running:
                    continue  # a VM arrived in the same instant
                if self.arrived == len(self.calendar):
                    break
                gap = self.calendar[self.arrived] - env.now
                if gap == 0 or gap < self.threshold_s:
                    continue  # idle through the gap at P(0)
                break
            self.state = SHUTTING_DOWN
            if policy.shutdown_s > 0:
                self._set_power(policy.shutdown_j / policy.shutdown_s)
                yield env.timeout(policy.shutdown_s)
            else:
                self.energy_j += policy.shutdown_j
            self._set_power(0.0)
            self.state = OFF
            self.on_periods.append((self._on_since, env.now))

    # -- VMs ------------------------------------------------------------------
    def admit(self, item: int) -> None:
        it = self.items
        now = self.env.now
        where = f"{self.name} at {format_seconds(now)}: {it.names[item]}"
        if self.state != ON:
            raise InfeasibleAllocation(f"{where} arrives while the host is {self.state}")
        if self.cores + it.cores[item] > self.cores_cap:
            raise InfeasibleAllocation(f"{where} needs {it.cores[item]} cores, "
                                       f"{self.cores_cap - self.cores} free")
        if self.ram + it.ram_mb[item] > self.ram_cap:
            raise InfeasibleAllocation(f"{where} needs {it.ram_mb[item]} MB RAM, "
                                       f"{self.ram_cap - self.ram} MB free")
        if it.mips[item] > self.mips_cap:
            raise InfeasibleAllocation(f"{where} needs {it.mips[item]:g} MIPS per core, "
                                       f"the host has {self.mips_cap:g}")
        if self.gpus + it.gpus[item] > self.gpus_cap:
            raise InfeasibleAllocation(f"{where} needs {it.gpus[item]} GPUs, "
                                       f"{self.gpus_cap - self.gpus} free")
        self.arrived += 1
        self.running += 1
        self.cores += it.cores[item]
        self.ram += it.ram_mb[item]
        self.gpus += it.gpus[item]
        self.util += it.share[item]
        self.extra_w += it.extra_w[item]
        self._set_power(self._power_now())

    def release(self, item: int) -> None:
        it = self.items
        self.running -= 1
        self.cores -= it.cores[item]
        self.ram -= it.ram_mb[item]
        self.gpus -= it.gpus[item]
        self.util -= it.share[item]
        self.extra_w -= it.extra_w[item]
        if self.running == 0:
            self.extra_w = 0.0  # no rounding residue carried into idle
        self._set_power(self._power_now())
        if self.running == 0:
            self._emptied.succeed()


def _vm_process(env: simpy.Environment, host: _SimHost, vm: int, duration: int):
    yield env.timeout(0)  # let every VM leaving at this instant leave first
    host.admit(vm)
    yield env.timeout(duration)
    host.release(vm)


def _timetable(env: simpy.Environment, hosts: dict[int, _SimHost], allocation: np.ndarray,
               problem: Problem):
    w = problem.workload
    placed = np.flatnonzero(allocation != REJECTED)
    order = placed[np.lexsort((placed, w.start_s[placed]))]
    for vm in order:
        start = int(w.start_s[vm])
        if start > env.now:
            yield env.timeout(start - env.now)
        env.process(_vm_process(env, hosts[int(allocation[vm])], int(vm), int(w.end_s[vm] - start)))


def _chain_process(env: simpy.Environment, hosts: dict[int, _SimHost], stages: StageLoad,
                   first: int, members: list[int]):
    """One GPU job: its stages in order, each no earlier than its predecessor's end."""
    for k in members:
        start = int(stages.start_s[k])
        if start < env.now:
            raise InfeasibleAllocation(f"stage {stages.names[k]} is due at {format_seconds(start)}, "
                                       f"before its predecessor ends at {format_seconds(env.now)}")
        if start > env.now:
            yield env.timeout(start - env.now)
        yield env.timeout(0)  # let every item leaving at this instant leave first
        hosts[int(stages.host[k])].admit(first + k)
        yield env.timeout(int(stages.end_s[k]) - start)
        hosts[int(stages.host[k])].release(first + k)


def simulate(problem: Problem, allocation: np.ndarray, stages: StageLoad | None = None) -> SimulationResult:
    """Simulate a whole allocation (one host index per VM, −1 = rejected) in SimPy.

    Args:
        problem: the VMs and the fleet.
        allocation: host index per VM, −1 = rejected.
        stages: GPU job stages to run beside the VMs at their own hosts and times, or ``None``.

    Returns energy (joules), on-times (seconds) and per-host timelines.

    Raises:
        InfeasibleAllocation: a VM or stage arrives at a host without room for it,
            or a stage is due before its predecessor ends.
    """
    allocation = problem.check_allocation_shape(np.asarray(allocation))
    w = problem.workload
    fleet = problem.fleet
    n = w.n
    placed = allocation != REJECTED
    vms = np.flatnonzero(placed)
    share = np.zeros(n, dtype=np.int64)
    share[vms] = problem.utilisation_units(vms, allocation[vms])
    st = stages if stages is not None and stages.n else None
    names = [f"VM {v}" for v in w.vm_ids.tolist()]
    cores, ram, mips = w.cores.tolist(), w.ram_mb.tolist(), np.nan_to_num(w.mips, nan=0.0).tolist()
    gpus, extra, share_l = [0] * n, [0.0] * n, share.tolist()
    item_host = allocation[vms]
    item_start = w.start_s[vms]
    if st is not None:
        if st.host.min() < 0 or st.host.max() >= fleet.size:
            raise ValueError("stages hold host indices outside the fleet")
        names += [f"stage {x}" for x in st.names.tolist()]
        cores += st.cores.tolist()
        ram += st.ram_mb.tolist()
        mips += [0.0] * st.n
        gpus += st.gpus.tolist()
        extra += st.extra_w.tolist()
        share_l += st.utilisation_units(problem).tolist()
        item_host = np.concatenate([item_host, st.host])
        item_start = np.concatenate([item_start, st.start_s])
    items = _Items(names, [int(c) for c in cores], [int(r) for r in ram], mips, [int(g) for g in gpus],
                   share_l, extra)
    t0 = float(item_start.min() - problem.policy.boot_s) if len(item_start) else 0.0
    env = simpy.Environment(initial_time=t0)
    hosts: dict[int, _SimHost] = {}
    by_host = np.lexsort((item_start, item_host))
    hosts_sorted = item_host[by_host]
    cuts = np.flatnonzero(np.diff(hosts_sorted)) + 1
    for chunk in np.split(by_host, cuts) if len(by_host) else []:
        h = int(item_host[chunk[0]])
        hosts[h] = _SimHost(env, problem, h, item_start[chunk].tolist(), items)
    env.process(_timetable(env, hosts, allocation, problem))
    if st is not None:
        chain_cuts = np.flatnonzero(np.diff(st.chain)) + 1
        for members in np.split(np.arange(st.n), chain_cuts):
            env.process(_chain_process(env, hosts, st, n, members.tolist()))
    env.run()

    H = fleet.size
    host_energy = np.zeros(H)
    host_on = np.zeros(H)
    host_vms = np.zeros(H, dtype=np.int64)
    timelines = []
    for h, sim_host in hosts.items():
        if sim_host.state != OFF or sim_host.running:
            raise InfeasibleAllocation(f"{sim_host.name} did not finish the day switched off")
        host_vms[h] = sim_host.arrived  # items actually admitted
        host_energy[h] = sim_host.energy_j
        tl = HostTimeline(h, sim_host.power_log, sim_host.on_periods, sim_host.energy_j, int(host_vms[h]))
        host_on[h] = tl.on_s
        timelines.append(tl)
    _, on_count = _hosts_on(timelines)
    return SimulationResult(
        energy_j=float(host_energy.sum()),
        on_s=float(host_on.sum()),
        host_energy_j=host_energy,
        host_on_s=host_on,
        host_vms=host_vms,
        hosts_used=len(hosts),
        peak_hosts_on=int(on_count.max()) if timelines else 0,
        timelines=timelines,
    )
