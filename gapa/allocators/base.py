"""The allocator interface: one shape for every placement algorithm.

An allocator takes a :class:`~gapa.problem.Problem`, a seeded
``numpy.random.Generator`` and :class:`Limits`, and returns an
:class:`AllocatorResult`: the allocation (one host index per VM, −1 for a VM
it could not place) plus whatever it has to report — a status, a lower bound,
a per-generation logbook.  Allocators never simulate and never plot.
"""

from __future__ import annotations

import inspect
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from gapa.problem import Problem


class SettingError(ValueError):
    """A bad allocator setting: :attr:`key` names it, :attr:`keys` every setting the
    check involved (e.g. ``elite`` and ``population``), :attr:`problem` what is wrong."""

    def __init__(self, key: str, message: str, also: tuple[str, ...] = ()):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.keys = (key, *also)
        self.problem = message

    def __reduce__(self):  # picklable, so that worker processes can send it back
        return (SettingError, (self.key, self.problem, self.keys[1:]))


def check_settings(cls: type, settings: dict[str, Any]) -> None:
    """Raise :class:`SettingError` for a key ``cls.__init__`` does not take, or a value
    whose type does not match the parameter's default: an ``int`` default wants a whole
    number, a ``float`` default any number, a ``bool`` default true or false; a ``None``
    default allows None and what the annotation names (``int | None``: a whole number,
    else a number).  Ranges are the constructor's to check."""
    params = {k: v for k, v in inspect.signature(cls.__init__).parameters.items()
              if k != "self" and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)}
    for key, value in settings.items():
        if key not in params:
            known = f"known: {', '.join(params)}" if params else f"{cls.name} takes no settings"
            raise SettingError(key, f"unknown setting; {known}")
        default = params[key].default
        if isinstance(default, bool):
            ok, want = isinstance(value, (bool, np.bool_)), "true or false"
        elif isinstance(default, int):
            ok, want = isinstance(value, numbers.Integral) and not isinstance(value, bool), "a whole number"
        elif default is None and str(params[key].annotation).startswith("int"):
            ok = value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
            want = "a whole number"
        elif isinstance(default, float) or default is None:
            ok = (value is None and default is None) or (
                isinstance(value, numbers.Real) and not isinstance(value, bool))
            want = "a number"
        else:
            continue
        if not ok:
            raise SettingError(key, f"must be {want}, got {value!r}")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    """Budgets an allocator must respect.

    Attributes:
        time_limit_s: wall-clock budget in seconds, or ``None`` for none.
        quiet: suppress progress output on the terminal.
        progress: called by iterative allocators after each iteration with a dict
            (``generation``, ``generations``, ``best_j``, ``elapsed_s``, ``time_limit_s``);
            the CLI draws its progress bar from it.
        processes: how many processes a run may keep busy at once: worker processes
            that allocate a problem's independent blocks (:mod:`gapa.blocks`), and
            GAPA's islands; results do not depend on it.  Runners that already run
            allocators in parallel leave it at 1.
        scheduler: a Dask scheduler address (or ``distributed.Client``) on which
            :func:`gapa.run.run_allocator` allocates independent blocks instead.
    """

    time_limit_s: float | None = None
    quiet: bool = True
    progress: Callable[[dict[str, Any]], None] | None = None
    processes: int = 1
    scheduler: Any = None


@dataclass
class AllocatorResult:
    """What an allocator returns.

    Attributes:
        allocation: host index per VM (int64, −1 = rejected).
        status: how it ended, e.g. ``"done"``, ``"time_limit"``, ``"optimal"``.
        lower_bound_j: a proven lower bound on energy (joules), if it has one.
        logbook: per-iteration records (e.g. one dict per GA generation).
        info: anything else worth reporting (flat, JSON-friendly values).
    """

    allocation: np.ndarray
    status: str = "done"
    lower_bound_j: float | None = None
    logbook: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


class Allocator(ABC):
    """Base class of every allocator.

    Subclasses set :attr:`name`, :attr:`stochastic` and :attr:`summary`, take their
    settings as keyword arguments in ``__init__`` (the scenario's table of the
    same name, overridden by the command line) and implement :meth:`allocate`.
    """

    #: name used on the command line (``--algorithm NAME``)
    name: ClassVar[str] = "abstract"
    #: True when the result depends on the seed
    stochastic: ClassVar[bool] = False
    #: one line for ``gapa algorithms``
    summary: ClassVar[str] = ""
    #: True for a constructive heuristic (one pass, each VM placed once: bfd, ffd, …); the
    #: results tables compare every algorithm with the best of those that ran
    constructive: ClassVar[bool] = False
    #: False for an allocator that must see the whole problem at once (e.g. a replayed
    #: allocation); others run block by block (:mod:`gapa.blocks`)
    decomposable: ClassVar[bool] = True

    @abstractmethod
    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        """Place every VM of ``problem`` (or reject it); deterministic given ``rng``."""
