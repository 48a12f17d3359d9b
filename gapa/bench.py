"""Benchmark suites: chosen allocators over sets of instances, one table.

A suite is a TOML file (see ``benchmarks/suites/``)::

    description = "…"
    [[set]]
    name = "a1-50"                       # the set's name in the tables
    files = ["../data/tbpp/a1/cap100_n50_*.txt"]   # globs, relative to the suite file
    format = "tbpp"                      # a reader of gapa.readers
    algorithms = ["bfd", "pabfd", "gapa", "exact"]
    quick = 2                            # with --quick: only the first 2 files
    [set.settings.exact]                 # allocator settings for this set
    time_limit = 20

:func:`run_suite` runs every allocator of a set on each of its files through the
same front door as ``gapa simulate`` (:func:`gapa.run.run_allocator`: the allocation
is simulated in SimPy and cross-checked, so each result is feasible), with seed 0,
and returns one record per (instance, allocator): energy, its ratio to the
instance's lower bound (:mod:`gapa.lower_bound`, or the exact solver's proven bound
when that is higher), host on-time, time, status and, for the exact solver, its
proven gap.  :func:`summarise` gives per set and allocator the mean ratio, how often
it was best and its mean time.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gapa
from gapa.allocators import ALLOCATORS, Limits, available_cores, get_allocator
from gapa.errors import InputError
from gapa.lower_bound import lower_bound
from gapa.problem import Problem
from gapa.readers import READERS, read_trace
from gapa.run import run_allocator


@dataclass(frozen=True)
class InstanceSet:
    """Files of one format, the allocators to run on them and their settings."""

    name: str
    files: list[Path]
    format: str
    algorithms: list[str]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    quick: int | None = None


@dataclass(frozen=True)
class Suite:
    path: Path
    description: str
    sets: list[InstanceSet]

    def instances(self, quick: bool = False) -> list[tuple[InstanceSet, Path]]:
        """(set, file) pairs in order; with ``quick``, each set's first ``quick`` files."""
        out = []
        for s in self.sets:
            files = s.files[: s.quick] if quick and s.quick is not None else s.files
            out += [(s, f) for f in files]
        return out


def load_suite(path: str | Path) -> Suite:
    """Read a suite file (see the module docstring).

    Raises:
        InputError: naming the file and the problem (unknown allocator or format, no files, …).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a valid TOML file: {exc}", path) from None
    sets = []
    for i, spec in enumerate(raw.get("set", [])):
        where = f"[[set]] #{i + 1}"
        name = spec.get("name", f"set{i + 1}")
        fmt = spec.get("format", "gapa")
        if fmt not in READERS:
            raise InputError(f"{where}: unknown format {fmt!r}; known: {', '.join(READERS)}", path)
        algorithms = spec.get("algorithms", ["bfd", "gapa"])
        for a in algorithms:
            if a not in ALLOCATORS:
                raise InputError(f"{where}: unknown algorithm {a!r}; known: {', '.join(ALLOCATORS)}", path)
        files: list[Path] = []
        for pattern in spec.get("files", []):
            matched = sorted(glob.glob(str(path.parent / pattern)))
            if not matched:
                raise InputError(f"{where}: no file matches {pattern!r}", path)
            files += [Path(m) for m in matched]
        if not files:
            raise InputError(f"{where}: no files", path)
        settings = dict(spec.get("settings", {}))
        for a in algorithms:
            try:  # refuse bad settings before anything runs
                get_allocator(a, dict(settings.get(a, {})))
            except (TypeError, ValueError) as exc:
                raise InputError(f"{where}: settings of {a}: {exc}", path) from None
        sets.append(InstanceSet(name, files, fmt, list(algorithms), settings, spec.get("quick")))
    if not sets:
        raise InputError("the suite has no [[set]]", path)
    return Suite(path, str(raw.get("description", "")), sets)


#: called after each run with (runs done, runs in all, the record)
Observer = Callable[[int, int, dict[str, Any]], None]


def run_instance(s: InstanceSet, path: Path, seed: int = 0,
                 observer: Callable[[dict[str, Any]], None] | None = None,
                 processes: int = 1) -> list[dict[str, Any]]:
    """Every allocator of set ``s`` on the file ``path``: one record each; each run may keep
    ``processes`` processes busy (GAPA's islands)."""
    trace = read_trace(path, s.format)
    if trace.scenario is None:
        raise InputError("this format carries no fleet; benchmark sets need one (e.g. tbpp)", path)
    t_load = time.perf_counter()
    problem = Problem(trace.workload, trace.scenario)
    bound = lower_bound(problem)
    setup_s = time.perf_counter() - t_load
    rows = []
    for name in s.algorithms:
        result = run_allocator(problem, name, seed=seed, limits=Limits(processes=processes),
                               settings=s.settings.get(name, {}))
        rows.append({
            "set": s.name, "instance": path.name, "vms": problem.n_vms, "algorithm": name,
            "energy_j": result.simulation.energy_j, "host_on_s": result.simulation.on_s,
            "hosts_used": result.simulation.hosts_used, "rejected": int((result.allocation < 0).sum()),
            "solve_s": result.solve_s, "status": result.allocator.status,
            "proven_bound_j": result.allocator.lower_bound_j,
            "gap": result.allocator.info.get("gap") if name == "exact" else None,
            "seed": seed, "gapa_version": gapa.__version__, "setup_s": setup_s,
        })
        if observer is not None:
            observer(rows[-1])
    proven = [r["proven_bound_j"] for r in rows if r["proven_bound_j"] is not None]
    best_bound = max([bound.energy_j, *proven])
    fewest = min(r["rejected"] for r in rows)
    best = min(r["energy_j"] for r in rows if r["rejected"] == fewest)
    for r in rows:
        r["lower_bound_j"] = best_bound
        r["ratio"] = r["energy_j"] / best_bound if best_bound > 0 else np.nan
        r["vs_best"] = r["energy_j"] / best - 1 if best > 0 else 0.0
        r["on_bound_s"] = bound.on_s
    return rows


def run_suite(suite: Suite, quick: bool = False, seed: int = 0, observer: Observer | None = None,
              jobs: int = 1) -> list[dict[str, Any]]:
    """Run the suite; one record per (instance, allocator), in the suite's order.  With
    ``jobs`` > 1, that many instances run at once in worker processes, each limited to
    one BLAS thread (each allocator's time is then measured beside the others' work)."""
    pairs = suite.instances(quick)
    total = sum(len(s.algorithms) for s, _ in pairs)
    done = 0

    def seen(record: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        if observer is not None:
            observer(done, total, record)

    if jobs <= 1:
        return [r for s, path in pairs for r in run_instance(s, path, seed, seen, processes=available_cores())]
    # fresh worker processes, each with one BLAS thread, so that ``jobs`` workers share the
    # cores without oversubscribing them (the workers read the variable when numpy loads)
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_instance, s, path, seed) for s, path in pairs]
        results: list[list[dict[str, Any]] | None] = [None] * len(futures)
        index = {f: i for i, f in enumerate(futures)}
        for f in as_completed(futures):
            rows = f.result()
            results[index[f]] = rows
            for r in rows:
                seen(r)
    return [r for rows in results if rows is not None for r in rows]


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per set and allocator: instances, mean ratio to the bound, mean excess over the best
    found, times best (within 1e-9), mean and largest time, mean exact gap."""
    out = []
    keys = list(dict.fromkeys((r["set"], r["algorithm"]) for r in records))
    for set_name, algorithm in keys:
        rows = [r for r in records if r["set"] == set_name and r["algorithm"] == algorithm]
        gaps = [r["gap"] for r in rows if r["gap"] is not None]
        out.append({
            "set": set_name, "algorithm": algorithm, "instances": len(rows),
            "mean_ratio": float(np.mean([r["ratio"] for r in rows])),
            "mean_vs_best": float(np.mean([r["vs_best"] for r in rows])),
            "best": sum(r["vs_best"] <= 1e-9 for r in rows),
            "mean_s": float(np.mean([r["solve_s"] for r in rows])),
            "max_s": float(np.max([r["solve_s"] for r in rows])),
            "mean_gap": float(np.mean(gaps)) if gaps else None,
            "optimal": sum(r["status"] == "optimal" for r in rows) if algorithm == "exact" else None,
            "rejected": sum(r["rejected"] for r in rows),
        })
    return out
