"""Benchmark suites: loading, running, summarising, writing, and `gapa bench` errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.bench import load_suite, run_suite, summarise
from gapa.cli import main
from gapa.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
TBPP = REPO_ROOT / "tests" / "data" / "traces" / "tbpp"


def suite_text(algorithms='["bfd", "mindft-ld", "exact"]', files=None, fmt="tbpp"):
    files = files or [str(TBPP / "a1" / "*.txt"), str(TBPP / "d1" / "*.txt")]
    return (f'description = "tiny"\n[[set]]\nname = "tiny"\nfiles = {files!r}\n'.replace("'", '"')
            + f'format = "{fmt}"\nalgorithms = {algorithms}\nquick = 1\n'
            '[set.settings.exact]\ntime_limit = 5\n')


def test_run_suite_records_and_summary(write):
    suite = load_suite(write("s.toml", suite_text()))
    assert [f.name for f in suite.sets[0].files] == ["cap100_n50_t50_LonLr_1.txt", "100_24_1.txt"]
    seen = []
    records = run_suite(suite, observer=lambda done, total, r: seen.append((done, total)))
    assert seen[-1] == (6, 6) and len(records) == 6
    for r in records:
        # the bound is the best of gapa's load bound and the exact solver's proven one
        assert r["ratio"] >= 1 - 1e-9
        assert r["vs_best"] >= -1e-12
        assert r["rejected"] == 0
    exact = [r for r in records if r["algorithm"] == "exact"]
    assert all(r["gap"] is not None and r["gap"] >= 0 for r in exact)
    assert all(r["lower_bound_j"] >= r["proven_bound_j"] - 1e-6 for r in exact)
    rows = summarise(records)
    assert [(s["algorithm"], s["instances"]) for s in rows] == [("bfd", 2), ("mindft-ld", 2), ("exact", 2)]
    assert sum(s["best"] for s in rows) >= 2  # someone is best on each instance
    quick = run_suite(suite, quick=True)
    assert {r["instance"] for r in quick} == {"cap100_n50_t50_LonLr_1.txt"}


def test_cli_writes_results_and_report(write, tmp_path):
    path = write("s.toml", suite_text('["bfd", "ffd"]'))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["bench", str(path), "--out", str(out), "--report",
                                       str(tmp_path / "bench.md"), "--quiet"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "mean ratio" in result.stdout
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and {r["algorithm"] for r in rows} == {"bfd", "ffd"}
    assert (out / "ratios.png").stat().st_size > 1000
    page = (tmp_path / "bench.md").read_text()
    assert "gapa bench" in page and "| tiny | bfd |" in page and "ratios.png" in page


@pytest.mark.parametrize("text, fragment", [
    (suite_text('["bfd", "nosuch"]'), "unknown algorithm 'nosuch'"),
    (suite_text(fmt="nosuch"), "unknown format 'nosuch'"),
    (suite_text(files=["nothing-here-*.txt"]), "no file matches"),
    ("[[set]\nname=", "not a valid TOML file"),
    ('description = "x"\n', "no [[set]]"),
])
def test_bad_suites_exit_2_with_one_line(write, text, fragment):
    path = write("bad.toml", text)
    with pytest.raises(InputError, match="bad.toml"):
        load_suite(path)
    result = CliRunner().invoke(main, ["bench", str(path), "--quiet"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "bad.toml" in lines[0], result.stderr


def test_missing_suite_and_report_without_out(tmp_path):
    result = CliRunner().invoke(main, ["bench", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "none.toml" in result.stderr
    result = CliRunner().invoke(main, ["bench", str(tmp_path / "none.toml"), "--report", "x.md"])
    assert result.exit_code == 2 and "--report needs --out" in result.stderr


def test_published_suite_loads_and_has_a_quick_subset():
    suite = load_suite(REPO_ROOT / "benchmarks" / "suites" / "published.toml")
    full, quick = suite.instances(), suite.instances(quick=True)
    assert len(full) == 40 + 8 + 5 + 5 + 5 + 10
    assert 0 < len(quick) < len(full) and {s.name for s, _ in quick} == {s.name for s in suite.sets}


def test_worker_processes_give_the_same_records(write):
    suite = load_suite(write("s.toml", suite_text('["bfd", "mindft-ld"]')))
    one = run_suite(suite, jobs=1)
    two = run_suite(suite, jobs=2)
    key = lambda r: (r["instance"], r["algorithm"], r["energy_j"], r["host_on_s"], r["ratio"])
    assert [key(r) for r in one] == [key(r) for r in two]
