"""Temporal bin packing (TBPP) instances as SVMAP problems.

Format (as in github.com/wotzlaff/tbpp-instances, the same for its sets a1, a2, c1,
d1 and d2): a first line ``n capacity 0 0``, then one line per job ``index start
end size``, whitespace-separated (the files use tabs); a job uses ``size`` of one
server's ``capacity`` on ``[start, end)``.  Times are integers, read as minutes
(d1/d2 are in minutes over 14 days; a1, a2 and c1 use abstract time units).  The
sets differ only in their numbers: capacity 100 (a1, a2, d1, d2) or 2 with every
size 1 (c1, half-capacity jobs), 50–10,000 jobs.  A gzip-compressed file is read
transparently.

Each job becomes one VM ``job<index>`` with ``cores = size`` (full CPU load,
``cpu_util = 1``) and a nominal RAM of 1 MB per core (``ram_mb_per_core``); the
fleet is ``n`` identical hosts with ``cores = capacity`` and ``capacity`` MB of RAM
per MB-per-core (so RAM never binds), drawing 170 W idle and 250 W at full load
(linear: idle power about 70 % of peak, as on the SPECpower servers of that era).
"""

from __future__ import annotations

from pathlib import Path

from gapa.errors import InputError
from gapa.fleet import Fleet, HostGroup
from gapa.power import ShapeModel
from gapa.readers.base import ReadSummary, TraceRead, WorkloadBuilder, iter_lines
from gapa.scenario import Scenario
from gapa.workload import Workload

IDLE_W = 170.0
MAX_W = 250.0
JOB_FIELDS = ("index", "start", "end", "size")


def _int(text: str, name: str, path: Path, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{name} {text!r} is not an integer", path, line) from None


def read_instance(path: str | Path, idle_w: float = IDLE_W, max_w: float = MAX_W,
                  ram_mb_per_core: int = 1) -> TraceRead:
    """Read a TBPP instance: its workload, its fleet and a summary (nothing is ever skipped).

    Raises:
        InputError: naming the file, the line and the field.
    """
    path = Path(path)
    summary = ReadSummary("tbpp", str(path))
    builder = WorkloadBuilder(path, summary)
    header_line = 0
    n = capacity = 0
    for line, text in iter_lines(path, "TBPP instance"):
        fields = text.split()
        if not fields:
            continue
        if not header_line:
            header_line = line
            if len(fields) < 2:
                raise InputError("the header must start with two integers: n capacity", path, line)
            n = _int(fields[0], "n (header field 1)", path, line)
            capacity = _int(fields[1], "capacity (header field 2)", path, line)
            if n < 1 or capacity < 1:
                raise InputError(f"n ({n}) and capacity ({capacity}) must be positive", path, line)
            continue
        if len(fields) != len(JOB_FIELDS):
            raise InputError(f"expected {len(JOB_FIELDS)} fields 'index start end size', got {len(fields)}",
                             path, line)
        idx, start, end, size = (_int(f, name, path, line) for f, name in zip(fields, JOB_FIELDS, strict=True))
        if start < 0:
            raise InputError(f"start {start} of job {idx} is negative", path, line)
        if end <= start:
            raise InputError(f"end {end} of job {idx} is no later than its start {start}", path, line)
        if not 1 <= size <= capacity:
            raise InputError(f"size {size} of job {idx} is outside 1 … {capacity} (the capacity)", path, line)
        builder.add(line, f"job{idx}", start * 60, end * 60, size, size * ram_mb_per_core)
    if not header_line:
        raise InputError("the file is empty (expected a header 'n capacity 0 0')", path, 1)
    if len(builder.ids) != n:
        raise InputError(f"the header announces {n} jobs but the file has {len(builder.ids)}", path, header_line)
    workload = builder.build()
    fleet = Fleet([HostGroup("server", n, capacity, 1000.0, capacity * ram_mb_per_core,
                             ShapeModel("linear", idle_w, max_w))])
    summary.meta["fleet"] = f"{n} hosts of {capacity} cores"
    summary.notes.append(f"the instance's fleet: {n} hosts of {capacity} cores")
    scenario = Scenario(fleet, source=f"tbpp:{path.name}",
                        description=f"{n} hosts of {capacity} cores, linear {idle_w:g}-{max_w:g} W")
    return TraceRead(workload, summary, scenario)


def read_tbpp(path: str | Path, idle_w: float = IDLE_W, max_w: float = MAX_W) -> tuple[Workload, Scenario]:
    """Read a TBPP instance; return its workload and its fleet (``n`` hosts of ``capacity`` cores).

    Raises:
        InputError: naming the file, the line and the problem.
    """
    result = read_instance(path, idle_w, max_w)
    assert result.scenario is not None
    return result.workload, result.scenario


def read(path: str | Path, ram_mb: int | None = None) -> TraceRead:
    """The reader interface (see :mod:`gapa.readers`): ``ram_mb`` is MB per core (default 1)."""
    return read_instance(path, ram_mb_per_core=1 if ram_mb is None else ram_mb)
