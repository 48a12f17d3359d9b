"""The fleet's size limit (issue 16): a mistyped host count is refused at once, naming its line;
a large but sane fleet loads and simulates quickly."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapa.cli import main
from gapa.fleet import MAX_HOSTS, Fleet, HostGroup
from gapa.power import ShapeModel

REPO_ROOT = Path(__file__).resolve().parent.parent
TEN_VMS = "vm_id,start,duration,cores,ram_mb\n" + "".join(
    f"vm{i},{8 + i % 3}:00,1:30,{1 + i % 4},{1024 * (1 + i % 2)}\n" for i in range(10))


def group(name: str, count: int) -> str:
    return textwrap.dedent(f"""\
        [[hosts]]
        name = "{name}"
        count = {count}
        cores = 16
        mips_per_core = 2500
        ram_mb = 65536
        power = {{ model = "linear", idle_w = 80, max_w = 250 }}
        """)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.fixture
def ten_vms(tmp_path):
    path = tmp_path / "ten.csv"
    path.write_text(TEN_VMS, encoding="utf-8")
    return path


def test_a_mistyped_count_is_refused_at_once_naming_its_line(tmp_path, ten_vms):
    text = group("lab", 4) + "\n" + group("huge", 1_000_000_000)
    scenario = tmp_path / "typo.toml"
    scenario.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    result = run("simulate", ten_vms, "--scenario", scenario, "-a", "bfd")
    assert time.perf_counter() - t0 < 10  # it used to build a billion host ids
    assert_one_line_error(result, f"{scenario}:{line_of(text, 'count = 1000000000')}:",
                          "hosts[1].count (huge)", "1,000,000,004", f"{MAX_HOSTS:,}")


def test_the_limit_counts_every_group_together(tmp_path, ten_vms):
    half = MAX_HOSTS // 2 + 1
    text = group("a", half) + "\n" + group("b", half)
    scenario = tmp_path / "two.toml"
    scenario.write_text(text, encoding="utf-8")
    result = run("compare", ten_vms, "--scenario", scenario, "-a", "bfd", "--seeds", "1")
    second_count = [i for i, line in enumerate(text.splitlines(), start=1) if line.startswith("count")][1]
    assert_one_line_error(result, f"{scenario}:{second_count}:", "hosts[1].count (b)")


def test_a_fleet_object_refuses_too_many_hosts():
    model = ShapeModel("linear", 10, 20)
    with pytest.raises(ValueError, match="more than the 1,000,000"):
        Fleet([HostGroup("a", MAX_HOSTS, 1, 1000, 1, model), HostGroup("b", 1, 1, 1000, 1, model)])


def test_a_hundred_thousand_hosts_simulate_ten_vms_quickly(tmp_path, ten_vms):
    scenario = tmp_path / "big.toml"
    scenario.write_text(group("big", 100_000), encoding="utf-8")
    t0 = time.perf_counter()
    result = run("simulate", ten_vms, "--scenario", scenario, "-a", "bfd,ffd", "--json")
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads(result.stdout)
    assert summary["bfd"]["placed"] == 10 and summary["bfd"]["hosts_used"] <= 10
    assert summary["ffd"]["placed"] == 10
    assert elapsed < 30, elapsed  # about 0.3 s on the 2-core development machine
