"""The results store of a sweep: one SQLite row per run, written by the client as each
run finishes, so an interrupted sweep loses only its unfinished runs.

Table ``runs``: ``run_id`` (primary key: a run is written once, and a rerun of a
failed run replaces its row), ``status`` (``ok`` or ``failed``), ``error``, the run's
parameters (workload, format, ram_mb, scenario, power, idle_share, algorithm,
allocator, settings as JSON, seed), its results (energy_j, energy_kwh, host_on_s, hosts_used,
peak_hosts_on, placed, rejected, solve_s — seconds the allocator took — and wall_s,
the whole run on its worker), ``gapa_version``, ``worker`` and ``record`` (the run's
full summary as JSON).  Energies in joules and kWh, times in seconds.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Self

COLUMNS: dict[str, str] = {
    "run_id": "TEXT PRIMARY KEY", "status": "TEXT NOT NULL", "error": "TEXT",
    "workload": "TEXT", "format": "TEXT", "ram_mb": "INTEGER", "scenario": "TEXT", "power": "TEXT",
    "idle_share": "REAL",
    "algorithm": "TEXT", "allocator": "TEXT", "settings": "TEXT", "seed": "INTEGER",
    "energy_j": "REAL", "energy_kwh": "REAL", "host_on_s": "REAL", "hosts_used": "INTEGER",
    "peak_hosts_on": "INTEGER", "placed": "INTEGER", "rejected": "INTEGER", "solve_s": "REAL", "wall_s": "REAL",
    "gapa_version": "TEXT", "worker": "TEXT", "record": "TEXT",
}


class ResultStore:
    """A sweep's SQLite store (opened, and created if new, at ``path``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        cols = ", ".join(f"{k} {v}" for k, v in COLUMNS.items())
        self._db.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
        have = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        for name, kind in COLUMNS.items():  # a store made by an older gapa gains the new columns
            if name not in have:
                self._db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind.replace(' PRIMARY KEY', '')}")
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def done_ids(self) -> set[str]:
        """Runs finished successfully (a rerun skips them; failed runs are tried again)."""
        return {row[0] for row in self._db.execute("SELECT run_id FROM runs WHERE status = 'ok'")}

    def write(self, params: dict[str, Any], outcome: dict[str, Any]) -> None:
        """Write one finished run (its parameters and its outcome) and commit at once."""
        row = {**params, **{k: v for k, v in outcome.items() if k in COLUMNS}}
        if "record" in outcome:
            row["record"] = json.dumps(outcome["record"], default=str)
        keys = [k for k in COLUMNS if k in row]
        placeholders = ", ".join("?" for _ in keys)
        self._db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(keys)}) VALUES ({placeholders})",
                         [row[k] for k in keys])
        self._db.commit()

    def rows(self) -> list[dict[str, Any]]:
        """Every row, as dicts, in run_id order."""
        cur = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY run_id")
        return [dict(zip(COLUMNS, row, strict=True)) for row in cur]

    def frame(self):
        """Every row as a pandas DataFrame (``record`` left out)."""
        import pandas as pd

        cols = [c for c in COLUMNS if c != "record"]
        return pd.read_sql_query(f"SELECT {', '.join(cols)} FROM runs ORDER BY run_id", self._db)
