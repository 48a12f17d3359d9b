#!/usr/bin/env python3
"""Generate workloads/oneday.csv: a synthetic one-day lab timetable of a
university private cloud (one VM per student per lab class, plus one VM for
the teacher).

Standard library + numpy only; fixed seed, so the output is reproducible:

    python workloads/generate_oneday.py

Writes oneday.csv next to this script and prints a summary of the file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 2013
OUT = Path(__file__).resolve().parent / "oneday.csv"

SETUP_MIN = 10        # VMs are booked to start 10 min before the class
EXTRA_SETUP_MIN = 15  # some teachers book 15 more minutes to prepare
BETA_CONCENTRATION = 25.0  # per-student spread of cpu_util around the course mean

# Lab slots (start, nominal length in hours). 3 h labs start at a slot start
# and also take the room for (part of) the next slot.
SLOTS = {
    1: "08:00",
    2: "10:15",
    3: "13:00",
    4: "15:15",
    5: "17:30",
    6: "19:45",
}

# Lab rooms and their seat counts (a class never exceeds its room).
ROOMS = {
    "B1.04": 40,
    "B1.05": 36,
    "B1.06": 32,
    "B2.11": 36,
    "B2.12": 30,
    "C0.03": 24,  # small parallel-computing lab
    "C0.07": 28,  # data-science lab
}

# course -> (short, full name, cores, ram_mb, mips per core or None,
#            mean cpu_util, lab exercise number this week)
COURSES = {
    "intro-programming": ("intro", "Introduction to programming", 1, 1024, None, 0.05, 6),
    "networking":        ("net",   "Computer networks",           1, 2048, None, 0.12, 4),
    "web":               ("web",   "Web development",             1, 2048, None, 0.08, 5),
    "operating-systems": ("os",    "Operating systems",           2, 2048, None, 0.10, 3),
    "databases":         ("db",    "Databases",                   2, 4096, None, 0.15, 5),
    "security":          ("sec",   "Computer security",           2, 4096, None, 0.20, 2),
    "machine-learning":  ("ml",    "Machine learning",            4, 8192, None, 0.40, 4),
    "hpc":               ("hpc",   "Parallel and HPC programming", 4, 4096, 2500, 0.50, 3),
}

# The day's timetable: (slot, room, course, hours, extra setup?).
# Groups (a, b, c, ...) are assigned per course in timetable order.
TIMETABLE = [
    # morning
    (1, "B1.04", "intro-programming", 2, False),
    (1, "B1.06", "networking",        2, False),
    (1, "B2.11", "databases",         2, False),
    (1, "B2.12", "operating-systems", 2, False),
    (1, "C0.03", "hpc",               3, True),   # 08:00-11:00
    (2, "B1.04", "intro-programming", 2, False),
    (2, "B1.05", "security",          2, False),
    (2, "B2.11", "databases",         2, True),
    (2, "C0.07", "machine-learning",  2, False),
    # afternoon
    (3, "B1.04", "intro-programming", 2, False),
    (3, "B1.05", "web",               2, False),
    (3, "B1.06", "networking",        2, False),
    (3, "B2.12", "operating-systems", 2, False),
    (3, "C0.07", "machine-learning",  3, False),  # 13:00-16:00
    (4, "B1.04", "web",               2, False),
    (4, "B1.05", "security",          2, False),
    (4, "B2.11", "databases",         2, False),
    (4, "B2.12", "operating-systems", 2, True),
    (4, "C0.03", "hpc",               2, False),
    # early evening (part-time students)
    (5, "B1.04", "intro-programming", 2, False),
    (5, "B1.06", "security",          2, False),
    (5, "B2.11", "databases",         2, False),
    # evening, lightly used
    (6, "B1.06", "networking",        2, False),
    (6, "B1.04", "web",               2, False),
]


def clock_to_min(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def min_to_clock(t: int) -> str:
    return f"{t // 60:02d}:{t % 60:02d}"


def min_to_duration(t: int) -> str:
    return f"{t // 60}:{t % 60:02d}"


def draw_util(rng: np.random.Generator, mean: float, n: int) -> list[float]:
    a = mean * BETA_CONCENTRATION
    b = (1.0 - mean) * BETA_CONCENTRATION
    u = np.clip(np.round(rng.beta(a, b, size=n), 3), 0.001, 0.999)
    return [float(x) for x in u]


def build(rng: np.random.Generator):
    rows = []
    classes = []
    group_count: dict[str, int] = {}
    for slot, room, course, hours, extra in TIMETABLE:
        short, _full, cores, ram, mips, mean, lab = COURSES[course]
        g = group_count.get(course, 0)
        group_count[course] = g + 1
        class_id = f"l{lab}-{chr(ord('a') + g)}"

        cap = ROOMS[room]
        n_students = int(rng.integers(max(20, round(0.7 * cap)), cap + 1))

        class_start = clock_to_min(SLOTS[slot])
        class_end = class_start + 60 * hours
        setup = SETUP_MIN + (EXTRA_SETUP_MIN if extra else 0)
        start = class_start - setup
        duration = class_end - start

        utils = draw_util(rng, mean, n_students + 1)
        names = [f"s{i:02d}" for i in range(1, n_students + 1)] + ["t01"]
        for who, u in zip(names, utils):
            rows.append({
                "vm_id": f"{short}-{class_id}-{who}",
                "start_min": start,
                "duration_min": duration,
                "cores": cores,
                "ram_mb": ram,
                "mips": "" if mips is None else mips,
                "cpu_util": u,
                "course": course,
                "room": room,
            })
        classes.append((course, room, class_id, start, class_end, n_students))

    rows.sort(key=lambda r: (r["start_min"], r["vm_id"]))
    ids = [r["vm_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate vm_id"
    return rows, classes


def write_csv(rows, path: Path) -> None:
    header = ["vm_id", "start", "duration", "cores", "ram_mb", "mips",
              "cpu_util", "course", "room"]
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([
                r["vm_id"], min_to_clock(r["start_min"]),
                min_to_duration(r["duration_min"]), r["cores"], r["ram_mb"],
                r["mips"], f"{r['cpu_util']:.3f}", r["course"], r["room"],
            ])


def peaks(rows):
    """Peak concurrent VMs / cores / RAM on half-open intervals [s, e)."""
    events = []
    for r in rows:
        s, e = r["start_min"], r["start_min"] + r["duration_min"]
        events.append((s, 1, 1, r["cores"], r["ram_mb"]))
        events.append((e, 0, -1, -r["cores"], -r["ram_mb"]))
    # at equal times, ends (0) are processed before starts (1)
    events.sort(key=lambda ev: (ev[0], ev[1]))
    vms = cores = ram = 0
    best = {"vms": (0, 0), "cores": (0, 0), "ram": (0, 0)}
    for t, _kind, dv, dc, dr in events:
        vms += dv
        cores += dc
        ram += dr
        for key, val in (("vms", vms), ("cores", cores), ("ram", ram)):
            if val > best[key][0]:
                best[key] = (val, t)
    return best


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows, classes = build(rng)
    write_csv(rows, OUT)

    best = peaks(rows)
    vm_hours = sum(r["duration_min"] for r in rows) / 60.0
    core_hours = sum(r["duration_min"] * r["cores"] for r in rows) / 60.0
    mean_util = sum(r["cpu_util"] for r in rows) / len(rows)

    print(f"wrote {OUT}")
    print()
    print("| quantity | value |")
    print("|---|---|")
    print(f"| VMs (rows) | {len(rows)} |")
    print(f"| lab classes | {len(classes)} |")
    print(f"| students (VMs without teacher VMs) | {len(rows) - len(classes)} |")
    print(f"| peak concurrent VMs | {best['vms'][0]} (at {min_to_clock(best['vms'][1])}) |")
    print(f"| peak concurrent cores | {best['cores'][0]} (at {min_to_clock(best['cores'][1])}) |")
    print(f"| peak concurrent RAM | {best['ram'][0] / 1024:g} GB (at {min_to_clock(best['ram'][1])}) |")
    print(f"| total VM-hours | {vm_hours:.1f} |")
    print(f"| total core-hours booked | {core_hours:.1f} |")
    print(f"| mean cpu_util | {mean_util:.3f} |")
    print()
    print("| course | short | cores | RAM | mips | cpu_util mean (target) | cpu_util mean (drawn) | classes | VMs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for course, (short, _full, c, ram, mips, mean, _lab) in COURSES.items():
        cr = [r for r in rows if r["course"] == course]
        ncls = sum(1 for k in classes if k[0] == course)
        drawn = sum(r["cpu_util"] for r in cr) / len(cr)
        print(f"| {course} | {short} | {c} | {ram // 1024} GB | {mips or ''} | "
              f"{mean:.2f} | {drawn:.3f} | {ncls} | {len(cr)} |")


if __name__ == "__main__":
    main()
