"""A workload: the day's VM requests, each with a fixed interval and a demand.

A VM is active on the half-open interval ``[start_s, end_s)`` (seconds from time
0).  Its demand is ``cores`` cores of ``mips`` MIPS each (NaN = the host's full
core speed) and ``ram_mb`` MB of RAM; ``cpu_util`` in [0, 1] is its average CPU
load, which changes the power a host draws but never its capacity.

:func:`load_workload` reads gapa's CSV format (see ``workloads/README.md``);
:func:`write_workload` writes it.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gapa.errors import InputError
from gapa.timeparse import (
    classify_start,
    datetimes_to_seconds,
    parse_clock,
    parse_datetime,
    parse_duration,
    parse_minutes,
)

REQUIRED_COLUMNS = ("vm_id", "start", "duration", "cores", "ram_mb")
#: latest end time accepted, seconds (about 31,700 years): keeps times exact as floats too
MAX_TIME_S = 10**12
MAX_CORES = 10**6
MAX_RAM_MB = 2**40
OPTIONAL_COLUMNS = ("mips", "cpu_util")


@dataclass(frozen=True, eq=False)
class Workload:
    """The VM requests of one instance, as parallel numpy arrays (one entry per VM).

    Attributes:
        vm_ids: VM names, unique.
        start_s: start times, integer seconds from time 0.
        end_s: end times (exclusive), integer seconds; ``end_s > start_s``.
        cores: cores requested (integer ≥ 1).
        ram_mb: RAM requested, MB (integer ≥ 0).
        mips: MIPS per core requested; NaN means "the host's full core speed".
        cpu_util: average CPU load of the VM in [0, 1].
        extra: descriptive columns (``course``, ``room``, …) kept for reports.
        source: where the workload came from (a path or a description).
    """

    vm_ids: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    cores: np.ndarray
    ram_mb: np.ndarray
    mips: np.ndarray
    cpu_util: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        n = len(self.vm_ids)
        for name in ("start_s", "end_s", "cores", "ram_mb", "mips", "cpu_util"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Workload.{name} has {len(getattr(self, name))} entries, expected {n}")
        if n and np.any(self.end_s <= self.start_s):
            raise ValueError("every VM needs end_s > start_s")
        if n and (np.any(self.cores < 1) or np.any(self.ram_mb < 0)):
            raise ValueError("every VM needs cores >= 1 and ram_mb >= 0")
        if n and (np.any(self.cpu_util < 0) or np.any(self.cpu_util > 1)):
            raise ValueError("cpu_util must be in [0, 1]")
        if len(set(self.vm_ids.tolist())) != n:
            raise ValueError("vm_ids must be unique")

    @property
    def n(self) -> int:
        """Number of VMs."""
        return len(self.vm_ids)

    @property
    def duration_s(self) -> np.ndarray:
        """Durations in seconds."""
        return self.end_s - self.start_s

    def subset(self, indices) -> Workload:
        """The VMs at ``indices`` (in that order), as a workload of their own."""
        idx = np.asarray(indices, dtype=np.intp)
        return Workload(self.vm_ids[idx], self.start_s[idx], self.end_s[idx], self.cores[idx],
                        self.ram_mb[idx], self.mips[idx], self.cpu_util[idx],
                        {k: v[idx] for k, v in self.extra.items()}, self.source)

    @classmethod
    def from_arrays(
        cls,
        start_s,
        end_s,
        cores,
        ram_mb,
        mips=None,
        cpu_util=None,
        vm_ids=None,
        source: str = "<memory>",
        extra: dict[str, np.ndarray] | None = None,
    ) -> Workload:
        """Build a workload from array-likes (seconds, cores, MB); missing columns get defaults."""
        start = np.asarray(start_s, dtype=np.int64)
        n = len(start)
        return cls(
            vm_ids=np.asarray(vm_ids if vm_ids is not None else [f"vm{i}" for i in range(n)], dtype=object),
            start_s=start,
            end_s=np.asarray(end_s, dtype=np.int64),
            cores=np.asarray(cores, dtype=np.int64),
            ram_mb=np.asarray(ram_mb, dtype=np.int64),
            mips=np.full(n, np.nan) if mips is None else np.asarray(mips, dtype=float),
            cpu_util=np.ones(n) if cpu_util is None else np.asarray(cpu_util, dtype=float),
            extra=extra or {},
            source=source,
        )

    def to_frame(self):
        """The workload as a pandas DataFrame (one row per VM; times in seconds)."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "vm_id": self.vm_ids,
                "start_s": self.start_s,
                "end_s": self.end_s,
                "cores": self.cores,
                "ram_mb": self.ram_mb,
                "mips": self.mips,
                "cpu_util": self.cpu_util,
            }
        )
        for name, values in self.extra.items():
            frame[name] = values
        return frame


def read_text_file(path: Path, what: str) -> str:
    """Read a UTF-8 text file (a BOM is dropped); ``InputError`` names the line of a bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", path, line) from None


def _parse_int(text: str, column: str, minimum: int, maximum: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{column} {text!r} is not a whole number")
    if value < minimum:
        raise ValueError(f"{column} {text!r} must be at least {minimum}")
    if value > maximum:
        raise ValueError(f"{column} {text!r} is implausibly large (at most {maximum:g})")
    return int(value)


def _parse_float(text: str, column: str, low: float, high: float, low_open: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ValueError(f"{column} {text!r} must be in {bracket}{low:g}, {high:g}]")
    return value


def load_workload(path: str | Path) -> Workload:
    """Read a workload CSV (columns ``vm_id,start,duration,cores,ram_mb[,mips,cpu_util,...]``).

    Raises:
        InputError: naming the file, line and problem, for anything malformed.
    """
    path = Path(path)
    text = read_text_file(path, "workload")
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise InputError(f"not a readable CSV file ({exc})", path, 1) from None
        if header is None or not any(h.strip() for h in header):
            raise InputError("the file is empty (expected a header line "
                             f"with columns {','.join(REQUIRED_COLUMNS)})", path, 1)
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InputError(f"missing required column(s): {', '.join(missing)} "
                             f"(header is: {','.join(header)})", path, 1)
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise InputError(f"duplicate column(s) in header: {', '.join(dupes)}", path, 1)
        col = {name: i for i, name in enumerate(header)}
        extra_cols = [h for h in header if h and h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        for name in extra_cols:
            close = difflib.get_close_matches(name, OPTIONAL_COLUMNS, n=1, cutoff=0.7)
            if close:
                raise InputError(f"column {name!r} looks like a misspelt {close[0]!r}; rename it "
                                 f"(or, if it is meant as a descriptive column, give it another name)",
                                 path, 1)

        ids: list[str] = []
        lines: list[int] = []
        start_text: list[str] = []
        durations: list[int] = []
        cores: list[int] = []
        ram: list[int] = []
        mips: list[float] = []
        util: list[float] = []
        extra: dict[str, list[str]] = {c: [] for c in extra_cols}
        seen: dict[str, int] = {}
        start_kind = None
        start_kind_line = 0
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank line
                if len(row) != len(header):
                    raise InputError(f"has {len(row)} fields, the header has {len(header)}", path, line)
                try:
                    vm_id = row[col["vm_id"]].strip()
                    if not vm_id:
                        raise ValueError("vm_id is empty")
                    if vm_id in seen:
                        raise ValueError(f"duplicate vm_id {vm_id!r} (first on line {seen[vm_id]})")
                    text = row[col["start"]].strip()
                    if not text:
                        raise ValueError("start is empty")
                    kind = classify_start(text)
                    if start_kind is None:
                        start_kind, start_kind_line = kind, line
                    elif kind != start_kind:
                        raise ValueError(
                            f"start {text!r} is a {kind} value but line {start_kind_line} "
                            f"uses {start_kind}; one file must use one start format"
                        )
                    if kind == "minutes":
                        if parse_minutes(text, "start") < 0:
                            raise ValueError(f"start {text!r} is negative")
                    elif kind == "clock":
                        parse_clock(text, "start")
                    else:
                        parse_datetime(text)
                    dur = parse_duration(row[col["duration"]])
                    if dur > MAX_TIME_S:
                        raise ValueError(f"duration {row[col['duration']].strip()!r} is implausibly long")
                    c = _parse_int(row[col["cores"]].strip(), "cores", 1, MAX_CORES)
                    r = _parse_int(row[col["ram_mb"]].strip(), "ram_mb", 0, MAX_RAM_MB)
                    m = float("nan")
                    if "mips" in col and row[col["mips"]].strip():
                        m = _parse_float(row[col["mips"]].strip(), "mips", 0.0, math.inf, low_open=True)
                    u = 1.0
                    if "cpu_util" in col and row[col["cpu_util"]].strip():
                        u = _parse_float(row[col["cpu_util"]].strip(), "cpu_util", 0.0, 1.0)
                except ValueError as exc:
                    raise InputError(str(exc), path, line) from None
                seen[vm_id] = line
                ids.append(vm_id)
                lines.append(line)
                start_text.append(text)
                durations.append(dur)
                cores.append(c)
                ram.append(r)
                mips.append(m)
                util.append(u)
                for c_name in extra_cols:
                    extra[c_name].append(row[col[c_name]])
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", path, reader.line_num) from None

    if not ids:
        raise InputError("the file has a header but no VM rows", path, 2)
    if start_kind == "minutes":
        starts = [parse_minutes(t, "start") for t in start_text]
    elif start_kind == "clock":
        starts = [parse_clock(t, "start") for t in start_text]
    else:
        values = [parse_datetime(t) for t in start_text]
        try:
            starts = datetimes_to_seconds(values)
        except ValueError as exc:
            msg = str(exc)
            line = None
            if msg.startswith("#"):
                idx, msg = msg[1:].split(": ", 1)
                line = lines[int(idx)]
            raise InputError(msg, path, line) from None
    for i, (start, dur) in enumerate(zip(starts, durations)):
        if start + dur > MAX_TIME_S:
            raise InputError(f"the VM ends {start + dur} s after time 0, beyond the "
                             f"{MAX_TIME_S:g} s gapa accepts", path, lines[i])
    start_arr = np.asarray(starts, dtype=np.int64)
    return Workload(
        vm_ids=np.asarray(ids, dtype=object),
        start_s=start_arr,
        end_s=start_arr + np.asarray(durations, dtype=np.int64),
        cores=np.asarray(cores, dtype=np.int64),
        ram_mb=np.asarray(ram, dtype=np.int64),
        mips=np.asarray(mips, dtype=float),
        cpu_util=np.asarray(util, dtype=float),
        extra={k: np.asarray(v, dtype=object) for k, v in extra.items()},
        source=str(path),
    )


#: longest time ``H:MM:SS`` can write (the clock pattern takes up to three digits of hours)
_MAX_CLOCK_S = 1000 * 3600 - 1


def _time_writer(seconds: np.ndarray, what: str):
    """One way of writing a whole column, readable and exact: whole minutes as integers, else
    ``H:MM:SS`` when every value is under 1000 h, else minutes with decimals."""
    values = seconds.astype(np.int64)
    if not len(values) or np.all(values % 60 == 0):
        return lambda s: str(s // 60)
    if values.max() <= _MAX_CLOCK_S:
        return lambda s: f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"

    def minutes(s: int) -> str:
        text = repr(s / 60)
        if parse_minutes(text, what) != s:  # pragma: no cover - only beyond ~140 years
            raise ValueError(f"{what} {s} s cannot be written exactly as minutes")
        return text

    return minutes


def write_workload(workload: Workload, path: str | Path) -> None:
    """Write ``workload`` as gapa's CSV, so that :func:`load_workload` reads back the same VMs.

    ``start`` and ``duration`` are each written in one format for the whole file, time 0
    being the workload's own: whole minutes as integers when every value is a whole
    minute, else ``H:MM:SS`` when every value is under 1000 hours, else minutes with
    decimals; ``mips`` is blank for "the host's full core speed"; descriptive columns
    follow the standard ones.

    Raises:
        OSError: if the file cannot be written.
    """
    extra = [name for name in workload.extra if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    start_text = _time_writer(workload.start_s, "start")
    duration_text = _time_writer(workload.duration_s, "duration")
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *extra])
        for i in range(workload.n):
            mips = float(workload.mips[i])
            writer.writerow([
                workload.vm_ids[i],
                start_text(int(workload.start_s[i])),
                duration_text(int(workload.end_s[i] - workload.start_s[i])),
                int(workload.cores[i]),
                int(workload.ram_mb[i]),
                "" if math.isnan(mips) else repr(mips),
                repr(float(workload.cpu_util[i])),
                *(workload.extra[name][i] for name in extra),
            ])
