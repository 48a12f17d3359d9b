"""The "vs best heuristic" column (issue 16): every results table, and the summaries, compare each
algorithm with the best constructive heuristic that ran."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from gapa.allocators import ALLOCATORS, Allocator
from gapa.cli import main
from gapa.compare import aggregate, best_heuristic, is_constructive
from gapa.run import JOULES_PER_KWH
from tests.test_compare_cli import SCENARIO, workload_text

CONSTRUCTIVE = {"bfd", "ffd", "wf", "pabfd", "mindft-st", "mindft-ld"}
TINY_GA = ["--population", "4", "--generations", "1"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "80"})


def table_lines(stdout: str) -> list[str]:
    """The table printed on stdout: every line above the notes (which start at the bound)."""
    lines = stdout.splitlines()
    return lines[:next(i for i, line in enumerate(lines) if line.startswith("lower bound:"))]


@pytest.fixture
def files(write):
    return write("day.csv", workload_text()), write("fleet.toml", SCENARIO)


def test_which_allocators_are_constructive():
    assert Allocator.constructive is False  # a plug-in is not, unless it says so
    assert {name for name, cls in ALLOCATORS.items() if cls.constructive} == CONSTRUCTIVE
    assert all(is_constructive(name) for name in CONSTRUCTIVE)
    assert not any(is_constructive(name) for name in ("gapa", "exact", "given", "no-such"))


def test_best_is_fewest_rejected_then_least_energy():
    assert best_heuristic([("gapa", 0, 1.0), ("exact", 0, 0.5)]) is None
    assert best_heuristic([("bfd", 0, 10.0), ("gapa", 0, 1.0), ("ffd", 0, 9.0)]) == ("ffd", 9.0)
    assert best_heuristic([("bfd", 0, 10.0), ("ffd", 2, 9.0)]) == ("bfd", 10.0)  # ffd left VMs out
    assert best_heuristic([("wf", 0, 9.0), ("ffd", 0, 9.0)]) == ("wf", 9.0)  # ties: the first


def test_simulate_table_summary_and_report(files, tmp_path):
    workload, scenario = files
    out = tmp_path / "out"
    result = run("simulate", workload, "--scenario", scenario, "-a", "bfd,ffd,wf,gapa", *TINY_GA, "--out", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    energies = {name: rec["energy_j"] for name, rec in summary.items()}
    best = min(("bfd", "ffd", "wf"), key=lambda n: (energies[n], ["bfd", "ffd", "wf"].index(n)))
    for name, rec in summary.items():
        assert rec["best_heuristic"] == best
        assert rec["saving_vs_best_heuristic"] == pytest.approx(1 - energies[name] / energies[best])
    assert summary[best]["saving_vs_best_heuristic"] == 0
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in table_lines(result.stdout)) <= 80
    assert any("vs best" in line for line in lines) and any("heuristic" in line for line in lines)
    assert f"best heuristic: {best} ({energies[best] / JOULES_PER_KWH:,.3f} kWh)" in result.stdout
    report = (out / "report.md").read_text(encoding="utf-8")
    rows = [[c.strip() for c in row.split("|")[1:-1]] for row in report.splitlines()
            if row.startswith("| ") and not row.startswith("| algorithm")]
    cells = {c[0]: c for c in rows}
    change = 100 * (energies["gapa"] / energies[best] - 1) + 0.0
    assert cells["gapa"][4] == f"{change:+.1f} %"  # algorithm, kWh, × bound, vs bfd, vs best heuristic
    assert cells[best][4] == "–"
    terminal = next(line.split() for line in lines if line.split()[:1] == ["gapa"])
    assert terminal[-3] == cells["gapa"][5] and " ".join(terminal[-5:-3]) == cells["gapa"][4]  # on-time, vs best
    assert "| algorithm | kWh | × bound | vs bfd | vs best heuristic | on-time h | hosts | solve s |" in report
    assert f"best heuristic: {best}" in report and "- vs best heuristic: change of energy" in report


def test_no_constructive_heuristic_shows_a_dash(files, tmp_path):
    workload, scenario = files
    out = tmp_path / "out"
    result = run("simulate", workload, "--scenario", scenario, "-a", "gapa", *TINY_GA, "--out", out)
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "summary.json").read_text(encoding="utf-8"))["gapa"]
    assert record["best_heuristic"] is None and record["saving_vs_best_heuristic"] is None
    assert "| gapa |" in (out / "report.md").read_text(encoding="utf-8")
    row = next(line.split() for line in result.stdout.splitlines() if line.split()[:1] == ["gapa"])
    assert row[3:5] == ["–", "–"]  # vs bfd, vs best heuristic
    assert "best heuristic:" not in result.stdout


def test_compare_table_and_summary(files, tmp_path):
    workload, scenario = files
    out = tmp_path / "cmp"
    result = run("compare", workload, "--scenario", scenario, "--seeds", 2, "-a", "bfd,mindft-ld,gapa",
                 *TINY_GA, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert max(len(line.rstrip()) for line in table_lines(result.stdout)) <= 80
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    best = min(("bfd", "mindft-ld"), key=lambda n: summary[n]["energy_j_mean"])
    ref = summary[best]["energy_j_mean"]
    ga = summary["gapa"]
    assert ga["best_heuristic"] == best
    for key in ("mean", "best", "worst"):
        assert ga[f"saving_vs_best_heuristic_{key}"] == pytest.approx(1 - ga[f"energy_j_{key}"] / ref)
    with (out / "runs.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["best_heuristic"] for r in rows} == {best}
    assert {r["algorithm"]: r["constructive"] for r in rows} == {"bfd": "True", "mindft-ld": "True", "gapa": "False"}
    assert "gapa best run:" in result.stdout and "vs best heuristic" in result.stdout
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| algorithm | runs | mean kWh | std | × bound | vs bfd | vs best heuristic | on-time h | solve s |" in report


def test_aggregate_by_hand_against_the_best_heuristic():
    def rec(algorithm, seed, kwh, rejected=0):
        return {"algorithm": algorithm, "seed": seed, "energy_j": kwh * JOULES_PER_KWH, "host_on_s": 1.0,
                "hosts_used": 2, "rejected": rejected, "solve_s": 0.5, "bound_energy_j": None}

    agg = aggregate([rec("ga", 0, 10), rec("ga", 1, 12), rec("bfd", 0, 20), rec("ffd", 0, 16),
                     rec("wf", 0, 15, rejected=1)])
    assert agg["ga"]["best_heuristic"] == "ffd"  # wf used less energy but rejected a VM
    assert agg["ga"]["saving_vs_best_heuristic_mean"] == pytest.approx(1 - 11 / 16)
    assert agg["ga"]["saving_vs_best_heuristic_best"] == pytest.approx(1 - 10 / 16)
    assert agg["ga"]["saving_vs_best_heuristic_worst"] == pytest.approx(1 - 12 / 16)
    assert agg["ffd"]["saving_vs_best_heuristic_mean"] == 0
    alone = aggregate([rec("ga", 0, 10)])["ga"]
    assert alone["best_heuristic"] is None and alone["saving_vs_best_heuristic_mean"] is None
