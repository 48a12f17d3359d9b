"""A quiet HiGHS: the LP/MILP solver behind the set-covering recombination and the exact solver.

:class:`CheckLimit` gives a MILP a work limit that does not depend on the machine's
speed.  HiGHS (1.16) has none of its own for the root node, and a wall-clock limit
makes the result depend on the machine's speed and load.

HiGHS prints a banner to the process's standard output the first time a solver object is
made, whatever its options say (highspy 1.16), which would break ``--json`` output and
clutter tables.  :func:`new_highs` makes the first one with file descriptor 1 pointed at
``/dev/null`` and returns solvers with logging off.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

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


class CheckLimit:
    """A deterministic work limit for one HiGHS MILP: interrupt it at its ``checks``-th
    check of its limits.

    HiGHS's MIP solver checks its limits at fixed points of its search (in the root
    node's cut loop and heuristics as well as between nodes), and it calls the
    ``kCallbackMipInterrupt`` callback at each of them.  Single-threaded, the same
    model meets the same checks in the same order on any machine, so stopping at the
    ``checks``-th one stops after the same work everywhere.  (On a1's MILPs HiGHS made
    roughly 100–600 checks per second on our machine; the gaps between checks are
    not bounded, so this is no substitute for a wall-clock safety limit, only for
    relying on it.)  Solve with :meth:`run`; after it, :attr:`count` is the number of
    checks made and :attr:`hit` whether the limit stopped the solve.

    Ctrl-C: Python runs its SIGINT handler at the next Python instruction, which during
    a solve is in this callback; a ``KeyboardInterrupt`` raised there (even on entry,
    before any ``try``) would be swallowed by HiGHS.  So during :meth:`run` (in the
    main thread, when SIGINT has Python's default handler) SIGINT only sets a flag; the
    next check stops the solve, and :meth:`run` raises ``KeyboardInterrupt``.  Any
    other exception the callback meets stops the solve too and is raised again.
    """

    def __init__(self, h: highspy.Highs, checks: int):
        self.highs = h
        self.checks = int(checks)
        self.count = 0
        self.hit = False
        self._raised: BaseException | None = None
        self._sigint: list[int] = []
        h.setCallback(self._check, None)
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)

    def _check(self, _type, _message, _data_out, data_in, _user_data) -> None:
        try:
            self.count += 1
            if self.count >= self.checks:
                self.hit = True
                data_in.user_interrupt = True
            if self._sigint:
                data_in.user_interrupt = True
            self._on_check()
        except BaseException as exc:  # noqa: BLE001 - re-raised by run()
            self._raised = self._raised or exc
            data_in.user_interrupt = True

    def _on_check(self) -> None:
        """Called at every check (a hook for tests that slow HiGHS down)."""

    def run(self) -> None:
        """Solve; then raise ``KeyboardInterrupt`` if Ctrl-C came during the solve, or
        whatever else the callback caught."""
        previous = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            previous = signal.signal(signal.SIGINT, lambda number, _frame: self._sigint.append(number))
        try:
            self.highs.run()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if self._raised is not None:
            raise self._raised
        if self._sigint:
            raise KeyboardInterrupt


def has_solution(h: highspy.Highs) -> bool:
    """Whether ``h`` holds a primal solution after its run (a MILP stopped early may not)."""
    return bool(h.getSolution().value_valid)
