#!/usr/bin/env python3
"""Generate workloads/semester.csv and workloads/week.csv: a synthetic semester
of lab classes in a university private cloud (one VM per student present at a
lab class, plus one VM for the teacher).

Standard library + numpy only; fixed seed, so the output is reproducible:

    python workloads/generate_semester.py [--out DIR]

Writes semester.csv and week.csv (into DIR, default: next to this script) and
prints a summary of the files.

The model
---------
* **Calendar.** 15 teaching weeks, Monday 2027-02-15 to Friday 2027-05-28,
  classes Monday to Friday only. Three public holidays fall in the semester
  (Good Friday 2027-03-26, Easter Monday 2027-03-29, Ascension Thursday
  2027-05-06): every class of those days is cancelled.
* **Weekly timetable.** 24 courses, each with a number of lab groups; every
  group meets once a week (introductory programming: twice, on different
  days) in the same room and slot all semester. Slots are the one-day
  timetable's (08:00, 10:15, 13:00, 15:15, 17:30, 19:45; labs last 2 h, a few
  courses 3 h, which also take the room for the next slot). The timetable is
  drawn once with the seed: each group gets a free (day, slot, room) at random,
  daytime slots and Monday–Thursday more likely than the evening and Friday,
  parallel-computing and data-science courses only in their rooms, at most two
  groups of a course at the same time, a course's 3 h labs at 08:00, 13:00 or
  15:15.
* **Rooms.** 10 lab rooms of 24 to 48 seats. A group's enrolment is fixed for
  the semester, drawn uniformly between 75 % of its room's seats (at least 16)
  and the seat count.
* **Attendance.** Each session books one VM per student expected, drawn as
  Binomial(enrolment, p) with p = 0.95 at week 1 falling linearly to 0.80 at
  week 15, plus per-session noise N(0, 0.05) (p clipped to [0.4, 1]); at least
  3 students. Plus one VM for the teacher.
* **Cancellations.** Besides the holidays, each session is cancelled on its own
  with probability 2.5 % (illness, conferences, a room out of order).
* **Booking.** All VMs of a session start the same lead time before the class
  (10, 15, 20 or 25 min with probabilities 0.45, 0.25, 0.15, 0.15) and end
  when the class ends, so a long lead overlaps the previous class of the room
  (the gap between slots is 15 min). Nothing runs before 07:35 or after 21:45,
  nor on weekends.
* **VM sizes.** One VM type per course (1, 2, 4 or 8 cores; 1 to 16 GB), with
  RAM-heavy courses (databases, data warehousing, big data, image processing,
  statistics in R: 4 to 6 GB per core) beside core-heavy ones (HPC, deep
  learning: 1 to 2 GB per core). Three courses give ``mips`` (MIPS per core the
  VM needs: 2000, 2500, 2800); the others leave it blank.
* **CPU load.** Each session's mean is the course mean (0.04 to 0.50) times
  exp(N(0, 0.2)) (an easy week, a heavy one), clipped to [0.02, 0.7]; each
  VM's ``cpu_util`` is drawn from a beta distribution around it with
  concentration 25, rounded to 3 decimals and clipped to [0.001, 0.999].

``week.csv`` is week 3 (2027-03-01 to 2027-03-05): exactly the rows of
``semester.csv`` whose ``week`` is 3, with the same text.
"""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 2027
HERE = Path(__file__).resolve().parent

SEMESTER_START = date(2027, 2, 15)  # a Monday
WEEKS = 15
WEEK_FILE = 3                       # the week written to week.csv
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
HOLIDAYS = {
    date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday",
    date(2027, 5, 6): "Ascension Day",
}
CANCEL_P = 0.025                    # a session cancelled on its own
ATTEND_FIRST, ATTEND_LAST = 0.95, 0.80
ATTEND_NOISE = 0.05
MIN_STUDENTS = 3
LEADS_MIN = (10, 15, 20, 25)        # VMs start this long before the class
LEADS_P = (0.45, 0.25, 0.15, 0.15)
BETA_CONCENTRATION = 25.0
SESSION_UTIL_SIGMA = 0.2

SLOTS = {1: "08:00", 2: "10:15", 3: "13:00", 4: "15:15", 5: "17:30", 6: "19:45"}
SLOT_WEIGHT = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.9, 5: 0.45, 6: 0.2}
DAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.7)
LONG_LAB_SLOTS = (1, 3, 4)          # where a 3 h lab may start

ROOMS = {
    "A0.01": 48,
    "A0.02": 44,
    "B1.04": 40,
    "B1.05": 36,
    "B1.06": 32,
    "B2.11": 36,
    "B2.12": 30,
    "C0.03": 24,  # parallel-computing lab
    "C0.07": 28,  # data-science lab
    "D1.10": 32,  # parallel-computing and data-science lab
}
PARALLEL_ROOMS = ("C0.03", "D1.10", "B2.12")
DATA_SCIENCE_ROOMS = ("C0.07", "D1.10", "B1.06")

# course -> (short, cores, ram_mb, mips per core or None, mean cpu_util,
#            lab hours, groups, labs per week per group, rooms or None = any)
COURSES = {
    "intro-programming":    ("intro",  1,  1024, None, 0.05, 2, 8, 2, None),
    "oo-programming":       ("oop",    1,  2048, None, 0.07, 2, 10, 1, None),
    "algorithms":           ("algo",   1,  2048, None, 0.10, 2, 8, 1, None),
    "web":                  ("web",    1,  2048, None, 0.08, 2, 8, 1, None),
    "networking":           ("net",    1,  2048, None, 0.12, 2, 8, 1, None),
    "linux-admin":          ("adm",    1,  1024, None, 0.04, 2, 6, 1, None),
    "computer-architecture": ("arch",  1,  1024, None, 0.06, 2, 8, 1, None),
    "statistics-r":         ("stat",   1,  4096, None, 0.06, 2, 10, 1, None),
    "operating-systems":    ("os",     2,  2048, None, 0.10, 2, 8, 1, None),
    "compilers":            ("comp",   2,  2048, None, 0.18, 2, 5, 1, None),
    "software-engineering": ("se",     2,  4096, None, 0.07, 2, 8, 1, None),
    "security":             ("sec",    2,  4096, None, 0.20, 2, 6, 1, None),
    "cloud-computing":      ("cloud",  2,  4096, None, 0.10, 2, 6, 1, None),
    "graphics":             ("gfx",    2,  4096, None, 0.25, 2, 5, 1, None),
    "databases":            ("db",     2,  8192, None, 0.15, 2, 12, 1, None),
    "data-warehousing":     ("dwh",    2, 10240, None, 0.12, 2, 5, 1, None),
    "big-data":             ("bd",     2, 12288, None, 0.25, 3, 6, 1, DATA_SCIENCE_ROOMS),
    "image-processing":     ("img",    2,  8192, None, 0.22, 2, 5, 1, None),
    "mobile-development":   ("mob",    4,  8192, None, 0.30, 2, 6, 1, None),
    "machine-learning":     ("ml",     4,  8192, None, 0.40, 3, 6, 1, DATA_SCIENCE_ROOMS),
    "distributed-systems":  ("dist",   4,  4096, 2000, 0.35, 2, 5, 1, PARALLEL_ROOMS),
    "hpc":                  ("hpc",    4,  4096, 2500, 0.50, 3, 5, 1, PARALLEL_ROOMS),
    "scientific-computing": ("sci",    8,  8192, 2800, 0.45, 2, 4, 1, PARALLEL_ROOMS),
    "deep-learning":        ("dl",     8, 16384, None, 0.45, 3, 4, 1, DATA_SCIENCE_ROOMS),
}

HEADER = ["vm_id", "start", "duration", "cores", "ram_mb", "mips", "cpu_util",
          "course", "room", "week"]


def clock_to_min(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def fmt_clock(t: int) -> str:
    return f"{t // 60:02d}:{t % 60:02d}"


def fmt_duration(t: int) -> str:
    return f"{t // 60}:{t % 60:02d}"


def session_date(week: int, day: int) -> date:
    return SEMESTER_START + timedelta(days=7 * (week - 1) + day)


def build_timetable(rng: np.random.Generator) -> list[dict]:
    """The weekly timetable: one entry per (course, group, lab of the week)."""
    requests = []
    for course, (short, _c, _r, _m, _u, hours, groups, per_week, rooms) in COURSES.items():
        for g in range(groups):
            for lab in range(per_week):
                requests.append((course, short, g, lab, hours, per_week, rooms))
    # hardest first: 3 h labs, then labs restricted to a few rooms, then by file order
    requests.sort(key=lambda q: (-q[4], q[6] is None))

    busy: set[tuple[int, int, str]] = set()        # (day, slot, room)
    at_once: dict[tuple[str, int, int], int] = {}   # (course, day, slot) -> groups
    group_days: dict[tuple[str, int], set[int]] = {}
    group_room: dict[tuple[str, int], str] = {}
    timetable = []
    for course, short, g, lab, hours, per_week, rooms in requests:
        starts = LONG_LAB_SLOTS if hours == 3 else tuple(SLOTS)
        allowed_rooms = rooms if rooms is not None else tuple(ROOMS)
        if (course, g) in group_room:          # a group keeps its room
            allowed_rooms = (group_room[(course, g)],)
        options, weights = [], []
        for day in range(5):
            if day in group_days.get((course, g), set()):
                continue
            for slot in starts:
                taken = (slot, slot + 1) if hours == 3 else (slot,)
                if at_once.get((course, day, slot), 0) >= 2:
                    continue
                for room in allowed_rooms:
                    if any((day, s, room) in busy for s in taken):
                        continue
                    options.append((day, slot, room))
                    weights.append(DAY_WEIGHT[day] * SLOT_WEIGHT[slot])
        if not options:
            raise RuntimeError(f"no free room for {course} group {g}")
        w = np.asarray(weights)
        day, slot, room = options[int(rng.choice(len(options), p=w / w.sum()))]
        for s in ((slot, slot + 1) if hours == 3 else (slot,)):
            busy.add((day, s, room))
        at_once[(course, day, slot)] = at_once.get((course, day, slot), 0) + 1
        group_days.setdefault((course, g), set()).add(day)
        group_room[(course, g)] = room
        timetable.append({"course": course, "short": short, "group": g, "lab": lab,
                          "day": day, "slot": slot, "room": room, "hours": hours,
                          "per_week": per_week})
    # enrolment per group, fixed for the semester
    enrolment: dict[tuple[str, int], int] = {}
    for entry in sorted(timetable, key=lambda e: (e["course"], e["group"], e["lab"])):
        key = (entry["course"], entry["group"])
        if key not in enrolment:
            seats = ROOMS[entry["room"]]
            enrolment[key] = int(rng.integers(max(16, round(0.75 * seats)), seats + 1))
    for entry in timetable:
        entry["enrolled"] = enrolment[(entry["course"], entry["group"])]
    timetable.sort(key=lambda e: (e["day"], e["slot"], e["room"]))
    return timetable


def draw_util(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    a = mean * BETA_CONCENTRATION
    b = (1.0 - mean) * BETA_CONCENTRATION
    return np.clip(np.round(rng.beta(a, b, size=n), 3), 0.001, 0.999)


def build(rng: np.random.Generator):
    """Every VM of the semester (a list of dicts) and every session with its fate."""
    timetable = build_timetable(rng)
    rows, sessions = [], []
    for week in range(1, WEEKS + 1):
        attend = ATTEND_FIRST + (ATTEND_LAST - ATTEND_FIRST) * (week - 1) / (WEEKS - 1)
        for entry in timetable:
            course = entry["course"]
            short, cores, ram, mips, mean, *_ = COURSES[course]
            day = session_date(week, entry["day"])
            # every draw is made for every session, cancelled or not, so that one
            # cancellation does not shift the random numbers of the others
            cancelled_alone = rng.random() < CANCEL_P
            p = float(np.clip(attend + rng.normal(0.0, ATTEND_NOISE), 0.4, 1.0))
            n_students = max(MIN_STUDENTS, int(rng.binomial(entry["enrolled"], p)))
            lead = int(rng.choice(LEADS_MIN, p=LEADS_P))
            s_mean = float(np.clip(mean * np.exp(rng.normal(0.0, SESSION_UTIL_SIGMA)), 0.02, 0.7))
            utils = draw_util(rng, s_mean, n_students + 1)
            fate = ("holiday" if day in HOLIDAYS else "cancelled" if cancelled_alone else "held")
            sessions.append({**entry, "week": week, "date": day, "fate": fate,
                             "students": n_students if fate == "held" else 0})
            if fate != "held":
                continue
            class_start = clock_to_min(SLOTS[entry["slot"]])
            class_end = class_start + 60 * entry["hours"]
            start = class_start - lead
            group = chr(ord("a") + entry["group"])
            lab = entry["lab"] + 1
            names = [f"s{i:02d}" for i in range(1, n_students + 1)] + ["t01"]
            for who, u in zip(names, utils):
                rows.append({
                    "vm_id": f"{short}-w{week:02d}-{group}{lab}-{who}",
                    "date": day,
                    "start_min": start,
                    "duration_min": class_end - start,
                    "cores": cores,
                    "ram_mb": ram,
                    "mips": "" if mips is None else mips,
                    "cpu_util": float(u),
                    "course": course,
                    "room": entry["room"],
                    "week": week,
                })
    rows.sort(key=lambda r: (r["date"], r["start_min"], r["vm_id"]))
    ids = [r["vm_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate vm_id"
    return rows, sessions, timetable


def csv_text(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([
            r["vm_id"], f"{r['date'].isoformat()}T{fmt_clock(r['start_min'])}",
            fmt_duration(r["duration_min"]), r["cores"], r["ram_mb"], r["mips"],
            f"{r['cpu_util']:.3f}", r["course"], r["room"], r["week"],
        ])
    return buf.getvalue()


def abs_min(r) -> int:
    """Minutes from midnight of the semester's first day."""
    return (r["date"] - SEMESTER_START).days * 1440 + r["start_min"]


def peaks(rows, key=lambda r: True):
    """Peak concurrent VMs / cores / RAM (on [start, end)) of the rows passing ``key``."""
    events = []
    for r in rows:
        if not key(r):
            continue
        s = abs_min(r)
        e = s + r["duration_min"]
        events.append((s, 1, 1, r["cores"], r["ram_mb"]))
        events.append((e, 0, -1, -r["cores"], -r["ram_mb"]))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # ends before starts at equal times
    vms = cores = ram = 0
    best = {"vms": (0, 0), "cores": (0, 0), "ram": (0, 0)}
    for t, _kind, dv, dc, dr in events:
        vms += dv
        cores += dc
        ram += dr
        for k, val in (("vms", vms), ("cores", cores), ("ram", ram)):
            if val > best[k][0]:
                best[k] = (val, t)
    return best


def when(t: int) -> str:
    dt = datetime.combine(SEMESTER_START, datetime.min.time()) + timedelta(minutes=t)
    return f"{dt:%a %Y-%m-%d %H:%M}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE,
                        help="output folder (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print only the files written")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(SEED)
    rows, sessions, timetable = build(rng)
    week_rows = [r for r in rows if r["week"] == WEEK_FILE]
    args.out.mkdir(parents=True, exist_ok=True)
    semester_path, week_path = args.out / "semester.csv", args.out / "week.csv"
    semester_path.write_text(csv_text(rows), encoding="utf-8", newline="")
    week_path.write_text(csv_text(week_rows), encoding="utf-8", newline="")
    print(f"wrote {semester_path} ({len(rows)} VMs) and {week_path} ({len(week_rows)} VMs)")
    if args.quiet:
        return

    held = [s for s in sessions if s["fate"] == "held"]
    hol = sum(1 for s in sessions if s["fate"] == "holiday")
    canc = sum(1 for s in sessions if s["fate"] == "cancelled")
    best = peaks(rows)
    wbest = peaks(week_rows)
    fast = peaks(rows, key=lambda r: r["mips"] != "" and r["mips"] > 2500)
    vm_hours = sum(r["duration_min"] for r in rows) / 60.0
    core_hours = sum(r["duration_min"] * r["cores"] for r in rows) / 60.0
    mean_util = sum(r["cpu_util"] for r in rows) / len(rows)
    per_day: dict[date, int] = {}
    for r in rows:
        per_day[r["date"]] = per_day.get(r["date"], 0) + 1
    first = min(abs_min(r) % 1440 for r in rows)
    last = max((abs_min(r) + r["duration_min"]) % 1440 or 1440 for r in rows)

    print()
    print("| quantity | semester.csv | week.csv |")
    print("|---|---|---|")
    print(f"| VMs (rows) | {len(rows)} | {len(week_rows)} |")
    wk_held = [s for s in held if s["week"] == WEEK_FILE]
    print(f"| sessions held | {len(held)} of {len(sessions)} | "
          f"{len(wk_held)} of {len(timetable)} |")
    print(f"| teaching days with VMs | {len(per_day)} | "
          f"{len({r['date'] for r in week_rows})} |")
    print(f"| VMs per day (min / mean / max) | {min(per_day.values())} / "
          f"{len(rows) / len(per_day):.0f} / {max(per_day.values())} | |")
    for k, label in (("vms", "VMs"), ("cores", "cores")):
        print(f"| peak concurrent {label} | {best[k][0]} ({when(best[k][1])}) | "
              f"{wbest[k][0]} ({when(wbest[k][1])}) |")
    print(f"| peak concurrent RAM | {best['ram'][0] / 1024:g} GB ({when(best['ram'][1])}) | "
          f"{wbest['ram'][0] / 1024:g} GB ({when(wbest['ram'][1])}) |")
    print(f"| peak cores of VMs needing > 2500 MIPS | {fast['cores'][0]} | |")
    print(f"| total VM-hours | {vm_hours:.0f} | |")
    print(f"| total core-hours booked | {core_hours:.0f} | |")
    print(f"| mean cpu_util | {mean_util:.3f} | |")
    print(f"| first start / last end | {fmt_clock(first)} / {fmt_clock(last)} | |")
    print()
    print(f"cancelled sessions: {hol + canc} of {len(sessions)} "
          f"({100 * (hol + canc) / len(sessions):.1f} %): {hol} on the holidays "
          f"({', '.join(f'{d:%a %d %b} {n}' for d, n in HOLIDAYS.items())}), {canc} on their own")
    print()
    print("| course | short | cores | RAM | mips | cpu_util mean | hours | groups × labs/week "
          "| sessions held | VMs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for course, (short, c, ram, mips, mean, hours, groups, per_week, _r) in COURSES.items():
        n = sum(1 for r in rows if r["course"] == course)
        ns = sum(1 for s in held if s["course"] == course)
        print(f"| {course} | {short} | {c} | {ram / 1024:g} GB | {mips or ''} | {mean:.2f} "
              f"| {hours} | {groups} × {per_week} | {ns} | {n} |")
    by_week = {}
    for r in rows:
        by_week[r["week"]] = by_week.get(r["week"], 0) + 1
    print()
    print("VMs per week: " + ", ".join(f"{w}: {by_week.get(w, 0)}" for w in range(1, WEEKS + 1)))
    rooms_used = {}
    for e in timetable:
        rooms_used[(e["day"], e["slot"])] = rooms_used.get((e["day"], e["slot"]), 0) + 1
    print("sessions per slot (Mon..Fri): " + "; ".join(
        f"{SLOTS[s]} " + "/".join(str(rooms_used.get((d, s), 0)) for d in range(5)) for s in SLOTS))


if __name__ == "__main__":
    main()
