"""The VM table of the Azure Public Dataset V2 (2019), ``vmtable.csv``.

Published schema (github.com/Azure/AzurePublicDataset, AzurePublicDatasetV2.md and
the dataset's analysis notebook, which names the columns): a CSV file **without a
header**, 11 columns per VM::

    vmid, subscriptionid, deploymentid, vmcreated, vmdeleted, maxcpu, avgcpu,
    p95maxcpu, vmcategory, vmcorecountbucket, vmmemorybucket

``vmcreated``/``vmdeleted`` are seconds from the start of the 30-day trace (CPU
readings every 5 minutes); ``maxcpu``, ``avgcpu``, ``p95maxcpu`` are CPU
utilisation in per cent; the buckets are ``2``, ``4``, ``8``, ``12``, ``24``,
``>24`` cores and ``2``, ``4``, ``8``, ``32``, ``64``, ``>64`` GB (each bucket named
by its upper end).  A header line starting with ``vmid`` is accepted too, and a
gzip-compressed file (``vmtable.csv.gz``, as distributed) is read transparently.

Each row becomes one VM (id = ``vmid``):

* start = ``vmcreated``; duration = ``vmdeleted - vmcreated``, at least 300 s (a
  VM seen in one 5-minute reading only), as the dataset's notebook computes lifetimes;
* cores = the core bucket, ``>24`` → 30; RAM = the memory bucket in GB × 1024 MB,
  ``>64`` → 70 GB (the notebook's own mapping);
* CPU load = ``avgcpu`` / 100 (values above 100 are clipped and counted);
* ``vmcategory`` is kept as the descriptive column ``category``.

No row is skipped; a malformed one (wrong column count, a non-number, an unknown
bucket, ``vmdeleted`` before ``vmcreated``) is an ``InputError`` naming the line
and the column.
"""

from __future__ import annotations

from pathlib import Path

from gapa.errors import InputError
from gapa.readers.base import (
    ReadSummary,
    TraceRead,
    WorkloadBuilder,
    iter_csv,
    number,
    round_half_up,
)

COLUMNS = ("vmid", "subscriptionid", "deploymentid", "vmcreated", "vmdeleted", "maxcpu", "avgcpu",
           "p95maxcpu", "vmcategory", "vmcorecountbucket", "vmmemorybucket")
#: open-ended buckets, mapped as the dataset's analysis notebook does
CORE_BUCKETS = {">24": 30}
MEMORY_BUCKETS_GB = {">64": 70}
#: shortest lifetime: one 5-minute CPU reading (the notebook's ``np.maximum(..., 300)``)
MIN_LIFETIME_S = 300


def _bucket(text: str, column: str, open_buckets: dict[str, int], path: Path, line: int) -> float:
    text = text.strip()
    if text.startswith(">"):
        if text.replace(" ", "") in open_buckets:
            return float(open_buckets[text.replace(" ", "")])
        known = ", ".join(open_buckets)
        raise InputError(f"{column} {text!r} is not a known bucket (open-ended buckets: {known})", path, line)
    value = number(text, column, path, line)
    if value <= 0:
        raise InputError(f"{column} {text!r} must be positive", path, line)
    return value


def read(path: str | Path, ram_mb: int | None = None) -> TraceRead:
    """Read an Azure 2019 ``vmtable.csv`` (plain or gzip); see the module docstring.

    Args:
        path: the VM table.
        ram_mb: not used (the table gives every VM's memory); must be ``None``.

    Raises:
        InputError: naming the file, the line and the column, for a malformed row.
    """
    if ram_mb is not None:
        raise InputError("--ram-mb does not apply to azure2019 (the table gives every VM's memory)")
    path = Path(path)
    summary = ReadSummary("azure2019", str(path))
    builder = WorkloadBuilder(path, summary)
    first = True
    for line_no, row in iter_csv(path, "Azure VM table"):
        if first and row[0].strip().lower() == "vmid":
            header = [c.strip().lower() for c in row]
            if tuple(header) != COLUMNS:
                raise InputError(f"the header is {','.join(header)}; expected {','.join(COLUMNS)}",
                                 path, line_no)
            first = False
            continue
        first = False
        if len(row) != len(COLUMNS):
            raise InputError(f"has {len(row)} columns, expected {len(COLUMNS)} ({','.join(COLUMNS)})",
                             path, line_no)
        created = number(row[3], "vmcreated", path, line_no)
        deleted = number(row[4], "vmdeleted", path, line_no)
        if created < 0:
            raise InputError(f"vmcreated {row[3].strip()!r} is negative", path, line_no)
        if deleted < created:
            raise InputError(f"vmdeleted {row[4].strip()!r} is before vmcreated {row[3].strip()!r}",
                             path, line_no)
        start = round_half_up(created)
        lifetime = round_half_up(deleted) - start
        if lifetime < MIN_LIFETIME_S:
            lifetime = MIN_LIFETIME_S
            builder.adjust(f"lifetime under {MIN_LIFETIME_S} s: set to {MIN_LIFETIME_S} s (one 5-minute reading)")
        avg = number(row[6], "avgcpu", path, line_no)
        if avg < 0:
            raise InputError(f"avgcpu {row[6].strip()!r} is negative", path, line_no)
        if avg > 100:
            avg = 100.0
            builder.adjust("avgcpu above 100 %: clipped to 100 %")
        cores_value = _bucket(row[9], "vmcorecountbucket", CORE_BUCKETS, path, line_no)
        if cores_value != int(cores_value):
            raise InputError(f"vmcorecountbucket {row[9].strip()!r} is not a whole number", path, line_no)
        if row[9].strip().startswith(">"):
            builder.adjust(f"core bucket {row[9].strip()}: {int(cores_value)} cores")
        memory_gb = _bucket(row[10], "vmmemorybucket", MEMORY_BUCKETS_GB, path, line_no)
        if row[10].strip().startswith(">"):
            builder.adjust(f"memory bucket {row[10].strip()}: {memory_gb:g} GB")
        builder.add(line_no, row[0].strip(), start, start + lifetime, int(cores_value),
                    round_half_up(memory_gb * 1024), cpu_util=avg / 100.0, category=row[8].strip())
    return TraceRead(builder.build(), summary)
