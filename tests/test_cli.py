"""Tests for the ``gapa`` command line, through click's CliRunner."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent
ONEDAY = "workloads/oneday.csv"
N_VMS = 714
SUMMARY_KEYS = {"energy_j", "energy_kwh", "host_on_s", "hosts_used", "placed", "rejected", "seed",
                "solve_s", "gapa_version"}

TINY_FLEET = textwrap.dedent("""\
    [[hosts]]
    name = "tiny"
    count = 1
    cores = 2
    mips_per_core = 3000
    ram_mb = 65536
    power = { model = "linear", idle_w = 50, max_w = 100 }
    """)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    # these tests are about the CLI, not the GA: run only BFD by default (fast);
    # test_cli_gapa.py runs the genetic algorithm through the CLI with small settings
    monkeypatch.setattr("gapa.cli.MAIN_ALLOCATORS", ("bfd",))


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_bad_input(result, *fragments):
    """Exit 2, exactly one line on stderr holding every fragment, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert str(fragment) in line, f"{fragment!r} not in {line!r}"
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    return line


@pytest.fixture(scope="module")
def bfd_out(tmp_path_factory):
    """One ``simulate --out`` run on the shipped workload and scenario, shared by several tests."""
    out = tmp_path_factory.mktemp("out") / "results"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO_ROOT)
        mp.setattr("gapa.cli.MAIN_ALLOCATORS", ("bfd",))
        result = CliRunner().invoke(main, ["simulate", ONEDAY, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return out, result


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- success paths


def test_simulate_prints_table():
    result = run("simulate", ONEDAY)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert "bfd" in result.stdout
    assert "714 VMs on 86 hosts" in result.stdout
    assert "oneday.csv" in result.stdout and "lab.toml" in result.stdout
    assert result.stderr == ""


def test_simulate_json():
    result = run("simulate", ONEDAY, "--json", "--seed", "7")
    assert result.exit_code == 0, (result.stderr, result.exception)
    data = json.loads(result.stdout)  # stdout is JSON and nothing else
    assert set(data) == {"bfd"}
    record = data["bfd"]
    assert SUMMARY_KEYS <= set(record)
    assert record["placed"] == N_VMS and record["rejected"] == 0
    assert record["seed"] == 7
    assert record["energy_j"] > 0
    assert record["energy_kwh"] == pytest.approx(record["energy_j"] / 3.6e6)
    assert 0 < record["hosts_used"] <= 86
    assert record["host_on_s"] > 0
    assert record["solve_s"] >= 0
    import gapa

    assert record["gapa_version"] == gapa.__version__


def test_simulate_explicit_scenario_and_algorithm_flag():
    result = run("simulate", ONEDAY, "--scenario", "scenarios/lab.toml", "-a", "bfd", "--json")
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) == {"bfd"}


def test_out_writes_summary(bfd_out):
    out, result = bfd_out
    assert "results written to" in result.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) == {"bfd"}
    assert SUMMARY_KEYS <= set(summary["bfd"])
    assert summary["bfd"]["placed"] == N_VMS


def test_out_writes_allocation_csv(bfd_out):
    out, _ = bfd_out
    path = out / "bfd" / "allocation.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["vm_id", "host"]
    rows = read_csv(path)
    assert len(rows) == N_VMS
    with (REPO_ROOT / ONEDAY).open(newline="", encoding="utf-8") as handle:
        workload_ids = [r["vm_id"] for r in csv.DictReader(handle)]
    assert [r["vm_id"] for r in rows] == workload_ids
    assert all(r["host"] for r in rows)  # nothing rejected
    assert all(r["host"].rsplit("-", 1)[0] in {"x3550m3", "x3550", "x3250", "ml110g5"} for r in rows)


def test_out_writes_hosts_csv_summing_to_total(bfd_out):
    out, _ = bfd_out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["bfd"]
    path = out / "bfd" / "hosts.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["host", "energy_j", "on_s", "vms"]
    rows = read_csv(path)
    assert len(rows) == summary["hosts_used"]
    assert sum(float(r["energy_j"]) for r in rows) == pytest.approx(summary["energy_j"], rel=1e-9)
    assert sum(float(r["on_s"]) for r in rows) == pytest.approx(summary["host_on_s"], rel=1e-9)
    assert sum(int(r["vms"]) for r in rows) == N_VMS
    allocation = read_csv(out / "bfd" / "allocation.csv")
    used = {r["host"] for r in allocation}
    assert {r["host"] for r in rows} == used


def test_allocation_replay_gives_same_energy(bfd_out):
    out, _ = bfd_out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["bfd"]
    result = run("simulate", ONEDAY, "--allocation", out / "bfd" / "allocation.csv", "--json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    data = json.loads(result.stdout)
    assert set(data) == {"given"}
    given = data["given"]
    assert given["energy_j"] == pytest.approx(summary["energy_j"], rel=1e-12)
    assert given["host_on_s"] == pytest.approx(summary["host_on_s"])
    assert given["hosts_used"] == summary["hosts_used"]
    assert given["placed"] == N_VMS


def test_allocation_replay_alongside_bfd(bfd_out):
    out, _ = bfd_out
    result = run("simulate", ONEDAY, "--allocation", out / "bfd" / "allocation.csv", "-a", "bfd",
                 "--json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    data = json.loads(result.stdout)
    assert set(data) == {"given", "bfd"}
    assert data["given"]["energy_j"] == pytest.approx(data["bfd"]["energy_j"], rel=1e-12)


def test_allocation_with_rejected_rows(tmp_path, bfd_out):
    out, _ = bfd_out
    rows = read_csv(out / "bfd" / "allocation.csv")
    rows[0]["host"] = ""  # an empty host means rejected
    path = tmp_path / "alloc.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["vm_id", "host"])
        writer.writeheader()
        writer.writerows(rows)
    result = run("simulate", ONEDAY, "--allocation", path, "--json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    given = json.loads(result.stdout)["given"]
    assert given["rejected"] == 1 and given["rejected_vms"] == [rows[0]["vm_id"]]
    assert rows[0]["vm_id"] in result.stderr


# --------------------------------------------------------------------------- rejected VMs


def test_small_fleet_rejects_with_warning(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_FLEET, encoding="utf-8")
    result = run("simulate", ONEDAY, "--scenario", scenario, "--json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    record = json.loads(result.stdout)["bfd"]
    assert record["rejected"] > 0
    assert record["placed"] + record["rejected"] == N_VMS
    assert "warning" in result.stderr
    assert "bfd rejected" in result.stderr
    assert str(record["rejected"]) in result.stderr
    assert record["rejected_vms"][0] in result.stderr
    assert "Traceback" not in result.stderr


def test_small_fleet_table_mode_also_warns(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_FLEET, encoding="utf-8")
    result = run("simulate", ONEDAY, "--scenario", scenario)
    assert result.exit_code == 0
    assert "bfd" in result.stdout
    assert "rejected" in result.stderr and "hpc-l3-a-s01" in result.stderr


def test_small_fleet_strict_exits_1(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_FLEET, encoding="utf-8")
    result = run("simulate", ONEDAY, "--scenario", scenario, "--strict", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["bfd"]["rejected"] > 0
    assert "rejected" in result.stderr


def test_strict_without_rejections_exits_0():
    result = run("simulate", ONEDAY, "--strict", "--json")
    assert result.exit_code == 0


# --------------------------------------------------------------------------- bad input → exit 2


def test_missing_column(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,ram_mb\na,08:00,60,1024\n", encoding="utf-8")
    assert_bad_input(run("simulate", path), f"{path}:1:", "missing required column", "cores")


def test_bad_value_names_line(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\na,08:00,60,1,1024\nb,08:00,0,1,1024\n",
                    encoding="utf-8")
    assert_bad_input(run("simulate", path, "--json"), f"{path}:3:", "duration")


def test_empty_workload(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("", encoding="utf-8")
    assert_bad_input(run("simulate", path), f"{path}:1:", "empty")


def test_nonexistent_workload(tmp_path):
    path = tmp_path / "does-not-exist.csv"
    assert_bad_input(run("simulate", path), str(path), "cannot read workload")


def test_invalid_scenario_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('description = "x"\n[[hosts]\nname = "a"\n', encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--scenario", path), f"{path}:2:", "invalid TOML")


def test_invalid_scenario_unknown_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TINY_FLEET.replace("count = 1\n", "count = 1\nspeed = 5\n"), encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--scenario", path), f"{path}:4:", "hosts[0].speed",
                     "unknown key")


def test_invalid_scenario_unknown_power_model(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TINY_FLEET.replace('"linear"', '"quartic"'), encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--scenario", path), f"{path}:7:",
                     "unknown power model 'quartic'", "known:")


def test_nonexistent_scenario(tmp_path):
    path = tmp_path / "nope.toml"
    assert_bad_input(run("simulate", ONEDAY, "--scenario", path), str(path), "cannot read scenario")


@pytest.mark.parametrize("algos", [["-a", "magic"], ["-a", "bfd,magic"], ["-a", "bfd", "-a", "magic"]])
def test_unknown_algorithm(algos):
    assert_bad_input(run("simulate", ONEDAY, *algos), "unknown algorithm 'magic'", "known:", "bfd")


def test_long_path_error_stays_on_one_line(tmp_path):
    deep = tmp_path / ("a-very-long-directory-name-" * 4) / ("and-another-one-" * 4)
    deep.mkdir(parents=True)
    path = deep / "workload-with-a-long-name.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\n" + "a,08:00,60,1,1024\n" * 2, encoding="utf-8")
    assert_bad_input(run("simulate", path), f"{path}:3:", "duplicate vm_id 'a' (first on line 2)")


def _allocation_to(tmp_path, host: str) -> Path:
    with (REPO_ROOT / ONEDAY).open(newline="", encoding="utf-8") as handle:
        ids = [r["vm_id"] for r in csv.DictReader(handle)]
    path = tmp_path / "alloc.csv"
    path.write_text("vm_id,host\n" + "".join(f"{v},{host}\n" for v in ids), encoding="utf-8")
    return path


def test_infeasible_allocation(tmp_path):
    path = _allocation_to(tmp_path, "ml110g5-0")
    line = assert_bad_input(run("simulate", ONEDAY, "--allocation", path), str(path), "infeasible")
    assert "ml110g5-0" in line


def test_allocation_unknown_host_names_line(tmp_path, bfd_out):
    out, _ = bfd_out
    rows = (out / "bfd" / "allocation.csv").read_text(encoding="utf-8").splitlines()
    vm = rows[5].split(",")[0]
    rows[5] = f"{vm},nosuchhost-3"  # line 6 of the file
    path = tmp_path / "alloc.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), f"{path}:6:",
                     "unknown host 'nosuchhost-3'")


def test_allocation_missing_vm(tmp_path, bfd_out):
    out, _ = bfd_out
    rows = (out / "bfd" / "allocation.csv").read_text(encoding="utf-8").splitlines()
    missing = rows[10].split(",")[0]
    path = tmp_path / "alloc.csv"
    path.write_text("\n".join(rows[:10] + rows[11:]) + "\n", encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), str(path), missing, "no row")


def test_allocation_unknown_vm_and_duplicate(tmp_path, bfd_out):
    out, _ = bfd_out
    rows = (out / "bfd" / "allocation.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "alloc.csv"
    path.write_text("\n".join(rows + ["ghost-vm,x3550-0"]) + "\n", encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), f"{path}:{N_VMS + 2}:",
                     "unknown vm_id 'ghost-vm'")
    path.write_text("\n".join(rows + [rows[1]]) + "\n", encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), f"{path}:{N_VMS + 2}:",
                     "appears twice", "first on line 2")


def test_allocation_nonexistent_file(tmp_path):
    path = tmp_path / "nope.csv"
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), str(path), "cannot read allocation")


def test_allocation_bad_header(tmp_path):
    path = tmp_path / "alloc.csv"
    path.write_text("vm,server\na,b\n", encoding="utf-8")
    assert_bad_input(run("simulate", ONEDAY, "--allocation", path), f"{path}:1:", "vm_id,host")


# --------------------------------------------------------------------------- user text is not markup


def test_error_message_with_closing_tag_text(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\na,08:00,60,[/x],1024\n", encoding="utf-8")
    assert_bad_input(run("simulate", path), f"{path}:2:", "'[/x]'")


def test_error_message_with_tag_like_text_is_printed_verbatim(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\na,08:00,60,[bold]x,1024\n", encoding="utf-8")
    assert_bad_input(run("simulate", path), f"{path}:2:", "cores '[bold]x' is not a number")


def test_rejected_vm_warning_with_bracketed_vm_id(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_FLEET, encoding="utf-8")
    path = tmp_path / "w.csv"
    path.write_text("vm_id,start,duration,cores,ram_mb\n[/big],08:00,60,8,1024\nsmall,08:00,60,1,1024\n",
                    encoding="utf-8")
    result = run("simulate", path, "--scenario", scenario, "--json")
    assert result.exit_code == 0, result.exception
    assert "[/big]" in result.stderr


# --------------------------------------------------------------------------- other commands


def test_version_and_listing_commands():
    import gapa

    assert gapa.__version__ in run("--version").stdout
    algos = run("algorithms")
    assert algos.exit_code == 0 and "bfd" in algos.stdout
    models = run("power-models")
    assert models.exit_code == 0
    assert "linear" in models.stdout and "IbmX3550XeonX5675" in models.stdout
