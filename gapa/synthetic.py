"""Synthetic lab-cloud instances of any size, for benchmarks and scaling tests.

:func:`synthetic_workload` repeats a lab day's shape — classes of 20–40 VMs that
start together on the hour in 2–3 h slots between 08:00 and 22:00, VM types
from 1 core/1 GB to 4 cores/8 GB, mostly idle — over as many days as it takes
to reach ``n`` VMs.  :func:`synthetic_fleet` sizes a two-generation fleet for a
given peak demand.  Everything is drawn from the ``rng`` passed in.
"""

from __future__ import annotations

import numpy as np

from gapa.fleet import Fleet, HostGroup
from gapa.power import ShapeModel, specpower_model
from gapa.workload import Workload

_VM_TYPES = np.array([(1, 1024), (1, 2048), (2, 2048), (2, 4096), (4, 4096), (4, 8192)])
_SLOTS_H = [(8, 2), (10, 2), (13, 2), (15, 2), (17, 3), (20, 2)]


def synthetic_workload(n: int, rng: np.random.Generator, rooms: int = 8) -> Workload:
    """``n`` VMs in lab classes over consecutive days (about ``rooms`` classes at once)."""
    starts, ends, cores, ram, util = [], [], [], [], []
    count = 0
    day = 0
    while count < n:
        for hour, length in _SLOTS_H:
            for _ in range(rooms):
                if rng.random() < 0.25 or count >= n:
                    continue
                size = min(int(rng.integers(20, 41)), n - count)
                kind = _VM_TYPES[rng.integers(len(_VM_TYPES))]
                t0 = day * 86400 + hour * 3600 - 600
                starts += [t0] * size
                ends += [t0 + length * 3600 + 600] * size
                cores += [kind[0]] * size
                ram += [kind[1]] * size
                util += list(np.round(rng.beta(2, 8, size), 3))
                count += size
        day += 1
    return Workload.from_arrays(starts, ends, cores, ram, cpu_util=util, source=f"synthetic-{n}")


def peak_demand(workload: Workload) -> tuple[int, int]:
    """Peak concurrent (cores, RAM MB) of a workload."""
    t = np.concatenate([workload.start_s, workload.end_s])
    sign = np.concatenate([np.ones(workload.n), -np.ones(workload.n)])
    order = np.lexsort((sign, t))  # ends first
    cores = np.cumsum(np.concatenate([workload.cores, -workload.cores])[order]).max()
    ram = np.cumsum(np.concatenate([workload.ram_mb, -workload.ram_mb])[order]).max()
    return int(cores), int(ram)


def synthetic_fleet(peak_cores: int, peak_ram_mb: int, headroom: float = 1.3) -> Fleet:
    """Two host groups (12-core SPECpower x3550 M3 and 4-core linear servers) for a peak demand."""
    need = max(peak_cores * headroom, peak_ram_mb * headroom / 2730)
    big = max(1, int(np.ceil(need * 0.7 / 12)))
    small = max(1, int(np.ceil(need * 0.3 / 4)))
    return Fleet([
        HostGroup("x3550m3", big, 12, 3067, 32768, specpower_model("IbmX3550XeonX5675")),
        HostGroup("r4", small, 4, 2933, 16384, ShapeModel("linear", 45, 115)),
    ])
