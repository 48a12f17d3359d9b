"""Comparing allocators over seeds: each stochastic one once per seed, each deterministic one once.

:func:`compare` runs every (algorithm, seed) pair through the front door
:func:`gapa.run.run_allocator` and returns a :class:`Comparison`: the runs, one
flat record per run (:meth:`Comparison.records`) and one aggregate per
algorithm (:func:`aggregate`, computed from the records alone).  Energies are
in joules (and kWh where the key says so), times in seconds; a *saving* is a
fraction of BFD's mean energy (``saving_vs_bfd``), or of the best constructive
heuristic's (``saving_vs_best_heuristic``, see :func:`best_heuristic`), positive
when less energy is used.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gapa.allocators import ALLOCATORS, Allocator, Limits, get_allocator
from gapa.errors import InputError
from gapa.lower_bound import LowerBound, lower_bound
from gapa.problem import Problem
from gapa.run import JOULES_PER_KWH, RunResult, run_allocator
from gapa.scenario import settings_error

#: the algorithm savings are measured against
BASELINE = "bfd"


def is_constructive(algorithm: str) -> bool:
    """Whether ``algorithm`` names a constructive heuristic (its class sets
    :attr:`~gapa.allocators.base.Allocator.constructive`: bfd, ffd, wf, pabfd, mindft-*)."""
    cls = ALLOCATORS.get(algorithm)
    return bool(cls is not None and cls.constructive)


def best_heuristic(runs: Iterable[tuple[str, float, float]]) -> tuple[str, float] | None:
    """The best constructive heuristic of a run: ``(algorithm, energy_j)``, or ``None`` when
    no constructive heuristic is among ``runs``.

    ``runs`` are ``(algorithm, rejected VMs, energy_j)`` (means over seeds, for a
    comparison).  Best is the fewest rejected VMs, then the least energy (a heuristic
    that leaves VMs out does not win by the energy it did not spend), then the first
    given.
    """
    best = None
    for k, (name, rejected, energy) in enumerate(runs):
        if is_constructive(name) and (best is None or (rejected, energy, k) < best[0]):
            best = ((rejected, energy, k), name, energy)
    return None if best is None else (best[1], best[2])


def saving(energy_j: float, reference_j: float | None) -> float | None:
    """``1 − energy / reference`` (positive: less energy than the reference); ``None``
    without a positive reference."""
    return 1 - energy_j / reference_j if reference_j else None


class RunObserver(Protocol):
    """Told about each run as it happens (the CLI draws a progress bar from it)."""

    def run_started(self, algorithm: str, seed: int, run: int, runs: int) -> None:
        """Run number ``run`` (from 1) of ``runs`` is about to start."""

    def allocator_progress(self, report: dict[str, Any]) -> None:
        """An iterative allocator's progress report (see :class:`gapa.allocators.Limits`)."""

    def run_finished(self, result: RunResult) -> None:
        """A run has finished (allocated, simulated and checked)."""


@dataclass(frozen=True)
class Comparison:
    """The runs of one comparison.

    Attributes:
        problem: the instance.
        lower: its lower bound (energy in joules, on-time in seconds).
        seeds: the seeds the stochastic algorithms ran with.
        results: every run, algorithm by algorithm, seeds in order.
        stochastic: per algorithm (in run order), whether its result depends on the seed.
    """

    problem: Problem
    lower: LowerBound
    seeds: list[int]
    results: list[RunResult]
    stochastic: dict[str, bool]

    @property
    def algorithms(self) -> list[str]:
        """The algorithms, in the order they ran."""
        return list(self.stochastic)

    def records(self) -> list[dict[str, Any]]:
        """One flat, JSON-friendly record per run.

        :meth:`gapa.run.RunResult.summary` plus ``stochastic``, ``constructive``,
        ``bound_energy_j``, ``bound_on_s``, ``energy_to_bound``, ``saving_vs_bfd``
        (against BFD's mean energy; ``None`` without a BFD run), ``best_heuristic`` and
        ``saving_vs_best_heuristic`` (against that heuristic's mean energy, see
        :func:`best_heuristic`; ``None`` when no constructive heuristic ran).
        """
        by_algorithm: dict[str, list[RunResult]] = {}
        for r in self.results:
            by_algorithm.setdefault(r.algorithm, []).append(r)
        means = {name: (_mean([float((r.allocation < 0).sum()) for r in runs]),
                        _mean([r.simulation.energy_j for r in runs])) for name, runs in by_algorithm.items()}
        base_j = means[BASELINE][1] if BASELINE in means else None
        best = best_heuristic((name, rejected, energy) for name, (rejected, energy) in means.items())
        out = []
        for r in self.results:
            record = r.summary(self.problem)
            energy = r.simulation.energy_j
            record["stochastic"] = self.stochastic[r.algorithm]
            record["constructive"] = is_constructive(r.algorithm)
            record["bound_energy_j"] = self.lower.energy_j
            record["bound_on_s"] = self.lower.on_s
            record["energy_to_bound"] = energy / self.lower.energy_j if self.lower.energy_j > 0 else None
            record["saving_vs_bfd"] = saving(energy, base_j)
            record["best_heuristic"] = best[0] if best else None
            record["saving_vs_best_heuristic"] = saving(energy, best[1]) if best else None
            out.append(record)
        return out

    def aggregates(self) -> dict[str, dict[str, Any]]:
        """One aggregate per algorithm (see :func:`aggregate`)."""
        return aggregate(self.records())


def _mean(values: list[float]) -> float:
    return statistics.fmean(values)


def aggregate(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Aggregate per-run records by algorithm (in order of first appearance).

    Each aggregate holds ``runs``, ``seeds``, ``stochastic``; the mean, sample
    standard deviation (n − 1; ``None`` for one run), best (least) and worst
    energy as ``energy_j_*`` and ``energy_kwh_*``; ``energy_to_bound_mean`` (mean
    energy over the lower bound); ``saving_vs_bfd_mean`` (1 − mean energy / BFD's
    mean energy) and ``saving_vs_bfd_best`` / ``_worst`` (the best and worst run's
    saving against BFD's mean; all three ``None`` without BFD); ``best_heuristic`` (the
    constructive heuristic with the fewest mean rejected VMs, then the least mean energy,
    see :func:`best_heuristic`; ``None`` when none ran) and ``saving_vs_best_heuristic_mean``,
    ``_best`` and ``_worst`` (as against BFD, against that heuristic's mean energy); the
    means of ``host_on_s``, ``hosts_used``, ``rejected`` and ``solve_s``; ``rejected_max``;
    the bound and the provenance (``gapa_version``, ``workload``, ``scenario``).
    A record without ``constructive`` counts as constructive when its algorithm's class is.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["algorithm"], []).append(record)
    base_j = None
    if BASELINE in groups:
        base_j = _mean([r["energy_j"] for r in groups[BASELINE]])
    heuristics = [(name, _mean([float(r["rejected"]) for r in runs]), _mean([float(r["energy_j"]) for r in runs]))
                  for name, runs in groups.items()
                  if runs[0].get("constructive", is_constructive(name))]
    best_h = best_heuristic(heuristics)
    out: dict[str, dict[str, Any]] = {}
    for name, runs in groups.items():
        energy = [float(r["energy_j"]) for r in runs]
        mean = _mean(energy)
        std = statistics.stdev(energy) if len(energy) > 1 else None  # exact: 0 for equal runs
        best, worst = min(energy), max(energy)
        bound = runs[0].get("bound_energy_j")
        a: dict[str, Any] = {
            "algorithm": name,
            "stochastic": bool(runs[0].get("stochastic", False)),
            "runs": len(runs),
            "seeds": [int(r["seed"]) for r in runs],
            "energy_j_mean": mean,
            "energy_j_std": std,
            "energy_j_best": best,
            "energy_j_worst": worst,
        }
        for key in ("mean", "std", "best", "worst"):
            value = a[f"energy_j_{key}"]
            a[f"energy_kwh_{key}"] = None if value is None else value / JOULES_PER_KWH
        a["energy_to_bound_mean"] = mean / bound if bound else None
        a["saving_vs_bfd_mean"] = saving(mean, base_j)
        a["saving_vs_bfd_best"] = saving(best, base_j)
        a["saving_vs_bfd_worst"] = saving(worst, base_j)
        a["best_heuristic"] = best_h[0] if best_h else None
        for key, value in (("mean", mean), ("best", best), ("worst", worst)):
            a[f"saving_vs_best_heuristic_{key}"] = saving(value, best_h[1]) if best_h else None
        for key in ("host_on_s", "hosts_used", "rejected", "solve_s"):
            a[f"{key}_mean"] = _mean([float(r[key]) for r in runs])
        a["rejected_max"] = max(int(r["rejected"]) for r in runs)
        a["bound_energy_j"] = bound
        a["bound_on_s"] = runs[0].get("bound_on_s")
        for key in ("gapa_version", "workload", "scenario"):
            a[key] = runs[0].get(key)
        out[name] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in a.items()}
    return out


def representative_runs(results: Sequence[RunResult]) -> dict[str, RunResult]:
    """Per algorithm, the run of median energy (the lower median for an even number of runs;
    ties go to the earlier run) — the one the per-run figures show."""
    by_algorithm: dict[str, list[RunResult]] = {}
    for r in results:
        by_algorithm.setdefault(r.algorithm, []).append(r)
    out = {}
    for name, runs in by_algorithm.items():
        order = sorted(range(len(runs)), key=lambda i: (runs[i].simulation.energy_j, i))
        out[name] = runs[order[(len(runs) - 1) // 2]]
    return out


def build_allocators(problem: Problem, algorithms: Sequence[str],
                     settings: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Allocator]:
    """Build each named allocator with its settings (default: the scenario's table of that name).

    Raises:
        InputError: an unknown name, or settings the allocator refuses (naming the scenario).
    """
    out = {}
    for name in algorithms:
        chosen = (settings or {}).get(name)
        if chosen is None:
            chosen = problem.scenario.settings.get(name, {})
        try:
            out[name] = get_allocator(name, dict(chosen))
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
        except (TypeError, ValueError) as exc:
            raise settings_error(problem.scenario, name, dict(chosen), exc) from None
    return out


def compare(problem: Problem, algorithms: Sequence[str], seeds: Sequence[int],
            settings: Mapping[str, Mapping[str, Any]] | None = None,
            time_limit_s: float | None = None, observer: RunObserver | None = None,
            processes: int = 1, scheduler: Any = None) -> Comparison:
    """Run each stochastic algorithm once per seed and each deterministic one once (first seed).

    Args:
        problem: the instance.
        algorithms: allocator names, in the order to run and report them.
        seeds: the seeds (at least one, no repeats).
        settings: keyword settings per algorithm; an algorithm not in it takes the
            scenario's table of its name.
        time_limit_s: wall-clock budget of each run, seconds.
        processes: processes each run may keep busy (:attr:`gapa.allocators.Limits.processes`).
        scheduler: a Dask cluster for each run's independent blocks (:attr:`gapa.allocators.Limits.scheduler`).
        observer: told when each run starts and ends, and of allocator progress.

    Raises:
        InputError: an unknown algorithm or bad settings (before anything runs).
        ValueError: no seeds, or a seed given twice.
    """
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"need at least one seed and no repeats, got {seeds}")
    names = list(dict.fromkeys(algorithms))
    built = build_allocators(problem, names, settings)  # fail on bad settings before any run
    stochastic = {name: bool(type(built[name]).stochastic) for name in names}
    lower = lower_bound(problem)
    progress = observer.allocator_progress if observer is not None else None
    limits = Limits(time_limit_s=time_limit_s, progress=progress, processes=processes, scheduler=scheduler)
    plan = [(name, seed) for name in names for seed in (seeds if stochastic[name] else seeds[:1])]
    results = []
    for k, (name, seed) in enumerate(plan, start=1):
        allocator = build_allocators(problem, [name], settings)[name]  # fresh: no state carried over
        if observer is not None:
            observer.run_started(name, seed, k, len(plan))
        result = run_allocator(problem, allocator, seed=seed, limits=limits)
        if observer is not None:
            observer.run_finished(result)
        results.append(result)
    return Comparison(problem, lower, seeds, results, stochastic)


__all__ = ["BASELINE", "Comparison", "RunObserver", "aggregate", "best_heuristic", "build_allocators",
           "compare", "is_constructive", "representative_runs", "saving"]
