"""The machine-speed reference the benchmark scripts print beside their times.

This 2-core VM's speed drifts by up to 2x within an hour, so a benchmark times a fixed
pure-Python loop before and after its run: a slow machine then shows in the reference,
not only in the results.
"""

from __future__ import annotations

import time


def machine_reference_s() -> float:
    """Seconds a fixed pure-Python loop (40 million additions) takes: how fast the machine runs now."""
    t0 = time.perf_counter()
    total = 0
    for i in range(40_000_000):
        total += i
    return time.perf_counter() - t0
