"""The Standard Workload Format (SWF) of the Parallel Workloads Archive.

Format (version 2.2, www.cs.huji.ac.il/labs/parallel/workload/swf.html): lines
starting with ``;`` are header comments (``; Key: value`` metadata); every other
non-blank line is one job of 18 whitespace-separated numbers, ``-1`` meaning
unknown: 1 job number, 2 submit time (s), 3 wait time (s), 4 run time (s),
5 allocated processors, 6 average CPU time (s), 7 used memory (KB per
processor), 8 requested processors, 9 requested time (s), 10 requested memory
(KB per processor), 11 status (1 completed, 0 failed, 5 cancelled), 12 user,
13 group, 14 executable, 15 queue, 16 partition, 17 preceding job, 18 think time.
Times may be fractional.  A gzip-compressed file is read transparently.

Each job becomes one VM ``job<number>``:

* start = submit + wait, rounded to the second; an unknown wait (-1) counts as 0
  (some logs, like NASA iPSC/860, record start times as submit times and no wait);
* duration = run time, rounded to the second;
* cores = allocated processors, else requested processors;
* RAM = memory per processor × cores, from used memory, else requested memory,
  converted KB → MB rounded up; when neither is known, ``ram_mb`` MB per core
  (default 1024, the ``--ram-mb`` option);
* CPU load 1 (the job holds its processors);
* ``user``, ``queue`` and ``status`` are kept as descriptive columns.

Jobs whose run time is unknown (-1) or rounds to 0 s, or whose processors are
unknown (allocated and requested both -1 or 0), are skipped and counted by reason
(the first that applies).  Any other negative value in a field gapa uses, a
non-number, or a line without 18 fields is an ``InputError``.
"""

from __future__ import annotations

import re
from pathlib import Path

from gapa.errors import InputError
from gapa.readers.base import (
    ReadSummary,
    TraceRead,
    WorkloadBuilder,
    iter_lines,
    mb_from_kb,
    number,
    round_half_up,
    whole,
)

FIELDS = (
    "job number", "submit time", "wait time", "run time", "allocated processors",
    "average CPU time", "used memory", "requested processors", "requested time",
    "requested memory", "status", "user", "group", "executable", "queue", "partition",
    "preceding job", "think time",
)
#: MB of RAM per core for a job whose trace gives no memory (``--ram-mb`` overrides it)
DEFAULT_RAM_MB_PER_CORE = 1024

SKIP_RUN_UNKNOWN = "run time unknown (-1)"
SKIP_RUN_ZERO = "run time 0 s (under half a second)"
SKIP_PROCS_UNKNOWN = "processors unknown (allocated and requested -1 or 0)"


_HEADER_KEY = re.compile(r"[A-Z][A-Za-z]*")  # "; MaxProcs: 128" (not "; http://..." continuing a line)


def _field(i: int) -> str:
    return f"{FIELDS[i]} (field {i + 1})"


def read(path: str | Path, ram_mb: int | None = None) -> TraceRead:
    """Read an SWF log (plain or gzip); see the module docstring for the mapping.

    Args:
        path: the ``.swf`` or ``.swf.gz`` file.
        ram_mb: MB of RAM per core for jobs without memory data (default 1024).

    Raises:
        InputError: naming the file, the line and the field, for a malformed job line.
    """
    path = Path(path)
    per_core = DEFAULT_RAM_MB_PER_CORE if ram_mb is None else ram_mb
    summary = ReadSummary("swf", str(path))
    builder = WorkloadBuilder(path, summary)
    last_key = ""
    for line_no, line in iter_lines(path, "SWF trace"):
        text = line.strip()
        if not text:
            continue
        if text.startswith(";"):
            body = text[1:].strip()
            key, sep, value = body.partition(":")
            if sep and _HEADER_KEY.fullmatch(key.strip()):
                last_key = key.strip()
                summary.meta[last_key] = (summary.meta.get(last_key, "") + " " + value.strip()).strip()
            elif body and last_key:  # a continuation line of the previous key
                summary.meta[last_key] += " " + body
            continue
        parts = text.split()
        if len(parts) != len(FIELDS):
            raise InputError(f"expected {len(FIELDS)} whitespace-separated fields, got {len(parts)}",
                             path, line_no)
        v = [number(p, _field(i), path, line_no) for i, p in enumerate(parts)]
        for i in (1, 2, 3, 4, 6, 7, 9):  # the fields gapa uses: -1 (unknown) or not negative
            if v[i] < 0 and v[i] != -1:
                raise InputError(f"{_field(i)} {parts[i]!r} is negative (only -1, unknown, may be)",
                                 path, line_no)
        job = whole(v[0], parts[0], _field(0), path, line_no)
        if v[1] < 0:
            raise InputError(f"{_field(1)} {parts[1]!r} is unknown (-1); gapa needs it", path, line_no)
        alloc = whole(v[4], parts[4], _field(4), path, line_no)
        requested = whole(v[7], parts[7], _field(7), path, line_no)

        if v[3] == -1:
            builder.skip(SKIP_RUN_UNKNOWN)
            continue
        duration = round_half_up(v[3])
        if duration == 0:
            builder.skip(SKIP_RUN_ZERO)
            continue
        if alloc > 0:
            cores = alloc
        elif requested > 0:
            cores = requested
            builder.adjust("allocated processors unknown: cores = requested processors")
        else:
            builder.skip(SKIP_PROCS_UNKNOWN)
            continue
        wait = v[2]
        if wait == -1:
            wait = 0.0
            builder.adjust("wait time unknown (-1): start = submit time")
        start = round_half_up(v[1] + wait)
        if v[6] > 0:
            ram = mb_from_kb(v[6] * cores)
        elif v[9] > 0:
            ram = mb_from_kb(v[9] * cores)
            builder.adjust("used memory unknown: RAM from requested memory")
        else:
            ram = per_core * cores
            builder.adjust(f"memory unknown: {per_core} MB per core (--ram-mb)")
        builder.add(line_no, f"job{job}", start, start + duration, cores, ram,
                    user=parts[11], queue=parts[14], status=parts[10])
    workload = builder.build()
    machine = ", ".join(summary.meta[k] for k in ("Computer", "Installation") if k in summary.meta)
    if machine or "MaxProcs" in summary.meta:
        summary.notes.append(f"log of {machine or 'an unnamed machine'}"
                             + (f", {summary.meta['MaxProcs']} processors" if "MaxProcs" in summary.meta else ""))
    return TraceRead(workload, summary)
