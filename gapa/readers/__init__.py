"""Readers that turn public trace and benchmark formats into gapa workloads.

:data:`READERS` maps a format name to a :class:`TraceFormat`, whose ``read(path,
ram_mb=None)`` returns a :class:`~gapa.readers.base.TraceRead` — the workload, the
format's own fleet if it has one (TBPP), and a summary of what was skipped and
why.  One module per format; :func:`read_trace` is the front door the CLI uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gapa.errors import InputError
from gapa.readers import azure2019, azure2020, bitbrains, gapa_csv, swf, tbpp
from gapa.readers.base import ReadSummary, TraceRead

__all__ = ["READERS", "ReadSummary", "TraceFormat", "TraceRead", "read_trace"]


@dataclass(frozen=True)
class TraceFormat:
    """One input format.

    Attributes:
        name: the ``--format`` name.
        read: ``read(path, ram_mb=None) -> TraceRead``.
        summary: one line for ``--help``.
        ram_mb_default: MB of RAM per core when the input gives none (``--ram-mb``
            overrides it), or ``None`` when the format gives every VM's RAM.
    """

    name: str
    read: Callable[..., TraceRead]
    summary: str
    ram_mb_default: int | None = None


READERS: dict[str, TraceFormat] = {f.name: f for f in (
    TraceFormat("gapa", gapa_csv.read, "gapa's workload CSV"),
    TraceFormat("swf", swf.read, "Parallel Workloads Archive SWF log (.swf, .swf.gz)",
                swf.DEFAULT_RAM_MB_PER_CORE),
    TraceFormat("tbpp", tbpp.read, "temporal bin packing instance, with its own fleet", 1),
    TraceFormat("azure2019", azure2019.read, "Azure Public Dataset V2 vmtable.csv"),
    TraceFormat("azure2020", azure2020.read, "Azure Packing Trace 2020, SQLite or vm CSV + vmType.csv"),
    TraceFormat("bitbrains", bitbrains.read, "Bitbrains/OpenDC VM table tasks.csv"),
)}


def read_trace(path: str | Path, fmt: str = "gapa", ram_mb: int | None = None) -> TraceRead:
    """Read ``path`` in format ``fmt``.

    Raises:
        InputError: for an unknown format, ``ram_mb`` given to a format that has
            every VM's RAM, or anything malformed in the file.
    """
    if fmt not in READERS:
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(READERS)}")
    spec = READERS[fmt]
    if ram_mb is not None and spec.ram_mb_default is None:
        takes = ", ".join(f.name for f in READERS.values() if f.ram_mb_default is not None)
        raise InputError(f"--ram-mb does not apply to format {fmt} (it gives every VM's RAM); "
                         f"it applies to: {takes}")
    return spec.read(Path(path), ram_mb=ram_mb)
