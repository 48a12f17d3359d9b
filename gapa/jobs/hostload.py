"""What one GPU host holds over time — lab VMs and placed GPU stages — with exact,
vectorised capacity checks and energy.

This is the fast path of the GPU policies: a policy asks, for a whole batch of
candidate placements (start, end, power cap) of one stage on one host at once,
which fit and what each would add to the host's energy.  The energy is the same
piecewise-constant integral the SimPy simulation takes (:mod:`gapa.simulation`):
between consecutive events the host draws ``P(u) + Σ stage extra watts`` while
something runs; an empty gap is idled through at ``P(0)`` when shorter than the
power policy's threshold, else it costs a shutdown and a boot; every busy period
pays one boot and one shutdown.  Tests check it against the simulation on random
inputs.
"""

from __future__ import annotations

import numpy as np

from gapa.problem import UTIL_UNITS, Problem


class HostLoad:
    """The items on one host (lab VMs first, then GPU stages as they are placed).

    Attributes:
        host: host index in the fleet.
        cores_cap / ram_cap / gpus_cap: the host's capacities.
    """

    def __init__(self, problem: Problem, host: int, lab_vms: np.ndarray):
        f = problem.fleet
        w = problem.workload
        self.host = int(host)
        self.cores_cap = int(f.cores[host])
        self.ram_cap = int(f.ram_mb[host])
        self.gpus_cap = int(f.gpus[host])
        self._model = f.models[int(f.model_of_host[host])]
        self._idle_w = float(f.idle_w[host])
        self._threshold = float(problem.idle_threshold_s[host])
        self._switch_j = float(problem.policy.boot_j + problem.policy.shutdown_j)
        lab_vms = np.asarray(lab_vms, dtype=np.intp)
        hosts = np.full(len(lab_vms), host)
        self._start = w.start_s[lab_vms].astype(np.int64).tolist()
        self._end = w.end_s[lab_vms].astype(np.int64).tolist()
        self._cores = w.cores[lab_vms].astype(np.int64).tolist()
        self._ram = w.ram_mb[lab_vms].astype(np.int64).tolist()
        self._gpus = [0] * len(lab_vms)
        self._util = problem.utilisation_units(lab_vms, hosts).tolist()
        self._extra = [0.0] * len(lab_vms)
        self.n_lab = len(lab_vms)
        self._cache: dict[str, object] = {}

    # -- state ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._start)

    @property
    def switch_threshold_s(self) -> float:
        """Seconds: an empty gap at least this long costs a shutdown and a boot, a shorter
        one is idled through (the power policy's threshold for this host)."""
        return self._threshold

    def add(self, start: int, end: int, cores: int, ram_mb: int, gpus: int, util_units: int,
            extra_w: float) -> None:
        """Place an item on ``[start, end)``."""
        self._start.append(int(start))
        self._end.append(int(end))
        self._cores.append(int(cores))
        self._ram.append(int(ram_mb))
        self._gpus.append(int(gpus))
        self._util.append(int(util_units))
        self._extra.append(float(extra_w))
        self._cache.clear()

    def truncate(self, length: int) -> None:
        """Remove every item placed after the first ``length`` (undo)."""
        for seq in (self._start, self._end, self._cores, self._ram, self._gpus, self._util, self._extra):
            del seq[length:]
        self._cache.clear()

    def utilisation_units(self, cores: int, cpu_util: float) -> int:
        """CPU utilisation that ``cores`` cores at load ``cpu_util`` add, in units of 1 / UTIL_UNITS."""
        return int(np.rint(cores * cpu_util / self.cores_cap * UTIL_UNITS))

    def event_times(self) -> np.ndarray:
        """Distinct start and end times of the items, ascending."""
        if "times" not in self._cache:
            self._cache["times"] = np.unique(np.array(self._start + self._end, dtype=np.int64))
        return self._cache["times"]  # type: ignore[return-value]

    def item_ends(self) -> np.ndarray:
        """Distinct end times of the items, ascending."""
        if "ends" not in self._cache:
            self._cache["ends"] = np.unique(np.array(self._end, dtype=np.int64))
        return self._cache["ends"]  # type: ignore[return-value]

    def _steps(self):
        if "steps" not in self._cache:
            n = len(self._start)
            t = np.array(self._start + self._end, dtype=np.int64)
            is_start = np.concatenate([np.ones(n, np.int64), np.zeros(n, np.int64)])
            order = np.lexsort((is_start, t))
            sign = np.where(is_start[order] == 1, 1, -1)
            use = np.array([self._cores, self._ram, self._gpus], dtype=np.int64)
            use = np.concatenate([use, use], axis=1)[:, order] * sign
            self._cache["steps"] = (t[order], np.cumsum(use, axis=1))
        return self._cache["steps"]

    # -- capacity ----------------------------------------------------------------
    def fits(self, starts: np.ndarray, ends: np.ndarray, cores: int, ram_mb: int, gpus: int) -> np.ndarray:
        """For each candidate ``[starts[i], ends[i])``: does an item of this demand fit?"""
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        ok = (cores <= self.cores_cap) & (ram_mb <= self.ram_cap) & (gpus <= self.gpus_cap)
        if not ok or len(self._start) == 0:
            return np.full(starts.shape, bool(ok))
        times, used = self._steps()
        first = np.searchsorted(times, starts, side="right") - 1  # state in force at the start
        last = np.searchsorted(times, ends, side="left") - 1  # last change before the end
        k = np.arange(len(times))
        inside = (k[None, :] >= first[:, None]) & (k[None, :] <= last[:, None])
        cap = np.array([self.cores_cap - cores, self.ram_cap - ram_mb, self.gpus_cap - gpus])
        peak = np.where(inside[None, :, :], used[:, None, :], 0).max(axis=2)  # (3, B)
        return (peak <= cap[:, None]).all(axis=0)

    # -- energy ------------------------------------------------------------------
    def _energy_rows(self, start, end, util, extra) -> np.ndarray:
        """Energy (J) of each row of items (arrays B × k), exactly as the simulation integrates it."""
        B, k = start.shape
        if k == 0:
            return np.zeros(B)
        t = np.concatenate([start, end], axis=1)
        is_start = np.concatenate([np.ones(k, np.int64), np.zeros(k, np.int64)])
        key = t * 2 + is_start[None, :]  # ends before starts at equal times
        order = np.argsort(key, axis=1, kind="stable")
        ts = np.take_along_axis(t, order, axis=1)
        sign = np.where(is_start == 1, 1, -1)[order]
        count = np.cumsum(sign, axis=1)
        u = np.cumsum(np.take_along_axis(np.concatenate([util, util], axis=1), order, axis=1) * sign, axis=1)
        x = np.cumsum(np.take_along_axis(np.concatenate([extra, extra], axis=1), order, axis=1) * sign, axis=1)
        length = (ts[:, 1:] - ts[:, :-1]).astype(float)
        busy = count[:, :-1] > 0
        watts = np.asarray(self._model.watts(np.minimum(u[:, :-1] / UTIL_UNITS, 1.0)), dtype=float) + x[:, :-1]
        e_busy = np.where(busy, watts * length, 0.0).sum(axis=1)
        gap = ~busy & (length > 0)
        e_gap = np.where(gap, np.where(length < self._threshold, self._idle_w * length, self._switch_j), 0.0)
        return e_busy + e_gap.sum(axis=1) + self._switch_j

    def _base_arrays(self):
        if "base" not in self._cache:
            self._cache["base"] = (np.array(self._start, np.int64), np.array(self._end, np.int64),
                                   np.array(self._util, np.int64), np.array(self._extra, float))
        return self._cache["base"]

    def energy_j(self) -> float:
        """Energy of the host with its items, joules (0 when it holds none)."""
        if not self._start:
            return 0.0
        if "energy" not in self._cache:
            s, e, u, x = self._base_arrays()
            self._cache["energy"] = float(self._energy_rows(s[None], e[None], u[None], x[None])[0])
        return self._cache["energy"]  # type: ignore[return-value]

    def energies_with(self, starts: np.ndarray, ends: np.ndarray, util_units: int,
                      extra_w: np.ndarray) -> np.ndarray:
        """Energy of the host (J) with one more item, for each candidate ``[starts[i], ends[i])``
        drawing ``extra_w[i]`` watts above idle."""
        starts = np.asarray(starts, dtype=np.int64)
        B = len(starts)
        s, e, u, x = self._base_arrays()
        rows_s = np.concatenate([np.broadcast_to(s, (B, len(s))), starts[:, None]], axis=1)
        rows_e = np.concatenate([np.broadcast_to(e, (B, len(e))), np.asarray(ends, np.int64)[:, None]], axis=1)
        rows_u = np.concatenate([np.broadcast_to(u, (B, len(u))), np.full((B, 1), util_units, np.int64)], axis=1)
        rows_x = np.concatenate([np.broadcast_to(x, (B, len(x))), np.asarray(extra_w, float)[:, None]], axis=1)
        return self._energy_rows(rows_s, rows_e, rows_u, rows_x)
