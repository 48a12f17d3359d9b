"""Terminal progress bars: one for an iterative allocator (generation, best energy, time
left), one across the runs of ``gapa compare``.

Allocators report through :attr:`gapa.allocators.Limits.progress`; this module turns
those reports into rich progress bars on stderr.  Disabled, they do nothing.
"""

from __future__ import annotations

from typing import Any, Self

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class _Bar:
    """A transient rich progress bar on ``console`` with one task; disabled, nothing."""

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


class ProgressReporter(_Bar):
    """Context manager whose :meth:`update` takes an allocator's progress report."""

    def update(self, report: dict[str, Any]) -> None:
        """Show generation k of N, the best energy so far (kWh) and the time left; or,
        for a problem allocated in independent blocks, block k of N."""
        if self._progress is None:
            return
        elapsed, limit = report.get("elapsed_s", 0.0), report.get("time_limit_s")
        left = f", ≤ {max(0.0, limit - elapsed):.0f} s left" if limit else ""
        if "blocks" in report:
            done, total = report["block"], report["blocks"]
            status = f"block {done}/{total} done{left}"
        else:
            done, total = report.get("generation", 0), report.get("generations")
            status = f"gen {done}/{total}  best {report.get('best_j', 0.0) / 3.6e6:,.3f} kWh{left}"
        fraction = max(done / total if total else 0.0, elapsed / limit if limit else 0.0)
        self._progress.update(self._task, total=1.0, completed=min(1.0, fraction), status=status)


class RunsProgress(_Bar):
    """Context manager drawing a bar across the runs of ``gapa compare`` (a
    :class:`gapa.compare.RunObserver`): run k of N, the algorithm and seed, and the
    current allocator's generation.  Disabled, it does nothing."""

    def __init__(self, console: Console, enabled: bool = True):
        super().__init__(console, "runs", enabled)

    def run_started(self, algorithm: str, seed: int, run: int, runs: int) -> None:
        """Show which run is starting."""
        if self._progress is not None:
            self._progress.update(self._task, total=runs, completed=run - 1,
                                  description=f"run {run}/{runs}: {escape(algorithm)} seed {seed}",
                                  status="")

    def allocator_progress(self, report: dict[str, Any]) -> None:
        """Show the allocator's generation and best energy so far (kWh)."""
        if self._progress is not None and "generation" in report:
            status = (f"gen {report['generation']}/{report.get('generations')}  "
                      f"best {report.get('best_j', 0.0) / 3.6e6:,.3f} kWh")
            self._progress.update(self._task, status=status)

    def run_finished(self, result: Any) -> None:
        """Count the run as done."""
        if self._progress is not None:
            self._progress.advance(self._task)


class SuiteProgress(_Bar):
    """Context manager drawing a bar across the runs of a benchmark suite (its
    :meth:`update` is a :data:`gapa.bench.Observer`).  Disabled, it does nothing."""

    def __init__(self, console: Console, enabled: bool = True):
        super().__init__(console, "benchmark", enabled)

    def update(self, done: int, total: int, record: dict[str, Any]) -> None:
        """Show runs done of all and the last finished run."""
        if self._progress is not None:
            self._progress.update(self._task, total=total, completed=done,
                                  status=escape(f"{record['set']} {record['instance']} "
                                                f"{record['algorithm']} {record['solve_s']:.1f} s"))
