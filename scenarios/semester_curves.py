"""Power curves written as Python for ``scenarios/semester.toml`` (``model = "python"``).

gapa imports this module from the scenario's folder (``ref = "semester_curves:epyc_7543"``)
and calls the function with a host's CPU utilisation ``u`` in [0, 1], a float or a numpy
array, expecting watts of the same shape.
"""

from __future__ import annotations

import numpy as np

#: 2x AMD EPYC 7543 (2 x 32 cores), 128 GB: watts at idle (u = 0) and at full load
EPYC_7543_IDLE_W = 105.0
EPYC_7543_MAX_W = 510.0
_RISE = 5.0  # how fast the low-load part saturates


def epyc_7543(u):
    """Watts of a two-socket EPYC 7543 server at utilisation ``u``.

    Our curve, not a measurement: 70 % of the dynamic range linear in ``u`` and 30 % a
    fast-saturating term, so the first tenth of load costs more than the next (cores
    leave deep sleep states, the I/O die and memory wake up), as SPECpower results of
    recent servers tend to show.  105 W idle, 510 W at full load.
    """
    u = np.asarray(u, dtype=float)
    fast = (1.0 - np.exp(-_RISE * u)) / (1.0 - np.exp(-_RISE))
    watts = EPYC_7543_IDLE_W + (EPYC_7543_MAX_W - EPYC_7543_IDLE_W) * (0.7 * u + 0.3 * fast)
    return float(watts) if watts.ndim == 0 else watts
