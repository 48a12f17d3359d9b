"""Reading and writing allocations as ``vm_id,host`` CSV files (empty host = rejected)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from gapa.errors import InputError
from gapa.problem import REJECTED, Problem
from gapa.workload import read_text_file


def read_allocation(path: str | Path, problem: Problem) -> np.ndarray:
    """Read a placement: one row per VM, ``vm_id,host`` with host ids such as ``x3550-2``.

    Every VM of the workload must appear exactly once; an empty ``host`` means rejected.

    Raises:
        InputError: naming the file, the line and the problem.
    """
    path = Path(path)
    vm_index = {v: i for i, v in enumerate(problem.workload.vm_ids.tolist())}
    host_index = {h: i for i, h in enumerate(problem.fleet.host_ids.tolist())}
    allocation = np.full(problem.n_vms, REJECTED, dtype=np.int64)
    seen: dict[str, int] = {}
    text = read_text_file(path, "allocation")
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in (next(reader, None) or [])]
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", path, 1) from None
        if not header:
            raise InputError("the file is empty (expected a header 'vm_id,host')", path, 1)
        if "vm_id" not in header or "host" not in header:
            raise InputError(f"expected columns vm_id,host (header is: {','.join(header)})", path, 1)
        i_vm, i_host = header.index("vm_id"), header.index("host")
        rows = _rows(reader, path)
        for line, row in rows:
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputError(f"has {len(row)} fields, the header has {len(header)}", path, line)
            vm, host = row[i_vm].strip(), row[i_host].strip()
            if vm not in vm_index:
                raise InputError(f"unknown vm_id {vm!r} (not in the workload)", path, line)
            if vm in seen:
                raise InputError(f"vm_id {vm!r} appears twice (first on line {seen[vm]})", path, line)
            seen[vm] = line
            if host:
                if host not in host_index:
                    raise InputError(f"unknown host {host!r} (not in the scenario's fleet)", path, line)
                allocation[vm_index[vm]] = host_index[host]
    missing = [v for v in vm_index if v not in seen]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise InputError(f"no row for VM(s) {', '.join(missing[:3])}{more}; every VM needs a row "
                         "(an empty host means rejected)", path)
    return allocation


def _rows(reader, path: Path):
    """(line, row) pairs of a csv reader, turning csv errors into InputError."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", path, reader.line_num) from None
        yield reader.line_num, row


def write_allocation(path: str | Path, problem: Problem, allocation: np.ndarray) -> None:
    """Write ``vm_id,host`` rows in workload order (empty host for a rejected VM)."""
    ids = problem.fleet.host_ids
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["vm_id", "host"])
        for vm, h in zip(problem.workload.vm_ids.tolist(), allocation.tolist()):
            writer.writerow([vm, "" if h == REJECTED else ids[h]])
