"""The Azure Packing Trace 2020 (Hadary et al., "Protean", OSDI 2020).

Published schema (github.com/Azure/AzurePublicDataset, AzureTracesForPacking2020.md):
a SQLite database (``packing_trace_zone_a_v1.sqlite``) with two tables,

* ``vm``: ``vmId, tenantId, vmTypeId, priority, starttime, endtime`` — times in
  fractional days from the start of the 14-day collection; a negative
  ``starttime`` is a VM already running then; ``endtime`` is NULL for a VM still
  alive past the 90-day cap; priority 0 high, 1 low;
* ``vmType``: ``id, vmTypeId, machineId, core, memory, hdd, ssd, nic`` — the share
  of one machine of type ``machineId`` that a VM of type ``vmTypeId`` takes.

The reader takes the database itself, or the two tables exported as CSV files
with those column names in a header line: the ``vm`` table as the input file and
the ``vmType`` table as ``vmType.csv`` beside it (or ``vm_types=``).  An empty
field or ``NULL`` is a NULL.

Each ``vm`` row becomes one VM (id = ``vmId``) on a *nominal machine* of
``machine_cores`` cores (default 100, so that cores are per cent of a machine — the
scale of the TBPP sets d1/d2, which were drawn from this trace) and
``machine_ram_mb`` MB (default 102,400: 1 GiB per core):

* cores = the VM type's largest core share over the machine types × 100,
  truncated (as the d1/d2 generator does), at least 1; RAM = its largest memory
  share × ``machine_ram_mb``, rounded;
* the VM lives on [starttime, endtime] clipped to the collection window
  [0, ``horizon_days``] (default 14 days, as d1/d2); a NULL ``endtime`` ends at the
  horizon; clipped values are counted;
* ``priority`` and ``vmTypeId`` are kept as the descriptive columns ``priority``
  and ``vm_type``.

Skipped and counted: VMs that end before time 0, start at or after the horizon,
or last under half a second.  An unknown ``vmTypeId``, a non-number or a missing
column is an ``InputError``.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from gapa.errors import InputError
from gapa.readers.base import (
    ReadSummary,
    TraceRead,
    WorkloadBuilder,
    iter_csv,
    number,
    round_half_up,
)

VM_COLUMNS = ("vmId", "tenantId", "vmTypeId", "priority", "starttime", "endtime")
TYPE_COLUMNS = ("vmTypeId", "core", "memory")  # the ones gapa needs (also: id, machineId, hdd, ssd, nic)
SQLITE_MAGIC = b"SQLite format 3\x00"
MACHINE_CORES = 100
MACHINE_RAM_MB = 100 * 1024
HORIZON_DAYS = 14.0
DAY_S = 86400

SKIP_ENDED = "ended before time 0"
SKIP_AFTER = "starts at or after the horizon"
SKIP_ZERO = "lasts under half a second"

# a row: (where, line, values by column name)
Row = tuple[str, int | None, dict[str, object]]


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().upper() in ("", "NULL", "NAN"))


def _sqlite_rows(path: Path, table: str, columns: tuple[str, ...]) -> Iterator[Row]:
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open the SQLite database: {exc}", path) from None
    try:
        names = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        if not names:
            raise InputError(f"the database has no table {table!r} (expected the Azure Packing Trace 2020 "
                             f"tables vm and vmType)", path)
        missing = [c for c in columns if c not in names]
        if missing:
            raise InputError(f"table {table} has no column(s) {', '.join(missing)} "
                             f"(it has {', '.join(names)})", path)
        cols = ", ".join(f'"{c}"' for c in columns)
        for rowid, *values in con.execute(f'SELECT rowid, {cols} FROM "{table}" ORDER BY rowid'):
            yield f"table {table}, row {rowid}: ", None, dict(zip(columns, values, strict=True))
    except sqlite3.Error as exc:
        raise InputError(f"cannot read table {table}: {exc}", path) from None
    finally:
        con.close()


def _csv_rows(path: Path, columns: tuple[str, ...], what: str) -> Iterator[Row]:
    header: list[str] | None = None
    for line_no, row in iter_csv(path, what):
        if header is None:
            header = [c.strip() for c in row]
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(f"the header lacks column(s) {', '.join(missing)} "
                                 f"(header is: {','.join(header)})", path, line_no)
            index = {c: header.index(c) for c in columns}
            continue
        if len(row) != len(header):
            raise InputError(f"has {len(row)} fields, the header has {len(header)}", path, line_no)
        yield "", line_no, {c: row[i] for c, i in index.items()}
    if header is None:
        raise InputError(f"the file is empty (expected a header with {','.join(columns)})", path, 1)


def _num(value: object, column: str, where: str, path: Path, line: int | None) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InputError(f"{where}{column} {value!r} is not a finite number", path, line)
        return float(value)
    try:
        return number(str(value), column, path, line)
    except InputError as exc:
        raise InputError(where + exc.problem, path, line) from None


def _vm_type_shares(rows: Iterator[Row], path: Path) -> dict[str, tuple[float, float]]:
    """Per vmTypeId: the largest core share and the largest memory share over the machine types."""
    shares: dict[str, tuple[float, float]] = {}
    for where, line, r in rows:
        type_id = str(r["vmTypeId"]).strip()
        if _is_null(r["vmTypeId"]):
            raise InputError(f"{where}vmTypeId is empty", path, line)
        core = _num(r["core"], "core", where, path, line)
        memory = 0.0 if _is_null(r["memory"]) else _num(r["memory"], "memory", where, path, line)
        if not 0 <= core <= 1 or not 0 <= memory <= 1:
            raise InputError(f"{where}core {core:g} and memory {memory:g} must be machine shares in [0, 1]",
                             path, line)
        old = shares.get(type_id, (0.0, 0.0))
        shares[type_id] = (max(old[0], core), max(old[1], memory))
    return shares


def read(path: str | Path, ram_mb: int | None = None, vm_types: str | Path | None = None,
         machine_cores: int = MACHINE_CORES, machine_ram_mb: int = MACHINE_RAM_MB,
         horizon_days: float = HORIZON_DAYS) -> TraceRead:
    """Read the Azure Packing Trace 2020 (SQLite, or the vm table as CSV); see the module docstring.

    Args:
        path: the ``.sqlite`` database, or the ``vm`` table as CSV.
        ram_mb: not used (the trace gives every VM type's memory); must be ``None``.
        vm_types: for CSV input, the ``vmType`` table (default ``vmType.csv`` beside ``path``).
        machine_cores, machine_ram_mb: the nominal machine the shares are taken of.
        horizon_days: the end of the collection window; later ends are clipped to it.

    Raises:
        InputError: naming the file, the line (or table row) and the column.
    """
    if ram_mb is not None:
        raise InputError("--ram-mb does not apply to azure2020 (the trace gives every VM type's memory)")
    path = Path(path)
    if not path.is_file():
        raise InputError("cannot read the Azure packing trace: no such file", path)
    summary = ReadSummary("azure2020", str(path))
    if _is_sqlite(path):
        type_path = path
        shares = _vm_type_shares(_sqlite_rows(path, "vmType", TYPE_COLUMNS), path)
        vm_rows = _sqlite_rows(path, "vm", VM_COLUMNS)
    else:
        type_path = Path(vm_types) if vm_types is not None else path.with_name("vmType.csv")
        if not type_path.is_file():
            raise InputError(f"the vmType table is missing: expected {type_path} beside the vm table "
                             f"(or give the SQLite database itself)", path)
        shares = _vm_type_shares(_csv_rows(type_path, TYPE_COLUMNS, "vmType table"), type_path)
        vm_rows = _csv_rows(path, VM_COLUMNS, "vm table")
    summary.meta["vm types"] = str(len(shares))
    summary.meta["nominal machine"] = f"{machine_cores} cores, {machine_ram_mb} MB"
    summary.notes.append(f"{len(shares)} VM types; shares taken of a nominal machine of {machine_cores} cores "
                         f"and {machine_ram_mb} MB")
    horizon_s = round_half_up(horizon_days * DAY_S)
    builder = WorkloadBuilder(path, summary)
    for where, line, r in vm_rows:
        type_id = "" if _is_null(r["vmTypeId"]) else str(r["vmTypeId"]).strip()
        if type_id not in shares:
            raise InputError(f"{where}vmTypeId {type_id!r} is not in the vmType table ({type_path.name})",
                             path, line)
        start = round_half_up(_num(r["starttime"], "starttime", where, path, line) * DAY_S)
        if _is_null(r["endtime"]):
            end = horizon_s
            open_ended = True
        else:
            end = round_half_up(_num(r["endtime"], "endtime", where, path, line) * DAY_S)
            open_ended = False
            if end < start:
                raise InputError(f"{where}endtime {r['endtime']} is before starttime {r['starttime']}",
                                 path, line)
        if end <= 0 and not open_ended:
            builder.skip(SKIP_ENDED)
            continue
        if start >= horizon_s:
            builder.skip(SKIP_AFTER)
            continue
        if end == start:
            builder.skip(SKIP_ZERO)
            continue
        if start < 0:
            start = 0
            builder.adjust("started before the trace (negative starttime): start = 0")
        if open_ended:
            builder.adjust(f"no endtime (alive past the 90-day cap): ends at day {horizon_days:g}")
        elif end > horizon_s:
            end = horizon_s
            builder.adjust(f"ends after day {horizon_days:g}: end clipped to day {horizon_days:g}")
        core_share, memory_share = shares[type_id]
        cores = int(core_share * machine_cores + 1e-9)
        if cores < 1:
            cores = 1
            builder.adjust(f"core share under 1/{machine_cores}: 1 core")
        priority = "" if _is_null(r["priority"]) else str(r["priority"]).strip()
        vm_id = "" if _is_null(r["vmId"]) else str(r["vmId"]).strip()
        builder.add(line, vm_id, start, end, cores, round_half_up(memory_share * machine_ram_mb),
                    where=where, priority=priority, vm_type=type_id)
    return TraceRead(builder.build(), summary)
