"""The fleet: the hosts of a private cloud, with capacities and power models.

Hosts are numbered 0 … H−1 in the order of the scenario's host groups; a host
in group ``name`` gets the id ``name-0``, ``name-1``, …
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapa.power import PowerModel

#: most hosts a fleet may have, all groups together: far beyond any private cloud, and a
#: mistyped count (``count = 1000000000``) is refused at once instead of filling memory
MAX_HOSTS = 1_000_000


@dataclass(frozen=True)
class GpuSpec:
    """The GPUs of every host in a group (all alike).

    Attributes:
        count: GPUs per host.
        model: the GPU model's key in the GPU profile table, e.g. ``"v100"``.
        idle_w: watts of one idle GPU in a powered host.
        max_w: the default power cap, watts (the board's limit; what a job that
            sets no cap runs at).
        caps_w: the power caps a scheduler may set, watts (ascending; includes ``max_w``).
    """

    count: int
    model: str
    idle_w: float
    max_w: float
    caps_w: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class HostGroup:
    """``count`` identical hosts.

    Attributes:
        name: group name; host ids are ``name-0`` … ``name-(count-1)``.
        count: number of hosts.
        cores: cores per host.
        mips_per_core: speed of one core, MIPS.
        ram_mb: RAM per host, MB.
        power: the power model of one host (watts vs CPU utilisation); for a
            group with GPUs it includes their idle draw (see :class:`~gapa.power.OffsetModel`).
        gpus: the GPUs of each host, or ``None``.
    """

    name: str
    count: int
    cores: int
    mips_per_core: float
    ram_mb: int
    power: PowerModel
    gpus: GpuSpec | None = None


class Fleet:
    """All hosts as parallel numpy arrays (index = host number); at most :data:`MAX_HOSTS` hosts.

    Attributes:
        groups: the host groups, in order.
        host_ids: host names, e.g. ``"x3550-3"``.
        group_of_host: index into ``groups`` for each host.
        cores: cores per host.
        mips_per_core: MIPS per core per host.
        ram_mb: RAM per host, MB.
        models: the distinct power models; ``model_of_host`` indexes into it.
        idle_w: watts of each host when on and idle, P(0) (idle GPUs included).
        gpus: GPUs per host (0 for most).
        gpu_idle_w: watts of one idle GPU, per host (0 where there are none).
    """

    def __init__(self, groups: list[HostGroup]):
        if not groups:
            raise ValueError("a fleet needs at least one host group")
        names = [g.name for g in groups]
        if len(set(names)) != len(names):
            raise ValueError("host group names must be unique")
        total = sum(g.count for g in groups)
        if total > MAX_HOSTS:
            raise ValueError(f"a fleet of {total:,} hosts is more than the {MAX_HOSTS:,} gapa accepts")
        self.groups = list(groups)
        self.host_ids = np.array([f"{g.name}-{i}" for g in groups for i in range(g.count)], dtype=object)
        self.group_of_host = np.repeat(np.arange(len(groups)), [g.count for g in groups])
        self.cores = np.repeat([g.cores for g in groups], [g.count for g in groups]).astype(np.int64)
        self.mips_per_core = np.repeat([float(g.mips_per_core) for g in groups], [g.count for g in groups])
        self.ram_mb = np.repeat([g.ram_mb for g in groups], [g.count for g in groups]).astype(np.int64)
        self.models: list[PowerModel] = []
        model_of_group = []
        for g in groups:
            for k, m in enumerate(self.models):
                if m is g.power:
                    model_of_group.append(k)
                    break
            else:
                model_of_group.append(len(self.models))
                self.models.append(g.power)
        self.model_of_host = np.asarray(model_of_group, dtype=np.int64)[self.group_of_host]
        self.idle_w = np.array([g.power.idle_w for g in groups])[self.group_of_host]
        self.max_w = np.array([g.power.max_w for g in groups])[self.group_of_host]
        self.gpus = np.array([g.gpus.count if g.gpus else 0 for g in groups], dtype=np.int64)[self.group_of_host]
        self.gpu_idle_w = np.array([g.gpus.idle_w if g.gpus else 0.0 for g in groups])[self.group_of_host]

    @property
    def size(self) -> int:
        """Number of hosts."""
        return len(self.host_ids)

    def watts(self, hosts: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Watts of hosts ``hosts`` (indices) at utilisations ``u`` (same shape), when on."""
        hosts = np.asarray(hosts)
        u = np.asarray(u, dtype=float)
        if len(self.models) == 1:
            return np.asarray(self.models[0].watts(u), dtype=float)
        out = np.empty(u.shape, dtype=float)
        which = self.model_of_host[hosts]
        for k, model in enumerate(self.models):
            mask = which == k
            if mask.any():
                out[mask] = model.watts(u[mask])
        return out
