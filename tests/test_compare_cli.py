"""``gapa compare`` and the report/figures that ``--out`` writes (also for ``gapa simulate``)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import gapa
from gapa.cli import main

ROOT = Path(__file__).resolve().parent.parent
TINY_GA = ["--population", "6", "--generations", "3"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SCENARIO = """\
[[hosts]]
name = "small"
count = 5
cores = 8
mips_per_core = 3000
ram_mb = 32768
power = { model = "linear", idle_w = 60, max_w = 200 }

[[hosts]]
name = "big"
count = 4
cores = 16
mips_per_core = 3000
ram_mb = 65536
power = { model = "linear", idle_w = 90, max_w = 300 }
"""


def workload_text(n: int = 30) -> str:
    rows = ["vm_id,start,duration,cores,ram_mb,cpu_util"]
    for i in range(n):
        start = 8 * 60 + (i * 7 % 16) * 30
        rows.append(f"vm{i:02d},{start // 60:02d}:{start % 60:02d},{60 + (i * 5 % 5) * 30},"
                    f"{1 + i % 4},{1024 * (1 + i % 8)},{0.2 + (i % 5) / 6:.3f}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def files(write):
    return write("day.csv", workload_text()), write("fleet.toml", SCENARIO)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "80"})


def assert_one_error_line(result, *fragments):
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def linked_files(report: Path) -> list[Path]:
    text = report.read_text(encoding="utf-8")
    return [report.parent / link for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One ``gapa compare --out`` run on the small instance, shared by several tests."""
    base = tmp_path_factory.mktemp("cmp")
    (base / "day.csv").write_text(workload_text(), encoding="utf-8")
    (base / "fleet.toml").write_text(SCENARIO, encoding="utf-8")
    out = base / "out"
    result = run("compare", base / "day.csv", "--scenario", base / "fleet.toml", "--seeds", 3,
                 *TINY_GA, "--out", out)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return out, result


def test_compare_prints_one_row_per_algorithm(compared):
    _, result = compared
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["bfd", "1"] for line in lines if line.split())
    assert any(line.split()[:2] == ["gapa", "3"] for line in lines if line.split())
    assert "seeds 0–2" in result.stdout and "lower bound:" in result.stdout
    assert max(len(line) for line in lines) <= 80  # fits a plain terminal, nothing cropped
    assert "…" not in result.stdout.split("lower bound:")[0]


def test_runs_csv_has_one_row_per_algorithm_and_seed(compared):
    out, _ = compared
    with (out / "runs.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["algorithm"], r["seed"]) for r in rows] == [("bfd", "0"), ("gapa", "0"), ("gapa", "1"),
                                                          ("gapa", "2")]
    assert {"energy_j", "energy_kwh", "host_on_s", "solve_s", "saving_vs_bfd", "gapa_version"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["gapa"]["seeds"] == [0, 1, 2] and summary["bfd"]["seeds"] == [0]
    assert summary["gapa"]["gapa_version"] == gapa.__version__
    energies = [float(r["energy_j"]) for r in rows if r["algorithm"] == "gapa"]
    assert summary["gapa"]["energy_j_mean"] == pytest.approx(sum(energies) / 3)
    bfd = float(rows[0]["energy_j"])
    assert summary["gapa"]["saving_vs_bfd_mean"] == pytest.approx(1 - sum(energies) / 3 / bfd)
    with (out / "logbook.csv").open(newline="", encoding="utf-8") as handle:
        book = list(csv.DictReader(handle))
    assert {r["seed"] for r in book} == {"0", "1", "2"} and {r["algorithm"] for r in book} == {"gapa"}


def test_compare_report_links_only_existing_pngs(compared):
    out, _ = compared
    report = out / "report.md"
    links = linked_files(report)
    names = {p.name for p in links}
    assert {"energy.png", "power.png", "hosts_on.png", "gantt-bfd.png", "gantt-gapa.png",
            "convergence.png"} <= names
    for path in links:
        assert path.is_file() and path.read_bytes()[:8] == PNG_MAGIC, path
    text = report.read_text(encoding="utf-8")
    assert gapa.__version__ in text and "day.csv" in text and "fleet.toml" in text
    assert "gapa compare" in text and "--seeds 3" in text and "--population 6" in text
    assert ("| algorithm | runs | mean kWh | std | × bound | vs bfd | vs best heuristic | on-time h | solve s |"
            in text)
    assert "lower bound:" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no dates


def test_compare_twice_gives_the_same_report_apart_from_timings(files, tmp_path):
    workload, scenario = files

    def report_without_timings() -> str:
        result = run("compare", workload, "--scenario", scenario, "--seeds", 2, "-a", "bfd,gapa",
                     "--population", "4", "--generations", "1", "--out", tmp_path / "r")
        assert result.exit_code == 0, result.stderr
        text = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
        return re.sub(r"\| [0-9.]+ \|\n", "| T |\n", text)  # the last column: solve seconds

    assert report_without_timings() == report_without_timings()


def test_deterministic_only_runs_once(files):
    workload, scenario = files
    result = run("compare", workload, "--scenario", scenario, "--seeds", 4, "-a", "bfd")
    assert result.exit_code == 0, result.stderr
    row = next(line.split() for line in result.stdout.splitlines() if line.split()[:1] == ["bfd"])
    assert row[1] == "1"


def test_simulate_out_writes_figures_and_report(files, tmp_path):
    workload, scenario = files
    out = tmp_path / "sim"
    result = run("simulate", workload, "--scenario", scenario, *TINY_GA, "--out", out, "--seed", 5)
    assert result.exit_code == 0, result.stderr
    report = out / "report.md"
    text = report.read_text(encoding="utf-8")
    assert "seed 5" in text and "--seed 5" in text and gapa.__version__ in text
    assert "| algorithm | kWh | × bound | vs bfd | vs best heuristic | on-time h | hosts | solve s |" in text
    links = linked_files(report)
    assert {p.name for p in links} >= {"energy.png", "power.png", "hosts_on.png", "gantt-gapa.png",
                                       "convergence.png"}
    assert all(p.is_file() and p.read_bytes()[:8] == PNG_MAGIC for p in links)
    assert (out / "summary.json").is_file() and (out / "gapa" / "logbook.csv").is_file()


def test_rejections_are_warned_and_noted(write):
    workload = write("w.csv", "vm_id,start,duration,cores,ram_mb\na,08:00,60,1,1024\nhuge,08:00,60,64,1024\n")
    scenario = write("s.toml", SCENARIO)
    result = run("compare", workload, "--scenario", scenario, "--seeds", 2, "--population", "4",
                 "--generations", "1")
    assert result.exit_code == 0, result.stderr
    assert "up to 1 VM(s) rejected" in result.stdout
    assert "gapa (seed 1) rejected 1 VM(s)" in result.stderr and "huge" in result.stderr


@pytest.mark.parametrize("args, fragments", [
    (["-a", "nope"], ["unknown algorithm 'nope'"]),
    (["--scenario", "missing.toml"], ["missing.toml"]),
])
def test_bad_input_is_one_line_exit_2(files, args, fragments):
    workload, _ = files
    assert_one_error_line(run("compare", workload, "--seeds", 2, *args), *fragments)


def test_bad_workload_and_settings(write, files):
    workload, scenario = files
    bad = write("bad.csv", "vm_id,start,duration,cores,ram_mb\na,08:00,-5,1,1024\n")
    assert_one_error_line(run("compare", bad, "--scenario", scenario, "--seeds", 2), "bad.csv:2")
    typo = write("typo.toml", SCENARIO + "\n[gapa]\npopulaton = 3\n")
    assert_one_error_line(run("compare", workload, "--scenario", typo, "--seeds", 2), "populaton")


def test_out_is_an_existing_file(files, write):
    workload, scenario = files
    target = write("taken", "x")
    assert_one_error_line(run("compare", workload, "--scenario", scenario, "--seeds", 1, "-a", "bfd",
                              "--out", target), "must name a directory")


@pytest.mark.parametrize("args", [[], ["--seeds", "0"], ["--seeds", "x"]])
def test_bad_seeds_exit_2(files, args):
    workload, scenario = files
    result = run("compare", workload, "--scenario", scenario, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_core_modules_do_not_import_matplotlib():
    code = ("import sys\n"
            "import gapa, gapa.allocators, gapa.allocators.genetic, gapa.allocators.bfd, gapa.simulation, "
            "gapa.evaluator, gapa.run, gapa.compare, gapa.report, gapa.tables, gapa.outputs, gapa.cli\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
