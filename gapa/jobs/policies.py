"""GPU scheduling policies: where and when each stage of each job runs, at which power cap.

Every policy works around the lab VMs, which are placed first and never moved:
their cores and RAM are taken on their hosts for their whole interval.  A stage
needs ``gpus`` GPUs of one host at once, plus ``cores_per_gpu`` cores and
``ram_mb_per_gpu`` MB per GPU; it starts no earlier than its job's release and
its predecessor's end.  A job that misses its deadline is reported, never hidden;
a job whose stage fits no host at all is reported as rejected.

Policies (:data:`POLICIES`):

* ``asap`` — the plain queue: jobs in release order, every stage at the earliest
  time a host has the GPUs free (the first such host in fleet order), at the
  GPU's default power cap.  The baseline.
* ``energy-aware`` — jobs in deadline order; every stage goes where it adds the
  least energy to the whole fleet, over all hosts, start times and power caps,
  as long as the rest of the job can still finish by the deadline at full speed.
  Paying only the marginal energy makes it prefer hours when a host is already on
  (for labs or other GPU work: shared powered hours, consolidation) and caps that
  lower energy per epoch.  A job it cannot fit by its deadline this way is
  scheduled again, stage by stage at the earliest finish, and the search never makes a late job later.
* ``asap-capped`` and ``energy-aware-uncapped`` — the two halves of
  ``energy-aware`` on their own (asap's placement with the energy-best cap; energy-
  aware placement at the default cap), to show where a saving comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gapa.jobs.hostload import HostLoad
from gapa.jobs.jobfile import Job
from gapa.jobs.profile import GpuProfile
from gapa.problem import REJECTED, Problem


@dataclass(frozen=True)
class StagePlacement:
    """Where one stage runs.

    Attributes:
        job: index of the job in the job list.
        stage: index of the stage in its job.
        host: host index.
        start_s / end_s: interval, whole seconds.
        gpus: GPUs used.
        cap_w: power cap of each GPU, watts.
        gpu_w: average watts of each GPU while the stage runs (from the profile).
        cores / ram_mb: host cores and RAM taken.
    """

    job: int
    stage: int
    host: int
    start_s: int
    end_s: int
    gpus: int
    cap_w: float
    gpu_w: float
    cores: int
    ram_mb: int


@dataclass(frozen=True)
class Schedule:
    """A policy's answer for a list of jobs.

    Attributes:
        policy: policy name.
        placements: every placed stage, grouped by job, in stage order.
        rejected: ``{job index: reason}`` for jobs with a stage no host can run.
    """

    policy: str
    placements: list[StagePlacement]
    rejected: dict[int, str]


@dataclass(frozen=True)
class _Option:
    """One way to run a stage on one host."""

    cap_w: float
    duration_s: int
    gpu_w: float


class JobContext:
    """What every policy needs: the lab problem and its placement, GPU hosts, profile, demands."""

    def __init__(self, problem: Problem, lab_allocation: np.ndarray, profile: GpuProfile):
        self.problem = problem
        self.lab_allocation = np.asarray(lab_allocation, dtype=np.int64)
        self.profile = profile
        f = problem.fleet
        self.settings = problem.scenario.gpu_jobs
        self.gpu_hosts = np.flatnonzero(f.gpus > 0)
        self.caps: dict[int, tuple[float, ...]] = {}
        self._options: dict[tuple[int, float, bool], list[_Option]] = {}
        self.default_cap: dict[int, float] = {}
        for g in f.groups:
            if g.gpus is None:
                continue
            if g.gpus.model not in profile.rows:
                raise ValueError(f"host group {g.name}: GPU model {g.gpus.model!r} is not in the GPU profile "
                                 f"{profile.source} (it has {', '.join(profile.models())})")
            known = profile.caps(g.gpus.model)
            caps = g.gpus.caps_w or tuple(float(c) for c in known if c <= g.gpus.max_w)
            for c in (*caps, g.gpus.max_w):
                if c not in known:
                    raise ValueError(f"host group {g.name}: the GPU profile has no row for {g.gpus.model} at "
                                     f"{c:g} W (it has {', '.join(f'{x:g}' for x in known)})")
                busy_w = profile.at(g.gpus.model, c)[1]
                if g.gpus.idle_w >= busy_w:
                    raise ValueError(f"host group {g.name}: idle_w {g.gpus.idle_w:g} W is not below what a "
                                     f"{g.gpus.model} draws running at its {c:g} W cap ({busy_w:.1f} W, from the "
                                     "GPU profile)")
            for h in np.flatnonzero(f.group_of_host == f.groups.index(g)):
                self.caps[int(h)] = tuple(caps)
                self.default_cap[int(h)] = float(g.gpus.max_w)

    def loads(self) -> dict[int, HostLoad]:
        """Fresh per-host state: every GPU host with its lab VMs."""
        out = {}
        for h in self.gpu_hosts:
            out[int(h)] = HostLoad(self.problem, int(h), np.flatnonzero(self.lab_allocation == h))
        return out

    def options(self, host: int, work: float, capped: bool) -> list[_Option]:
        """Ways to run ``work`` reference epochs on ``host``: every allowed cap, or the default only."""
        group = int(self.problem.fleet.group_of_host[host])
        key = (group, work, capped)
        if key not in self._options:
            model = self.problem.fleet.groups[group].gpus.model
            caps = self.caps[host] if capped else (self.default_cap[host],)
            out = []
            for c in caps:
                secs, watts = self.profile.at(model, c)
                out.append(_Option(c, max(1, math.ceil(work * secs - 1e-9)), watts))
            self._options[key] = out
        return self._options[key]

    def extra_w(self, p: StagePlacement) -> float:
        """Watts a placed stage adds to its host while it runs, above its GPUs' idle draw."""
        return p.gpus * (p.gpu_w - float(self.problem.fleet.gpu_idle_w[p.host]))

    def place(self, loads: dict[int, HostLoad], p: StagePlacement) -> None:
        """Add a placed stage to its host's load."""
        load = loads[p.host]
        load.add(p.start_s, p.end_s, p.cores, p.ram_mb, p.gpus,
                 load.utilisation_units(p.cores, self.settings.cpu_util), self.extra_w(p))

    def demand(self, gpus: int) -> tuple[int, int]:
        """Host cores and RAM (MB) a stage on ``gpus`` GPUs takes."""
        return gpus * self.settings.cores_per_gpu, gpus * self.settings.ram_mb_per_gpu


class GpuPolicy:
    """A scheduling policy: subclasses say how jobs are ordered and how a stage is chosen."""

    name = "policy"
    #: choose among power caps (else every stage runs at the GPU's default cap)
    capped = False
    #: pick the least marginal energy (else the earliest start, first host)
    energy = False

    def order(self, jobs: list[Job]) -> list[int]:
        """The order jobs are scheduled in (indices)."""
        return sorted(range(len(jobs)), key=lambda j: (jobs[j].release_s, j))

    def schedule(self, ctx: JobContext, jobs: list[Job], rng: np.random.Generator | None = None) -> Schedule:
        """Place every stage of every job (``rng`` drives policies that search; seed it for repeatability)."""
        loads = ctx.loads()
        placements, rejected = self._construct(ctx, jobs, loads, self.order(jobs))
        return _as_schedule(self.name, placements, rejected)

    def _construct(self, ctx: JobContext, jobs: list[Job], loads: dict[int, HostLoad], order: list[int],
                   energy: bool | None = None) -> tuple[dict[int, list[StagePlacement]], dict[int, str]]:
        placements: dict[int, list[StagePlacement]] = {}
        rejected: dict[int, str] = {}
        for j in order:
            reason = _unrunnable(ctx, jobs[j])
            if reason:
                rejected[j] = reason
                continue
            placements[j] = self._insert(ctx, loads, jobs, j, self.energy if energy is None else energy)
        return placements, rejected

    def _insert(self, ctx: JobContext, loads: dict[int, HostLoad], jobs: list[Job], j: int,
                energy: bool) -> list[StagePlacement]:
        """Place one job's stages on ``loads`` (which they are added to)."""
        placed = self._place_job(ctx, loads, jobs[j], j, mode="energy" if energy else "asap")
        if energy and placed[-1].end_s > jobs[j].deadline_s:
            first_try = placed
            _undo(loads, placed)
            placed = self._place_job(ctx, loads, jobs[j], j, mode="finish")
            if placed[-1].end_s >= first_try[-1].end_s:  # no sooner: keep the cheaper one
                _undo(loads, placed)
                _redo(ctx, loads, first_try)
                placed = first_try
        return placed

    def _place_job(self, ctx: JobContext, loads: dict[int, HostLoad], job: Job, j: int,
                   mode: str) -> list[StagePlacement]:
        rest = _fastest_rest(ctx, job)
        ready = job.release_s
        out: list[StagePlacement] = []
        for i, stage in enumerate(job.stages):
            latest_end = job.deadline_s - rest[i]
            p = _best_placement(ctx, loads, job, j, i, ready, latest_end, mode, self.capped)
            ctx.place(loads, p)
            out.append(p)
            ready = p.end_s
        return out


def _as_schedule(name: str, placements: dict[int, list[StagePlacement]], rejected: dict[int, str]) -> Schedule:
    return Schedule(name, [p for j in sorted(placements) for p in placements[j]], dict(sorted(rejected.items())))


def _score(jobs: list[Job], placements: dict[int, list[StagePlacement]], loads: dict[int, HostLoad]):
    """(deadlines missed, seconds late in all, energy of the GPU hosts in J): what the energy-aware
    search minimises, in that order — a late job is never made later to save energy."""
    late = [pl[-1].end_s - jobs[j].deadline_s for j, pl in placements.items() if pl[-1].end_s > jobs[j].deadline_s]
    return len(late), sum(late), round(sum(load.energy_j() for load in loads.values()), 6)


def _undo(loads: dict[int, HostLoad], placed: list[StagePlacement]) -> None:
    for p in reversed(placed):
        load = loads[p.host]
        load.truncate(len(load) - 1)


def _redo(ctx: JobContext, loads: dict[int, HostLoad], placed: list[StagePlacement]) -> None:
    for p in placed:
        ctx.place(loads, p)


def _unrunnable(ctx: JobContext, job: Job) -> str:
    f = ctx.problem.fleet
    cores, ram = ctx.demand(job.gpus)
    hosts = ctx.gpu_hosts
    ok = (f.gpus[hosts] >= job.gpus) & (f.cores[hosts] >= cores) & (f.ram_mb[hosts] >= ram)
    if not ok.any():
        return (f"no GPU host has {job.gpus} GPUs, {cores} cores and {ram} MB of RAM, even empty "
                f"(the largest have {int(f.gpus[hosts].max())} GPUs, {int(f.cores[hosts].max())} cores, "
                f"{int(f.ram_mb[hosts].max())} MB)")
    return ""


def _fastest_rest(ctx: JobContext, job: Job) -> list[int]:
    """For each stage: the least time the stages after it need, at the fastest cap on the fastest host."""
    f = ctx.problem.fleet
    cores, ram = ctx.demand(job.gpus)
    hosts = [int(h) for h in ctx.gpu_hosts
             if f.gpus[h] >= job.gpus and f.cores[h] >= cores and f.ram_mb[h] >= ram]
    need = [min(o.duration_s for h in hosts for o in ctx.options(h, s.work, True)) for s in job.stages]
    rest = [0] * len(need)
    for i in range(len(need) - 2, -1, -1):
        rest[i] = rest[i + 1] + need[i + 1]
    return rest


def start_candidates(load: HostLoad, ready: int, duration_s: int) -> np.ndarray:
    """Every start time (s, ≥ ``ready``) at which an item of ``duration_s`` seconds on
    ``load``'s host can cost least, sorted.

    Between consecutive candidates the host's energy with the item is linear in the
    start time, or, where a gap on either side crosses the power policy's threshold, it
    jumps there.  So the candidates are: ``ready``; the item starting or ending at an
    event of the host; and, when the threshold is finite and positive, the item
    leaving a gap after an event, or before one, of the longest whole number of seconds
    that is idled through and of one second more (where the gap becomes long enough
    to switch the host off: the cheaper side depends on whether a switch costs more
    or less than idling through the threshold).
    """
    ev = load.event_times()
    parts = [np.array([ready]), ev, ev - duration_s]
    threshold = load.switch_threshold_s
    if 0 < threshold < np.inf:
        longest_idled = math.ceil(threshold) - 1  # gaps are whole seconds; shorter than the threshold idles
        for k in (longest_idled, longest_idled + 1):
            parts += [ev + k, ev - k - duration_s]
    t = np.concatenate(parts).astype(np.int64)
    return np.unique(t[t >= ready])


def _best_placement(ctx: JobContext, loads: dict[int, HostLoad], job: Job, j: int, i: int, ready: int,
                    latest_end: int, mode: str, capped: bool) -> StagePlacement:
    """Choose one stage's host, start and cap.

    ``mode``: ``"asap"`` (earliest start, first host, then the least energy among caps),
    ``"energy"`` (least marginal energy among options ending by ``latest_end``; the earliest
    finish when none does) or ``"finish"`` (earliest finish).  All candidates of one host
    (every start time worth trying × every cap) are checked and priced in one vectorised call.
    """
    stage = job.stages[i]
    cores, ram = ctx.demand(stage.gpus)
    best: tuple | None = None
    for h, load in loads.items():
        if load.gpus_cap < stage.gpus or load.cores_cap < cores or load.ram_cap < ram:
            continue
        idle = float(ctx.problem.fleet.gpu_idle_w[h])
        options = ctx.options(h, stage.work, capped)
        if mode == "asap":
            ends_now = load.item_ends()
            base_times = np.concatenate([[ready], ends_now[ends_now > ready]])
            per_option = [base_times] * len(options)
        else:
            per_option = [start_candidates(load, ready, opt.duration_s) for opt in options]
        which = np.concatenate([np.full(len(t), k) for k, t in enumerate(per_option)])
        times = np.concatenate(per_option)
        dur = np.array([o.duration_s for o in options], dtype=np.int64)[which]
        fit = load.fits(times, times + dur, cores, ram, stage.gpus)
        times, dur, which = times[fit], dur[fit], which[fit]
        if not len(times):
            continue  # cannot happen: after the host's last item everything is free
        if mode == "asap":  # the earliest start of each option
            first = np.array([np.flatnonzero(which == k)[0] for k in np.unique(which)])
            times, dur, which = times[first], dur[first], which[first]
        ends = times + dur
        if mode == "asap" and not capped:
            marginal = np.zeros(len(times))
        else:
            gpu_w = np.array([o.gpu_w for o in options])[which]
            util = load.utilisation_units(cores, ctx.settings.cpu_util)
            marginal = load.energies_with(times, ends, util, stage.gpus * (gpu_w - idle)) - load.energy_j()
        marginal = np.round(marginal, 6)
        late = ends > latest_end
        if mode == "asap":
            keys = (times, np.full(len(times), h), marginal, ends)
        elif mode == "energy":
            keys = (late, np.where(late, ends, 0), marginal, ends, np.full(len(times), h))
        else:
            keys = (ends, marginal, np.full(len(times), h))
        k = int(np.lexsort(keys[::-1])[0])
        key = tuple(float(x[k]) for x in keys)
        if best is None or key < best[0]:
            best = (key, h, int(times[k]), int(ends[k]), options[int(which[k])])
    assert best is not None, "a GPU host that can hold the stage always has room after its last item"
    _, h, t, e, opt = best
    return StagePlacement(j, i, h, t, e, stage.gpus, opt.cap_w, opt.gpu_w, cores, ram)


class Asap(GpuPolicy):
    name = "asap"


class AsapCapped(GpuPolicy):
    name = "asap-capped"
    capped = True


class EnergyAware(GpuPolicy):
    """Greedy least-marginal-energy insertion, then a ruin-and-recreate search.

    The start is the best of three schedules: greedy insertion with jobs by
    deadline, greedy insertion with jobs by release, and asap's placement with the
    energy-best caps.  Each of ``iterations`` rounds takes some jobs out — 1–3 at
    random, or every job with a stage on one random host, or every job running at
    one random instant — and puts them back one by one, in random order, each stage
    where it adds the least energy given everything else.  A round is kept when it
    misses no more deadlines and uses no more energy.  Every evaluation is exact (the
    fast path of :class:`HostLoad`), so the search never trades a modelled joule for
    a guess; the run's seed fixes its random choices.
    """

    name = "energy-aware"
    capped = True
    energy = True

    def __init__(self, iterations: int = 500):
        if iterations < 0:
            raise ValueError("iterations must be ≥ 0")
        self.iterations = int(iterations)

    def order(self, jobs: list[Job]) -> list[int]:
        return sorted(range(len(jobs)), key=lambda j: (jobs[j].deadline_s, jobs[j].release_s, j))

    def schedule(self, ctx: JobContext, jobs: list[Job], rng: np.random.Generator | None = None) -> Schedule:
        rng = rng if rng is not None else np.random.default_rng(0)
        best = None
        release_order = GpuPolicy.order(self, jobs)
        for order, energy in ((self.order(jobs), True), (release_order, True), (release_order, False)):
            loads = ctx.loads()
            placements, rejected = self._construct(ctx, jobs, loads, order, energy)
            score = _score(jobs, placements, loads)
            if best is None or score < best[0]:
                best = (score, placements, rejected)
        score, placements, rejected = best
        placed_jobs = sorted(placements)
        for _ in range(self.iterations if len(placed_jobs) > 1 else 0):
            out = _ruin(rng, placements, placed_jobs)
            loads = ctx.loads()
            trial = {j: pl for j, pl in placements.items() if j not in out}
            for pl in trial.values():
                _redo(ctx, loads, pl)
            for j in rng.permutation(out).tolist():
                trial[j] = self._insert(ctx, loads, jobs, j, True)
            trial_score = _score(jobs, trial, loads)
            if trial_score <= score:
                score, placements = trial_score, trial
        return _as_schedule(self.name, placements, rejected)


def _ruin(rng: np.random.Generator, placements: dict[int, list[StagePlacement]], placed_jobs: list[int]) -> list[int]:
    """Jobs to take out in one round of the search."""
    move = rng.random()
    if move < 0.5:
        k = int(rng.integers(1, min(3, len(placed_jobs)) + 1))
        return [int(x) for x in rng.choice(placed_jobs, size=k, replace=False)]
    stages = [p for pl in placements.values() for p in pl]
    pick = stages[int(rng.integers(len(stages)))]
    if move < 0.75:
        out = sorted({p.job for p in stages if p.host == pick.host})
    else:
        t = int(rng.integers(pick.start_s, pick.end_s))
        out = sorted({p.job for p in stages if p.start_s <= t < p.end_s})
    return out


class EnergyAwareUncapped(EnergyAware):
    name = "energy-aware-uncapped"
    capped = False


POLICIES: dict[str, type[GpuPolicy]] = {p.name: p for p in (Asap, EnergyAware, AsapCapped, EnergyAwareUncapped)}
DEFAULT_POLICIES = ("asap", "energy-aware")


def make_policy(name: str, iterations: int | None = None) -> GpuPolicy:
    """A policy by name; ``iterations`` sets the energy-aware search's rounds (default 500).

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    cls = POLICIES[name]
    if issubclass(cls, EnergyAware) and iterations is not None:
        return cls(iterations)
    return cls()


__all__ = ["DEFAULT_POLICIES", "POLICIES", "REJECTED", "GpuPolicy", "JobContext", "Schedule", "StagePlacement",
           "make_policy"]
