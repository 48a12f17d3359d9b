"""GAPA's time per generation against a plain DEAP GA that evaluates one individual at a time.

Run:  python benchmarks/bench_gapa_speed.py                 (oneday, population 100)
      python benchmarks/bench_gapa_speed.py --a1            (then GAPA vs BFD on the a1 instances,
                                                             by running bench_gapa_a1.py)
      python benchmarks/bench_gapa_speed.py --a1-all        (the same on all 40 a1 instances)

Target: GAPA at least 50× faster per generation than the plain GA, population 100, on
workloads/oneday.csv with scenarios/lab.toml.

The plain baseline is DEAP as its examples use it: ``creator.FitnessMin`` and an
``Individual`` that is a list of host indices (one per VM), ``tools.cxTwoPoint``,
``tools.mutUniformInt`` (random host reassignment), ``tools.selTournament`` and
``algorithms.eaSimple``, with a fitness function that evaluates ONE individual in plain
Python: it walks the VMs' start/end events in time order, keeps each host's cores, RAM and
utilisation in lists, recomputes the host's watts from its power curve at each of its
events, integrates watts × seconds between events exactly, applies the power policy
(idle gaps, boots, shutdowns) as gapa does, and adds a penalty per capacity violation.
Before timing anything, the script checks that this plain evaluator gives the same energy,
on-time and violation count as gapa's fast evaluator (rel. 1e-9) on BFD's allocation,
feasible perturbations of it, random infeasible allocations, and three other power policies.

The plain GA is timed twice: with plain-Python power curves (bisect interpolation of the
SPECpower points; the faster, harder baseline, and the headline) and calling the fleet's
scalar ``PowerModel.watts`` per event (a numpy call each).  Its time per generation is the
wall time of ``eaSimple`` over the generations (the initial population is evaluated before).
GAPA's time per generation comes from its logbook's ``elapsed_s`` (last generation minus
generation 0, so the initial population is excluded), or, if the logbook has no times, from
two runs of different lengths.  Also printed: evaluation alone (plain per individual against
``evaluate_batch`` on a batch of 100), and the ceiling of the ratio if GAPA's operators took
no time (a generation = one ``evaluate_batch`` call).
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import math
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import deap
import numpy as np
from deap import algorithms, base, creator, tools

import gapa
from gapa.allocators.base import Limits
from gapa.allocators.bfd import BestFitDecreasing
from gapa.allocators.genetic import GAPA
from gapa.evaluator import evaluate, evaluate_batch
from gapa.policy import PowerPolicy
from gapa.power import PiecewiseLinearModel, ShapeModel
from gapa.problem import Problem
from gapa.scenario import load_scenario
from gapa.workload import load_workload

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
RTOL = 1e-9
PENALTY_J = 1e10  # added to the energy per capacity violation (oneday's energy is ~1e8 J)
TARGET = 50.0


# --------------------------------------------------------------------------------------
# The plain evaluator: one individual at a time, plain Python
# --------------------------------------------------------------------------------------

def python_curve(model):
    """A plain-Python function u -> watts for one of gapa's power models.

    Piecewise-linear curves (SPECpower, tables) are interpolated with ``bisect`` and
    u/u²/u³/√u shapes are computed with floats: the same numbers as the model's ``watts``
    without a numpy call per event.  Other models fall back to ``model.watts``.
    """
    if isinstance(model, PiecewiseLinearModel):
        xs = [float(x) for x in model.points_u]
        ys = [float(y) for y in model.points_w]
        last = len(xs) - 1

        def interp(u: float) -> float:
            j = bisect.bisect_right(xs, u) - 1
            if j >= last:
                return ys[last]
            if j < 0:
                return ys[0]
            return ys[j] + (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]) * (u - xs[j])

        return interp
    if isinstance(model, ShapeModel):
        idle, span = model.idle_w, model.max_w - model.idle_w
        shape = {"linear": lambda u: u, "square": lambda u: u * u, "cubic": lambda u: u * u * u,
                 "sqrt": math.sqrt}[model.kind]
        return lambda u: idle + span * shape(u)
    return lambda u: float(model.watts(u))


def model_curve(model):
    """The fleet's own scalar ``PowerModel.watts`` (a numpy call per event for SPECpower)."""
    return lambda u: float(model.watts(u))


class PlainEvaluator:
    """Energy of one allocation (a list of host indices, −1 = rejected) in plain Python.

    Everything that does not depend on the individual is prepared once, as plain lists:
    the event list sorted by (time, ends before starts, VM), each VM's cores, RAM and
    utilisation share on each host group, each host's capacity, curve and idle watts.
    """

    def __init__(self, problem: Problem, curves: str = "python"):
        w, f, pol = problem.workload, problem.fleet, problem.policy
        n, H = w.n, f.size
        self.n, self.H = n, H
        starts, ends = w.start_s.tolist(), w.end_s.tolist()
        ev = [(ends[v], 0, v) for v in range(n)] + [(starts[v], 1, v) for v in range(n)]
        ev.sort()  # by time, ends (0) before starts (1) at equal times, then VM index
        self.events = ev
        self.vm_cores = w.cores.tolist()
        self.vm_ram = w.ram_mb.tolist()
        mips = w.mips.tolist()
        util = w.cpu_util.tolist()
        groups = f.groups
        self.host_group = f.group_of_host.tolist()
        self.host_cores = f.cores.tolist()
        self.host_ram = f.ram_mb.tolist()
        self.idle_w = f.idle_w.tolist()
        # share[v][g]: CPU utilisation VM v adds to a host of group g
        self.share = [[self.vm_cores[v] * util[v] * (1.0 if math.isnan(mips[v]) else mips[v] / g.mips_per_core)
                       / g.cores for g in groups] for v in range(n)]
        # fits[v][g]: VM v fits an empty host of group g (cores, RAM, MIPS per core)
        self.fits = [[self.vm_cores[v] <= g.cores and self.vm_ram[v] <= g.ram_mb
                      and (math.isnan(mips[v]) or mips[v] <= g.mips_per_core) for g in groups]
                     for v in range(n)]
        make = python_curve if curves == "python" else model_curve
        group_curve = [make(g.power) for g in groups]
        self.curve = [group_curve[g] for g in self.host_group]
        # power policy: a gap (s) strictly shorter than threshold[h] is idled through at
        # P(0); a longer one costs a shutdown and a boot; every used host pays one of each
        switch_s = pol.boot_s + pol.shutdown_s
        if pol.idle == "off":
            self.threshold = [float(switch_s)] * H
        elif pol.idle == "on":
            self.threshold = [math.inf] * H
        else:  # breakeven: boot + shutdown joules = P(0) × gap, at least the switching time
            cost = pol.boot_j + pol.shutdown_j
            self.threshold = [max(cost / p if p > 0 else (math.inf if cost > 0 else 0.0), switch_s)
                              for p in self.idle_w]
        self.switch_j = float(pol.boot_j + pol.shutdown_j)
        self.switch_s = float(switch_s)

    def __call__(self, ind) -> tuple[float, float, int]:
        """(energy J, on-time s, capacity violations) of one individual."""
        H = self.H
        vm_cores, vm_ram, share, curve = self.vm_cores, self.vm_ram, self.share, self.curve
        host_cores, host_ram, group = self.host_cores, self.host_ram, self.host_group
        threshold, idle_w, switch_j, switch_s = self.threshold, self.idle_w, self.switch_j, self.switch_s
        cores = [0] * H
        ram = [0] * H
        util = [0.0] * H
        running = [0] * H
        watts = [0.0] * H
        last_t = [0] * H
        empty_since = [-1] * H  # -1: never used yet
        over = [False] * H
        energy = 0.0
        on = 0.0
        for t, is_start, v in self.events:
            h = ind[v]
            if h < 0:
                continue  # rejected VM
            k = running[h]
            if k:  # the host ran at watts[h] since its last event
                dt = t - last_t[h]
                energy += watts[h] * dt
                on += dt
            if is_start:
                if k == 0:  # the host was off (or idle): boot it or idle through the gap
                    since = empty_since[h]
                    if since < 0:
                        energy += switch_j  # its first boot and its last shutdown
                        on += switch_s
                    else:
                        gap = t - since
                        if gap > 0:
                            if gap < threshold[h]:
                                energy += idle_w[h] * gap
                                on += gap
                            else:
                                energy += switch_j
                                on += switch_s
                running[h] = k + 1
                c = cores[h] + vm_cores[v]
                r = ram[h] + vm_ram[v]
                cores[h] = c
                ram[h] = r
                if c > host_cores[h] or r > host_ram[h]:
                    over[h] = True
                u = util[h] + share[v][group[h]]
                util[h] = u
            else:
                running[h] = k - 1
                cores[h] -= vm_cores[v]
                ram[h] -= vm_ram[v]
                if k == 1:
                    util[h] = u = 0.0
                    empty_since[h] = t
                else:
                    u = util[h] - share[v][group[h]]
                    util[h] = u
            last_t[h] = t
            if running[h]:
                watts[h] = curve[h](min(1.0, u))
        fits = self.fits
        violations = sum(over)
        for v, h in enumerate(ind):
            if h >= 0 and not fits[v][group[h]]:
                violations += 1
        return energy, on, violations


# --------------------------------------------------------------------------------------
# Correctness: plain evaluator == gapa's fast evaluator
# --------------------------------------------------------------------------------------

def feasible_perturbation(problem: Problem, alloc: np.ndarray, moves: int,
                          rng: np.random.Generator) -> np.ndarray:
    """``alloc`` with up to ``moves`` VMs moved to random other hosts, each move kept only if
    the allocation stays feasible (checked with gapa's evaluator)."""
    a = alloc.copy()
    fits = problem.host_fits
    done = 0
    for _ in range(50 * moves):
        if done == moves:
            break
        v = int(rng.integers(problem.n_vms))
        hosts = np.flatnonzero(fits[v])
        h = int(rng.choice(hosts))
        if h == a[v]:
            continue
        old = a[v]
        a[v] = h
        if evaluate(problem, a).violations:
            a[v] = old
        else:
            done += 1
    return a


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def check_agreement(problem: Problem) -> bool:
    """Compare the plain evaluator with gapa's on a few allocations; print and return the verdict."""
    rng = np.random.default_rng(1)
    bfd = BestFitDecreasing().allocate(problem, np.random.default_rng(0), Limits()).allocation
    cases = [("bfd", bfd)]
    for moves in (5, 30, 120):
        cases.append((f"bfd + {moves} feasible moves", feasible_perturbation(problem, bfd, moves, rng)))
    for i in range(2):
        cases.append((f"random hosts #{i + 1} (infeasible)", rng.integers(0, problem.n_hosts, problem.n_vms)))
    policies = [
        ("idle=on", PowerPolicy("on", 0, 0.0, 0, 0.0)),
        ("idle=off, boot 120 s/30 kJ, shutdown 60 s/8 kJ", PowerPolicy("off", 120, 30e3, 60, 8e3)),
        ("idle=breakeven, boot 120 s/30 kJ, shutdown 60 s/8 kJ",
         PowerPolicy("breakeven", 120, 30e3, 60, 8e3)),
    ]
    ok = True
    print("correctness: plain evaluator vs gapa.evaluator (energy, on-time rel. 1e-9; violations equal)")
    runs = [(problem.scenario.policy, "lab.toml policy (idle=off, instant free boots)", problem, cases)]
    for label, pol in policies:
        other = Problem(problem.workload, dataclasses.replace(problem.scenario, policy=pol))
        runs.append((pol, label, other, cases[:3] + cases[-1:]))
    for _, label, prob, cs in runs:
        plain = PlainEvaluator(prob)
        plain_np = PlainEvaluator(prob, curves="model")
        batch = evaluate_batch(prob, np.stack([a for _, a in cs]))
        print(f"  [{label}]")
        for i, (name, a) in enumerate(cs):
            e, on, viol = plain(a.tolist())
            e2, _, viol2 = plain_np(a.tolist())
            one = evaluate(prob, a)
            worst = max(rel(e, one.energy_j), rel(on, one.on_s), rel(e, batch.energy_j[i]),
                        rel(on, batch.on_s[i]), rel(e2, one.energy_j))
            same = (worst <= RTOL and viol == one.violations == batch.violations[i] == viol2)
            ok &= bool(same)
            print(f"    {name:32s} {e / 3.6e6:9.4f} kWh  on {on / 3600:7.2f} h  violations {viol:4d}  "
                  f"max rel. diff {worst:.1e}  {'agree' if same else 'DISAGREE'}")
    if ok:
        print("  => the plain evaluator agrees with gapa's evaluator on every case above")
    else:
        print("  => !!! THE PLAIN EVALUATOR DISAGREES WITH GAPA'S EVALUATOR: the comparison below "
              "is not like for like !!!")
    return ok


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------

def plain_toolbox(problem: Problem, evaluator: PlainEvaluator) -> base.Toolbox:
    """DEAP as its examples use it (onemax / knapsack style)."""
    n, H = problem.n_vms, problem.n_hosts
    if not hasattr(creator, "FitnessMin"):
        creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("Individual", list, fitness=creator.FitnessMin)

    def fitness(individual):
        energy, _, violations = evaluator(individual)
        return (energy + PENALTY_J * violations,)

    tb = base.Toolbox()
    tb.register("attr_host", random.randrange, H)
    tb.register("individual", tools.initRepeat, creator.Individual, tb.attr_host, n)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("evaluate", fitness)
    tb.register("mate", tools.cxTwoPoint)
    tb.register("mutate", tools.mutUniformInt, low=0, up=H - 1, indpb=2.0 / n)
    tb.register("select", tools.selTournament, tournsize=3)
    return tb


def time_plain_ga(problem: Problem, evaluator: PlainEvaluator, population: int, generations: int,
                  cxpb: float, mutpb: float) -> tuple[float, float, float]:
    """(s per generation, evaluations per generation, s per evaluation) of eaSimple."""
    random.seed(0)
    tb = plain_toolbox(problem, evaluator)
    pop = tb.population(n=population)
    t0 = time.perf_counter()
    for ind, fit in zip(pop, map(tb.evaluate, pop)):
        ind.fitness.values = fit
    t_init = time.perf_counter() - t0
    stats = tools.Statistics(lambda ind: ind.fitness.values[0])
    stats.register("min", min)
    t0 = time.perf_counter()
    _, log = algorithms.eaSimple(pop, tb, cxpb=cxpb, mutpb=mutpb, ngen=generations, stats=stats,
                                 verbose=False)
    dt = time.perf_counter() - t0
    evals = sum(rec["nevals"] for rec in log[1:]) / generations
    return dt / generations, evals, t_init / population


def time_gapa(problem: Problem, population: int, generations: int) -> tuple[float, float, str]:
    """(s per generation, evaluations per generation, how it was measured) of GAPA."""
    def run(gens: int):
        ga = GAPA(population=population, generations=gens, stagnation=10**9)
        t0 = time.perf_counter()
        res = ga.allocate(problem, np.random.default_rng(0), Limits())
        return res, time.perf_counter() - t0

    res, total = run(generations)
    log = res.logbook
    ran = [r for r in log if r.get("gen", 0) >= 1]
    evals = (sum(r["evals"] for r in ran) / len(ran)) if ran and "evals" in ran[0] else float(population)
    if len(ran) == generations and all("elapsed_s" in r for r in log):
        per_gen = (log[-1]["elapsed_s"] - log[0]["elapsed_s"]) / generations
        how = (f"logbook elapsed_s: (gen {generations} − gen 0) / {generations}; the initial population "
               f"({log[0]['elapsed_s']:.2f} s incl. its evaluation) is excluded")
        return per_gen, evals, how
    _, total1 = run(1)  # no per-generation times: difference two runs
    per_gen = (total - total1) / (generations - 1)
    how = f"(time of {generations} generations − time of 1) / {generations - 1}, two runs of allocate"
    return per_gen, evals, how


def time_eval_only(problem: Problem, rounds: int) -> float:
    """Plain per-individual evaluation against evaluate_batch on a batch of 100; returns the
    latter's seconds per individual."""
    rng = np.random.default_rng(2)
    bfd = BestFitDecreasing().allocate(problem, np.random.default_rng(0), Limits()).allocation
    batch = np.stack([bfd] + [rng.integers(0, problem.n_hosts, problem.n_vms) for _ in range(99)])
    lists = batch.tolist()
    evaluate_batch(problem, batch)  # warm-up (builds the evaluator's tables)
    t0 = time.perf_counter()
    for _ in range(rounds):
        evaluate_batch(problem, batch)
    fast = (time.perf_counter() - t0) / rounds / len(batch)
    print(f"evaluation only, batch of {len(batch)} (BFD + 99 random allocations):")
    print(f"  gapa evaluate_batch:             {fast * 1e6:9.1f} µs/individual")
    for curves, label in (("python", "plain Python, Python curves:    "),
                          ("model", "plain Python, PowerModel.watts: ")):
        ev = PlainEvaluator(problem, curves)
        t0 = time.perf_counter()
        for ind in lists:
            ev(ind)
        plain = (time.perf_counter() - t0) / len(lists)
        print(f"  {label}{plain * 1e6:9.1f} µs/individual   ratio {plain / fast:6.1f}×")
    return fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default=str(ROOT / "workloads" / "oneday.csv"))
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "lab.toml"))
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--plain-generations", type=int, default=10)
    parser.add_argument("--gapa-generations", type=int, default=5)
    parser.add_argument("--a1", action="store_true", help="then run bench_gapa_a1.py (GAPA vs BFD)")
    parser.add_argument("--a1-all", action="store_true", help="the same, with bench_gapa_a1.py --all")
    args = parser.parse_args()

    print(f"gapa {gapa.__version__}, DEAP {deap.__version__}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}")
    problem = Problem(load_workload(args.workload), load_scenario(args.scenario))
    print(f"{Path(args.workload).name} ({problem.n_vms} VMs, {2 * problem.n_vms} events), "
          f"{Path(args.scenario).name} ({problem.n_hosts} hosts), population {args.population}")
    agree = check_agreement(problem)
    fast_s = time_eval_only(problem, rounds=20)

    cxpb, mutpb = 0.8, 0.4  # GAPA's default crossover and mutation rates
    plain = {}
    for curves in ("python", "model"):
        evaluator = PlainEvaluator(problem, curves)
        plain[curves] = time_plain_ga(problem, evaluator, args.population, args.plain_generations,
                                      cxpb, mutpb)
    print(f"plain DEAP GA (eaSimple, cxTwoPoint, mutUniformInt, selTournament(3), cxpb {cxpb}, "
          f"mutpb {mutpb}), {args.plain_generations} generations:")
    for curves, label in (("python", "plain-Python curves"), ("model", "PowerModel.watts   ")):
        gen_s, evals, ind_s = plain[curves]
        print(f"  {label}: {gen_s:8.3f} s/generation ({evals:.0f} evaluations/generation; "
              f"{ind_s * 1e3:.2f} ms per evaluation)")
    gapa_gen, gapa_evals, how = time_gapa(problem, args.population, args.gapa_generations)
    print(f"GAPA (population {args.population}, {args.gapa_generations} generations, default operators):")
    print(f"  {gapa_gen:8.3f} s/generation ({gapa_evals:.0f} evaluations/generation)")
    print(f"  measured: {how}")
    for curves, label in (("python", "plain-Python curves (the headline)"),
                          ("model", "PowerModel.watts per event")):
        gen_s, evals, _ = plain[curves]
        ratio = gen_s / gapa_gen
        per_eval = (gen_s / evals) / (gapa_gen / gapa_evals)
        print(f"speed-up per generation vs {label}: {ratio:.2f}× (target ≥ {TARGET:.0f}×: "
              f"{'met' if ratio >= TARGET else 'NOT met'}); per evaluation {per_eval:.2f}×"
              + ("" if agree else "  [evaluators disagree: see above]"))
    eval_s = fast_s * gapa_evals
    print(f"ceiling: if GAPA's operators cost nothing, a generation would be one evaluate_batch call "
          f"(~{eval_s * 1e3:.1f} ms for {gapa_evals:.0f}): {plain['python'][0] / eval_s:.1f}× / "
          f"{plain['model'][0] / eval_s:.1f}× the plain GA (Python curves / PowerModel.watts)")

    if args.a1 or args.a1_all:
        print("\n-- a1 instances: GAPA vs BFD (benchmarks/bench_gapa_a1.py) --", flush=True)
        cmd = [sys.executable, str(HERE / "bench_gapa_a1.py")] + (["--all"] if args.a1_all else [])
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
