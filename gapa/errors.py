"""The one error type that bad input raises.

Every problem with a user's file (workload, scenario, allocation, power curve)
is reported as an :class:`InputError` naming the file, the line when known,
and what is wrong.  The CLI prints it as one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A user-supplied file or value is malformed.

    Attributes:
        path: the file at fault, or ``None`` for a value given on the command line.
        line: 1-based line number in that file, or ``None`` when it cannot be told.
        problem: what is wrong, in words a user can act on.
    """

    def __init__(self, problem: str, path: str | Path | None = None, line: int | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        return f"{where}{self.problem}"


class InfeasibleAllocation(RuntimeError):
    """An allocation breaks a capacity limit or a host's power state (a bug or a bad replay)."""
