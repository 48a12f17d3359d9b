"""The trace readers through the CLI: `gapa workload convert`, and --format on simulate/compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gapa.cli import main
from gapa.readers import read_trace
from gapa.workload import load_workload

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / "tests" / "data" / "traces"
SWF = DATA / "NASA-iPSC-1993-3.1-cln.first300.swf.gz"
TBPP_A1 = DATA / "tbpp" / "a1" / "cap100_n50_t50_LonLr_1.txt"
BITBRAINS = DATA / "bitbrains-tasks.csv"
AZURE2019 = DATA / "azure2019-vmtable-sample.csv"
AZURE2020 = DATA / "azure2020" / "vm.csv"


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)


def assert_bad_input(result, *fragments):
    """Exit 2, exactly one line on stderr holding every fragment, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert str(fragment) in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert "Traceback" not in result.output + result.stderr


# --------------------------------------------------------------------------- convert


@pytest.mark.parametrize(("fmt", "path", "n"), [("swf", SWF, 295), ("tbpp", TBPP_A1, 50),
                                                 ("bitbrains", BITBRAINS, 50), ("azure2019", AZURE2019, 8),
                                                 ("azure2020", AZURE2020, 7)])
def test_convert_round_trip(tmp_path, fmt, path, n):
    out = tmp_path / "out.csv"
    result = run("workload", "convert", path, "--format", fmt, "-o", out)
    assert_ok(result)
    assert f"read {n} VM(s) from {path.name} ({fmt})" in result.stdout
    assert f"wrote {n} VM(s) to {out}" in result.stdout
    direct, converted = read_trace(path, fmt).workload, load_workload(out)
    for name in ("vm_ids", "start_s", "end_s", "cores", "ram_mb", "cpu_util"):
        assert np.array_equal(getattr(direct, name), getattr(converted, name)), name


def test_convert_prints_what_was_skipped_and_why(tmp_path):
    result = run("workload", "convert", SWF, "--format", "swf", "-o", tmp_path / "out.csv")
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "read 295 VM(s) from NASA-iPSC-1993-3.1-cln.first300.swf.gz (swf); skipped 5:"
    assert lines[1].split() == ["5", "run", "time", "0", "s", "(under", "half", "a", "second)"]
    assert any("295  memory unknown: 1024 MB per core (--ram-mb)" in line for line in lines)


def test_convert_ram_mb_override(tmp_path):
    out = tmp_path / "out.csv"
    assert_ok(run("workload", "convert", SWF, "--format", "swf", "--ram-mb", "256", "-o", out))
    workload = load_workload(out)
    assert workload.ram_mb[workload.vm_ids.tolist().index("job1")] == 128 * 256


def test_convert_tbpp_says_the_fleet_is_not_written(tmp_path):
    result = run("workload", "convert", TBPP_A1, "--format", "tbpp", "-o", tmp_path / "out.csv")
    assert_ok(result)
    assert "the fleet is not written; to simulate on it: gapa simulate" in result.stdout


def test_convert_malformed_line_exits_2_naming_line_and_field(write, tmp_path):
    bad = write("bad.swf", "; Version: 2.2\n1 0 -1 60 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
                           "2 10 -1 6x 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n")
    out = tmp_path / "out.csv"
    assert_bad_input(run("workload", "convert", bad, "--format", "swf", "-o", out),
                     f"{bad}:3:", "run time (field 4) '6x' is not a number")
    assert not out.exists()


def test_convert_refuses_ram_mb_where_it_does_not_apply(tmp_path):
    assert_bad_input(run("workload", "convert", AZURE2019, "--format", "azure2019", "--ram-mb", "512",
                         "-o", tmp_path / "out.csv"), "--ram-mb does not apply to format azure2019")


def test_convert_needs_a_format(tmp_path):
    result = run("workload", "convert", SWF, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2 and "Missing option '--format'" in result.stderr


def test_convert_will_not_overwrite_its_input(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_bytes(BITBRAINS.read_bytes())
    assert_bad_input(run("workload", "convert", path, "--format", "bitbrains", "-o", path),
                     "the output would overwrite the input")


def test_convert_missing_input(tmp_path):
    assert_bad_input(run("workload", "convert", tmp_path / "none.swf", "--format", "swf", "-o",
                         tmp_path / "out.csv"), "cannot read SWF trace")


# --------------------------------------------------------------------------- simulate / compare


def test_simulate_tbpp_uses_the_instance_fleet_unless_scenario_given():
    own = run("simulate", TBPP_A1, "--format", "tbpp", "-a", "bfd", "--json")
    assert_ok(own)
    summary = json.loads(own.stdout)["bfd"]
    assert summary["placed"] == 50 and summary["rejected"] == 0
    assert "the instance's fleet: 50 hosts of 100 cores" in own.stderr
    # the default lab fleet has 2-12 core hosts: none of a1's 25-75-core jobs fits
    lab = run("simulate", TBPP_A1, "--format", "tbpp", "--scenario", "scenarios/lab.toml", "-a", "bfd",
              "--json")
    assert_ok(lab)
    assert json.loads(lab.stdout)["bfd"]["rejected"] == 50


def test_simulate_reads_bitbrains_and_prints_the_summary_on_stderr():
    result = run("simulate", BITBRAINS, "--format", "bitbrains", "-a", "bfd", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)["bfd"]
    assert summary["placed"] + summary["rejected"] == 50
    assert "read 50 VM(s) from bitbrains-tasks.csv (bitbrains); skipped 0" in result.stderr


def test_simulate_swf_with_ram_mb():
    result = run("simulate", SWF, "--format", "swf", "--ram-mb", "64", "-a", "bfd", "--json")
    assert_ok(result)
    assert "295  memory unknown: 64 MB per core (--ram-mb)" in result.stderr


def test_simulate_malformed_trace_exits_2(write):
    bad = write("vmtable.csv", "v1,s,d,0,600,50,10,40,Unknown,2,4\nv2,s,d,0,600,50,x,40,Unknown,2,4\n")
    assert_bad_input(run("simulate", bad, "--format", "azure2019", "-a", "bfd"),
                     f"{bad}:2:", "avgcpu 'x' is not a number")


def test_compare_reads_a_trace_format():
    result = run("compare", AZURE2020, "--format", "azure2020", "--seeds", "1", "-a", "bfd", "--quiet")
    assert_ok(result)
    assert "read 7 VM(s) from vm.csv (azure2020); skipped 1:" in result.stderr


def test_compare_malformed_trace_exits_2(write):
    bad = write("t.txt", "1\t10\t0\t0\n0\t0\t5\t50\n")
    assert_bad_input(run("compare", bad, "--format", "tbpp", "--seeds", "1", "-a", "bfd"),
                     f"{bad}:2:", "size 50 of job 0 is outside 1 … 10")
