"""``gapa jobs`` through click's CliRunner: tables, --out files, --json, and bad input (exit 2)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent
SMALL_JOBS = "job_id,template,release,deadline,gpus,params\n" \
             "a,gating,09:00,d2 09:00,1,epochs=30\n" \
             "b,partition,10:00,d2 12:00,4,epochs=20\n" \
             "c,ginp,11:00,d3 09:00,1,pretrain=20;iterations=2;retrain=10;distil=5\n"


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_jobs_prints_both_policies_and_writes_out(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(SMALL_JOBS)
    out = tmp_path / "out"
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs), "--iterations", "20", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "asap" in result.stdout and "energy-aware" in result.stdout and "GPU share" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"asap", "energy-aware"}
    for record in summary.values():
        assert record["total_j"] == pytest.approx(record["lab_j"] + record["gpu_share_j"])
        assert record["seed"] == 0 and record["lab_algorithm"] == "bfd" and record["gapa_version"]
        assert record["deadlines_met"] == 3
    with (out / "schedule.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["policy"] for r in rows} == {"asap", "energy-aware"}
    assert len(rows) == 2 * (1 + 1 + 4)  # c has pretrain, 2 retrains, distil
    report = (out / "report.md").read_text()
    assert "How the saving arises" in report and "figures/power.png" in report
    for name in ("power.png", "energy.png", "gantt-asap.png", "gantt-energy-aware.png"):
        assert (out / "figures" / name).stat().st_size > 1000


def test_jobs_json(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(SMALL_JOBS)
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs), "--policy", "asap", "--json")
    assert result.exit_code == 0
    assert list(json.loads(result.stdout)) == ["asap"]


@pytest.mark.parametrize(("args", "message"), [
    (["--policy", "greedy"], "unknown policy 'greedy'"),
    (["-a", "nope"], "unknown algorithm 'nope'"),
    (["--scenario", "scenarios/lab.toml"], "has no GPU hosts"),
])
def test_jobs_bad_options_exit_2(tmp_path, args, message):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(SMALL_JOBS)
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs), *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_jobs_bad_job_file_exit_2(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("job_id,template,release,deadline\nx,ginp,09:00,banana\n")
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs))
    assert result.exit_code == 2
    assert f"{jobs}:2: job x: deadline 'banana'" in result.stderr


def test_jobs_unknown_gpu_model_exit_2(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(SMALL_JOBS)
    scenario = tmp_path / "s.toml"
    scenario.write_text((REPO_ROOT / "scenarios/lab_gpu.toml").read_text().replace('"v100"', '"k80"'))
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs), "--scenario", str(scenario))
    assert result.exit_code == 2
    assert str(scenario) in result.stderr and "'k80' is not in the GPU profile" in result.stderr


def test_jobs_warns_about_a_rejected_job(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(SMALL_JOBS + "huge,partition,09:00,d3 09:00,8,epochs=10\n")
    result = run("jobs", "workloads/oneday.csv", "--jobs", str(jobs), "--policy", "asap")
    assert result.exit_code == 0
    assert "warning: job huge" in result.stderr and "no GPU host has 8 GPUs" in result.stderr
    assert "rejected huge" in result.stdout  # and in the table's notes
