"""GPU job files: one row per job — template, parameters, release time, deadline, GPUs.

CSV columns (see ``workloads/README.md``)::

    job_id,template,release,deadline,gpus,params
    prune-r56,ginp,09:30,d3 09:00,1,network=resnet56;iterations=5

* ``release`` / ``deadline``: ``H:MM`` (hours may pass 24: ``33:00`` is 09:00 the next
  day), ``dN H:MM`` (day N, ``d1`` being the lab day), or minutes.  Time 0 is
  midnight before the lab day, as in the lab timetable.
* ``gpus``: GPUs each stage uses at once (blank = the template's default).
* ``params``: ``key=value`` pairs separated by ``;`` (blank = the template's defaults).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapa.errors import InputError
from gapa.jobs.templates import TEMPLATES, StageSpec, parse_params
from gapa.timeparse import parse_clock, parse_minutes
from gapa.workload import read_text_file

REQUIRED = ("job_id", "template", "release", "deadline")
OPTIONAL = ("gpus", "params")
_DAY = re.compile(r"^d(\d{1,3})\s+(\d{1,2}:\d{2}(?::\d{2})?)$", re.IGNORECASE)
MAX_GPUS = 64
#: latest job time accepted: a year after time 0, seconds
MAX_TIME_S = 366 * 86400


@dataclass(frozen=True)
class Job:
    """One GPU job, expanded into its stages.

    Attributes:
        job_id: unique name.
        template: template name.
        params: the template's parameters (defaults filled in).
        gpus: GPUs each stage uses at once.
        release_s: earliest start, whole seconds.
        deadline_s: latest end, whole seconds.
        stages: the chain of stages, in order.
    """

    job_id: str
    template: str
    params: dict[str, Any]
    gpus: int
    release_s: int
    deadline_s: int
    stages: tuple[StageSpec, ...] = field(default=())


def parse_time(text: str, what: str) -> int:
    """A job time (``H:MM``, ``dN H:MM`` or minutes) → seconds, at most a year after time 0."""
    seconds = _parse_time(text.strip(), what)
    if seconds > MAX_TIME_S:
        raise ValueError(f"{what} {text.strip()!r} is more than a year after time 0")
    return seconds


def _parse_time(text: str, what: str) -> int:
    m = _DAY.match(text)
    if m:
        day = int(m.group(1))
        if day < 1:
            raise ValueError(f"{what} {text!r}: days count from d1")
        clock = parse_clock(m.group(2), what)
        if clock >= 86400:
            raise ValueError(f"{what} {text!r}: the time of day must be before 24:00")
        return (day - 1) * 86400 + clock
    if ":" in text:
        return parse_clock(text, what)
    seconds = parse_minutes(text, what)
    if seconds < 0:
        raise ValueError(f"{what} {text!r} is negative")
    return seconds


def make_job(job_id: str, template: str, release_s: int, deadline_s: int, gpus: int | None = None,
             params: str | dict[str, Any] = "") -> Job:
    """Build a job from its parts (what a row of the file holds).

    Raises:
        ValueError: unknown template, bad parameters, or a deadline not after the release.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    t = TEMPLATES[template]
    if isinstance(params, dict):
        params = ";".join(f"{k}={v}" for k, v in params.items())
    values = parse_params(t, params)
    g = t.gpus if gpus is None else gpus
    if not 1 <= g <= MAX_GPUS:
        raise ValueError(f"gpus must be between 1 and {MAX_GPUS}, got {g}")
    if deadline_s <= release_s:
        raise ValueError("deadline must be after release")
    stages = tuple(t.expand(values, g))
    if not stages:
        raise ValueError("the job has no stages (every stage's epochs are 0)")
    return Job(job_id, template, values, g, int(release_s), int(deadline_s), stages)


def load_jobs(path: str | Path) -> list[Job]:
    """Read a GPU job CSV.

    Raises:
        InputError: naming the file, the line and the problem.
    """
    path = Path(path)
    text = read_text_file(path, "job file")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED)}; "
                         f"optional {', '.join(OPTIONAL)})", path, 1)
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(row.get(c) is None for c in REQUIRED):
            raise InputError("wrong number of fields", path, line)
        job_id = row["job_id"].strip()
        if not job_id:
            raise InputError("job_id is empty", path, line)
        if job_id in seen:
            raise InputError(f"job_id {job_id!r} is used twice (first on line {seen[job_id]})", path, line)
        seen[job_id] = line
        try:
            release = parse_time(row["release"], "release")
            deadline = parse_time(row["deadline"], "deadline")
            gtext = (row.get("gpus") or "").strip()
            if gtext and not re.fullmatch(r"[0-9]+", gtext):
                raise ValueError(f"gpus {gtext!r} is not a whole number")
            job = make_job(job_id, row["template"].strip().lower(), release, deadline,
                           int(gtext) if gtext else None, row.get("params") or "")
        except ValueError as exc:
            raise InputError(f"job {job_id}: {exc}", path, line) from None
        jobs.append(job)
    if not jobs:
        raise InputError("job file has no jobs", path)
    return jobs
