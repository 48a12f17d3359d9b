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

from gapa.errors import InfeasibleAllocation, InputError  # noqa: E402
from gapa.problem import REJECTED, Problem  # noqa: E402
from gapa.scenario import Scenario, load_scenario  # noqa: E402
from gapa.workload import Workload, load_workload  # noqa: E402

__all__ = ["REJECTED", "InfeasibleAllocation", "InputError", "Problem", "Scenario", "Workload",
           "__version__", "load_scenario", "load_workload"]
