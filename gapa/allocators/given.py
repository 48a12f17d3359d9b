"""Replaying a given placement (an operator's current one) as allocator ``given``."""

from __future__ import annotations

import numpy as np

from gapa.allocators.base import Allocator, AllocatorResult, Limits
from gapa.problem import Problem


class GivenAllocation(Allocator):
    """Returns a fixed allocation read from a file (see :func:`gapa.allocation_file.read_allocation`)."""

    name = "given"
    summary = "a placement read from a vm_id,host CSV file"
    decomposable = False  # the allocation is indexed by the whole problem's VMs and hosts

    def __init__(self, allocation: np.ndarray):
        self._allocation = np.asarray(allocation, dtype=np.int64).copy()

    def allocate(self, problem: Problem, rng: np.random.Generator, limits: Limits) -> AllocatorResult:
        return AllocatorResult(problem.check_allocation_shape(self._allocation).copy())
