"""Sweep files: the axes of an experiment grid, read from TOML, expanded into runs.

Shape (see ``scenarios/sweep_power_curves.toml``; paths are relative to the file)::

    description = "…"
    workloads = ["../workloads/oneday.csv",
                 { path = "../benchmarks/data/tbpp/a1/cap100_n50_LonLr_1.txt", format = "tbpp" }]
    scenarios = ["lab.toml"]        # optional; absent: a tbpp instance's own fleet, else lab.toml
    seeds = 3                       # seeds 0, 1, 2 (or a list); deterministic allocators run once
    [[power]]                       # optional axis: a variation of every host group's curve
    name = "idle 30 %"
    idle_share = 0.3                # keep each curve's peak and shape, set idle = 30 % of peak
    [[power]]
    name = "cubic"
    curve = { model = "cubic", idle_w = 70, max_w = 250 }   # or replace every curve
    [[algorithms]]
    name = "bfd"
    [[algorithms]]
    name = "gapa"
    settings = { generations = 40 }

A run is one (workload, scenario, power variation, algorithm with settings, seed).
Its id is a hash of those parameters, with the workload and scenario files by
their content (SHA-256), so editing a file makes its runs new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gapa.allocators import ALLOCATORS, get_allocator
from gapa.errors import InputError
from gapa.fleet import Fleet, HostGroup
from gapa.power import IdleShareModel, OffsetModel, build_power_model
from gapa.problem import Problem
from gapa.readers import READERS, read_trace
from gapa.scenario import Scenario, load_scenario, read_toml


def _known_name(value: str, registry: dict[str, Any], what: str) -> str:
    if value not in registry:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(registry)}")
    return value


class _WorkloadSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    path: str = Field(min_length=1)
    format: str = "gapa"
    ram_mb: int | None = Field(None, ge=0)

    @field_validator("format")
    @classmethod
    def _known(cls, v: str) -> str:
        return _known_name(v, READERS, "format")


class _PowerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1)
    idle_share: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    curve: dict[str, Any] | None = None


class _AlgorithmSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    label: str = ""
    settings: dict[str, Any] = {}

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        return _known_name(v, ALLOCATORS, "algorithm")


class _SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    description: str = ""
    workloads: list[_WorkloadSpec] = Field(min_length=1)
    scenarios: list[str] = []
    seeds: int | list[int] = 1
    power: list[_PowerSpec] = []
    algorithms: list[_AlgorithmSpec] = Field(min_length=1)


@dataclass(frozen=True)
class PowerVariation:
    """One value of the power axis: ``idle_share`` or a whole ``curve`` for every host group
    (``name = "as given"`` with neither: the scenario's own curves)."""

    name: str
    idle_share: float | None = None
    curve: dict[str, Any] | None = None

    def apply(self, scenario: Scenario, base_dir: Path) -> Scenario:
        """The scenario with every host group's curve varied."""
        if self.idle_share is None and self.curve is None:
            return scenario
        groups = []
        for g in scenario.fleet.groups:
            base = g.power.base if isinstance(g.power, OffsetModel) else g.power  # GPUs' idle draw kept apart
            if self.curve is not None:
                curve = {k: v for k, v in self.curve.items() if k != "csv_sha256"}
                model = build_power_model(curve, base_dir)
            else:
                model = IdleShareModel(base, self.idle_share)
            if isinstance(g.power, OffsetModel):
                model = OffsetModel(model, g.power.offset_w, g.power.label)
            groups.append(HostGroup(g.name, g.count, g.cores, g.mips_per_core, g.ram_mb, model, g.gpus))
        return Scenario(Fleet(groups), scenario.policy, scenario.settings,
                        f"{scenario.source} [{self.name}]", scenario.description, scenario.gpu_jobs)

    def key(self) -> dict[str, Any]:
        return {"name": self.name, "idle_share": self.idle_share, "curve": self.curve}


AS_GIVEN = PowerVariation("as given")


@dataclass(frozen=True)
class WorkloadRef:
    """A workload file of the grid: where it is, how to read it, its content hash, and the
    label tables show (the file name, or more where two entries would look alike)."""

    path: Path
    format: str = "gapa"
    ram_mb: int | None = None
    sha256: str = ""
    label: str = ""


@dataclass(frozen=True)
class ScenarioRef:
    """A scenario of the grid: a file (with its content hash), or ``None`` = the default;
    ``label`` is what tables show."""

    path: Path | None
    sha256: str = ""
    label: str = "default"


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid (everything a worker needs besides the problem itself).

    Attributes:
        run_id: hash of the parameters (16 hex digits).
        workload / scenario / power: the problem's three axes.
        algorithm: allocator name; ``label`` tells apart two entries of one allocator.
        settings: allocator settings.
        seed: the run's seed.
    """

    run_id: str
    workload: WorkloadRef
    scenario: ScenarioRef
    power: PowerVariation
    algorithm: str
    label: str
    settings: dict[str, Any]
    seed: int

    @property
    def problem_key(self) -> tuple[Any, ...]:
        w = self.workload
        return (str(w.path), w.format, w.ram_mb, str(self.scenario.path), self.power.name)

    def params(self) -> dict[str, Any]:
        """The run's parameters as stored (plain values; reports take the labels from the sweep file)."""
        w = self.workload
        return {"workload": str(w.path), "format": w.format, "ram_mb": w.ram_mb,
                "scenario": str(self.scenario.path) if self.scenario.path else "default",
                "power": self.power.name, "idle_share": self.power.idle_share,
                "algorithm": self.label, "allocator": self.algorithm,
                "settings": json.dumps(self.settings, sort_keys=True), "seed": self.seed}

    def labels(self) -> dict[str, str]:
        """How tables name the run's cell: ``workload``, ``scenario``, ``power``, ``algorithm``."""
        return {"workload": self.workload.label, "scenario": self.scenario.label, "power": self.power.name,
                "algorithm": self.label}


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep file.

    Attributes:
        source: the file.
        description: its description.
        runs: every run of the grid, in a fixed order.
        axes: the values of each axis (for reports: which axes vary).
    """

    source: Path
    description: str
    runs: list[RunSpec]
    axes: dict[str, list[str]] = field(default_factory=dict)


def _sha256(path: Path, what: str, sweep: Path, line: int | None) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"{what}s: cannot read {what} {path}: {exc.strerror}", sweep, line) from None


def _run_id(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _line_of_key(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*(\[\[?\s*)?{re.escape(key)}\b", line):
            return i
    return None


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file.

    Raises:
        InputError: naming the file (and the line when it can be told) and the problem.
    """
    path = Path(path)
    raw, text = read_toml(path, "sweep")
    if isinstance(raw.get("workloads"), list):  # a plain path is short for { path = "..." }
        raw["workloads"] = [{"path": w} if isinstance(w, str) else w for w in raw["workloads"]]
    try:
        spec = _SweepSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"] if str(x) not in ("int", "list[int]"))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        raise InputError(f"{loc}: {msg}", path, _line_of_key(text, str(err["loc"][0]))) from None
    base = path.parent
    workloads = []
    for w in spec.workloads:
        if not w.path.strip():
            raise InputError("workloads: a path is empty", path, _line_of_key(text, "workloads"))
        p = Path(os.path.normpath(w.path if Path(w.path).is_absolute() else base / w.path))
        workloads.append(WorkloadRef(p, w.format, w.ram_mb, _sha256(p, "workload", path, _line_of_key(text, "workloads"))))
    workloads = _labelled_workloads(workloads)
    scenarios = []
    for s in spec.scenarios or [None]:
        if s is None:  # a trace's own fleet, else the packaged lab.toml (hashed, so a new default is a new run)
            default = resources.files("gapa").joinpath("data/lab.toml").read_bytes()
            scenarios.append(ScenarioRef(None, "default:" + hashlib.sha256(default).hexdigest()))
        else:
            p = Path(os.path.normpath(s if Path(s).is_absolute() else base / s))
            scenarios.append(ScenarioRef(p, _sha256(p, "scenario", path, _line_of_key(text, "scenarios")), p.name))
    names = [sc.label for sc in scenarios]
    scenarios = [ScenarioRef(sc.path, sc.sha256, str(sc.path) if names.count(sc.label) > 1 else sc.label)
                 for sc in scenarios]
    names = [pw.name for pw in spec.power]
    if len(set(names)) != len(names):
        raise InputError("two [[power]] entries have the same name", path, _line_of_key(text, "power"))
    powers = []
    for pw in spec.power:
        if (pw.idle_share is None) == (pw.curve is None):
            raise InputError(f"power {pw.name!r}: give exactly one of idle_share or curve", path,
                             _line_of_key(text, "power"))
        curve = pw.curve
        if curve is not None:
            curve = dict(curve)
            if isinstance(curve.get("csv"), str) and not Path(curve["csv"]).is_absolute():
                curve["csv"] = os.path.normpath(base / curve["csv"])  # relative to the sweep file
            try:
                build_power_model(curve, base)
            except ValueError as exc:
                raise InputError(f"power {pw.name!r}: {exc}", path, _line_of_key(text, "power")) from None
            if isinstance(curve.get("csv"), str):  # its content, not its name, identifies the run
                curve["csv_sha256"] = _sha256(Path(curve["csv"]), "curve", path, _line_of_key(text, "power"))
        powers.append(PowerVariation(pw.name, pw.idle_share, curve))
    powers = powers or [AS_GIVEN]
    seeds = list(range(spec.seeds)) if isinstance(spec.seeds, int) else list(dict.fromkeys(spec.seeds))
    if not seeds:
        raise InputError("seeds: give at least one seed", path, _line_of_key(text, "seeds"))
    if any(not 0 <= sd < 2**63 for sd in seeds):
        raise InputError("seeds: each seed must be a whole number from 0 to 2**63 - 1", path,
                         _line_of_key(text, "seeds"))
    algorithms = []
    for a in spec.algorithms:
        try:
            allocator = get_allocator(a.name, dict(a.settings))
        except (TypeError, ValueError) as exc:
            raise InputError(f"algorithms: settings of {a.name}: {exc}", path, _line_of_key(text, "algorithms")) from None
        algorithms.append((a.name, a.label or a.name, dict(a.settings), bool(type(allocator).stochastic)))
    labels = [label for _, label, _, _ in algorithms]
    if len(set(labels)) != len(labels):
        raise InputError("two [[algorithms]] entries have the same name: give one a label", path,
                         _line_of_key(text, "algorithms"))
    runs = []
    for w in workloads:
        for s in scenarios:
            for pw in powers:
                for name, label, settings, stochastic in algorithms:
                    for seed in seeds if stochastic else [0]:
                        parts = {"workload": w.sha256, "format": w.format, "ram_mb": w.ram_mb, "scenario": s.sha256,
                                 "power": pw.key(), "algorithm": name, "settings": settings, "seed": seed}
                        runs.append(RunSpec(_run_id(parts), w, s, pw, name, label, settings, seed))
    seen: dict[str, RunSpec] = {}
    for r in runs:
        if r.run_id in seen:
            a, b = seen[r.run_id].labels(), r.labels()
            raise InputError(f"two points of the grid are the same run ({a} and {b}): the same workload, "
                             "scenario, power variation, allocator, settings and seed", path)
        seen[r.run_id] = r
    axes = {"workload": [w.label for w in workloads], "scenario": [sc.label for sc in scenarios],
            "power": [p.name for p in powers], "algorithm": labels, "seed": [str(s) for s in seeds]}
    return Sweep(path, spec.description, runs, axes)


def _labelled_workloads(workloads: list[WorkloadRef]) -> list[WorkloadRef]:
    """Label each workload by its file name, by its path where two names are the same, and add
    the format and RAM where one path is read two ways."""
    names = [w.path.name for w in workloads]
    out = []
    for w in workloads:
        label = str(w.path) if names.count(w.path.name) > 1 else w.path.name
        same = [v for v in workloads if v.path == w.path]
        if len(same) > 1:
            label += f" ({w.format}" + (f", {w.ram_mb} MB" if w.ram_mb is not None else "") + ")"
        out.append(WorkloadRef(w.path, w.format, w.ram_mb, w.sha256, label))
    return out


def build_problem(run: RunSpec) -> Problem:
    """The problem of a run, built on the client from its files (workers get it as data)."""
    trace = read_trace(run.workload.path, run.workload.format, run.workload.ram_mb)
    if run.scenario.path is not None:
        scenario = load_scenario(run.scenario.path)
    elif trace.scenario is not None:
        scenario = trace.scenario
    else:
        scenario = load_scenario(Path(str(resources.files("gapa").joinpath("data/lab.toml"))))
    base = run.scenario.path.parent if run.scenario.path is not None else Path(".")
    return Problem(trace.workload, run.power.apply(scenario, base))
