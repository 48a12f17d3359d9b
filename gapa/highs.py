"""A quiet HiGHS: the LP/MILP solver behind the set-covering recombination and the exact solver.

HiGHS prints a banner to the process's standard output the first time a solver object is
made, whatever its options say (highspy 1.16), which would break ``--json`` output and
clutter tables.  :func:`new_highs` makes the first one with file descriptor 1 pointed at
``/dev/null`` and returns solvers with logging off.
"""

from __future__ import annotations

import os
import sys

import highspy

_banner_swallowed = False


def new_highs(threads: int = 1, seed: int = 0) -> highspy.Highs:
    """A HiGHS solver with logging off, ``threads`` threads and random seed ``seed``."""
    global _banner_swallowed
    if not _banner_swallowed:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_swallowed = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    return h
