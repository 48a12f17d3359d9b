"""One GPU-jobs run: schedule the jobs around the placed lab VMs with one policy, simulate
labs and GPU work together in SimPy, and split the energy into the lab share and the GPU share.

* **lab share** — what the lab VMs alone use: the same lab placement simulated
  without any GPU work (idle GPUs of hosts powered for labs included);
* **GPU share** — the total minus the lab share: the marginal energy of the GPU work.

The GPU share is broken down into where it goes (:class:`JobsRun.breakdown_j`):
the GPUs' own draw above idle, the hours hosts are on for GPU work only (at
their idle power, idle GPUs included), and the rest (CPU load of the stages,
boots).  The fast path (:class:`~gapa.jobs.hostload.HostLoad`) must agree with
the simulation to 1e-9; a disagreement is a bug and raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gapa
from gapa.jobs.jobfile import Job
from gapa.jobs.policies import JobContext, Schedule, make_policy
from gapa.jobs.profile import GpuProfile, load_profile
from gapa.problem import Problem
from gapa.run import AGREEMENT_RTOL, JOULES_PER_KWH, EvaluatorMismatch
from gapa.simulation import SimulationResult, StageLoad, simulate


@dataclass(frozen=True)
class JobsRun:
    """One policy's schedule and what it cost.

    Attributes:
        policy: policy name.
        schedule: the stage placements.
        simulation: labs and GPU work simulated together.
        lab: the lab VMs simulated alone (shared by every policy of one comparison).
        stages: the schedule as the simulation's stage table.
        jobs: the jobs.
        schedule_s: wall-clock seconds the policy took.
    """

    policy: str
    schedule: Schedule
    simulation: SimulationResult
    lab: SimulationResult
    stages: StageLoad
    jobs: list[Job]
    schedule_s: float
    problem: Problem = field(repr=False)

    @property
    def total_j(self) -> float:
        """Energy of labs and GPU work together, joules."""
        return self.simulation.energy_j

    @property
    def gpu_share_j(self) -> float:
        """Total minus the lab share: the marginal energy of the GPU work, joules."""
        return self.simulation.energy_j - self.lab.energy_j

    def job_ends(self) -> dict[int, int]:
        """End of each placed job's last stage, seconds."""
        ends: dict[int, int] = {}
        for p in self.schedule.placements:
            ends[p.job] = max(ends.get(p.job, 0), p.end_s)
        return ends

    def met(self) -> list[int]:
        """Jobs that finished by their deadline."""
        return [j for j, e in sorted(self.job_ends().items()) if e <= self.jobs[j].deadline_s]

    def missed(self) -> list[int]:
        """Placed jobs that finished after their deadline."""
        return [j for j, e in sorted(self.job_ends().items()) if e > self.jobs[j].deadline_s]

    def gpu_own_j(self) -> float:
        """Energy the stages' GPUs draw while running (GPUs × watts × seconds), joules."""
        return float(sum(p.gpus * p.gpu_w * (p.end_s - p.start_s) for p in self.schedule.placements))

    def breakdown_j(self) -> dict[str, float]:
        """Where the GPU share goes, joules (the three parts sum to the GPU share).

        * ``gpu_above_idle`` — the stages' GPUs above their idle draw;
        * ``hosts_on_for_gpu`` — host-seconds on beyond the lab-only run, at each host's idle power;
        * ``rest`` — everything else: the stages' CPU load, boots and shutdowns (negative when the
          GPU work saves boots, or when boot seconds are charged at idle power above).
        """
        idle = self.problem.fleet.gpu_idle_w
        above = float(sum(p.gpus * (p.gpu_w - idle[p.host]) * (p.end_s - p.start_s)
                          for p in self.schedule.placements))
        extra_on = self.simulation.host_on_s - self.lab.host_on_s
        on_j = float((extra_on * self.problem.fleet.idle_w).sum())
        return {"gpu_above_idle": above, "hosts_on_for_gpu": on_j, "rest": self.gpu_share_j - above - on_j}

    def gpu_seconds_in_lab_hours(self) -> tuple[float, float]:
        """``(GPU-seconds run while the host was on for labs anyway, all GPU-seconds)``."""
        periods = {tl.host: tl.on_periods for tl in self.lab.timelines}
        inside = total = 0.0
        for p in self.schedule.placements:
            total += p.gpus * (p.end_s - p.start_s)
            for a, b in periods.get(p.host, []):
                inside += p.gpus * max(0.0, min(b, p.end_s) - max(a, p.start_s))
        return inside, total

    def summary(self) -> dict[str, Any]:
        """Flat, JSON-friendly record (energies in J and kWh, times in s)."""
        jobs = self.jobs
        placed = self.schedule.placements
        releases = [jobs[j].release_s for j in self.job_ends()]
        ends = self.job_ends()
        inside, gpu_s = self.gpu_seconds_in_lab_hours()
        weights = np.array([p.gpus * (p.end_s - p.start_s) for p in placed], dtype=float)
        caps = np.array([p.cap_w for p in placed])
        default = np.array([self.problem.fleet.groups[int(self.problem.fleet.group_of_host[p.host])].gpus.max_w
                            for p in placed])
        parts = self.breakdown_j()
        return {
            "policy": self.policy,
            "total_j": self.total_j,
            "total_kwh": self.total_j / JOULES_PER_KWH,
            "lab_j": self.lab.energy_j,
            "lab_kwh": self.lab.energy_j / JOULES_PER_KWH,
            "gpu_share_j": self.gpu_share_j,
            "gpu_share_kwh": self.gpu_share_j / JOULES_PER_KWH,
            "gpu_own_j": self.gpu_own_j(),
            **{f"gpu_share_{k}_j": v for k, v in parts.items()},
            "makespan_s": (max(ends.values()) - min(releases)) if ends else 0,
            "last_end_s": max(ends.values()) if ends else 0,
            "jobs": len(jobs),
            "deadlines_met": len(self.met()),
            "missed_jobs": [jobs[j].job_id for j in self.missed()],
            "rejected_jobs": {jobs[j].job_id: why for j, why in self.schedule.rejected.items()},
            "stages": len(placed),
            "gpu_hours": gpu_s / 3600,
            "gpu_hours_in_lab_hours": inside / 3600,
            "mean_cap_w": float(np.average(caps, weights=weights)) if len(caps) else None,
            "mean_cap_share": float(np.average(caps / default, weights=weights)) if len(caps) else None,
            "hosts_used_for_gpu": len({p.host for p in placed}),
            "host_on_s": self.simulation.on_s,
            "lab_host_on_s": self.lab.on_s,
            "schedule_s": self.schedule_s,
            "gapa_version": gapa.__version__,
            "workload": self.problem.workload.source,
            "scenario": self.problem.scenario.source,
        }

    def stage_rows(self) -> list[dict[str, Any]]:
        """The stage schedule, one dict per stage (for CSV)."""
        rows = []
        for p in self.schedule.placements:
            job = self.jobs[p.job]
            rows.append({
                "policy": self.policy, "job_id": job.job_id, "template": job.template,
                "stage": job.stages[p.stage].name, "host": self.problem.fleet.host_ids[p.host],
                "start_s": p.start_s, "end_s": p.end_s, "gpus": p.gpus, "cap_w": p.cap_w,
                "gpu_w": p.gpu_w, "cores": p.cores, "ram_mb": p.ram_mb,
                "release_s": job.release_s, "deadline_s": job.deadline_s,
                "gpu_j": p.gpus * p.gpu_w * (p.end_s - p.start_s),
            })
        return rows


def stage_load(ctx: JobContext, jobs: list[Job], schedule: Schedule) -> StageLoad:
    """The schedule as the simulation's stage table."""
    pl = schedule.placements
    return StageLoad(
        names=np.array([f"{jobs[p.job].job_id}/{jobs[p.job].stages[p.stage].name}" for p in pl], dtype=object),
        chain=np.array([p.job for p in pl], dtype=np.int64),
        host=np.array([p.host for p in pl], dtype=np.int64),
        start_s=np.array([p.start_s for p in pl], dtype=np.int64),
        end_s=np.array([p.end_s for p in pl], dtype=np.int64),
        cores=np.array([p.cores for p in pl], dtype=np.int64),
        ram_mb=np.array([p.ram_mb for p in pl], dtype=np.int64),
        gpus=np.array([p.gpus for p in pl], dtype=np.int64),
        cpu_util=np.full(len(pl), ctx.settings.cpu_util),
        extra_w=np.array([ctx.extra_w(p) for p in pl], dtype=float),
    )


def fast_energy_j(ctx: JobContext, jobs: list[Job], schedule: Schedule, lab: SimulationResult) -> float:
    """Total energy from the fast path: GPU hosts by :class:`HostLoad`, the others from the lab run."""
    loads = ctx.loads()
    for p in schedule.placements:
        ctx.place(loads, p)
    gpu_hosts = list(loads)
    others = float(lab.host_energy_j.sum() - lab.host_energy_j[gpu_hosts].sum())
    return others + sum(load.energy_j() for load in loads.values())


def run_jobs(problem: Problem, lab_allocation: np.ndarray, jobs: list[Job], policies: list[str],
             profile: GpuProfile | None = None, seed: int = 0, iterations: int | None = None) -> list[JobsRun]:
    """Schedule ``jobs`` with each policy around the lab VMs, simulate, cross-check.

    Args:
        problem: the lab VMs and the fleet (which must have GPU hosts).
        lab_allocation: the lab VMs' hosts (−1 = rejected), placed first and never moved.
        jobs: the GPU jobs.
        policies: policy names.
        profile: GPU profile; default: the scenario's ``[gpu_jobs] profile`` or the built-in one.
        seed: the run's one seed; each policy's RNG is ``numpy.random.default_rng(seed)``.
        iterations: rounds of the energy-aware search (default 500).

    Raises:
        ValueError: the fleet has no GPU hosts, the profile lacks a GPU or cap, or an unknown policy.
        EvaluatorMismatch: the fast path and the simulation disagree (a bug).
    """
    if not (problem.fleet.gpus > 0).any():
        raise ValueError(f"the fleet of {problem.scenario.source} has no GPU hosts "
                         "(give a host group gpus = {{ count, model, idle_w, max_w }})")
    profile = profile or load_profile(problem.scenario.gpu_jobs.profile)
    made = [make_policy(name, iterations) for name in policies]
    ctx = JobContext(problem, lab_allocation, profile)
    lab = simulate(problem, lab_allocation)
    runs = []
    for policy in made:
        t0 = time.perf_counter()
        schedule = policy.schedule(ctx, jobs, np.random.default_rng(seed))
        took = time.perf_counter() - t0
        stages = stage_load(ctx, jobs, schedule)
        sim = simulate(problem, lab_allocation, stages)
        fast = fast_energy_j(ctx, jobs, schedule, lab)
        if not np.isclose(fast, sim.energy_j, rtol=AGREEMENT_RTOL, atol=1e-6):
            raise EvaluatorMismatch(f"{policy.name}: fast path {fast!r} J ≠ simulation {sim.energy_j!r} J")
        runs.append(JobsRun(policy.name, schedule, sim, lab, stages, jobs, took, problem))
    return runs
