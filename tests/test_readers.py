"""The trace readers (gapa.readers): real sample files, hand-checked values, malformed input,
skipped-record counting, --ram-mb, and the write/read round trip.

Expected values below were read by hand off the raw lines of the files in tests/data/traces/.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from gapa.errors import InputError
from gapa.readers import READERS, read_trace
from gapa.readers.tbpp import read_tbpp
from gapa.workload import Workload, load_workload, write_workload

DATA = Path(__file__).resolve().parent / "data" / "traces"
SWF = DATA / "NASA-iPSC-1993-3.1-cln.first300.swf.gz"
BITBRAINS = DATA / "bitbrains-tasks.csv"
AZURE2019 = DATA / "azure2019-vmtable-sample.csv"
AZURE2020 = DATA / "azure2020" / "vm.csv"
AZURE2020_TYPES = DATA / "azure2020" / "vmType.csv"
TBPP = {
    "a1": (DATA / "tbpp/a1/cap100_n50_t50_LonLr_1.txt", 50, 100),
    "a2": (DATA / "tbpp/a2/cap100_n500_t500_LonLr_1.txt", 500, 100),
    "c1": (DATA / "tbpp/c1/exp1_200_200_5_1.txt", 200, 2),
    "d1": (DATA / "tbpp/d1/100_24_1.txt", 100, 100),
}
SAMPLES = [("swf", SWF), ("bitbrains", BITBRAINS), ("azure2019", AZURE2019), ("azure2020", AZURE2020),
           *(("tbpp", path) for path, _, _ in TBPP.values())]

SWF_JOB = "{job} {submit} {wait} {run} {alloc} -1 {used} {req} -1 {reqmem} 1 1 1 -1 -1 -1 -1 -1\n"


def vm(workload: Workload, vm_id: str) -> dict[str, object]:
    """One VM's fields by id."""
    i = workload.vm_ids.tolist().index(vm_id)
    out = {"start": int(workload.start_s[i]), "end": int(workload.end_s[i]), "cores": int(workload.cores[i]),
           "ram_mb": int(workload.ram_mb[i]), "cpu_util": float(workload.cpu_util[i])}
    out.update({name: values[i] for name, values in workload.extra.items()})
    return out


def swf_line(job=1, submit=0, wait=-1, run=60, alloc=1, used=-1, req=-1, reqmem=-1) -> str:
    return SWF_JOB.format(job=job, submit=submit, wait=wait, run=run, alloc=alloc, used=used, req=req,
                          reqmem=reqmem)


def assert_same_workload(a: Workload, b: Workload) -> None:
    for name in ("vm_ids", "start_s", "end_s", "cores", "ram_mb", "cpu_util"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.mips, b.mips, equal_nan=True)
    assert sorted(a.extra) == sorted(b.extra)
    for name in a.extra:
        assert list(a.extra[name]) == list(b.extra[name]), name


def error_of(fn, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- registry


def test_registry_names_and_front_door():
    assert list(READERS) == ["gapa", "swf", "tbpp", "azure2019", "azure2020", "bitbrains"]
    assert "unknown format 'nope'" in str(error_of(read_trace, SWF, "nope"))


@pytest.mark.parametrize("fmt", ["azure2019", "azure2020", "bitbrains", "gapa"])
def test_ram_mb_refused_where_the_input_gives_ram(fmt):
    err = error_of(read_trace, AZURE2019, fmt, ram_mb=512)
    assert f"--ram-mb does not apply to format {fmt}" in str(err)


@pytest.mark.parametrize(("fmt", "path"), SAMPLES, ids=[f"{f}-{p.name}" for f, p in SAMPLES])
def test_write_then_load_gives_the_same_workload(fmt, path, tmp_path):
    workload = read_trace(path, fmt).workload
    out = tmp_path / "w.csv"
    write_workload(workload, out)
    assert_same_workload(workload, load_workload(out))


def test_gapa_format_reads_gapa_csv():
    result = read_trace(Path(__file__).resolve().parent.parent / "workloads" / "oneday.csv")
    assert result.workload.n == 714 and result.summary.vms == 714 and result.scenario is None


# --------------------------------------------------------------------------- SWF


def test_swf_sample_counts_and_values():
    result = read_trace(SWF, "swf")
    w, s = result.workload, result.summary
    # 300 jobs; jobs 658, 659, 669, 670 and 671 ran 0 s
    assert w.n == 295 and s.vms == 295
    assert dict(s.skipped) == {"run time 0 s (under half a second)": 5}
    assert "job659" not in set(w.vm_ids.tolist())
    # line 33: "1 0 -1 1451 128 -1 -1 -1 ..." — unknown wait, no memory data
    assert vm(w, "job1") == {"start": 0, "end": 1451, "cores": 128, "ram_mb": 128 * 1024, "cpu_util": 1.0,
                             "user": "1", "queue": "-1", "status": "-1"}
    # line 38: "57 25574 -1 10 1 -1 -1 -1 -1 -1 -1 4 1 2 ..."
    assert vm(w, "job57") == {"start": 25574, "end": 25584, "cores": 1, "ram_mb": 1024, "cpu_util": 1.0,
                              "user": "4", "queue": "-1", "status": "-1"}
    # line 332, the last: "1138 288452 -1 8666 64 ..."
    assert vm(w, "job1138")["end"] == 288452 + 8666 and vm(w, "job1138")["cores"] == 64
    assert s.adjusted["wait time unknown (-1): start = submit time"] == 295
    assert s.adjusted["memory unknown: 1024 MB per core (--ram-mb)"] == 295
    assert s.meta["MaxProcs"] == "128" and s.meta["Computer"] == "Intel iPSC/860"
    assert result.scenario is None


def test_swf_plain_and_gzip_read_the_same(tmp_path):
    plain = tmp_path / "log.swf"
    with gzip.open(SWF, "rb") as src, plain.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    assert_same_workload(read_trace(plain, "swf").workload, read_trace(SWF, "swf").workload)


def test_swf_ram_mb_overrides_the_default():
    result = read_trace(SWF, "swf", ram_mb=512)
    assert vm(result.workload, "job1")["ram_mb"] == 128 * 512
    assert result.summary.adjusted["memory unknown: 512 MB per core (--ram-mb)"] == 295


def test_swf_mapping_of_wait_memory_and_requested_processors(write):
    path = write("t.swf", "; Version: 2.2\n"
                 + swf_line(job=1, submit=100, wait=20, run=60, alloc=4, used=2048)        # used memory
                 + swf_line(job=2, submit=10.4, wait=0.2, run=59.6, alloc=3, reqmem=1000)  # requested memory
                 + swf_line(job=3, submit=0, run=5, alloc=-1, req=8, used=512)             # requested procs
                 + swf_line(job=4, submit=0, run=5, alloc=0, req=2))
    result = read_trace(path, "swf", ram_mb=100)
    w, s = result.workload, result.summary
    assert vm(w, "job1") | {"user": None} == {"start": 120, "end": 180, "cores": 4, "ram_mb": 8,
                                               "cpu_util": 1.0, "user": None, "queue": "-1", "status": "1"}
    assert (vm(w, "job2")["start"], vm(w, "job2")["end"], vm(w, "job2")["ram_mb"]) == (11, 71, 3)
    assert (vm(w, "job3")["cores"], vm(w, "job3")["ram_mb"]) == (8, 4)
    assert (vm(w, "job4")["cores"], vm(w, "job4")["ram_mb"]) == (2, 200)
    assert s.adjusted["allocated processors unknown: cores = requested processors"] == 2
    assert s.adjusted["used memory unknown: RAM from requested memory"] == 1
    assert s.adjusted["memory unknown: 100 MB per core (--ram-mb)"] == 1
    assert s.adjusted["wait time unknown (-1): start = submit time"] == 2


def test_swf_skipped_jobs_are_counted_by_first_reason(write):
    path = write("t.swf", swf_line(job=1)
                 + swf_line(job=2, run=-1)
                 + swf_line(job=3, run=-1, alloc=-1)  # both unknown: counted once, under run time
                 + swf_line(job=4, run=0.4)
                 + swf_line(job=5, alloc=-1, req=-1)
                 + swf_line(job=6, alloc=0, req=0))
    s = read_trace(path, "swf").summary
    assert s.vms == 1 and s.n_skipped == 5
    assert dict(s.skipped) == {"run time unknown (-1)": 2, "run time 0 s (under half a second)": 1,
                               "processors unknown (allocated and requested -1 or 0)": 2}
    assert "skipped 5:" in s.lines()[0]


@pytest.mark.parametrize(("line", "fragment"), [
    ("1 0 -1 60 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1\n", "expected 18 whitespace-separated fields, got 17"),
    (swf_line(run="6o"), "run time (field 4) '6o' is not a number"),
    (swf_line(wait=-5), "wait time (field 3) '-5' is negative"),
    (swf_line(alloc=2.5), "allocated processors (field 5) '2.5' is not a whole number"),
    (swf_line(submit=-1), "submit time (field 2) '-1' is unknown"),
    (swf_line(used="nan"), "used memory (field 7) 'nan' is not a finite number"),
    (swf_line(job=1), "duplicate VM id 'job1' (first on line 2)"),
])
def test_swf_malformed_line_names_line_and_field(write, line, fragment):
    path = write("bad.swf", "; Version: 2.2\n" + swf_line(job=1) + line)
    err = error_of(read_trace, path, "swf")
    assert err.line == 3 and err.path == str(path)
    assert fragment in err.problem


def test_swf_with_no_usable_job_is_an_error(write):
    err = error_of(read_trace, write("t.swf", "; only a header\n" + swf_line(run=-1)), "swf")
    assert "no VM to read (skipped: 1 run time unknown (-1))" in str(err)


def test_swf_broken_gzip_is_an_input_error(tmp_path):
    path = tmp_path / "cut.swf.gz"
    path.write_bytes(SWF.read_bytes()[:1500])
    assert "broken gzip file" in str(error_of(read_trace, path, "swf"))


def test_missing_file_is_an_input_error(tmp_path):
    assert "cannot read SWF trace" in str(error_of(read_trace, tmp_path / "none.swf", "swf"))


# --------------------------------------------------------------------------- TBPP


@pytest.mark.parametrize("name", list(TBPP))
def test_tbpp_sets_share_one_format(name):
    path, n, capacity = TBPP[name]
    result = read_trace(path, "tbpp")
    assert result.workload.n == n and result.summary.vms == n and not result.summary.skipped
    group = result.scenario.fleet.groups[0]
    assert (group.count, group.cores, group.ram_mb) == (n, capacity, capacity)
    assert result.workload.cores.max() <= capacity


def test_tbpp_values():
    a1 = read_trace(TBPP["a1"][0], "tbpp").workload  # line 2: "0 2 25 64"; last: "49 48 77 73"
    assert vm(a1, "job0") == {"start": 120, "end": 1500, "cores": 64, "ram_mb": 64, "cpu_util": 1.0}
    assert vm(a1, "job49") == {"start": 48 * 60, "end": 77 * 60, "cores": 73, "ram_mb": 73, "cpu_util": 1.0}
    c1 = read_trace(TBPP["c1"][0], "tbpp").workload  # half-capacity jobs; line 2: "0 60 71 1"
    assert vm(c1, "job0")["start"] == 3600 and set(c1.cores.tolist()) == {1}
    d1 = read_trace(TBPP["d1"][0], "tbpp").workload  # minutes over 14 days; last: "99 19964 20054 66"
    assert vm(d1, "job99") == {"start": 19964 * 60, "end": 20054 * 60, "cores": 66, "ram_mb": 66,
                               "cpu_util": 1.0}


def test_tbpp_ram_mb_and_the_old_entry_point():
    result = read_trace(TBPP["a1"][0], "tbpp", ram_mb=256)
    assert vm(result.workload, "job0")["ram_mb"] == 64 * 256
    assert result.scenario.fleet.groups[0].ram_mb == 100 * 256
    workload, scenario = read_tbpp(TBPP["a1"][0])
    assert workload.n == 50 and scenario.fleet.groups[0].count == 50


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("2\t10\t0\t0\n0\t0\tx\t5\n1\t0\t5\t5\n", 2, "end 'x' is not an integer"),
    ("2\t10\t0\t0\n0\t0\t5\t5\n1\t0\t5\n", 3, "expected 4 fields 'index start end size', got 3"),
    ("2\t10\t0\t0\n0\t0\t5\t5\n0\t1\t5\t5\n", 3, "duplicate VM id 'job0' (first on line 2)"),
    ("2\t10\t0\t0\n0\t0\t5\t5\n1\t5\t5\t5\n", 3, "end 5 of job 1 is no later than its start 5"),
    ("2\t10\t0\t0\n0\t0\t5\t11\n1\t0\t5\t5\n", 2, "size 11 of job 0 is outside 1 … 10"),
    ("2\t10\t0\t0\n0\t-1\t5\t5\n1\t0\t5\t5\n", 2, "start -1 of job 0 is negative"),
    ("3\t10\t0\t0\n0\t0\t5\t5\n1\t0\t5\t5\n", 1, "the header announces 3 jobs but the file has 2"),
    ("two\t10\t0\t0\n", 1, "n (header field 1) 'two' is not an integer"),
])
def test_tbpp_malformed(write, text, line, fragment):
    err = error_of(read_trace, write("bad.txt", text), "tbpp")
    assert err.line == line and fragment in err.problem


# --------------------------------------------------------------------------- Azure 2019


def test_azure2019_sample_values():
    result = read_trace(AZURE2019, "azure2019")
    w, s = result.workload, result.summary
    assert w.n == 8 and not s.skipped
    ids = w.vm_ids.tolist()
    # line 2: "...,558300,1673700,91.776885,0.728879,20.75963,Delay-insensitive,8,32"
    assert vm(w, ids[1]) == {"start": 558300, "end": 1673700, "cores": 8, "ram_mb": 32 * 1024,
                             "cpu_util": pytest.approx(0.00728879), "category": "Delay-insensitive"}
    # line 3: created == deleted, 300 s lifetime as the dataset's notebook computes it
    assert (vm(w, ids[2])["start"], vm(w, ids[2])["end"]) == (424500, 424800)
    # line 4: the open-ended buckets, ">24" cores and ">64" GB → 30 cores and 70 GB
    assert (vm(w, ids[3])["cores"], vm(w, ids[3])["ram_mb"]) == (30, 70 * 1024)
    assert s.adjusted["lifetime under 300 s: set to 300 s (one 5-minute reading)"] == 1
    assert s.adjusted["core bucket >24: 30 cores"] == 1 and s.adjusted["memory bucket >64: 70 GB"] == 1
    assert ids[0].startswith("hw0001+HANDWRITTEN")


def test_azure2019_header_line_and_gzip_are_accepted(tmp_path):
    header = "vmid,subscriptionid,deploymentid,vmcreated,vmdeleted,maxcpu,avgcpu,p95maxcpu,vmcategory," \
             "vmcorecountbucket,vmmemorybucket"
    path = tmp_path / "vmtable.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(header + "\n" + AZURE2019.read_text(encoding="utf-8"))
    assert_same_workload(read_trace(path, "azure2019").workload, read_trace(AZURE2019, "azure2019").workload)


def azure2019_row(vmid="v1", created="0", deleted="600", avgcpu="10", cores="2", memory="4") -> str:
    return f"{vmid},s,d,{created},{deleted},50,{avgcpu},40,Unknown,{cores},{memory}\n"


@pytest.mark.parametrize(("row", "fragment"), [
    ("v2,s,d,0,600,50,10,40,Unknown,2\n", "has 10 columns, expected 11"),
    (azure2019_row(vmid="v2", avgcpu="ten"), "avgcpu 'ten' is not a number"),
    (azure2019_row(vmid="v2", cores=">32"), "vmcorecountbucket '>32' is not a known bucket"),
    (azure2019_row(vmid="v2", memory="0"), "vmmemorybucket '0' must be positive"),
    (azure2019_row(vmid="v2", created="900"), "vmdeleted '600' is before vmcreated '900'"),
    (azure2019_row(vmid="v1"), "duplicate VM id 'v1' (first on line 1)"),
])
def test_azure2019_malformed(write, row, fragment):
    err = error_of(read_trace, write("vmtable.csv", azure2019_row() + row), "azure2019")
    assert err.line == 2 and fragment in err.problem


# --------------------------------------------------------------------------- Azure 2020


AZURE2020_EXPECTED = {  # hand-computed from vm.csv and vmType.csv (nominal machine: 100 cores, 102,400 MB)
    "0": {"start": 0, "end": 194400, "cores": 25, "ram_mb": 6400},              # starttime -3.5 clipped
    "1": {"start": 0, "end": 14 * 86400, "cores": 50, "ram_mb": 51200},         # NULL endtime → day 14
    "2": {"start": 86400, "end": 129600, "cores": 25, "ram_mb": 6400},
    "3": {"start": 172800, "end": 14 * 86400, "cores": 66, "ram_mb": 76800},    # day 20 clipped to 14
    "4": {"start": 442667, "end": 449280, "cores": 1, "ram_mb": 399},           # core share 0.0078 → 1
    "6": {"start": 1209599, "end": 1209600, "cores": 66, "ram_mb": 76800},      # "NULL" endtime
    "7": {"start": 3600, "end": 7200, "cores": 25, "ram_mb": 6400},
}


def check_azure2020(result) -> None:
    w, s = result.workload, result.summary
    assert w.vm_ids.tolist() == list(AZURE2020_EXPECTED)
    for vm_id, expected in AZURE2020_EXPECTED.items():
        got = vm(w, vm_id)
        assert {k: got[k] for k in expected} == expected, vm_id
    assert (vm(w, "2")["priority"], vm(w, "2")["vm_type"]) == ("1", "0")
    assert dict(s.skipped) == {"ended before time 0": 1}
    assert s.adjusted == {"started before the trace (negative starttime): start = 0": 1,
                          "no endtime (alive past the 90-day cap): ends at day 14": 2,
                          "ends after day 14: end clipped to day 14": 1,
                          "core share under 1/100: 1 core": 1}


def test_azure2020_csv_sample():
    check_azure2020(read_trace(AZURE2020, "azure2020"))


def make_sqlite(path: Path) -> None:
    """The sample's two tables in a SQLite database shaped like the published one (NULL for empty)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE vm (vmId INTEGER, tenantId INTEGER, vmTypeId INTEGER, priority INTEGER, "
                "starttime REAL, endtime REAL)")
    con.execute("CREATE TABLE vmType (id INTEGER, vmTypeId INTEGER, machineId INTEGER, core REAL, "
                "memory REAL, hdd REAL, ssd REAL, nic REAL)")
    for table, src in (("vm", AZURE2020), ("vmType", AZURE2020_TYPES)):
        rows = [line.split(",") for line in src.read_text(encoding="utf-8").splitlines()[1:]]
        rows = [[None if v in ("", "NULL") else float(v) if "." in v else int(v) for v in row] for row in rows]
        con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
    con.commit()
    con.close()


def test_azure2020_sqlite_gives_the_same(tmp_path):
    db = tmp_path / "packing_trace_zone_a_v1.sqlite"
    make_sqlite(db)
    result = read_trace(db, "azure2020")
    check_azure2020(result)
    assert_same_workload(result.workload, read_trace(AZURE2020, "azure2020").workload)


def test_azure2020_sqlite_bad_value_names_table_and_row(tmp_path):
    db = tmp_path / "trace.sqlite"
    make_sqlite(db)
    con = sqlite3.connect(db)
    con.execute("UPDATE vm SET starttime = 'soon' WHERE vmId = 2")
    con.commit()
    con.close()
    err = error_of(read_trace, db, "azure2020")
    assert "table vm, row 3: starttime 'soon' is not a number" in str(err)


def test_azure2020_sqlite_without_the_tables(tmp_path):
    db = tmp_path / "other.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    assert "has no table 'vmType'" in str(error_of(read_trace, db, "azure2020"))


def test_azure2020_needs_the_vm_type_table(tmp_path):
    path = tmp_path / "vm.csv"
    shutil.copy(AZURE2020, path)
    assert "the vmType table is missing" in str(error_of(read_trace, path, "azure2020"))


@pytest.mark.parametrize(("row", "fragment"), [
    ("9,0,7,0,1.0,2.0", "vmTypeId '7' is not in the vmType table"),
    ("9,0,0,0,one,2.0", "starttime 'one' is not a number"),
    ("9,0,0,0,3.0,2.0", "endtime 2.0 is before starttime 3.0"),
    ("9,0,0,0,1.0", "has 5 fields, the header has 6"),
])
def test_azure2020_malformed(tmp_path, row, fragment):
    shutil.copy(AZURE2020_TYPES, tmp_path / "vmType.csv")
    path = tmp_path / "vm.csv"
    path.write_text("vmId,tenantId,vmTypeId,priority,starttime,endtime\n0,0,0,0,0.5,1.0\n" + row + "\n",
                    encoding="utf-8")
    err = error_of(read_trace, path, "azure2020")
    assert err.line == 3 and fragment in err.problem


# --------------------------------------------------------------------------- Bitbrains


def test_bitbrains_sample_values():
    result = read_trace(BITBRAINS, "bitbrains")
    w, s = result.workload, result.summary
    assert w.n == 50 and not s.skipped and not s.adjusted
    # line 2: "1019,1376314546000,2592252000,1,2926.000135,181352" (the earliest submission: time 0)
    assert vm(w, "1019") == {"start": 0, "end": 2592252, "cores": 1, "ram_mb": 178, "cpu_util": 1.0,
                             "cpu_mhz": "2926.000135"}
    # line 5: "1052,1377787092000,577855000,1,2926.000107,131245"
    assert vm(w, "1052")["start"] == 1472546 and vm(w, "1052")["end"] == 1472546 + 577855
    # line 12: "116,1376314546000,2592252000,4,11703.997664,6213632" — 6213632 KB = 6068 MB
    assert (vm(w, "116")["cores"], vm(w, "116")["ram_mb"]) == (4, 6068)
    assert s.meta["time 0"] == "2013-08-12T13:35:46+00:00"


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("id,submission_time,duration,cpu_count,mem_capacity\n", 1, "missing column(s) cpu_capacity"),
    (("id,submission_time,duration,cpu_count,cpu_capacity,mem_capacity\na,0,1000,1,2000,1024\n"
      "b,0,1000,0,2000,1024\n"), 3, "cpu_count '0' must be at least 1"),
    ("id,submission_time,duration,cpu_count,cpu_capacity,mem_capacity\na,0,-1000,1,2000,1024\n",
     2, "duration '-1000' is negative"),
    ("id,submission_time,duration,cpu_count,cpu_capacity,mem_capacity\na,0,1000,1,2000,lots\n",
     2, "mem_capacity 'lots' is not a number"),
])
def test_bitbrains_malformed(write, text, line, fragment):
    err = error_of(read_trace, write("tasks.csv", text), "bitbrains")
    assert err.line == line and fragment in err.problem


def test_bitbrains_zero_duration_is_skipped_and_counted(write):
    path = write("tasks.csv", "id,submission_time,duration,cpu_count,cpu_capacity,mem_capacity\n"
                 "a,5000,1000,1,2000,1024\nb,9000,400,1,2000,1024\n")
    result = read_trace(path, "bitbrains")
    assert result.workload.vm_ids.tolist() == ["a"] and dict(result.summary.skipped) == {
        "duration 0 s (under half a second)": 1}


@pytest.mark.parametrize(("start_s", "duration_s", "first_row"), [
    ([0, 3600], [60, 120], "a,0,1,"),                                   # whole minutes: integers
    ([61, 3600], [60, 999 * 3600 + 3599], "a,0:01:01,0:01:00,"),        # under 1000 h: H:MM:SS
    ([61, 4_000_000], [1, 1000 * 3600], "a,1.0166666666666666,0.016666666666666666,"),  # beyond: minutes
])
def test_writer_picks_one_exact_time_format_per_column(tmp_path, start_s, duration_s, first_row):
    workload = Workload.from_arrays(start_s, np.add(start_s, duration_s), [1, 2], [512, 0],
                                    mips=[np.nan, 2500.0], cpu_util=[1.0, 0.25], vm_ids=["a", "b"])
    out = tmp_path / "w.csv"
    write_workload(workload, out)
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith(first_row)
    assert_same_workload(workload, load_workload(out))
