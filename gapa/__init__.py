"""gapa — energy-aware static VM allocation for university private clouds.

The front door is :func:`gapa.run.run_allocator`; the pieces it joins are
:mod:`gapa.workload`, :mod:`gapa.scenario`, :mod:`gapa.problem`,
:mod:`gapa.allocators`, :mod:`gapa.evaluator` and :mod:`gapa.simulation`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gapa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from gapa.errors import InfeasibleAllocation, InputError
from gapa.problem import REJECTED, Problem
from gapa.scenario import Scenario, load_scenario
from gapa.workload import Workload, load_workload

__all__ = ["REJECTED", "InfeasibleAllocation", "InputError", "Problem", "Scenario", "Workload",
           "__version__", "load_scenario", "load_workload"]
