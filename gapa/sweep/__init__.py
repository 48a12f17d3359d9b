"""Experiment sweeps: grids of runs from a TOML file, run on Dask, stored in SQLite.

* :mod:`gapa.sweep.spec` — the sweep file and its expansion into runs (with ids);
* :mod:`gapa.sweep.store` — the SQLite results store;
* :mod:`gapa.sweep.execute` — running the grid on a local or remote Dask cluster;
* :mod:`gapa.sweep.report` — tables and a figure from the store.
"""

from gapa.sweep.execute import SweepOutcome, execute_run, local_cluster, run_sweep
from gapa.sweep.spec import RunSpec, Sweep, build_problem, load_sweep
from gapa.sweep.store import ResultStore

__all__ = ["ResultStore", "RunSpec", "Sweep", "SweepOutcome", "build_problem", "execute_run", "load_sweep",
           "local_cluster", "run_sweep"]
