"""gapa.tables and gapa.report: the results table as cells and markdown, report.md's links."""

from __future__ import annotations

from pathlib import Path

from gapa.lower_bound import lower_bound
from gapa.report import FigureFile, report_markdown
from gapa.run import run_allocator
from gapa.tables import TextTable, seeds_text, simulation_table, to_markdown
from tests.generators import small_problem


def test_seeds_text():
    assert seeds_text([0]) == "0"
    assert seeds_text([0, 1]) == "0, 1"
    assert seeds_text([0, 1, 2, 3]) == "0–3"
    assert seeds_text([0, 3, 7]) == "0, 3, 7"


def test_markdown_escapes_pipes_and_aligns_numbers():
    table = TextTable("t", [("name", "left"), ("two\nlines", "right")], [["a|b", "1.0"]], ["note"])
    assert to_markdown(table) == "| name | two lines |\n|:---|---:|\n| a\\|b | 1.0 |\n\nnote\n"


def test_report_links_are_relative_and_it_holds_the_table(tmp_path):
    problem = small_problem(10)
    run = run_allocator(problem, "bfd", seed=3)
    table = simulation_table(problem, [run], lower_bound(problem))
    fig = FigureFile(tmp_path / "figures" / "energy.png", "Energy", "caption here")
    text = report_markdown(tmp_path, "simulate", problem, table, [fig], [3],
                           regenerate="gapa simulate w.csv --seed 3")
    assert "![Energy](figures/energy.png)" in text and "caption here" in text
    assert "```sh\ngapa simulate w.csv --seed 3\n```" in text
    assert to_markdown(table).splitlines()[0] in text
    assert "seed 3" in text and str(Path(tmp_path)) not in text
