"""The GPU companion: stage order, capacities shared with lab VMs, lab reservations,
deadlines, energy accounting, the fast path against SimPy, and the energy-aware policy's
saving on the shipped jobs and on random job sets."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapa.errors import InfeasibleAllocation, InputError
from gapa.fleet import Fleet, GpuSpec, HostGroup
from gapa.jobs import load_jobs, load_profile, make_job, run_jobs
from gapa.jobs.hostload import HostLoad
from gapa.jobs.profile import parse_profile, profile_from_zeus, zeus_texts
from gapa.jobs.run import JobsRun
from gapa.jobs.synthetic import random_gpu_jobs
from gapa.policy import PowerPolicy
from gapa.power import OffsetModel, ShapeModel, specpower_model
from gapa.problem import REJECTED, Problem
from gapa.run import run_allocator
from gapa.scenario import Scenario, load_scenario
from gapa.simulation import simulate
from gapa.workload import Workload, load_workload

ROOT = Path(__file__).resolve().parent.parent
ONEDAY = ROOT / "workloads/oneday.csv"
GPU_JOBS = ROOT / "workloads/gpu_jobs.csv"
LAB_GPU = ROOT / "scenarios/lab_gpu.toml"


@pytest.fixture(scope="module")
def oneday_gpu():
    """oneday's lab VMs placed by BFD on the shipped GPU fleet."""
    problem = Problem(load_workload(ONEDAY), load_scenario(LAB_GPU))
    return problem, run_allocator(problem, "bfd").allocation


@pytest.fixture(scope="module")
def shipped_runs(oneday_gpu):
    problem, lab = oneday_gpu
    return run_jobs(problem, lab, load_jobs(GPU_JOBS), ["asap", "energy-aware"], seed=0)


# -- independent checks of a schedule --------------------------------------------------------

def check_schedule(run: JobsRun, lab_allocation: np.ndarray) -> None:
    """Stage order, release times, and cores/RAM/GPUs of every host at every instant, counted
    here from scratch (lab VMs + stages), never from the policy's own bookkeeping."""
    problem, jobs = run.problem, run.jobs
    f, w = problem.fleet, problem.workload
    by_job: dict[int, list] = {}
    for p in run.schedule.placements:
        by_job.setdefault(p.job, []).append(p)
        assert p.end_s > p.start_s
        assert f.gpus[p.host] >= p.gpus > 0
    for j, stages in by_job.items():
        assert [p.stage for p in stages] == list(range(len(jobs[j].stages))), "every stage, in order"
        assert stages[0].start_s >= jobs[j].release_s
        for a, b in itertools.pairwise(stages):
            assert b.start_s >= a.end_s, f"{jobs[j].job_id}: stage {b.stage} starts before {a.stage} ends"
    assert set(by_job) | set(run.schedule.rejected) == set(range(len(jobs))), "every job placed or rejected"
    for h in np.flatnonzero(f.gpus > 0):
        vms = np.flatnonzero(lab_allocation == h)
        items = [(int(w.start_s[v]), int(w.end_s[v]), int(w.cores[v]), int(w.ram_mb[v]), 0) for v in vms]
        items += [(p.start_s, p.end_s, p.cores, p.ram_mb, p.gpus) for p in run.schedule.placements if p.host == h]
        for t in {s for s, *_ in items}:
            active = [x for x in items if x[0] <= t < x[1]]
            assert sum(x[2] for x in active) <= f.cores[h]
            assert sum(x[3] for x in active) <= f.ram_mb[h]
            assert sum(x[4] for x in active) <= f.gpus[h]


def test_shipped_schedules_are_valid(shipped_runs, oneday_gpu):
    _, lab = oneday_gpu
    for run in shipped_runs:
        check_schedule(run, lab)
        assert run.summary()["deadlines_met"] == len(run.met())


def test_lab_reservations_untouched(shipped_runs, oneday_gpu):
    """The lab VMs run where and when the lab allocator put them, whatever the GPU work: hosts
    without GPUs use exactly the same energy with and without the GPU jobs, and the joint
    simulation admits every lab VM and every stage at its own host."""
    problem, lab = oneday_gpu
    alone = simulate(problem, lab)
    no_gpu = problem.fleet.gpus == 0
    for run in shipped_runs:
        np.testing.assert_array_equal(run.simulation.host_energy_j[no_gpu], alone.host_energy_j[no_gpu])
        # the joint simulation admitted every lab VM and every stage, each at its own host
        admitted = run.simulation.host_vms
        expected = np.bincount(lab[lab != REJECTED], minlength=problem.n_hosts)
        np.add.at(expected, [p.host for p in run.schedule.placements], 1)
        np.testing.assert_array_equal(admitted, expected)


def test_gpu_share_at_least_the_gpus_own_draw(shipped_runs):
    """The GPU share covers at least what the stages' GPUs draw above the idle watts they would
    draw anyway in a powered host; and the breakdown adds up to the GPU share."""
    for run in shipped_runs:
        parts = run.breakdown_j()
        assert run.gpu_share_j >= parts["gpu_above_idle"] - 1e-6
        # here no stage runs on a host powered for labs, so the GPU share covers the GPUs' whole draw
        if run.summary()["gpu_hours_in_lab_hours"] == 0:
            assert run.gpu_share_j >= run.gpu_own_j()
        assert parts["hosts_on_for_gpu"] >= 0
        assert sum(parts.values()) == pytest.approx(run.gpu_share_j, rel=1e-12)


def test_gpu_share_at_least_gpu_energy_when_labs_leave_gpu_hosts_alone():
    """With no lab VM on a GPU host, every second a GPU host is on is for GPU work: the GPU share
    is at least the stages' GPUs at their full profiled watts."""
    problem = Problem(load_workload(ONEDAY), load_scenario(ROOT / "scenarios/lab.toml"))
    lab_problem = _with_gpu_hosts(problem)
    lab = run_allocator(problem, "bfd").allocation  # placed on the CPU hosts only
    for run in run_jobs(lab_problem, lab, load_jobs(GPU_JOBS)[:6], ["asap", "energy-aware"], iterations=20):
        assert run.gpu_share_j >= run.gpu_own_j() - 1e-6


def _with_gpu_hosts(problem: Problem) -> Problem:
    gpu = HostGroup("gpu", 2, 24, 3067, 98304, OffsetModel(specpower_model("IbmX3550XeonX5675"), 120, "4 GPUs"),
                    GpuSpec(4, "v100", 30.0, 250.0, ()))
    fleet = Fleet([*problem.fleet.groups, gpu])
    return Problem(problem.workload, Scenario(fleet, problem.policy, source="lab + gpu"))


def test_shipped_energy_aware_saves_ten_percent(shipped_runs):
    asap, aware = shipped_runs
    assert aware.gpu_share_j <= 0.9 * asap.gpu_share_j
    assert set(asap.met()) <= set(aware.met())


@pytest.mark.parametrize("seed", range(6))
def test_random_job_sets_energy_aware_saves_ten_percent(oneday_gpu, seed):
    """Random batches of 6-14 pruning jobs beside oneday: energy-aware's GPU share is at least
    10 % below asap's and it meets every deadline asap meets."""
    problem, lab = oneday_gpu
    jobs = random_gpu_jobs(np.random.default_rng(100 + seed))
    asap, aware = run_jobs(problem, lab, jobs, ["asap", "energy-aware"], seed=seed)
    check_schedule(aware, lab)
    assert aware.gpu_share_j <= 0.9 * asap.gpu_share_j, (aware.gpu_share_j, asap.gpu_share_j)
    assert set(asap.met()) <= set(aware.met())


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])  # seed 1: 18 s
def test_random_tight_job_sets_keep_every_deadline_asap_meets(oneday_gpu, seed):
    """25 jobs with 1.5-8 h from release to deadline, so that asap misses some: energy-aware
    still meets every deadline asap meets, and saves at least 10 % (with 150 search rounds
    instead of the default 500, to keep the suite quick)."""
    problem, lab = oneday_gpu
    jobs = random_gpu_jobs(np.random.default_rng(200 + seed), 25, slack_h=(1.5, 8))
    asap, aware = run_jobs(problem, lab, jobs, ["asap", "energy-aware"], seed=seed, iterations=150)
    check_schedule(aware, lab)
    assert len(asap.met()) < len(jobs), "the set should be tight enough for asap to miss some"
    assert set(asap.met()) <= set(aware.met())
    assert aware.gpu_share_j <= 0.9 * asap.gpu_share_j


def test_same_seed_same_schedule(oneday_gpu):
    problem, lab = oneday_gpu
    jobs = random_gpu_jobs(np.random.default_rng(5), 6)
    a = run_jobs(problem, lab, jobs, ["energy-aware"], seed=3, iterations=40)[0]
    b = run_jobs(problem, lab, jobs, ["energy-aware"], seed=3, iterations=40)[0]
    assert a.schedule == b.schedule and a.total_j == b.total_j


def test_missed_deadline_is_reported_not_hidden(oneday_gpu):
    problem, lab = oneday_gpu
    tight = make_job("tight", "ginp", 9 * 3600, 9 * 3600 + 600)  # hours of work, ten minutes to do it
    fine = make_job("fine", "gating", 9 * 3600, 60 * 3600, params={"epochs": 20})
    for run in run_jobs(problem, lab, [tight, fine], ["asap", "energy-aware"], iterations=10):
        assert run.missed() == [0] and run.met() == [1]
        assert run.summary()["missed_jobs"] == ["tight"]


def test_a_late_job_is_not_made_later_to_save_energy(oneday_gpu):
    problem, lab = oneday_gpu
    late = make_job("late", "gating", 9 * 3600, 9 * 3600 + 1800)  # hours of work, half an hour to do it
    asap, aware = run_jobs(problem, lab, [late], ["asap", "energy-aware"], iterations=20)
    assert asap.missed() == aware.missed() == [0]
    assert aware.job_ends()[0] <= asap.job_ends()[0]


def test_idle_watts_above_a_running_gpu_are_refused(oneday_gpu, write):
    problem, lab = oneday_gpu
    text = LAB_GPU.read_text().replace('model = "v100", idle_w = 30', 'model = "v100", idle_w = 150')
    scenario = load_scenario(write("s.toml", text))
    with pytest.raises(ValueError, match="idle_w 150 W is not below"):
        run_jobs(Problem(problem.workload, scenario), lab, load_jobs(GPU_JOBS), ["asap"])


def test_job_that_no_host_can_run_is_rejected(oneday_gpu):
    problem, lab = oneday_gpu
    gang = make_job("gang8", "partition", 9 * 3600, 40 * 3600, gpus=8)
    ok = make_job("ok", "gating", 9 * 3600, 60 * 3600, params={"epochs": 20})
    for run in run_jobs(problem, lab, [gang, ok], ["asap", "energy-aware"], iterations=5):
        assert list(run.schedule.rejected) == [0] and "no GPU host has 8 GPUs" in run.schedule.rejected[0]
        assert run.met() == [1]


# -- the fast path against the SimPy simulation, on random instances ----------------------------

@st.composite
def gpu_instances(draw):
    """A random little cloud with GPU hosts, power policy and lab day, plus random short jobs."""
    idle = draw(st.sampled_from(["off", "on", "breakeven"]))
    latency = draw(st.sampled_from([0, 60, 300]))
    policy = draw(st.sampled_from([
        PowerPolicy(idle),
        PowerPolicy(idle, latency, draw(st.floats(0, 400_000)), latency, draw(st.floats(0, 100_000)))]))
    groups = [HostGroup("cpu", draw(st.integers(1, 3)), 8, 3000, 32768, ShapeModel("linear", 50, 200))]
    for g in range(draw(st.integers(1, 2))):
        n_gpus = draw(st.integers(1, 4))
        idle_w = draw(st.floats(0, 60))
        model = draw(st.sampled_from(["v100", "a40"]))
        base = ShapeModel(draw(st.sampled_from(["linear", "square", "sqrt"])), 60, 300)
        groups.append(HostGroup(f"gpu{g}", draw(st.integers(1, 2)), draw(st.integers(8, 32)), 3000, 131072,
                                OffsetModel(base, n_gpus * idle_w, "gpus"),
                                GpuSpec(n_gpus, model, idle_w, 250.0 if model == "v100" else 300.0, ())))
    fleet = Fleet(groups)
    n = draw(st.integers(1, 15))
    grid = 600
    start = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))) * grid
    end = start + np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))) * grid
    cores = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    workload = Workload.from_arrays(start, end, cores, [1024] * n, [float("nan")] * n,
                                    draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    problem = Problem(workload, Scenario(fleet, policy))
    jobs = []
    for k in range(draw(st.integers(1, 6))):
        template = draw(st.sampled_from(["ginp", "partition", "gating"]))
        params = {"ginp": {"pretrain": draw(st.integers(0, 20)), "iterations": draw(st.integers(1, 3)),
                           "retrain": draw(st.integers(1, 10)), "distil": draw(st.integers(0, 5))},
                  "partition": {"epochs": draw(st.integers(1, 30))},
                  "gating": {"epochs": draw(st.integers(1, 30))}}[template]
        gpus = draw(st.integers(1, 2))
        release = draw(st.integers(0, 40)) * grid
        jobs.append(make_job(f"j{k}", template, release, release + draw(st.integers(1, 80)) * grid, gpus, params))
    return problem, jobs, draw(st.integers(0, 2**16))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gpu_instances())
def test_fast_path_matches_simulation_on_random_instances(instance):
    """run_jobs raises if the fast path and SimPy disagree beyond 1e-9; here we also recompute
    the energy host by host from the simulation's own per-host meters."""
    problem, jobs, seed = instance
    rng = np.random.default_rng(seed)
    lab = np.full(problem.n_vms, REJECTED)
    hosts = rng.permutation(problem.n_hosts)
    for v in range(problem.n_vms):  # a feasible lab placement: one VM per host at a time is enough here
        for h in hosts:
            others = np.flatnonzero(lab == h)
            w = problem.workload
            busy = w.cores[others][(w.start_s[others] < w.end_s[v]) & (w.start_s[v] < w.end_s[others])].sum()
            if busy + w.cores[v] <= problem.fleet.cores[h]:
                lab[v] = h
                break
    for run in run_jobs(problem, lab, jobs, ["asap", "energy-aware", "asap-capped"], seed=seed, iterations=5):
        check_schedule(run, lab)
        loads = {h: HostLoad(problem, h, np.flatnonzero(lab == h)) for h in np.flatnonzero(problem.fleet.gpus > 0)}
        for p in run.schedule.placements:
            load = loads[p.host]
            load.add(p.start_s, p.end_s, p.cores, p.ram_mb, p.gpus, load.utilisation_units(p.cores, 0.5),
                     p.gpus * (p.gpu_w - problem.fleet.gpu_idle_w[p.host]))
        for h, load in loads.items():
            assert load.energy_j() == pytest.approx(run.simulation.host_energy_j[h], rel=1e-9, abs=1e-6)
        p = problem.policy
        if p.boot_s == p.shutdown_s == 0 and p.boot_j == p.shutdown_j == 0:
            # with free, instant boots GPU work cannot save a boot, so it costs at least its GPUs' extra draw
            assert run.gpu_share_j >= run.breakdown_j()["gpu_above_idle"] - 1e-6


@st.composite
def one_gpu_host(draw):
    """One GPU host holding a few lab VMs (times on a 60 s grid), under a random power
    policy, including boots slower than the break-even gap (threshold above it)."""
    idle = draw(st.sampled_from(["off", "breakeven", "on"]))
    boot_s, shutdown_s = draw(st.sampled_from([0, 60, 600, 1800])), draw(st.sampled_from([0, 60, 300]))
    policy = PowerPolicy(idle, boot_s, draw(st.floats(0, 300_000)), shutdown_s, draw(st.floats(0, 50_000)))
    base = ShapeModel(draw(st.sampled_from(["linear", "square", "sqrt"])), 60, 300)
    group = HostGroup("gpu", 1, 16, 3000, 65536, OffsetModel(base, 2 * 30.0, "gpus"),
                      GpuSpec(2, "v100", 30.0, 250.0, ()))
    n = draw(st.integers(1, 6))
    start = np.array(draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))) * 60
    end = start + np.array(draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))) * 60
    cores = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    workload = Workload.from_arrays(start, end, cores, [1024] * n, [float("nan")] * n,
                                    draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    problem = Problem(workload, Scenario(Fleet([group]), policy))
    stage = (draw(st.integers(0, 240)) * 60, draw(st.integers(1, 90)) * 60, draw(st.integers(1, 2)),
             draw(st.floats(10, 200)))  # ready, duration, GPUs, watts above idle per GPU
    return problem, stage


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_gpu_host())
def test_start_candidates_hold_the_cheapest_start(instance):
    """The energy-aware policy tries only a few start times per host: none of the others,
    tried second by second, costs less."""
    from gapa.jobs.policies import start_candidates

    problem, (ready, duration, gpus, extra_w) = instance
    load = HostLoad(problem, 0, np.arange(problem.n_vms))
    cores, ram = 4 * gpus, 16384 * gpus
    util = load.utilisation_units(cores, 0.5)
    threshold = load.switch_threshold_s
    last = int(max(load.event_times().max(), ready)) + (int(np.ceil(threshold)) if threshold < np.inf else 0)

    def cheapest(times):
        times = times[load.fits(times, times + duration, cores, ram, gpus)]
        return load.energies_with(times, times + duration, util, np.full(len(times), gpus * extra_w)).min()

    every_second = np.arange(ready, last + duration + 2, dtype=np.int64)
    best = cheapest(every_second)
    assert cheapest(start_candidates(load, ready, duration)) <= best + 1e-6 * max(1.0, abs(best))


def test_simulation_refuses_a_stage_before_its_predecessor(oneday_gpu):
    problem, lab = oneday_gpu
    run = run_jobs(problem, lab, [make_job("a", "ginp", 9 * 3600, 60 * 3600)], ["asap"])[0]
    stages = run.stages
    broken = type(stages)(**{**stages.__dict__, "start_s": stages.start_s.copy(), "end_s": stages.end_s.copy()})
    broken.start_s[1] -= 60  # the second stage now starts a minute before the first ends
    with pytest.raises(InfeasibleAllocation, match="before its predecessor ends"):
        simulate(problem, lab, broken)


def test_simulation_refuses_too_many_gpus(oneday_gpu):
    problem, lab = oneday_gpu
    run = run_jobs(problem, lab, [make_job("a", "gating", 9 * 3600, 60 * 3600)], ["asap"])[0]
    stages = run.stages
    broken = type(stages)(**{**stages.__dict__, "gpus": stages.gpus * 0 + 5})
    with pytest.raises(InfeasibleAllocation, match="GPUs"):
        simulate(problem, lab, broken)


# -- inputs ------------------------------------------------------------------------------------

def test_builtin_profile_is_derived_from_the_zeus_files():
    shipped = (ROOT / "gapa/data/gpu_profile.csv").read_text(encoding="utf-8")
    assert shipped == profile_from_zeus(zeus_texts())
    profile = load_profile()
    assert profile.models() == ["a40", "p100", "rtx6000", "v100"]
    secs, watts = profile.at("v100", 250)
    assert secs == pytest.approx(7.6133, abs=1e-3) and watts == pytest.approx(187.69, abs=1e-2)


def test_shipped_jobs_file_reads():
    jobs = load_jobs(GPU_JOBS)
    assert len(jobs) == 14 and {j.template for j in jobs} == {"ginp", "partition", "gating"}
    assert all(j.deadline_s > j.release_s for j in jobs)
    assert max(j.deadline_s for j in jobs) > 48 * 3600  # work may run into the next days


def test_templates_expand_as_documented():
    ginp = make_job("g", "ginp", 0, 10**6, params={"network": "resnet56", "iterations": 3, "keep": 0.5})
    assert [s.name for s in ginp.stages] == ["pretrain", "retrain1", "retrain2", "retrain3", "distil"]
    base = 125 / 46  # ResNet-56 against the ShuffleNetV2 reference, same image count
    assert ginp.stages[0].work == pytest.approx(300 * base)
    assert ginp.stages[2].work == pytest.approx(40 * base * 0.25)
    teachers = base * (0.5 + 0.25 + 0.125)
    assert ginp.stages[-1].work == pytest.approx(40 * (base * 0.125 + teachers / 3))
    gang = make_job("p", "partition", 0, 10**6, gpus=4)
    assert len(gang.stages) == 1 and gang.stages[0].gpus == 4
    assert gang.stages[0].work == pytest.approx(160 * 313 / 46 * 0.5 / (4 * 0.85))


@pytest.mark.parametrize(("text", "line", "message"), [
    ("job_id,template,release\na,ginp,09:00\n", 1, "missing column(s) deadline"),
    ("job_id,template,release,deadline\na,ginq,09:00,20:00\n", 2, "unknown template 'ginq'"),
    ("job_id,template,release,deadline,params\na,ginp,09:00,20:00,iterations=x\n", 2, "iterations 'x'"),
    ("job_id,template,release,deadline,params\na,ginp,09:00,20:00,depth=3\n", 2, "no parameter 'depth'"),
    ("job_id,template,release,deadline\na,ginp,09:00,08:00\n", 2, "deadline must be after release"),
    ("job_id,template,release,deadline\na,ginp,09:00,d2 25:00\n", 2, "deadline"),
    ("job_id,template,release,deadline,gpus\na,ginp,09:00,20:00,0\n", 2, "gpus must be"),
    ("job_id,template,release,deadline\na,ginp,09:00,20:00\na,gating,09:00,20:00\n", 3, "used twice"),
    ("job_id,template,release,deadline\na,ginp,09:00,99999999999\n", 2, "more than a year"),
    ("job_id,template,release,deadline,gpus\na,ginp,09:00,20:00,\u00b2\n", 2, "not a whole number"),
    ("job_id,template,release,deadline,params\na,gating,09:00,20:00,epochs=2;epochs=3\n", 2, "given twice"),
])
def test_bad_job_files_name_file_and_line(write, text, line, message):
    path = write("jobs.csv", text)
    with pytest.raises(InputError) as info:
        load_jobs(path)
    assert info.value.line == line and message in info.value.problem and info.value.path == str(path)


def test_scenario_names_its_own_profile(write, oneday_gpu):
    """[gpu_jobs] profile = "file.csv" (relative to the scenario) replaces the built-in profile."""
    problem, lab = oneday_gpu
    rows = ["gpu,power_limit_w,time_per_epoch_s,average_power_w"]
    rows += [f"v100,{c},{10 - c / 50},{c * 0.8}" for c in (100, 150, 250)]
    rows += [f"a40,{c},{9 - c / 50},{c * 0.7}" for c in (100, 200, 300)]
    write("mine.csv", "\n".join(rows) + "\n")
    text = LAB_GPU.read_text().replace("[gpu_jobs]", '[gpu_jobs]\nprofile = "mine.csv"')
    scenario = load_scenario(write("s.toml", text))
    run = run_jobs(Problem(problem.workload, scenario), lab, load_jobs(GPU_JOBS)[:3], ["energy-aware"],
                   iterations=5)[0]
    assert {p.cap_w for p in run.schedule.placements} <= {100.0, 150.0, 200.0, 250.0, 300.0}
    assert any(p.gpu_w == p.cap_w * 0.8 for p in run.schedule.placements)
    bad = LAB_GPU.read_text().replace("[gpu_jobs]", '[gpu_jobs]\nprofile = "missing.csv"')
    with pytest.raises(InputError, match="cannot read GPU profile"):
        run_jobs(Problem(problem.workload, load_scenario(write("t.toml", bad))), lab, load_jobs(GPU_JOBS), ["asap"])


def test_bad_profile_names_line():
    with pytest.raises(InputError) as info:
        parse_profile("gpu,power_limit_w,time_per_epoch_s,average_power_w\nv100,100,-1,80\n", "p.csv")
    assert info.value.line == 2 and "time_per_epoch_s" in info.value.problem


def test_gpu_model_missing_from_profile_is_reported(oneday_gpu, write):
    problem, lab = oneday_gpu
    text = LAB_GPU.read_text().replace('model = "a40"', 'model = "h100"')
    scenario = load_scenario(write("s.toml", text))
    with pytest.raises(ValueError, match="'h100' is not in the GPU profile"):
        run_jobs(Problem(problem.workload, scenario), lab, load_jobs(GPU_JOBS), ["asap"])
