"""CLI: GAPA through the command line, and bad input found in review (each: exit 2, one line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL_GA = ["--population", "4", "--generations", "2"]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(result, *fragments):
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for f in fragments:
        assert f in lines[0]
    assert "Traceback" not in result.output


def test_default_runs_bfd_and_gapa_and_writes_logbook(tmp_path):
    out = tmp_path / "o"
    result = run("simulate", "workloads/oneday.csv", *SMALL_GA, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"bfd", "gapa"}
    assert summary["gapa"]["energy_j"] <= summary["bfd"]["energy_j"]
    assert summary["gapa"]["bound_energy_j"] <= summary["bfd"]["energy_j"]
    assert summary["gapa"]["info_population"] == 4
    with (out / "gapa" / "logbook.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["gen"]) for r in rows] == list(range(len(rows)))
    assert {"best_j", "mean_j", "worst_j", "evals"} <= set(rows[0])


def test_bad_gapa_setting_is_bad_input(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text((ROOT / "scenarios/lab.toml").read_text() + "\n[gapa]\npopulaton = 3\n")
    one_error_line(run("simulate", "workloads/oneday.csv", "--scenario", scenario), "populaton")


def test_misspelt_optional_column(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb,cpu_utl\na,08:00,60,1,1024,0.1\n")
    one_error_line(run("simulate", path, "-a", "bfd"), f"{path}:1", "cpu_util")


@pytest.mark.parametrize("cell", ["1e30", "99999999999999999999"])
def test_huge_numbers(tmp_path, cell):
    path = tmp_path / "w.csv"
    path.write_text(f"vm_id,start,duration,cores,ram_mb\na,08:00,60,{cell},1024\n")
    one_error_line(run("simulate", path, "-a", "bfd"), f"{path}:2", "cores")


def test_time_beyond_range(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\na,1e18,60,1,1024\n")
    one_error_line(run("simulate", path, "-a", "bfd"), f"{path}:2")


def test_python_model_module_raising_on_import(tmp_path):
    (tmp_path / "badcurve.py").write_text("raise RuntimeError('boom')\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[hosts]]\nname = "h"\ncount = 2\ncores = 64\nmips_per_core = 3000\n'
                        'ram_mb = 1000000\npower = { model = "python", ref = "badcurve:watts" }\n')
    one_error_line(run("simulate", "workloads/oneday.csv", "-a", "bfd", "--scenario", scenario), "boom")


def test_python_model_found_beside_the_scenario(tmp_path):
    (tmp_path / "mycurve.py").write_text("def watts(u):\n    return 100 + 50 * u\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[hosts]]\nname = "h"\ncount = 40\ncores = 64\nmips_per_core = 3000\n'
                        'ram_mb = 1000000\npower = { model = "python", ref = "mycurve:watts" }\n')
    result = run("simulate", "workloads/oneday.csv", "-a", "bfd", "--scenario", scenario, "--json")
    assert result.exit_code == 0, result.stderr


def test_binary_allocation_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"vm_id,host\n\xff\xfe\x00\x00")
    one_error_line(run("simulate", "workloads/oneday.csv", "--allocation", path), f"{path}:2", "UTF-8")


def test_out_is_an_existing_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    one_error_line(run("simulate", "workloads/oneday.csv", "-a", "bfd", "--out", target), "must name a directory", str(target))


def test_bad_options_give_one_error_line_not_a_usage_block():
    one_error_line(run("simulate", "workloads/oneday.csv", "--population", "1"), "--population", "simulate --help)")
    one_error_line(run("simulate", "workloads/oneday.csv", "--bogus"), "--bogus")
    one_error_line(run("compare", "workloads/oneday.csv"), "--seeds")
    one_error_line(run("nosuch"), "nosuch")
    one_error_line(run("simulate", "workloads/oneday.csv", "-a", "given"), "--allocation FILE")


def test_bare_gapa_prints_its_help():
    result = run()
    assert result.exit_code == 0 and "Usage:" in result.stdout and "simulate" in result.stdout


def _scenario_with_gapa_table(tmp_path, table: str):
    path = tmp_path / "s.toml"
    path.write_text((ROOT / "scenarios/lab.toml").read_text() + "\n[gapa]\n" + table + "\n")
    return path, len(path.read_text().splitlines())


@pytest.mark.parametrize("table, fragment", [
    ("populaton = 10", "[gapa] populaton: unknown setting; known: population,"),
    ("population = 10.5", "[gapa] population: must be a whole number, got 10.5"),
    ("generations = true", "[gapa] generations: must be a whole number"),
    ("time_limit = \"10\"", "[gapa] time_limit: must be a number"),
    ("stagnation = 0", "[gapa] stagnation: must be at least 1, got 0"),
    ("pool_every = -1", "[gapa] pool_every: must be at least 0"),
    ("population = 4\nelite = 4", "[gapa] elite: must be below population (4), got 4"),
])
def test_bad_gapa_table_names_file_line_and_setting(tmp_path, table, fragment):
    path, last = _scenario_with_gapa_table(tmp_path, table)
    for command in (["simulate", "workloads/oneday.csv"], ["compare", "workloads/oneday.csv", "--seeds", "1"]):
        result = run(*command, "--scenario", path, "--quiet")
        one_error_line(result, fragment, f"s.toml:{last}:")


def test_a_bad_value_from_the_command_line_is_not_blamed_on_the_scenario(tmp_path):
    path, _ = _scenario_with_gapa_table(tmp_path, "population = 4")
    # --generations is fine; elite (default 2) with the file's population is fine; the
    # command line's --population 2 makes elite 2 too many, which is the command line's doing
    result = run("simulate", "workloads/oneday.csv", "--scenario", path, "--population", "2", "--quiet")
    one_error_line(result, "settings of gapa: elite: must be below population (2)")
    assert "s.toml" not in result.stderr


def test_a_check_of_two_settings_blames_where_they_came_from(tmp_path):
    # both from the file (elite from its default): the file is named
    path, last = _scenario_with_gapa_table(tmp_path, "population = 2")
    one_error_line(run("simulate", "workloads/oneday.csv", "--scenario", path, "--quiet"),
                   f"s.toml:{last}: [gapa] elite: must be below population (2)")
    # elite from the file, population from the command line: not the file's doing
    path, _ = _scenario_with_gapa_table(tmp_path, "elite = 4")
    result = run("simulate", "workloads/oneday.csv", "--scenario", path, "--population", "4", "--quiet")
    one_error_line(result, "settings of gapa: elite: must be below population (4)")
    assert "s.toml" not in result.stderr
    # the same value in the file and on the command line: the file's line is named
    path, last = _scenario_with_gapa_table(tmp_path, "population = 2")
    one_error_line(run("simulate", "workloads/oneday.csv", "--scenario", path, "--population", "2", "--quiet"),
                   f"s.toml:{last}:")


def test_help_and_version_exit_0():
    for args in (["--help"], ["--version"], ["simulate", "--help"], ["workload"]):
        assert run(*args).exit_code == 0, args


def test_bench_refuses_bad_settings_before_running(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f"""
[[set]]
name = "a1"
format = "tbpp"
files = ["{ROOT}/benchmarks/data/tbpp/a1/cap100_n50_t50_LonLr_1.txt"]
algorithms = ["bfd", "gapa"]
[set.settings.gapa]
populaton = 5
""")
    one_error_line(run("bench", suite), "suite.toml", "settings of gapa: populaton: unknown setting")
