"""Allocators: algorithms that place each VM on a host (or reject it).

Use :func:`get_allocator` to build one by its command-line name.
"""

from __future__ import annotations

from typing import Any

from gapa.allocators.base import (
    Allocator,
    AllocatorResult,
    Limits,
    SettingError,
    available_cores,
    check_settings,
)
from gapa.allocators.bfd import BestFitDecreasing
from gapa.allocators.exact import ExactSolver
from gapa.allocators.genetic import GAPA
from gapa.allocators.given import GivenAllocation
from gapa.allocators.heuristics import HEURISTICS

#: allocators selectable with ``--algorithm``, by name
ALLOCATORS: dict[str, type[Allocator]] = {
    cls.name: cls for cls in (BestFitDecreasing, *HEURISTICS, GAPA, ExactSolver)}

#: what ``gapa simulate`` runs when no ``--algorithm`` is given
MAIN_ALLOCATORS: tuple[str, ...] = ("bfd", "gapa")


def get_allocator(name: str, settings: dict[str, Any] | None = None) -> Allocator:
    """Build the allocator called ``name`` with keyword ``settings``.

    Raises:
        KeyError: no allocator has that name (the message lists the known ones).
    """
    if name not in ALLOCATORS:
        raise KeyError(f"unknown algorithm {name!r}; known: {', '.join(ALLOCATORS)}")
    check_settings(ALLOCATORS[name], settings or {})
    return ALLOCATORS[name](**(settings or {}))


__all__ = ["ALLOCATORS", "MAIN_ALLOCATORS", "Allocator", "AllocatorResult", "GivenAllocation",
           "Limits", "SettingError", "available_cores", "get_allocator"]
