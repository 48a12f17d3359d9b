"""Sweeps: the sweep file, the SQLite store, and runs on a local Dask cluster of 2 workers —
killed part-way (a worker, or the whole sweep) and run again, with no lost and no
duplicated rows and the same results as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.cli import main
from gapa.errors import InputError
from gapa.scenario import load_scenario as load_scenario_file
from gapa.sweep import ResultStore, execute_run, load_sweep, local_cluster, run_sweep
from gapa.sweep.report import savings_table, summary_table

ROOT = Path(__file__).resolve().parent.parent
A1 = ROOT / "benchmarks/data/tbpp/a1"

GRID = f"""
description = "test grid"
workloads = [{{ path = "{A1 / 'cap100_n50_t50_LonLr_1.txt'}", format = "tbpp" }},
             {{ path = "{A1 / 'cap100_n50_t50_LonLr_2.txt'}", format = "tbpp" }}]
seeds = 3
[[power]]
name = "idle 30 %"
idle_share = 0.3
[[power]]
name = "idle 70 %"
idle_share = 0.7
[[algorithms]]
name = "bfd"
[[algorithms]]
name = "gapa"
settings = {{ generations = 20, population = 20 }}
"""
GRID_RUNS = 2 * 2 * (1 + 3)


@pytest.fixture
def grid_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return path


@pytest.fixture(scope="module")
def cluster():
    """One local cluster of 2 worker processes for the module's tests, closed even on failure."""
    from distributed import Client

    with local_cluster(2) as c, Client(c) as client:
        yield c, client


def _results(store_path: Path) -> dict[str, tuple]:
    with ResultStore(store_path) as store:
        rows = store.rows()
    ids = [r["run_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicated rows"
    return {r["run_id"]: (r["status"], r["algorithm"], r["seed"], r["energy_j"], r["host_on_s"]) for r in rows}


@pytest.fixture(scope="module")
def reference(cluster, tmp_path_factory):
    """The grid run once without interruption."""
    _, client = cluster
    path = tmp_path_factory.mktemp("ref") / "grid.toml"
    path.write_text(GRID)
    store_path = path.parent / "ref.sqlite"
    with ResultStore(store_path) as store:
        outcome = run_sweep(load_sweep(path), store, client)
    assert (outcome.ok, outcome.failed) == (GRID_RUNS, 0)
    return _results(store_path)


# -- the sweep file ----------------------------------------------------------------------------

def test_grid_expands_with_deterministic_allocators_once(grid_file):
    sweep = load_sweep(grid_file)
    assert len(sweep.runs) == GRID_RUNS
    assert sum(r.algorithm == "bfd" for r in sweep.runs) == 4  # once per (workload, power)
    assert len({r.run_id for r in sweep.runs}) == GRID_RUNS
    assert [r.run_id for r in load_sweep(grid_file).runs] == [r.run_id for r in sweep.runs], "ids are stable"
    assert sweep.axes["power"] == ["idle 30 %", "idle 70 %"]


def test_run_id_follows_file_content(tmp_path):
    work = tmp_path / "w.txt"
    work.write_text((A1 / "cap100_n50_t50_LonLr_1.txt").read_text())
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('workloads = [{ path = "w.txt", format = "tbpp" }]\n[[algorithms]]\nname = "bfd"\n')
    before = load_sweep(sweep_file).runs[0].run_id
    work.write_text(work.read_text() + "\n")  # same jobs, different bytes: a new run
    assert load_sweep(sweep_file).runs[0].run_id != before


@pytest.mark.parametrize(("text", "message", "line"), [
    ('workloads = ["nope.csv"]\n[[algorithms]]\nname = "bfd"\n', "cannot read workload", None),
    ('workloads = []\n[[algorithms]]\nname = "bfd"\n', "workloads", 1),
    (f'workloads = ["{ROOT}/workloads/oneday.csv"]\n[[algorithms]]\nname = "bfdx"\n', "unknown algorithm 'bfdx'", 2),
    (f'workloads = ["{ROOT}/workloads/oneday.csv"]\nseed = 3\n[[algorithms]]\nname = "bfd"\n', "unknown key", 2),
    (f'workloads = ["{ROOT}/workloads/oneday.csv"]\n[[power]]\nname = "x"\n[[algorithms]]\nname = "bfd"\n',
     "exactly one of idle_share or curve", 2),
    (f'workloads = ["{ROOT}/workloads/oneday.csv"]\n[[algorithms]]\nname = "gapa"\nsettings = {{ populaton = 3 }}\n',
     "settings of gapa", 2),
    ('workloads = [\n', "invalid TOML", None),
])
def test_bad_sweep_files(tmp_path, text, message, line):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert message in info.value.problem and info.value.path == str(path)
    if line is not None:
        assert info.value.line == line


@pytest.mark.parametrize(("text", "message"), [
    ('workloads = [""]\n[[algorithms]]\nname = "bfd"\n', "workloads.0.path"),
    (f'workloads = ["{ROOT}/workloads/oneday.csv"]\nseeds = [-1]\n[[algorithms]]\nname = "gapa"\n', "seeds"),
    (f'workloads = [{{ path = "{ROOT}/workloads/oneday.csv", format = "xml" }}]\n[[algorithms]]\nname = "bfd"\n',
     "unknown format 'xml'"),
    (f'workloads = ["{ROOT}/workloads/oneday.csv", "{ROOT}/workloads/oneday.csv"]\n[[algorithms]]\nname = "bfd"\n',
     "the same run"),
])
def test_more_bad_sweep_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_sweep(path)


def test_same_file_read_two_ways_is_two_problems(tmp_path):
    path = tmp_path / "two.toml"
    f = A1 / "cap100_n50_t50_LonLr_1.txt"
    path.write_text(f'workloads = [{{ path = "{f}", format = "tbpp", ram_mb = 64 }},\n'
                    f'             {{ path = "{f}", format = "tbpp", ram_mb = 128 }}]\n[[algorithms]]\nname = "bfd"\n')
    a, b = load_sweep(path).runs
    assert a.problem_key != b.problem_key and a.run_id != b.run_id
    assert a.workload.label != b.workload.label


def test_power_variation_keeps_gpu_idle_draw():
    from gapa.power import OffsetModel
    from gapa.sweep.spec import PowerVariation

    scenario = load_scenario_file(ROOT / "scenarios/lab_gpu.toml")
    varied = PowerVariation("idle 10 %", idle_share=0.1).apply(scenario, ROOT)
    gpu = next(g for g in varied.fleet.groups if g.gpus is not None)
    assert isinstance(gpu.power, OffsetModel) and gpu.power.offset_w == 4 * 30
    assert gpu.power.idle_w == pytest.approx(0.1 * gpu.power.base.max_w + 120)


def test_bad_sweep_file_cli_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('workloads = ["nope.csv"]\n[[algorithms]]\nname = "bfd"\n')
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "cannot read workload" in result.stderr and "Traceback" not in result.output


# -- the store ---------------------------------------------------------------------------------

def test_store_replaces_a_rerun_and_skips_only_ok_runs(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.write({"run_id": "a", "algorithm": "bfd", "seed": 0}, {"status": "failed", "error": "boom"})
        store.write({"run_id": "b", "algorithm": "bfd", "seed": 0}, {"status": "ok", "energy_j": 1.0})
        assert store.done_ids() == {"b"}
        store.write({"run_id": "a", "algorithm": "bfd", "seed": 0}, {"status": "ok", "energy_j": 2.0})
        rows = store.rows()
    assert [(r["run_id"], r["status"], r["energy_j"]) for r in rows] == [("a", "ok", 2.0), ("b", "ok", 1.0)]


def test_store_keeps_every_parameter_of_a_run(grid_file, tmp_path):
    run = load_sweep(grid_file).runs[0]
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.write({"run_id": run.run_id, **run.params()}, {"status": "ok", "energy_j": 1.0})
        row = store.rows()[0]
    for key, value in run.params().items():
        assert row[key] == value, key


def test_store_made_by_an_older_version_gains_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, status TEXT NOT NULL, energy_j REAL)")
        db.execute("INSERT INTO runs VALUES ('x', 'ok', 5.0)")
    with ResultStore(path) as store:
        store.write({"run_id": "y", "ram_mb": 64}, {"status": "ok", "energy_j": 6.0})
        assert store.done_ids() == {"x", "y"}
        assert [r["ram_mb"] for r in store.rows()] == [None, 64]


def test_execute_run_reports_a_failure_as_data(grid_file):
    sweep = load_sweep(grid_file)
    from gapa.sweep import build_problem

    run = sweep.runs[0]
    out = execute_run(build_problem(run), "gapa", {"population": 1}, 0)
    assert out["status"] == "failed" and "population" in out["error"]


# -- on a local Dask cluster of 2 workers ------------------------------------------------------

def test_uninterrupted_sweep_then_rerun_skips_everything(cluster, reference, tmp_path):
    _, client = cluster
    assert len(reference) == GRID_RUNS and all(v[0] == "ok" for v in reference.values())
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    store_path = tmp_path / "s.sqlite"
    with ResultStore(store_path) as store:
        run_sweep(load_sweep(path), store, client)
        again = run_sweep(load_sweep(path), store, client)
    assert (again.skipped, again.ok, again.failed) == (GRID_RUNS, 0, 0)
    assert _results(store_path) == reference


def test_killing_a_worker_part_way_loses_nothing(cluster, reference, tmp_path):
    _c, client = cluster
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    store_path = tmp_path / "s.sqlite"
    outcome = {}

    def sweep_in_background():
        with ResultStore(store_path) as store:
            outcome["first"] = run_sweep(load_sweep(path), store, client)

    thread = threading.Thread(target=sweep_in_background)
    thread.start()
    _wait_for_rows(store_path, 3)
    pids = client.run(os.getpid)
    holders = [w for key, ws in client.who_has().items() if str(key).startswith("gapa-problem-") for w in ws]
    victim = holders[0] if holders else min(pids)  # the worker holding a problem, if one still does
    os.kill(pids[victim], signal.SIGKILL)  # the nanny starts a new worker; Dask reruns its runs
    thread.join(timeout=240)
    assert not thread.is_alive()
    assert outcome["first"].failed == 0, "Dask gives a lost worker's runs to another worker"
    assert outcome["first"].ok == GRID_RUNS
    with ResultStore(store_path) as store:
        again = run_sweep(load_sweep(path), store, client)
    assert again.ok + again.skipped == GRID_RUNS
    assert _results(store_path) == reference


def test_killing_the_whole_sweep_and_running_it_again(reference, tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gapa.cli", "sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for_rows(out / "results.sqlite", 3, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the client, the scheduler and the workers, at once
        proc.wait()
    partial = _results(out / "results.sqlite")
    assert 3 <= len(partial) < GRID_RUNS, "killed part-way"
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{len(partial)} already in the store" in result.stderr
    assert _results(out / "results.sqlite") == reference
    assert (out / "report.md").is_file() and (out / "figures" / "saving.png").is_file()


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(cluster, tmp_path):
    _, client = cluster
    path = tmp_path / "grid.toml"
    path.write_text(f"""
workloads = [{{ path = "{A1 / 'cap100_n50_t50_LonLr_1.txt'}", format = "tbpp" }}]
[[power]]
name = "broken"
curve = {{ model = "python", ref = "tests.helpers_power:array_only" }}
[[power]]
name = "idle 50 %"
idle_share = 0.5
[[algorithms]]
name = "bfd"
""")
    store_path = tmp_path / "s.sqlite"
    with ResultStore(store_path) as store:
        outcome = run_sweep(load_sweep(path), store, client)
        rows = {r["power"]: r for r in store.rows()}
    assert (outcome.ok, outcome.failed) == (1, 1)
    assert rows["broken"]["status"] == "failed" and "only takes arrays" in rows["broken"]["error"]
    assert rows["idle 50 %"]["status"] == "ok" and rows["idle 50 %"]["energy_j"] > 0


def test_report_tables_from_the_store(reference, tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    store_path = tmp_path / "s.sqlite"
    sweep = load_sweep(path)
    with ResultStore(store_path) as store:  # a store holding the reference results
        for run in sweep.runs:
            status, _algorithm, _seed, energy, on = reference[run.run_id]
            store.write({"run_id": run.run_id, **run.params()}, {"status": status, "energy_j": energy,
                                                                  "energy_kwh": energy / 3.6e6, "host_on_s": on})
        summary = summary_table(sweep, store)
        savings = savings_table(sweep, store)
    assert len(summary) == 2 * 2 * 2 and set(summary["runs"]) == {1, 3}
    assert len(savings) == 4 and (savings["seeds"] == 3).all()
    # a saving is 1 - gapa / bfd of the same workload and power variation, by hand for one cell
    cell = savings.iloc[0]
    same = [r for r in sweep.runs
            if r.labels()["workload"] == cell["workload"] and r.labels()["power"] == cell["power"]]
    bfd = [reference[r.run_id][3] for r in same if r.algorithm == "bfd"]
    ga = [reference[r.run_id][3] for r in same if r.algorithm == "gapa"]
    assert len(bfd) == 1 and len(ga) == 3
    assert cell["saving_mean"] == pytest.approx(sum(1 - g / bfd[0] for g in ga) / 3, rel=1e-12)


def _wait_for_rows(store_path: Path, n: int, proc: subprocess.Popen | None = None, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the sweep ended before {n} rows were written")
        if store_path.exists():
            try:
                with sqlite3.connect(store_path) as db:
                    if db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:
                pass  # the table is not made yet, or the file is locked for a moment
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} rows after {timeout} s")


# -- the command ---------------------------------------------------------------------------

SMALL = f"""
workloads = [{{ path = "{A1 / 'cap100_n50_t50_LonLr_1.txt'}", format = "tbpp" }}]
seeds = 2
[[power]]
name = "idle 20 %"
idle_share = 0.2
[[power]]
name = "idle 60 %"
idle_share = 0.6
[[algorithms]]
name = "bfd"
[[algorithms]]
name = "ffd"
"""


def test_cli_runs_on_an_existing_cluster_and_reports(cluster, tmp_path):
    c, _ = cluster
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(path), "--scheduler", c.scheduler_address, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 runs: 0 already in the store, 4 finished, 0 failed" in result.stderr
    assert "ffd" in result.stdout and "%" in result.stdout
    with ResultStore(out / "results.sqlite") as store:
        rows = store.rows()
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}
    assert all(r["gapa_version"] and r["seed"] == 0 for r in rows)
    report = (out / "report.md").read_text()
    assert "Saving against bfd" in report and "figures/saving.png" in report
    assert (out / "savings.csv").read_text().count("\n") == 1 + 2  # ffd in two power variations


def test_cli_report_only_runs_nothing(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    missing = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--report"])
    assert missing.exit_code == 2 and "no results store to report on" in missing.stderr
    ResultStore(out / "results.sqlite").close()  # an empty store
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "0 finished" in (out / "report.md").read_text()
    with ResultStore(out / "results.sqlite") as store:
        assert store.rows() == []


def test_cli_unreachable_scheduler_exits_2(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    result = CliRunner().invoke(main, ["sweep", str(path), "--scheduler", "tcp://127.0.0.1:9", "--out",
                                       str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
