"""The README's promises that can rot: the two quick-start commands, the default scenario."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.DOTALL)


def test_quick_start_is_exactly_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("gapa simulate workloads/oneday.csv")
    assert "pip install -e '.[test]'" in commands[1] and commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    test_command = _quick_start_commands()[1].split("&& ", 2)[-1]  # after venv creation/activation
    assert test_command in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_packaged_default_scenario_is_scenarios_lab_toml():
    assert (ROOT / "gapa/data/lab.toml").read_bytes() == (ROOT / "scenarios/lab.toml").read_bytes()
    assert (ROOT / "gapa/data/lab_gpu.toml").read_bytes() == (ROOT / "scenarios/lab_gpu.toml").read_bytes()
