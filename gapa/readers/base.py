"""What every trace reader shares: its result, its summary, and the checks on each VM.

A reader turns one public format into a :class:`~gapa.workload.Workload` and
returns a :class:`TraceRead`: the workload, the fleet when the format has one
(TBPP), and a :class:`ReadSummary` that counts every record it skipped (by
reason) and every value it changed on a kept VM (by kind), so that nothing is
dropped silently.  A malformed record is an :class:`~gapa.errors.InputError`
naming the file, the line and the field.

Compressed files are read transparently: a file that starts with the gzip magic
bytes is decompressed, whatever its name.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gapa.errors import InputError
from gapa.workload import MAX_CORES, MAX_RAM_MB, MAX_TIME_S, Workload

if TYPE_CHECKING:  # pragma: no cover
    from gapa.scenario import Scenario

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class ReadSummary:
    """What a reader did with its input.

    Attributes:
        fmt: the format name (``swf``, ``tbpp``, …).
        source: the file read.
        vms: VMs kept.
        skipped: records not turned into a VM, by reason (a record counts under the
            first reason that applies).
        adjusted: kept VMs with a value filled in or changed, by what was done.
        meta: facts about the input worth keeping (e.g. an SWF log's header fields).
        notes: lines worth showing with the counts (the time origin, the fleet, …).
    """

    fmt: str
    source: str
    vms: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    adjusted: Counter[str] = field(default_factory=Counter)
    meta: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        """Records skipped, all reasons together."""
        return sum(self.skipped.values())

    def lines(self) -> list[str]:
        """The summary as text lines, for the terminal."""
        name = Path(self.source).name
        out = [f"read {self.vms:,} VM(s) from {name} ({self.fmt}); skipped {self.n_skipped:,}"
               + (":" if self.skipped else "")]
        width = max((len(f"{n:,}") for n in (*self.skipped.values(), *self.adjusted.values())), default=1)
        out += [f"  {n:>{width},}  {reason}" for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])]
        if self.adjusted:
            out.append("kept, with a value filled in or changed:")
            out += [f"  {n:>{width},}  {what}" for what, n in sorted(self.adjusted.items(), key=lambda kv: -kv[1])]
        return out + self.notes

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready copy."""
        return {"format": self.fmt, "source": self.source, "vms": self.vms,
                "skipped": dict(self.skipped), "adjusted": dict(self.adjusted), "meta": dict(self.meta),
                "notes": list(self.notes)}


@dataclass
class TraceRead:
    """A reader's result: the workload, the format's own fleet if it has one, the summary."""

    workload: Workload
    summary: ReadSummary
    scenario: Scenario | None = None


# --------------------------------------------------------------------------- input


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    try:
        with path.open("rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:
        return False


def iter_lines(path: Path, what: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` of a UTF-8 text file, gzip-compressed or not.

    A byte-order mark is dropped; ``InputError`` names the file and line of an
    unreadable file, a bad byte or a truncated archive.
    """
    line_no = 0
    opened = False
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            opened = True
            for line_no, line in enumerate(text, start=1):
                yield line_no, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})", path, line_no + 1) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"broken gzip file ({exc})", path, line_no + 1) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", path,
                         line_no + 1 if opened else None) from None


def iter_csv(path: Path, what: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` of a CSV file (gzip-compressed or not); blank lines skipped."""
    lines = iter_lines(path, what)
    current = [0]

    def numbered() -> Iterator[str]:
        for line_no, line in lines:
            current[0] = line_no
            yield line + "\n"

    reader = csv.reader(numbered())
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            yield current[0], row
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path, current[0]) from None


# --------------------------------------------------------------------------- fields


def number(text: str, name: str, path: Path | str, line: int | None) -> float:
    """A finite number, or ``InputError`` naming the field."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} {text.strip()!r} is not a number", path, line) from None
    if not math.isfinite(value):
        raise InputError(f"{name} {text.strip()!r} is not a finite number", path, line)
    return value


def whole(value: float, text: str, name: str, path: Path | str, line: int | None) -> int:
    """``value`` as an int, or ``InputError`` if it has a fractional part."""
    if value != int(value):
        raise InputError(f"{name} {text.strip()!r} is not a whole number", path, line)
    return int(value)


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves upwards (0.5 → 1, 2.5 → 3)."""
    return math.floor(value + 0.5)


def mb_from_kb(kb: float) -> int:
    """KB → MB, rounded up (a VM gets at least the memory it asked for)."""
    return math.ceil(kb / 1024 - 1e-9)


# --------------------------------------------------------------------------- output


class WorkloadBuilder:
    """Collects VMs one by one, checks each against gapa's limits, builds the workload."""

    def __init__(self, path: Path | str, summary: ReadSummary):
        self.path = path
        self.summary = summary
        self.ids: list[str] = []
        self.start: list[int] = []
        self.end: list[int] = []
        self.cores: list[int] = []
        self.ram: list[int] = []
        self.util: list[float] = []
        self.extra: dict[str, list[str]] = {}
        self._first_line: dict[str, int | None] = {}

    def skip(self, reason: str) -> None:
        """Count a record not turned into a VM."""
        self.summary.skipped[reason] += 1

    def adjust(self, what: str) -> None:
        """Count a kept VM with a value filled in or changed."""
        self.summary.adjusted[what] += 1

    def add(self, line: int | None, vm_id: str, start_s: int, end_s: int, cores: int, ram_mb: int,
            cpu_util: float = 1.0, where: str = "", **extra: str) -> None:
        """Add one VM; ``InputError`` (at ``line``, prefixed by ``where``) if it breaks a limit."""

        def fail(problem: str) -> None:
            raise InputError(where + problem, self.path, line)

        if not vm_id:
            fail("the VM id is empty")
        if vm_id in self._first_line:
            first = self._first_line[vm_id]
            fail(f"duplicate VM id {vm_id!r}" + (f" (first on line {first})" if first is not None else ""))
        if start_s < 0:
            fail(f"the VM starts {start_s} s before time 0")
        if end_s <= start_s:
            fail(f"the VM ends ({end_s} s) no later than it starts ({start_s} s)")
        if end_s > MAX_TIME_S:
            fail(f"the VM ends {end_s} s after time 0, beyond the {MAX_TIME_S:g} s gapa accepts")
        if not 1 <= cores <= MAX_CORES:
            fail(f"{cores} cores is outside 1 … {MAX_CORES:g}")
        if not 0 <= ram_mb <= MAX_RAM_MB:
            fail(f"{ram_mb} MB of RAM is outside 0 … {MAX_RAM_MB:g}")
        if not 0.0 <= cpu_util <= 1.0:
            fail(f"CPU load {cpu_util:g} is outside [0, 1]")
        if not self.extra and not self.ids:
            self.extra = {name: [] for name in extra}
        if set(extra) != set(self.extra):  # pragma: no cover - a reader bug, not bad input
            raise ValueError(f"extra columns {sorted(extra)} differ from {sorted(self.extra)}")
        self._first_line[vm_id] = line
        self.ids.append(vm_id)
        self.start.append(start_s)
        self.end.append(end_s)
        self.cores.append(cores)
        self.ram.append(ram_mb)
        self.util.append(cpu_util)
        for name, value in extra.items():
            self.extra[name].append(value)

    def build(self) -> Workload:
        """The workload; ``InputError`` if no VM is left."""
        self.summary.vms = len(self.ids)
        if not self.ids:
            why = "; ".join(f"{n} {reason}" for reason, n in self.summary.skipped.items())
            raise InputError("no VM to read" + (f" (skipped: {why})" if why else " (the file holds no records)"),
                             self.path)
        n = len(self.ids)
        return Workload(
            vm_ids=np.asarray(self.ids, dtype=object),
            start_s=np.asarray(self.start, dtype=np.int64),
            end_s=np.asarray(self.end, dtype=np.int64),
            cores=np.asarray(self.cores, dtype=np.int64),
            ram_mb=np.asarray(self.ram, dtype=np.int64),
            mips=np.full(n, np.nan),
            cpu_util=np.asarray(self.util, dtype=float),
            extra={k: np.asarray(v, dtype=object) for k, v in self.extra.items()},
            source=str(self.path),
        )
