"""The power policy: when a host that holds no VM is switched off, and what that costs.

* ``idle = "off"`` — a host is switched off whenever it holds no VM; a gap
  shorter than ``boot_s + shutdown_s`` cannot fit a shutdown and a boot, so the
  host idles through it at P(0).
* ``idle = "on"`` — a used host stays on from its first VM to its last.
* ``idle = "breakeven"`` — a host stays on through gaps shorter than the
  break-even time, the gap at which ``boot_j + shutdown_j`` equals P(0) × gap
  (and always through gaps shorter than ``boot_s + shutdown_s``).

A boot takes ``boot_s`` seconds and costs ``boot_j`` joules in all (no P(0) on
top: the host draws ``boot_j / boot_s`` watts while booting); it ends exactly
when the host's VM starts.  A shutdown starts when the host's last VM ends and
takes ``shutdown_s`` seconds and ``shutdown_j`` joules.  A host's on-time counts
its boots and shutdowns.  Hosts that never hold a VM stay off and cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

IdleMode = Literal["off", "on", "breakeven"]


@dataclass(frozen=True)
class PowerPolicy:
    """How hosts are switched on and off (times in whole seconds, energies in joules)."""

    idle: IdleMode = "off"
    boot_s: int = 0
    boot_j: float = 0.0
    shutdown_s: int = 0
    shutdown_j: float = 0.0

    def idle_threshold_s(self, idle_w: np.ndarray) -> np.ndarray:
        """Per host: a gap (seconds) strictly shorter than this is idled through at P(0).

        Args:
            idle_w: P(0) of each host, watts.
        """
        idle_w = np.asarray(idle_w, dtype=float)
        switch_s = float(self.boot_s + self.shutdown_s)
        if self.idle == "off":
            return np.full(idle_w.shape, switch_s)
        if self.idle == "on":
            return np.full(idle_w.shape, np.inf)
        cost_j = self.boot_j + self.shutdown_j
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            breakeven = np.where(idle_w > 0, cost_j / np.where(idle_w > 0, idle_w, 1.0),
                                 np.inf if cost_j > 0 else 0.0)
        return np.maximum(breakeven, switch_s)

    def breakeven_s(self, idle_w: float) -> float:
        """The break-even gap in seconds for a host of P(0) = ``idle_w`` watts."""
        cost_j = self.boot_j + self.shutdown_j
        if idle_w > 0:
            return cost_j / idle_w
        return np.inf if cost_j > 0 else 0.0
