"""The allocator interface: one shape for every placement algorithm.

An allocator takes a :class:`~gapa.problem.Problem`, a seeded
``numpy.random.Generator`` and :class:`Limits`, and returns an
:class:`AllocatorResult`: the allocation (one host index per VM, −1 for a VM
it could not place) plus whatever it has to report — a status, a lower bound,
a per-generation logbook.  Allocators never simulate and never plot.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from gapa.problem import Problem


@dataclass(frozen=True)
class Limits:
    """Budgets an allocator must respect.

    Attributes:
        time_limit_s: wall-clock budget in seconds, or ``None`` for none.
        quiet: suppress progress output on the terminal.
        progress: called by iterative allocators after each iteration with a dict
            (``generation``, ``generations``, ``best_j``, ``elapsed_s``, ``time_limit_s``);
            the CLI draws its progress bar from it.
    """

    time_limit_s: float | None = None
    quiet: bool = True
    progress: Callable[[dict[str, Any]], None] | None = None


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

    @abstractmethod
    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        """Place every VM of ``problem`` (or reject it); deterministic given ``rng``."""
