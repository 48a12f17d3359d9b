"""gapa's own workload CSV (see ``workloads/README.md``), behind the reader interface."""

from __future__ import annotations

from pathlib import Path

from gapa.errors import InputError
from gapa.readers.base import ReadSummary, TraceRead
from gapa.workload import load_workload


def read(path: str | Path, ram_mb: int | None = None) -> TraceRead:
    """Read a gapa workload CSV; ``ram_mb`` does not apply (every row gives its RAM)."""
    if ram_mb is not None:
        raise InputError("--ram-mb does not apply to gapa's own CSV (every row gives ram_mb)")
    workload = load_workload(path)
    return TraceRead(workload, ReadSummary("gapa", str(path), vms=workload.n))
