"""Temporal bin packing (TBPP) instances as SVMAP problems.

Format (as in github.com/wotzlaff/tbpp-instances): a first line ``n capacity 0 0``,
then one line per job ``index start end size``, whitespace-separated; a job uses
``size`` of one server's ``capacity`` on ``[start, end)``.  Times are integers,
read as minutes.

Each job becomes one VM with ``cores = size`` (full CPU load, ``cpu_util = 1``) and
a nominal RAM of 1 MB per core; the fleet is ``n`` identical hosts with
``cores = capacity`` and enough RAM, drawing 170 W idle and 250 W at full load
(linear: idle power about 70 % of peak, as on the SPECpower servers of that era).
"""

from __future__ import annotations

from pathlib import Path

from gapa.errors import InputError
from gapa.fleet import Fleet, HostGroup
from gapa.power import ShapeModel
from gapa.scenario import Scenario
from gapa.workload import Workload, read_text_file

IDLE_W = 170.0
MAX_W = 250.0


def read_tbpp(path: str | Path, idle_w: float = IDLE_W, max_w: float = MAX_W) -> tuple[Workload, Scenario]:
    """Read a TBPP instance; return its workload and its fleet (``n`` hosts of ``capacity`` cores).

    Raises:
        InputError: naming the file, the line and the problem.
    """
    path = Path(path)
    lines = read_text_file(path, "TBPP instance").splitlines()
    rows = [(i + 1, ln.split()) for i, ln in enumerate(lines) if ln.strip()]
    if not rows:
        raise InputError("the file is empty (expected a header 'n capacity 0 0')", path, 1)
    line, head = rows[0]
    try:
        n, capacity = int(head[0]), int(head[1])
    except (ValueError, IndexError):
        raise InputError("the header must start with two integers: n capacity", path, line) from None
    if n < 1 or capacity < 1:
        raise InputError("n and capacity must be positive", path, line)
    starts, ends, sizes, ids = [], [], [], []
    for line, fields in rows[1:]:
        if len(fields) < 4:
            raise InputError(f"expected 'index start end size', got {len(fields)} field(s)", path, line)
        try:
            idx, start, end, size = (int(x) for x in fields[:4])
        except ValueError:
            raise InputError(f"not an integer in {' '.join(fields[:4])!r}", path, line) from None
        if end <= start:
            raise InputError(f"job {idx} ends ({end}) no later than it starts ({start})", path, line)
        if not 1 <= size <= capacity:
            raise InputError(f"job {idx} has size {size}, outside 1 … {capacity}", path, line)
        ids.append(f"job{idx}")
        starts.append(start * 60)
        ends.append(end * 60)
        sizes.append(size)
    if len(ids) != n:
        raise InputError(f"the header announces {n} jobs but the file has {len(ids)}", path, rows[0][0])
    workload = Workload.from_arrays(starts, ends, sizes, sizes, vm_ids=ids, source=str(path))
    fleet = Fleet([HostGroup("server", n, capacity, 1000.0, capacity, ShapeModel("linear", idle_w, max_w))])
    return workload, Scenario(fleet, source=f"tbpp:{path.name}",
                              description=f"{n} hosts of {capacity} cores, linear {idle_w:g}-{max_w:g} W")
