"""A deliberately broken user power model, for the sweep tests: it works on arrays and at
0 and 1 (so the scenario loads and the fast evaluator runs) but raises on a single float
in between, which the SimPy simulation passes, so every run with it fails on its worker."""

from __future__ import annotations

import numpy as np


def array_only(u):
    if np.ndim(u) == 0 and 0.0 < float(u) < 1.0:
        raise RuntimeError("this curve only takes arrays")
    return 100.0 + 100.0 * np.asarray(u)
