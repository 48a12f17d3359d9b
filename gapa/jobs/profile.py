"""GPU profiles: seconds per epoch and average watts of a reference training job, per GPU
model and power cap.

A profile row says: training the *reference workload* for one epoch on one GPU of
model ``gpu`` capped at ``power_limit_w`` watts takes ``time_per_epoch_s`` seconds
and draws ``average_power_w`` watts on average.  Job templates express their work
in reference epochs (:mod:`gapa.jobs.templates`), so a stage's duration and power on
any GPU at any cap come from this table.

The built-in table (``gapa/data/gpu_profile.csv``) is derived from Zeus's
measurements (You, Chung, Chowdhury, NSDI 2023; github.com/ml-energy/zeus,
Apache-2.0), copied in ``gapa/data/zeus/``: ShuffleNetV2 on CIFAR-100, batch size
1024, Adadelta — Zeus's CIFAR case, measured on all four GPUs.  Run
``python -m gapa.jobs.profile`` to rebuild it from those files.  Users replace it
with their own CSV (``[gpu_jobs] profile = "file.csv"`` in the scenario).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from gapa.errors import InputError
from gapa.workload import read_text_file

COLUMNS = ("gpu", "power_limit_w", "time_per_epoch_s", "average_power_w")
#: the Zeus rows the built-in profile is made of
REFERENCE = {"dataset": "cifar100", "network": "shufflenetv2", "batch_size": "1024", "optimizer": "adadelta"}
ZEUS_GPUS = ("v100", "a40", "p100", "rtx6000")


@dataclass(frozen=True)
class GpuProfile:
    """Reference-epoch time and power per (GPU model, power cap).

    Attributes:
        rows: ``{gpu: (caps_w, seconds_per_epoch, average_w)}``, caps ascending (numpy arrays).
        source: where the table came from.
    """

    rows: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    source: str

    def models(self) -> list[str]:
        """GPU models in the table."""
        return sorted(self.rows)

    def caps(self, gpu: str) -> np.ndarray:
        """Power caps (watts) profiled for ``gpu``, ascending."""
        return self.rows[gpu][0]

    def at(self, gpu: str, cap_w: float) -> tuple[float, float]:
        """``(seconds per reference epoch, average watts)`` of one ``gpu`` capped at ``cap_w``.

        Raises:
            KeyError: the table has no row for that GPU and cap.
        """
        caps, secs, watts = self.rows[gpu]
        i = int(np.searchsorted(caps, cap_w))
        if i == len(caps) or caps[i] != cap_w:
            raise KeyError(f"no profile row for GPU {gpu!r} at {cap_w:g} W")
        return float(secs[i]), float(watts[i])


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{column} must be a positive number, got {text!r}")
    return value


def parse_profile(text: str, source: str) -> GpuProfile:
    """Parse a profile CSV (columns :data:`COLUMNS`; others are kept out).

    Raises:
        InputError: naming ``source``, the line and the problem.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"GPU profile lacks column(s) {', '.join(missing)} "
                         f"(needs {', '.join(COLUMNS)})", source, 1)
    table: dict[str, dict[float, tuple[float, float]]] = {}
    for row in reader:
        line = reader.line_num
        try:
            gpu = (row["gpu"] or "").strip().lower()
            if not gpu:
                raise ValueError("gpu is empty")
            cap = _number(row["power_limit_w"], "power_limit_w")
            secs = _number(row["time_per_epoch_s"], "time_per_epoch_s")
            watts = _number(row["average_power_w"], "average_power_w")
        except (ValueError, TypeError) as exc:
            raise InputError(str(exc) if isinstance(exc, ValueError) else "row has too few fields",
                             source, line) from None
        if cap in table.setdefault(gpu, {}):
            raise InputError(f"GPU {gpu!r} at {cap:g} W is given twice", source, line)
        table[gpu][cap] = (secs, watts)
    if not table:
        raise InputError("GPU profile has no rows", source)
    rows = {}
    for gpu, by_cap in table.items():
        caps = np.array(sorted(by_cap))
        rows[gpu] = (caps, np.array([by_cap[c][0] for c in caps]), np.array([by_cap[c][1] for c in caps]))
    return GpuProfile(rows, source)


def load_profile(path: str | Path | None = None) -> GpuProfile:
    """Read a profile CSV, or the built-in one when ``path`` is empty."""
    if not path:
        text = resources.files("gapa").joinpath("data/gpu_profile.csv").read_text(encoding="utf-8")
        return parse_profile(text, "gapa/data/gpu_profile.csv (built in, from Zeus)")
    path = Path(path)
    return parse_profile(read_text_file(path, "GPU profile"), str(path))


def profile_from_zeus(texts: dict[str, str]) -> str:
    """The built-in profile CSV, made from Zeus's per-GPU files (``{gpu: csv text}``).

    Keeps the rows of :data:`REFERENCE` and renames the columns to :data:`COLUMNS`.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for gpu, text in texts.items():
        rows = [r for r in csv.DictReader(io.StringIO(text))
                if all(r[k] == v for k, v in REFERENCE.items())]
        for r in sorted(rows, key=lambda r: float(r["power_limit"])):
            writer.writerow([gpu, r["power_limit"], r["time_per_epoch"], r["average_power"]])
    return out.getvalue()


def zeus_texts() -> dict[str, str]:
    """Zeus's measurement files as shipped in ``gapa/data/zeus/``."""
    base = resources.files("gapa").joinpath("data/zeus")
    return {g: base.joinpath(f"zeus_power_{g}.csv").read_text(encoding="utf-8") for g in ZEUS_GPUS}


if __name__ == "__main__":  # pragma: no cover - maintenance script
    target = Path(__file__).resolve().parent.parent / "data" / "gpu_profile.csv"
    target.write_text(profile_from_zeus(zeus_texts()), encoding="utf-8")
    print(f"wrote {target}")
