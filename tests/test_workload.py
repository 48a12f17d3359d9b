"""Tests for gapa.workload.load_workload: the shipped file, every format, every error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gapa.errors import InputError
from gapa.workload import load_workload

ONEDAY_CSV = Path(__file__).resolve().parent.parent / "workloads" / "oneday.csv"
HEADER = "vm_id,start,duration,cores,ram_mb\n"




def expect_error(path, line, *fragments):
    """Load ``path``, expect an InputError at ``line`` whose message holds every fragment."""
    with pytest.raises(InputError) as info:
        load_workload(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    msg = str(err)
    assert msg.startswith(f"{path}:{line}: ") if line is not None else msg.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in err.problem, f"{fragment!r} not in {err.problem!r}"
    return err


# --------------------------------------------------------------------------- shipped file


@pytest.fixture(scope="module")
def oneday():
    return load_workload(ONEDAY_CSV)


def test_oneday_loads(oneday):
    assert oneday.n == 714
    assert len(set(oneday.vm_ids.tolist())) == 714
    assert oneday.source == str(ONEDAY_CSV)
    for name in ("start_s", "end_s", "cores", "ram_mb"):
        arr = getattr(oneday, name)
        assert arr.shape == (714,)
        assert np.issubdtype(arr.dtype, np.integer), name
    assert np.all(oneday.end_s > oneday.start_s)


def test_oneday_values(oneday):
    ids = oneday.vm_ids.tolist()
    i = ids.index("hpc-l3-a-s01")  # 07:35, 3:25, 4 cores, 4096 MB, 2500 MIPS, 0.396
    assert oneday.start_s[i] == 27300
    assert oneday.end_s[i] == 27300 + 3 * 3600 + 25 * 60
    assert oneday.cores[i] == 4
    assert oneday.ram_mb[i] == 4096
    assert oneday.mips[i] == 2500
    assert oneday.cpu_util[i] == pytest.approx(0.396)
    assert oneday.extra["course"][i] == "hpc"
    assert oneday.extra["room"][i] == "C0.03"


def test_oneday_matches_readme_summary(oneday):
    # workloads/README.md: blank mips everywhere except hpc (46 VMs), 1616.2 VM-hours
    assert int((~np.isnan(oneday.mips)).sum()) == 46
    assert set(oneday.mips[~np.isnan(oneday.mips)].tolist()) == {2500.0}
    assert oneday.duration_s.sum() / 3600 == pytest.approx(1616.2, abs=0.05)
    assert set(oneday.extra) == {"course", "room"}
    assert np.all((oneday.cpu_util >= 0) & (oneday.cpu_util <= 1))


# --------------------------------------------------------------------------- formats


def test_start_hh_mm(write):
    path = write("w.csv", HEADER + "a,07:35,60,1,1024\nb,00:00,60,1,1024\nb2,23:59,1,1,1024\n")
    w = load_workload(path)
    assert w.start_s.tolist() == [27300, 0, 23 * 3600 + 59 * 60]
    assert w.end_s.tolist() == [27300 + 3600, 3600, 23 * 3600 + 60 * 60]


def test_start_hh_mm_ss(write):
    path = write("w.csv", HEADER + "a,07:35:10,60,1,1024\nb,00:00:01,60,1,1024\n")
    w = load_workload(path)
    assert w.start_s.tolist() == [27310, 1]


def test_start_hh_mm_and_hh_mm_ss_mix(write):
    # both are clock times: allowed in one file
    path = write("w.csv", HEADER + "a,07:35,60,1,1024\nb,07:35:30,60,1,1024\n")
    assert load_workload(path).start_s.tolist() == [27300, 27330]


def test_start_iso_datetime_origin_is_midnight_of_earliest_date(write):
    path = write("w.csv", HEADER + "a,2024-03-05T01:00,60,1,1024\nb,2024-03-04T08:30,60,1,1024\n")
    w = load_workload(path)
    assert w.start_s.tolist() == [90000, 30600]
    assert w.end_s.tolist() == [93600, 34200]


def test_start_iso_datetime_with_seconds_and_space(write):
    path = write("w.csv", HEADER + "a,2024-03-04 08:30:15,60,1,1024\nb,2024-03-04T00:00:00,1,1,1024\n")
    assert load_workload(path).start_s.tolist() == [30615, 0]


def test_start_iso_datetime_with_offsets_taken_in_utc(write):
    path = write("w.csv", HEADER + "a,2024-03-04T08:30+01:00,60,1,1024\nb,2024-03-04T09:00Z,60,1,1024\n")
    assert load_workload(path).start_s.tolist() == [7 * 3600 + 1800, 9 * 3600]


def test_start_datetimes_mixing_time_zone_and_naive_is_an_error(write):
    path = write("w.csv", HEADER + "a,2024-03-04T08:30,60,1,1024\nb,2024-03-04T09:00,60,1,1024\n"
                 "c,2024-03-04T09:00+01:00,60,1,1024\n")
    expect_error(path, 4, "time zone")


def test_start_plain_minutes(write):
    path = write("w.csv", HEADER + "a,455,60,1,1024\nb,7.5,60,1,1024\nc,0,60,1,1024\nd,0.25,60,1,1024\n")
    w = load_workload(path)
    assert w.start_s.tolist() == [27300, 450, 0, 15]
    assert w.start_s.dtype == np.int64


def test_duration_minutes_and_h_mm(write):
    path = write("w.csv", HEADER
                 + "a,08:00,90,1,1024\n"
                 + "b,08:00,2.5,1,1024\n"
                 + "c,08:00,2:10,1,1024\n"
                 + "d,08:00,26:30,1,1024\n"  # hours > 24
                 + "e,08:00,0:00:30,1,1024\n"
                 + "f,08:00,100:00,1,1024\n")
    w = load_workload(path)
    assert w.duration_s.tolist() == [5400, 150, 7800, 26 * 3600 + 1800, 30, 360000]
    assert w.end_s.tolist() == (28800 + np.array([5400, 150, 7800, 95400, 30, 360000])).tolist()


def test_optional_columns_blank_defaults(write):
    path = write("w.csv", "vm_id,start,duration,cores,ram_mb,mips,cpu_util\n"
                 "a,08:00,60,2,2048,,\n"
                 "b,08:00,60,2,2048,1500,0.25\n"
                 "c,08:00,60,2,2048, ,0\n"
                 "d,08:00,60,2,2048,1000.5,1\n")
    w = load_workload(path)
    assert math.isnan(w.mips[0]) and math.isnan(w.mips[2])
    assert w.mips[1] == 1500 and w.mips[3] == 1000.5
    assert w.cpu_util.tolist() == [1.0, 0.25, 0.0, 1.0]
    assert w.extra == {}


def test_optional_columns_absent(write):
    w = load_workload(write("w.csv", HEADER + "a,08:00,60,2,2048\n"))
    assert np.isnan(w.mips).all()
    assert w.cpu_util.tolist() == [1.0]


def test_extra_columns_kept(write):
    path = write("w.csv", "course,vm_id,start,duration,cores,ram_mb,room,note\n"
                 "os,a,08:00,60,2,2048,B1.04,hello\n"
                 "web,b,09:00,60,1,1024,C0.07,\n")
    w = load_workload(path)
    assert set(w.extra) == {"course", "room", "note"}
    assert w.extra["course"].tolist() == ["os", "web"]
    assert w.extra["room"].tolist() == ["B1.04", "C0.07"]
    assert w.extra["note"].tolist() == ["hello", ""]
    assert w.vm_ids.tolist() == ["a", "b"]
    frame = w.to_frame()
    assert list(frame["room"]) == ["B1.04", "C0.07"]


def test_column_order_whitespace_bom_and_blank_lines(write):
    path = write("w.csv", "\ufeff ram_mb , cores,duration,start,vm_id\n"
                 "1024,1,60,08:00,a\n"
                 "\n"
                 "2048,2,30,09:00,b\n")
    w = load_workload(path)
    assert w.vm_ids.tolist() == ["a", "b"]
    assert w.ram_mb.tolist() == [1024, 2048]
    assert w.cores.tolist() == [1, 2]
    assert w.start_s.tolist() == [28800, 32400]


def test_crlf_line_endings(write):
    w = load_workload(write("w.csv", HEADER.replace("\n", "\r\n") + "a,08:00,60,1,1024\r\n"))
    assert w.start_s.tolist() == [28800]


def test_back_to_back_vms_meet_exactly(write):
    w = load_workload(write("w.csv", HEADER + "a,08:00,1:00,1,1024\nb,09:00,60,1,1024\n"))
    assert w.end_s[0] == w.start_s[1]


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        load_workload(path)
    assert info.value.path == str(path)
    assert "cannot read workload" in info.value.problem


@pytest.mark.parametrize("missing", ["vm_id", "start", "duration", "cores", "ram_mb"])
def test_missing_column(write, missing):
    cols = ["vm_id", "start", "duration", "cores", "ram_mb"]
    vals = ["a", "08:00", "60", "1", "1024"]
    keep = [i for i, c in enumerate(cols) if c != missing]
    text = ",".join(cols[i] for i in keep) + "\n" + ",".join(vals[i] for i in keep) + "\n"
    err = expect_error(write("w.csv", text), 1, "missing required column", missing)
    assert "header is" in err.problem


def test_non_number_cores(write):
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\nb,08:00,60,two,1024\n")
    expect_error(path, 3, "cores", "'two'", "not a number")


def test_fractional_cores(write):
    expect_error(write("w.csv", HEADER + "a,08:00,60,1.5,1024\n"), 2, "cores", "whole number")


def test_zero_cores(write):
    expect_error(write("w.csv", HEADER + "a,08:00,60,0,1024\n"), 2, "cores", "at least 1")


def test_negative_ram(write):
    expect_error(write("w.csv", HEADER + "a,08:00,60,1,-5\n"), 2, "ram_mb", "at least 0")


@pytest.mark.parametrize("duration", ["0", "0.0", "0:00", "0:00:00"])
def test_zero_duration(write, duration):
    path = write("w.csv", HEADER + f"a,08:00,60,1,1024\nb,08:00,{duration},1,1024\n")
    expect_error(path, 3, "duration", "positive")


def test_negative_duration_minutes(write):
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\n\nb,08:00,-30,1,1024\n")
    expect_error(path, 4, "duration", "'-30'", "positive")


def test_negative_duration_clock(write):
    expect_error(write("w.csv", HEADER + "a,08:00,-1:00,1,1024\n"), 2, "duration", "-1:00")


def test_duplicate_vm_id_names_both_lines(write):
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\nb,08:00,60,1,1024\nc,08:00,60,1,1024\n"
                 "b,09:00,60,1,1024\n")
    expect_error(path, 5, "duplicate vm_id", "'b'", "line 3")


def test_empty_vm_id(write):
    expect_error(write("w.csv", HEADER + " ,08:00,60,1,1024\n"), 2, "vm_id")


@pytest.mark.parametrize("text", ["", "\n", " , \n"])
def test_empty_file(write, text):
    expect_error(write("w.csv", text), 1, "empty")


def test_header_only(write):
    expect_error(write("w.csv", HEADER), 2, "no VM rows")


def test_header_and_blank_lines_only(write):
    expect_error(write("w.csv", HEADER + "\n\n"), 2, "no VM rows")


def test_mixing_minutes_then_clock(write):
    path = write("w.csv", HEADER + "a,480,60,1,1024\nb,490,60,1,1024\nc,08:30,60,1,1024\n")
    err = expect_error(path, 4, "'08:30'", "line 2", "one start format")
    assert "minutes" in err.problem and "clock" in err.problem


def test_mixing_clock_then_minutes(write):
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\nb,490,60,1,1024\n")
    expect_error(path, 3, "'490'", "line 2", "one start format")


def test_mixing_clock_and_datetime(write):
    path = write("w.csv", HEADER + "a,2024-03-04T08:00,60,1,1024\nb,08:30,60,1,1024\n")
    expect_error(path, 3, "'08:30'", "one start format")


@pytest.mark.parametrize("start", ["8am", "08:75", "yesterday", "2024-13-01T08:00"])
def test_unparseable_start(write, start):
    expect_error(write("w.csv", HEADER + f"a,{start},60,1,1024\n"), 2, "start", repr(start))


def test_negative_start_minutes(write):
    expect_error(write("w.csv", HEADER + "a,-5,60,1,1024\n"), 2, "start", "negative")


@pytest.mark.parametrize("util", ["1.5", "-0.1", "1.0001", "nan", "inf"])
def test_cpu_util_outside_unit_interval(write, util):
    path = write("w.csv", "vm_id,start,duration,cores,ram_mb,cpu_util\n"
                 "a,08:00,60,1,1024,0.5\n"
                 f"b,08:00,60,1,1024,{util}\n")
    expect_error(path, 3, "cpu_util", "[0, 1]")


def test_cpu_util_not_a_number(write):
    path = write("w.csv", "vm_id,start,duration,cores,ram_mb,cpu_util\na,08:00,60,1,1024,high\n")
    expect_error(path, 2, "cpu_util", "not a number")


@pytest.mark.parametrize("mips", ["0", "-100"])
def test_mips_must_be_positive(write, mips):
    path = write("w.csv", f"vm_id,start,duration,cores,ram_mb,mips\na,08:00,60,1,1024,{mips}\n")
    expect_error(path, 2, "mips")


@pytest.mark.parametrize("row,count", [("b,08:00,60,1", 4), ("b,08:00,60,1,1024,extra", 6)])
def test_wrong_field_count(write, row, count):
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\n" + row + "\n")
    expect_error(path, 3, f"has {count} fields", "header has 5")


def test_non_whole_second_duration_minutes(write):
    # 1.005 min = 60.3 s
    path = write("w.csv", HEADER + "a,08:00,60,1,1024\nb,08:00,1.005,1,1024\n")
    expect_error(path, 3, "duration", "whole number of seconds")


def test_non_whole_second_start_minutes(write):
    # 7.51 min = 450.6 s
    path = write("w.csv", HEADER + "a,7.5,60,1,1024\nb,7.51,60,1,1024\n")
    expect_error(path, 3, "start", "whole number of seconds")


def test_non_whole_second_datetime_names_line(write):
    path = write("w.csv", HEADER + "a,2024-03-04T08:00,60,1,1024\nb,2024-03-04T08:00:00.5,60,1,1024\n")
    expect_error(path, 3, "whole number of seconds")


def test_error_line_counts_blank_lines(write):
    path = write("w.csv", HEADER + "\n\na,08:00,60,1,1024\n\nb,08:00,60,x,1024\n")
    expect_error(path, 6, "cores")


def test_duplicate_header_column(write):
    path = write("w.csv", "vm_id,start,duration,cores,ram_mb,cores\na,08:00,60,1,1024,1\n")
    expect_error(path, 1, "duplicate column", "cores")


def test_not_utf8(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(HEADER.encode() + b"a,08:00,60,1,1024\nb\xff\xfe,08:00,60,1,1024\n")
    with pytest.raises(InputError) as info:
        load_workload(path)
    assert info.value.path == str(path)
    assert "utf-8" in info.value.problem.lower()


def test_not_utf8_names_the_right_line(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(HEADER.encode() + b"a,08:00,60,1,1024\nb\xff\xfe,08:00,60,1,1024\n")
    with pytest.raises(InputError) as info:
        load_workload(path)
    assert info.value.line in (3, None)


def test_input_error_is_a_value_error(write):
    with pytest.raises(ValueError):
        load_workload(write("w.csv", ""))
