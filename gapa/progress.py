"""A terminal progress bar for iterative allocators (generation, best energy, time left).

Allocators report through :attr:`gapa.allocators.Limits.progress`; this module turns
those reports into a rich progress bar on stderr.  Disabled, it does nothing.
"""

from __future__ import annotations

from typing import Any, Self

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class ProgressReporter:
    """Context manager whose :meth:`update` takes an allocator's progress report."""

    def __init__(self, console: Console, label: str, enabled: bool = True):
        self.enabled = enabled
        self.label = label
        self._progress: Progress | None = None
        self._task: Any = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(), console=console, transient=True)

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, status="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, report: dict[str, Any]) -> None:
        """Show generation k of N, the best energy so far (kWh) and the time left."""
        if self._progress is None:
            return
        gen, total = report.get("generation", 0), report.get("generations")
        elapsed, limit = report.get("elapsed_s", 0.0), report.get("time_limit_s")
        fraction = gen / total if total else 0.0
        if limit:
            fraction = max(fraction, elapsed / limit)
        left = f", ≤ {max(0.0, limit - elapsed):.0f} s left" if limit else ""
        status = f"gen {gen}/{total}  best {report.get('best_j', 0.0) / 3.6e6:,.3f} kWh{left}"
        self._progress.update(self._task, total=1.0, completed=min(1.0, fraction), status=status)
