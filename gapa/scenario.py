"""Scenario files: the fleet and the power policy, read from TOML.

Shape (see ``scenarios/lab.toml``)::

    description = "..."        # optional
    [power_policy]             # optional; defaults shown
    idle = "off"               # "off" | "on" | "breakeven"
    boot_s = 0                 # seconds (whole)
    boot_j = 0                 # joules
    shutdown_s = 0
    shutdown_j = 0

    [[hosts]]
    name = "x3550"
    count = 10
    cores = 12
    mips_per_core = 2933
    ram_mb = 16384
    power = { model = "linear", idle_w = 66, max_w = 247 }

    [gapa]                     # optional allocator settings, read by the allocators (also [exact])
    population = 100

A host group may have GPUs (see ``scenarios/lab_gpu.toml``)::

    gpus = { count = 4, model = "v100", idle_w = 30, max_w = 250, caps_w = [100, 150, 250] }

and a ``[gpu_jobs]`` table sets what a GPU stage takes from its host
(``cores_per_gpu``, ``ram_mb_per_gpu``, ``cpu_util``) and the GPU ``profile`` CSV.

A fleet holds at most :data:`gapa.fleet.MAX_HOSTS` (1,000,000) hosts in all; a larger
``count`` is refused, naming its line.  Validation happens here, at the edge (pydantic);
inside, gapa works on the plain :class:`~gapa.fleet.Fleet` and
:class:`~gapa.policy.PowerPolicy` objects.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gapa.errors import InputError
from gapa.fleet import MAX_HOSTS, Fleet, GpuSpec, HostGroup
from gapa.policy import PowerPolicy
from gapa.power import OffsetModel, build_power_model


class _PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    idle: Literal["off", "on", "breakeven"] = "off"
    boot_s: int = Field(0, ge=0, description="boot latency, whole seconds")
    boot_j: float = Field(0.0, ge=0, allow_inf_nan=False, description="boot energy, joules")
    shutdown_s: int = Field(0, ge=0, description="shutdown latency, whole seconds")
    shutdown_j: float = Field(0.0, ge=0, allow_inf_nan=False, description="shutdown energy, joules")


class _GpuSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    count: int = Field(ge=1, description="GPUs per host")
    model: str = Field(min_length=1, description="key of the GPU in the profile table, e.g. 'v100'")
    idle_w: float = Field(ge=0, allow_inf_nan=False, description="watts of one idle GPU in a powered host")
    max_w: float = Field(gt=0, allow_inf_nan=False, description="default power cap, watts")
    caps_w: list[float] = Field(default_factory=list, description="power caps allowed, watts; "
                                "empty = every cap the profile has up to max_w")

    @field_validator("caps_w")
    @classmethod
    def _ascending(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(v)) or any(c <= 0 for c in v):
            raise ValueError("caps_w must be positive and strictly ascending")
        return v


class _GpuJobsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    cores_per_gpu: int = Field(4, ge=0, description="host cores a GPU stage takes per GPU")
    ram_mb_per_gpu: int = Field(16384, ge=0, description="host RAM a GPU stage takes per GPU, MB")
    cpu_util: float = Field(0.5, ge=0, le=1, allow_inf_nan=False,
                            description="average load of those cores (data loading), in [0, 1]")
    profile: str = Field("", description="GPU profile CSV (relative to the scenario); empty = the built-in one")


class _HostSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1)
    count: int = Field(1, ge=1)
    cores: int = Field(ge=1)
    mips_per_core: float = Field(gt=0, allow_inf_nan=False)
    ram_mb: int = Field(ge=0)
    power: dict[str, Any]
    gpus: _GpuSpec | None = None

    @field_validator("name")
    @classmethod
    def _simple_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.]+", v):
            raise ValueError("use letters, digits, '_' and '.' only")
        return v


class _ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    description: str = ""
    power_policy: _PolicySpec = _PolicySpec()
    hosts: list[_HostSpec] = Field(min_length=1)
    gapa: dict[str, Any] = {}
    exact: dict[str, Any] = {}
    gpu_jobs: _GpuJobsSpec = _GpuJobsSpec()


@dataclass(frozen=True)
class GpuJobSettings:
    """What a GPU job stage takes from its host, and where GPU profiles come from.

    Attributes:
        cores_per_gpu: host cores per GPU the stage uses.
        ram_mb_per_gpu: host RAM per GPU, MB.
        cpu_util: average load of those cores in [0, 1] (data loading, bookkeeping).
        profile: path of a GPU profile CSV, or ``""`` for the built-in one.
    """

    cores_per_gpu: int = 4
    ram_mb_per_gpu: int = 16384
    cpu_util: float = 0.5
    profile: str = ""


@dataclass(frozen=True, eq=False)
class Scenario:
    """A fleet, its power policy and per-allocator settings.

    Attributes:
        fleet: the hosts.
        policy: when idle hosts are switched off and what switching costs.
        settings: allocator settings by allocator name (e.g. the ``[gapa]`` table).
        source: the file it was read from, or a description.
        description: free text from the file.
        gpu_jobs: the ``[gpu_jobs]`` table (defaults when absent).
    """

    fleet: Fleet
    policy: PowerPolicy = field(default_factory=PowerPolicy)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<memory>"
    description: str = ""
    gpu_jobs: GpuJobSettings = field(default_factory=GpuJobSettings)


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a key path such as ``('hosts', 1, 'cores')`` in TOML text."""
    lines = text.splitlines()
    if not loc:
        return None
    head = str(loc[0])
    start, stop = 0, len(lines)
    rest = loc[1:]
    if rest and isinstance(rest[0], int):
        idx = rest[0]
        rest = rest[1:]
        heads = [i for i, ln in enumerate(lines) if re.match(rf"^\s*\[\[\s*{re.escape(head)}\s*\]\]", ln)]
        if idx >= len(heads):
            return heads[-1] + 1 if heads else None
        start = heads[idx]
        stop = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines))
        if not rest:
            return start + 1
    else:
        heads = [i for i, ln in enumerate(lines) if re.match(rf"^\s*\[\s*{re.escape(head)}\s*\]", ln)]
        if heads:
            start = heads[0]
            stop = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines))
            if not rest:
                return start + 1
        else:
            rest = (head,) + tuple(rest)
    if rest:
        key = str(rest[0])
        for i in range(start, stop):
            if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
                return i + 1
        return start + 1 if start or heads else None
    return None


def _describe_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], str]:
    """A TOML file (``what`` names it in messages) as ``(parsed dict, its text)``.

    Raises:
        InputError: unreadable, not UTF-8, or not TOML (naming the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", path) from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text", path) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise InputError(f"invalid TOML: {msg}", path, line) from None


def settings_error(scenario: Scenario, table: str, settings: dict[str, Any], exc: Exception) -> InputError:
    """The :class:`InputError` for allocator ``table``'s ``settings`` refused with ``exc``.

    When the settings at fault are the scenario's own (its ``[table]`` table holds those
    values; a check may involve several, e.g. ``elite`` and ``population``), the error
    names the scenario file and the setting's line; otherwise (a value from the command
    line or the caller) it names the setting only.
    """
    key = getattr(exc, "key", None)
    problem = getattr(exc, "problem", str(exc))
    own = scenario.settings.get(table, {})
    if key is None:
        return InputError(f"settings of {table}: {problem}", scenario.source)
    given = [k for k in getattr(exc, "keys", (key,)) if k in settings]  # the others are defaults
    if not given or not all(k in own and _same(settings[k], own[k]) for k in given):
        return InputError(f"settings of {table}: {key}: {problem}")
    at = key if key in given else given[0]
    return InputError(f"[{table}] {key}: {problem}", scenario.source, _setting_line(scenario.source, table, at))


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _setting_line(source: str, table: str, key: str) -> int | None:
    """1-based line of ``key = …`` in the ``[table]`` table of the TOML file ``source``."""
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return _line_of(text, (table, key))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises:
        InputError: naming the file, the line when it can be found, and the problem.
    """
    path = Path(path)
    raw, text = read_toml(path, "scenario")
    return scenario_from_dict(raw, source=path, text=text)


def scenario_from_dict(raw: dict[str, Any], source: str | Path = "<memory>", text: str = "") -> Scenario:
    """Validate a scenario given as a dict (as TOML would parse it) and build it."""
    path = Path(source) if source != "<memory>" else None
    try:
        spec = _ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise InputError(f"{_describe_loc(loc)}: {msg}", path, _line_of(text, loc)) from None
    total = 0
    for i, h in enumerate(spec.hosts):  # before any host is built: a mistyped count must not hang
        total += h.count
        if total > MAX_HOSTS:
            raise InputError(f"hosts[{i}].count ({h.name}): {h.count:,} hosts make a fleet of {total:,}, "
                             f"more than the {MAX_HOSTS:,} gapa accepts", path,
                             _line_of(text, ("hosts", i, "count")))
    groups = []
    base_dir = path.parent if path is not None else None
    for i, h in enumerate(spec.hosts):
        try:
            model = build_power_model(h.power, base_dir)
        except InputError:
            raise  # already names its own file and line (a curve CSV)
        except ValueError as exc:
            raise InputError(f"hosts[{i}].power ({h.name}): {exc}", path,
                             _line_of(text, ("hosts", i, "power"))) from None
        gpus = None
        if h.gpus is not None:
            gs = h.gpus
            if gs.caps_w and gs.max_w not in gs.caps_w:
                raise InputError(f"hosts[{i}].gpus ({h.name}): caps_w must include max_w ({gs.max_w:g} W)",
                                 path, _line_of(text, ("hosts", i, "gpus")))
            gpus = GpuSpec(gs.count, gs.model.lower(), float(gs.idle_w), float(gs.max_w),
                           tuple(float(c) for c in gs.caps_w))
            model = OffsetModel(model, gs.count * gs.idle_w, f"{gs.count} × {gs.model} idle {gs.idle_w:g} W")
        groups.append(HostGroup(h.name, h.count, h.cores, h.mips_per_core, h.ram_mb, model, gpus))
    names = [g.name for g in groups]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"host group name {dupes[0]!r} is used twice", path,
                         _line_of(text, ("hosts", names.index(dupes[0]), "name")))
    p = spec.power_policy
    policy = PowerPolicy(p.idle, p.boot_s, p.boot_j, p.shutdown_s, p.shutdown_j)
    settings = {"gapa": dict(spec.gapa)}
    j = spec.gpu_jobs
    profile = j.profile
    if profile and path is not None and not Path(profile).is_absolute():
        profile = str(path.parent / profile)
    gpu_jobs = GpuJobSettings(j.cores_per_gpu, j.ram_mb_per_gpu, j.cpu_util, profile)
    if spec.exact:
        settings["exact"] = dict(spec.exact)
    return Scenario(Fleet(groups), policy, settings, str(source), spec.description, gpu_jobs)
