"""``report.md``: a run's or a comparison's results as one markdown page.

The report reads what it is given — the results table, the figures already
written, the instance's description — and reruns nothing.  It holds no date or
clock time, so two runs of the same command give the same page apart from the
solve times.  Figures are linked relative to the report, so the folder can be
moved as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import gapa
from gapa.problem import Problem
from gapa.tables import TextTable, seeds_text, to_markdown

REPORT_NAME = "report.md"


@dataclass(frozen=True)
class FigureFile:
    """A figure written to disk for the report: its path, a heading and a one-sentence caption."""

    path: Path
    title: str
    caption: str


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def report_markdown(out_dir: str | Path, command: str, problem: Problem, table: TextTable,
                    figures: Sequence[FigureFile], seeds: Sequence[int],
                    stochastic: Mapping[str, bool] | None = None,
                    regenerate: str | None = None) -> str:
    """The report's text.

    Args:
        out_dir: the folder the report goes in (figure links are made relative to it).
        command: ``simulate`` or ``compare``.
        problem: the instance (workload and scenario are named, not reread).
        table: the results table (the same cells the terminal shows).
        figures: the figures already written (see :func:`gapa.plots.write_figures`).
        seeds: the seeds the runs used.
        stochastic: per algorithm, whether it depends on the seed (``compare``).
        regenerate: the command line that writes this report again.
    """
    out = Path(out_dir)
    workload = Path(problem.workload.source)
    scenario = Path(problem.scenario.source)
    seed_word = "seed" if len(seeds) == 1 else "seeds"
    lines = [f"# gapa {command}: {workload.name} on {scenario.name}, {seed_word} {seeds_text(list(seeds))}",
             "",
             f"- workload: {_code(str(workload))} ({problem.n_vms} VMs)",
             (f"- scenario: {_code(str(scenario))} ({problem.n_hosts} hosts, "
             f"idle policy {_code(problem.policy.idle)})"),
             f"- {seed_word}: {seeds_text(list(seeds))}"]
    if stochastic:
        det = [n for n, s in stochastic.items() if not s]
        sto = [n for n, s in stochastic.items() if s]
        if sto:
            lines[-1] += f", one run per seed of each stochastic algorithm ({', '.join(sto)})"
        if det:
            lines.append(f"- deterministic, one run with seed {seeds[0]}: {', '.join(det)}")
    lines.append(f"- gapa {gapa.__version__}")
    if regenerate:
        lines += ["", "Regenerate with:", "", "```sh", regenerate, "```"]
    lines += ["", "## Results", "", f"{table.title}", "", to_markdown(table).rstrip("\n")]
    if table.legend:
        lines += [""] + [f"- {entry}" for entry in table.legend]
    lines += figures_markdown(figures, out)
    return "\n".join(lines) + "\n"


def figures_markdown(figures: Sequence[FigureFile], out_dir: str | Path) -> list[str]:
    """A report's "Figures" section (lines), each figure linked relative to ``out_dir``."""
    if not figures:
        return []
    lines = ["", "## Figures"]
    for fig in figures:
        link = Path(os.path.relpath(fig.path, out_dir)).as_posix()
        lines += ["", f"### {fig.title}", "", f"![{fig.title}]({link})", "", fig.caption]
    return lines


def write_report(out_dir: str | Path, command: str, problem: Problem, table: TextTable,
                 figures: Sequence[FigureFile], seeds: Sequence[int],
                 stochastic: Mapping[str, bool] | None = None, regenerate: str | None = None) -> Path:
    """Write ``out_dir/report.md`` (see :func:`report_markdown`) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(report_markdown(out, command, problem, table, figures, seeds, stochastic, regenerate),
                    encoding="utf-8")
    return path
