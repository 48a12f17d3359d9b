"""Parsing the ``start`` and ``duration`` columns of a workload into whole seconds.

Accepted ``start`` formats (one kind per file):

* ``HH:MM`` or ``HH:MM:SS`` — a clock time; time 0 is midnight.
* an ISO 8601 date-time (``2024-03-04T08:30``) — time 0 is midnight of the
  earliest date in the file.
* a plain number of minutes (``510`` or ``510.5``) — time 0 is 0.

Clock times and ISO date-times are both "clock" formats; a file may not mix a
number with a clock format, nor ``HH:MM`` with date-times.

Accepted ``duration`` formats: a number of minutes, or ``H:MM`` / ``H:MM:SS``
(hours may exceed 24).

All times are kept inside gapa as integer seconds so that back-to-back
intervals ``[a, b)`` and ``[b, c)`` meet exactly.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Literal

StartKind = Literal["minutes", "clock", "datetime"]

_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def minutes_to_seconds(value: float, what: str) -> int:
    """Convert minutes to whole seconds; raise ``ValueError`` if not a whole second."""
    if not math.isfinite(value):
        raise ValueError(f"{what} {value!r} is not a finite number")
    seconds = value * 60.0
    rounded = round(seconds)
    if abs(seconds - rounded) > 1e-6:
        raise ValueError(f"{what} {value:g} min is not a whole number of seconds")
    return int(rounded)


def classify_start(text: str) -> StartKind:
    """Tell which format a ``start`` value is written in; ``ValueError`` if none."""
    text = text.strip()
    if _NUMBER.match(text):
        return "minutes"
    if _CLOCK.match(text):
        return "clock"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"start {text!r} is neither HH:MM[:SS], an ISO 8601 date-time, nor a number of minutes"
        ) from None
    return "datetime"


def parse_clock(text: str, what: str) -> int:
    """``H:MM`` or ``H:MM:SS`` → seconds."""
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"{what} {text!r} is not H:MM or H:MM:SS")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return h * 3600 + mi * 60 + s


def parse_minutes(text: str, what: str) -> int:
    """A number of minutes → seconds."""
    if not _NUMBER.match(text.strip()):
        raise ValueError(f"{what} {text!r} is not a number of minutes")
    return minutes_to_seconds(float(text), what)


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time (naive or with offset)."""
    return datetime.fromisoformat(text.strip())


def datetimes_to_seconds(values: list[datetime]) -> list[int]:
    """Seconds since midnight of the earliest date among ``values``.

    All values must be either naive or timezone-aware; aware ones are taken in UTC.
    Raises ``ValueError`` (with the index of the first offending value) otherwise.
    """
    aware = [v.tzinfo is not None for v in values]
    if any(aware) and not all(aware):
        bad = aware.index(not aware[0])
        raise ValueError(f"#{bad}: mixes date-times with and without a time zone")
    if all(aware):
        values = [v.astimezone(UTC).replace(tzinfo=None) for v in values]
    earliest = min(values)
    origin = datetime(earliest.year, earliest.month, earliest.day)
    out = []
    for i, v in enumerate(values):
        delta: timedelta = v - origin
        if delta.microseconds:
            raise ValueError(f"#{i}: start {v.isoformat()} is not a whole number of seconds")
        out.append(delta.days * 86400 + delta.seconds)
    return out


def parse_duration(text: str) -> int:
    """A duration (minutes, or ``H:MM[:SS]``) → seconds; must be positive."""
    text = text.strip()
    if ":" in text:
        seconds = parse_clock(text, "duration")
    else:
        seconds = parse_minutes(text, "duration")
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return seconds


def format_seconds(seconds: float) -> str:
    """Seconds → ``H:MM:SS`` (may exceed 24 h; negative values get a sign)."""
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
