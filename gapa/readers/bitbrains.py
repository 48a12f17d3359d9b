"""A VM-request table: the Bitbrains (GWA-T-12) VMs as OpenDC ships them (``tasks.csv``).

Format: a CSV file with a header naming (in any order) the columns

* ``id`` — the VM's id;
* ``submission_time`` — when it starts, milliseconds since 1970-01-01 (UTC);
* ``duration`` — how long it runs, milliseconds;
* ``cpu_count`` — its cores;
* ``cpu_capacity`` — its CPU capacity, MHz (cores × speed per core);
* ``mem_capacity`` — its memory, **KB**.

OpenDC's documentation gives ``mem_capacity`` in MB, but the Grid Workloads
Archive's own description of GWA-T-12 gives memory in KB, and the values bear that
out (20971520 is 20 GiB in KB; as MB it would be 20 TiB for an 8-core VM), so KB it
is.  Other columns are ignored.  A gzip-compressed file is read transparently;
OpenDC's Parquet files must be converted to CSV first (e.g. with pandas).

Each row becomes one VM (id = ``id``): start = ``submission_time`` − the earliest
``submission_time`` in the file, in whole seconds (time 0 is the earliest start,
recorded in the summary); duration = ``duration`` in seconds, rounded; cores =
``cpu_count``; RAM = ``mem_capacity`` KB → MB, rounded up; CPU load 1 (the table
gives capacity, not use).  ``cpu_capacity`` is kept as the descriptive column
``cpu_mhz`` rather than as MIPS: MHz is not MIPS, and a per-core speed above a
host's would make the VM fit nowhere.

VMs whose duration rounds to 0 s are skipped and counted; anything malformed
(a missing column, a non-number, a negative value, zero cores) is an ``InputError``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gapa.errors import InputError
from gapa.readers.base import (
    ReadSummary,
    TraceRead,
    WorkloadBuilder,
    iter_csv,
    mb_from_kb,
    number,
    round_half_up,
    whole,
)

COLUMNS = ("id", "submission_time", "duration", "cpu_count", "cpu_capacity", "mem_capacity")
SKIP_ZERO = "duration 0 s (under half a second)"


def read(path: str | Path, ram_mb: int | None = None) -> TraceRead:
    """Read a Bitbrains/OpenDC ``tasks.csv``; see the module docstring for the mapping.

    Args:
        path: the CSV file.
        ram_mb: not used (the table gives every VM's memory); must be ``None``.

    Raises:
        InputError: naming the file, the line and the column, for a malformed row.
    """
    if ram_mb is not None:
        raise InputError("--ram-mb does not apply to bitbrains (the table gives every VM's memory)")
    path = Path(path)
    summary = ReadSummary("bitbrains", str(path))
    rows: list[tuple[int, str, float, int, int, int, str]] = []
    header: list[str] | None = None
    col: dict[str, int] = {}
    for line_no, row in iter_csv(path, "VM table"):
        if header is None:
            header = [c.strip() for c in row]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)} (header is: {','.join(header)})",
                                 path, line_no)
            col = {c: header.index(c) for c in COLUMNS}
            continue
        if len(row) != len(header):
            raise InputError(f"has {len(row)} fields, the header has {len(header)}", path, line_no)
        values = {}
        for name in COLUMNS[1:]:
            values[name] = number(row[col[name]], name, path, line_no)
            if values[name] < 0:
                raise InputError(f"{name} {row[col[name]].strip()!r} is negative", path, line_no)
        cores = whole(values["cpu_count"], row[col["cpu_count"]], "cpu_count", path, line_no)
        if cores < 1:
            raise InputError(f"cpu_count {row[col['cpu_count']].strip()!r} must be at least 1", path, line_no)
        rows.append((line_no, row[col["id"]].strip(), values["submission_time"],
                     round_half_up(values["duration"] / 1000), cores, mb_from_kb(values["mem_capacity"]),
                     row[col["cpu_capacity"]].strip()))
    if header is None:
        raise InputError(f"the file is empty (expected a header with {','.join(COLUMNS)})", path, 1)
    builder = WorkloadBuilder(path, summary)
    if rows:
        origin_ms = min(r[2] for r in rows)
        try:
            summary.meta["time 0"] = datetime.fromtimestamp(origin_ms / 1000, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            summary.meta["time 0"] = f"{origin_ms:g} ms"
        summary.notes.append(f"time 0 = {summary.meta['time 0']} (the earliest submission_time)")
    for line_no, vm_id, submit_ms, duration, cores, ram, mhz in rows:
        if duration == 0:
            builder.skip(SKIP_ZERO)
            continue
        start = round_half_up((submit_ms - origin_ms) / 1000)
        builder.add(line_no, vm_id, start, start + duration, cores, ram, cpu_mhz=mhz)
    return TraceRead(builder.build(), summary)
