"""Power models: watts drawn by a switched-on host as a function of CPU utilisation.

A power model is a small object whose :meth:`PowerModel.watts` maps utilisation
``u`` in [0, 1] (a float or a numpy array) to watts.  ``watts(0)`` is the power
of an on but idle host — unlike CloudSim, idle is not off.

Built-in models (the ``model`` key of a scenario's ``power`` table):

=============  ==============================================================
``linear``     ``idle_w + (max_w - idle_w) * u``
``square``     ``idle_w + (max_w - idle_w) * u**2``   (CloudSim's shapes)
``cubic``      ``idle_w + (max_w - idle_w) * u**3``
``sqrt``       ``idle_w + (max_w - idle_w) * sqrt(u)``
``specpower``  11 measured points at 0 %, 10 %, … 100 % of one of the seven
               SPECpower servers CloudSim ships (``server = "..."``),
               linearly interpolated
``table``      user points ``points = [[u, watts], ...]`` or ``csv = "file.csv"``
               (columns ``utilisation,watts``), covering u = 0 and u = 1,
               linearly interpolated
``python``     ``ref = "package.module:function"``, a callable taking
               utilisation (float or array) and returning watts
=============  ==============================================================

Packages can register more models under the entry-point group
``gapa.power_models``: each entry is a factory called with the TOML table's
other keys (``model`` removed) that returns a :class:`PowerModel` or a callable
``u -> watts``.
"""

from __future__ import annotations

import csv
import importlib
import io
import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gapa.errors import InputError

ENTRY_POINT_GROUP = "gapa.power_models"
_CHECK_GRID = np.linspace(0.0, 1.0, 101)


class PowerModel(ABC):
    """Watts drawn by an on host at CPU utilisation ``u`` in [0, 1]."""

    #: short name of the model kind, e.g. ``"linear"``
    kind: str = "abstract"

    @abstractmethod
    def watts(self, u: Any) -> Any:
        """Power in watts at utilisation ``u`` (float or numpy array; same shape out)."""

    @property
    def idle_w(self) -> float:
        """Watts of an on host with no load, ``watts(0)``."""
        return float(self.watts(0.0))

    @property
    def max_w(self) -> float:
        """Watts at full load, ``watts(1)``."""
        return float(self.watts(1.0))

    def describe(self) -> str:
        """One-line human description."""
        return f"{self.kind} ({self.idle_w:.1f}–{self.max_w:.1f} W)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def _linear(u: Any) -> Any:
    return u


def _square(u: Any) -> Any:
    return u * u


def _cubic(u: Any) -> Any:
    return u * u * u


class ShapeModel(PowerModel):
    """``idle_w + (max_w - idle_w) * f(u)`` for ``f`` = u, u², u³ or √u."""

    # module-level functions, not lambdas, so that a model pickles (GAPA's island processes)
    _SHAPES: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "linear": _linear,
        "square": _square,
        "cubic": _cubic,
        "sqrt": np.sqrt,
    }

    def __init__(self, kind: str, idle_w: float, max_w: float):
        if kind not in self._SHAPES:
            raise ValueError(f"unknown shape {kind!r}")
        for name, value in (("idle_w", idle_w), ("max_w", max_w)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
        if max_w < idle_w:
            raise ValueError(f"max_w ({max_w}) is below idle_w ({idle_w})")
        self.kind = kind
        self._idle = float(idle_w)
        self._span = float(max_w) - float(idle_w)
        self._shape = self._SHAPES[kind]

    def watts(self, u: Any) -> Any:
        return self._idle + self._span * self._shape(u)


class PiecewiseLinearModel(PowerModel):
    """Watts linearly interpolated between measured ``(utilisation, watts)`` points."""

    def __init__(self, utilisation: Any, watts: Any, kind: str = "table", label: str = ""):
        u = np.asarray(utilisation, dtype=float)
        w = np.asarray(watts, dtype=float)
        if u.ndim != 1 or u.shape != w.shape or len(u) < 2:
            raise ValueError("needs at least two (utilisation, watts) points")
        if not np.all(np.isfinite(u)) or not np.all(np.isfinite(w)):
            raise ValueError("points must be finite numbers")
        if np.any((u < 0) | (u > 1)):
            bad = u[(u < 0) | (u > 1)][0]
            raise ValueError(f"utilisation {bad:g} is outside [0, 1]")
        if np.any(w < 0):
            raise ValueError(f"negative watts {w[w < 0][0]:g}")
        order = np.argsort(u, kind="stable")
        u, w = u[order], w[order]
        if np.any(np.diff(u) == 0):
            raise ValueError(f"utilisation {u[:-1][np.diff(u) == 0][0]:g} appears twice")
        if u[0] != 0.0 or u[-1] != 1.0:
            raise ValueError("points must cover utilisation 0 and 1")
        self.kind = kind
        self.label = label
        self.points_u = u
        self.points_w = w

    def watts(self, u: Any) -> Any:
        out = np.interp(u, self.points_u, self.points_w)
        return float(out) if np.ndim(u) == 0 else out

    def describe(self) -> str:
        name = f" {self.label}" if self.label else ""
        return f"{self.kind}{name} ({self.idle_w:.1f}–{self.max_w:.1f} W)"


class CallableModel(PowerModel):
    """A user's function ``u -> watts`` (vectorised over numpy arrays, or scalar only)."""

    def __init__(self, func: Callable[[Any], Any], label: str, kind: str = "python",
                 base_dir: Path | None = None):
        self.kind = kind
        self.label = label
        self._func = func
        self._base_dir = base_dir  # where ``label`` (a ref) was imported from, if it is one
        self._vectorised = True
        probe = np.asarray(func(_CHECK_GRID), dtype=float) if _accepts_arrays(func) else None
        if probe is None or probe.shape != _CHECK_GRID.shape:
            self._vectorised = False

    def watts(self, u: Any) -> Any:
        if np.ndim(u) == 0:
            return float(self._func(float(u)))
        arr = np.asarray(u, dtype=float)
        if self._vectorised:
            return np.asarray(self._func(arr), dtype=float)
        return np.fromiter((float(self._func(float(x))) for x in arr.ravel()), float, arr.size).reshape(
            arr.shape
        )

    def describe(self) -> str:
        return f"{self.kind} {self.label} ({self.idle_w:.1f}–{self.max_w:.1f} W)"

    def __reduce__(self):
        # a function imported from the scenario's folder cannot be pickled by reference into a
        # worker process that lacks that folder on its path: the worker imports it again
        if self.kind == "python" and self._base_dir is not None:
            return (_callable_from_ref, (self.label, str(self._base_dir)))
        return super().__reduce__()


def _callable_from_ref(ref: str, base_dir: str) -> CallableModel:
    """A ``model = "python"`` curve, imported again (in a worker process)."""
    return CallableModel(_load_ref(ref, Path(base_dir)), ref, base_dir=Path(base_dir))


class OffsetModel(PowerModel):
    """A host curve plus a constant draw, e.g. the idle watts of the host's GPUs.

    ``watts(u) = base.watts(u) + offset_w``: the offset is drawn whenever the host is
    on, whatever its CPU load (a GPU host's idle GPUs when no GPU work runs).
    """

    def __init__(self, base: PowerModel, offset_w: float, label: str):
        if not math.isfinite(offset_w) or offset_w < 0:
            raise ValueError(f"offset must be a finite number of watts ≥ 0, got {offset_w!r}")
        self.base = base
        self.offset_w = float(offset_w)
        self.label = label
        self.kind = base.kind

    def watts(self, u: Any) -> Any:
        return self.base.watts(u) + self.offset_w

    def describe(self) -> str:
        return f"{self.base.describe()} + {self.label}"


class IdleShareModel(PowerModel):
    """A host curve with its idle share of peak power set to ``share``, its shape kept.

    ``watts(u) = share × M + (1 − share) × M × g(u)``, where ``M`` is the base curve's
    peak watts and ``g(u) = (P(u) − P(0)) / (M − P(0))`` its dynamic part from 0 to 1
    (``g(u) = u`` for a flat curve).  Sweeps use it to ask how results change with
    the share of idle power.
    """

    def __init__(self, base: PowerModel, share: float):
        if not (isinstance(share, (int, float)) and 0 <= share <= 1):
            raise ValueError(f"idle_share must be in [0, 1], got {share!r}")
        self.base = base
        self.share = float(share)
        self.kind = base.kind
        self._peak = base.max_w
        self._idle = base.idle_w

    def watts(self, u: Any) -> Any:
        span = self._peak - self._idle
        dynamic = (self.base.watts(u) - self._idle) / span if span > 0 else u
        return self.share * self._peak + (1.0 - self.share) * self._peak * dynamic

    def describe(self) -> str:
        return f"{self.base.describe()} with idle at {self.share:.0%} of peak"


def _accepts_arrays(func: Callable[[Any], Any]) -> bool:
    try:
        out = func(_CHECK_GRID)
    except Exception:  # noqa: BLE001 - a scalar-only function may raise anything on arrays
        return False
    return np.shape(out) == _CHECK_GRID.shape


@lru_cache(maxsize=1)
def specpower_servers() -> dict[str, dict[str, Any]]:
    """The built-in SPECpower servers by name: description, cores, MHz, RAM and 11 wattages."""
    text = resources.files("gapa").joinpath("data/specpower_cloudsim.csv").read_text("utf-8")
    servers: dict[str, dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        servers[row["server"]] = {
            "name": row["name"],
            "cpu": row["cpu"],
            "cores": int(row["cores"]),
            "mhz": float(row["mhz"]),
            "ram_mb": int(row["ram_mb"]),
            "watts": [float(row[f"w{p}"]) for p in range(0, 101, 10)],
        }
    return servers


def specpower_model(server: str) -> PiecewiseLinearModel:
    """The SPECpower curve of a built-in server, by CloudSim's name (e.g. ``IbmX3550XeonX5675``)."""
    servers = specpower_servers()
    if server not in servers:
        raise ValueError(f"unknown SPECpower server {server!r}; known: {', '.join(sorted(servers))}")
    return PiecewiseLinearModel(np.linspace(0, 1, 11), servers[server]["watts"], "specpower", server)


def check_model(model: PowerModel) -> None:
    """Raise ``ValueError`` if the model gives non-finite or negative watts anywhere on [0, 1]."""
    try:
        values = np.asarray(model.watts(_CHECK_GRID), dtype=float)
    except Exception as exc:  # noqa: BLE001 - user code
        raise ValueError(f"evaluating the model failed: {type(exc).__name__}: {exc}") from None
    if values.shape != _CHECK_GRID.shape:
        raise ValueError(f"returned shape {values.shape} for {len(_CHECK_GRID)} utilisations")
    bad = ~np.isfinite(values) | (values < 0)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"gives {values[i]!r} W at utilisation {_CHECK_GRID[i]:.2f} "
                         "(watts must be finite and ≥ 0)")


def _read_table_csv(path: Path) -> tuple[list[float], list[float]]:
    from gapa.workload import read_text_file

    text = read_text_file(path, "power curve")
    us: list[float] = []
    ws: list[float] = []
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputError("the power curve file is empty", path, 1)
        names = [h.strip().lower() for h in header]
        if names[:2] not in (["utilisation", "watts"], ["utilization", "watts"]):
            raise InputError("expected a header 'utilisation,watts'", path, 1)
        for row in reader:
            if not row or not any(c.strip() for c in row):
                continue
            line = reader.line_num
            if len(row) < 2:
                raise InputError("expected two fields: utilisation,watts", path, line)
            try:
                u, w = float(row[0]), float(row[1])
            except ValueError:
                raise InputError(f"not a number: {row[0]!r}, {row[1]!r}", path, line) from None
            if not (math.isfinite(u) and 0 <= u <= 1):
                raise InputError(f"utilisation {row[0].strip()} is outside [0, 1]", path, line)
            if not math.isfinite(w) or w < 0:
                raise InputError(f"watts {row[1].strip()} must be finite and ≥ 0", path, line)
            us.append(u)
            ws.append(w)
    return us, ws


def _load_ref(ref: str, base_dir: Path | None = None) -> Callable[..., Any]:
    """Import ``package.module:function``; the scenario's folder is searched first."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ValueError(f"ref {ref!r} must look like 'package.module:function'")
    added = base_dir is not None and str(base_dir) not in sys.path
    if added:
        sys.path.insert(0, str(base_dir))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - user code failing on import
        raise ValueError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(str(base_dir))
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{ref!r} is not callable")  # noqa: TRY004
    return obj


def _entry_point_factories() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


BUILTIN_MODELS = ("linear", "square", "cubic", "sqrt", "specpower", "table", "python")


def known_models() -> list[str]:
    """Names accepted as ``model``: the built-ins plus registered entry points."""
    return list(BUILTIN_MODELS) + sorted(set(_entry_point_factories()) - set(BUILTIN_MODELS))


def _expect_keys(spec: Mapping[str, Any], allowed: set[str], kind: str) -> None:
    unknown = sorted(set(spec) - allowed - {"model"})
    if unknown:
        raise ValueError(f"unknown key(s) for model {kind!r}: {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(allowed))})")


def build_power_model(spec: Mapping[str, Any], base_dir: Path | None = None) -> PowerModel:
    """Build a power model from a scenario's ``power`` table.

    Args:
        spec: the table, e.g. ``{"model": "linear", "idle_w": 66, "max_w": 247}``.
        base_dir: directory that relative ``csv`` paths are taken from (the scenario's).

    Raises:
        ValueError: unknown model, missing or bad parameters, or an invalid curve;
            the message says which.
        InputError: for a ``table`` CSV file that is malformed (names file and line).
    """
    if not isinstance(spec, Mapping) or "model" not in spec:
        raise ValueError("power needs a 'model' key, e.g. power = { model = \"linear\", idle_w = 70, max_w = 250 }")
    kind = spec["model"]
    params = {k: v for k, v in spec.items() if k != "model"}
    if kind in ShapeModel._SHAPES:
        _expect_keys(spec, {"idle_w", "max_w"}, kind)
        for key in ("idle_w", "max_w"):
            if key not in params:
                raise ValueError(f"model {kind!r} needs {key}")
        model: PowerModel = ShapeModel(kind, params["idle_w"], params["max_w"])
    elif kind == "specpower":
        _expect_keys(spec, {"server"}, kind)
        if "server" not in params:
            raise ValueError(f"model 'specpower' needs server = one of {', '.join(sorted(specpower_servers()))}")
        model = specpower_model(str(params["server"]))
    elif kind == "table":
        _expect_keys(spec, {"points", "csv"}, kind)
        if ("points" in params) == ("csv" in params):
            raise ValueError("model 'table' needs exactly one of points = [[u, watts], ...] or csv = \"file.csv\"")
        if "points" in params:
            pts = params["points"]
            if not isinstance(pts, list) or not all(isinstance(p, list) and len(p) == 2 for p in pts):
                raise ValueError("points must be a list of [utilisation, watts] pairs")
            try:
                us = [float(p[0]) for p in pts]
                ws = [float(p[1]) for p in pts]
            except (TypeError, ValueError):
                raise ValueError("points must hold numbers") from None
            label = ""
        else:
            csv_path = Path(str(params["csv"]))
            if not csv_path.is_absolute() and base_dir is not None:
                csv_path = base_dir / csv_path
            us, ws = _read_table_csv(csv_path)
            label = csv_path.name
        model = PiecewiseLinearModel(us, ws, "table", label)
    elif kind == "python":
        _expect_keys(spec, {"ref"}, kind)
        if "ref" not in params:
            raise ValueError("model 'python' needs ref = \"package.module:function\"")
        model = CallableModel(_load_ref(str(params["ref"]), base_dir), str(params["ref"]), base_dir=base_dir)
    else:
        factories = _entry_point_factories()
        if kind not in factories:
            raise ValueError(f"unknown power model {kind!r}; known: {', '.join(known_models())}")
        try:
            made = factories[kind].load()(**params)
        except Exception as exc:  # noqa: BLE001 - third-party factory
            raise ValueError(f"power model {kind!r} could not be built: {type(exc).__name__}: {exc}") from None
        if isinstance(made, PowerModel):
            model = made
        elif callable(made):
            model = CallableModel(made, kind, kind=kind)
        else:
            raise ValueError(f"entry point {kind!r} returned {type(made).__name__}, not a power model")
    check_model(model)
    return model
