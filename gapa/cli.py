"""The ``gapa`` command line: parse, call the library, render, map outcomes to exit codes.

Exit codes: 0 success; 1 rejected VMs under ``--strict``; 2 bad input (one
line on stderr naming the file, line and problem).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import gapa
from gapa.allocation_file import read_allocation
from gapa.allocators import ALLOCATORS, MAIN_ALLOCATORS, GivenAllocation, Limits, get_allocator
from gapa.errors import InfeasibleAllocation, InputError
from gapa.lower_bound import LowerBound, lower_bound
from gapa.outputs import summaries, write_results
from gapa.power import known_models, specpower_servers
from gapa.problem import Problem
from gapa.progress import ProgressReporter
from gapa.run import JOULES_PER_KWH, RunResult, run_allocator
from gapa.scenario import load_scenario
from gapa.workload import load_workload

DEFAULT_SCENARIO = Path("scenarios") / "lab.toml"
EXIT_REJECTED = 1
EXIT_BAD_INPUT = 2


def default_scenario_path() -> Path:
    """``scenarios/lab.toml`` in the current directory, else the copy shipped in the package."""
    if DEFAULT_SCENARIO.is_file():
        return DEFAULT_SCENARIO
    from importlib import resources

    return Path(str(resources.files("gapa").joinpath("data/lab.toml")))


def _fail(message: str) -> None:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}", markup=True,
                                                 soft_wrap=True)
    sys.exit(EXIT_BAD_INPUT)


def _parse_algorithms(values: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in ALLOCATORS:
                _fail(f"unknown algorithm {name!r}; known: {', '.join(ALLOCATORS)}")
            if name not in names:
                names.append(name)
    return names


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f}"


def _render_table(console: Console, results: list[RunResult], problem: Problem, lower: LowerBound) -> None:
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{problem.n_vms} VMs on {problem.n_hosts} hosts "
                               f"({Path(problem.workload.source).name}, "
                               f"{Path(problem.scenario.source).name}, idle={problem.policy.idle})"))
    baseline = next((r for r in results if r.algorithm == "bfd"), None)
    for col, justify in (("algorithm", "left"), ("kWh", "right"), ("× bound", "right"),
                         ("vs bfd", "right"), ("on-time h", "right"), ("hosts", "right"),
                         ("rejected", "right"), ("solve s", "right")):
        table.add_column(col, justify=justify, no_wrap=True, min_width=len(col))  # type: ignore[arg-type]
    for r in results:
        sim = r.simulation
        rejected = int((r.allocation < 0).sum())
        ratio = f"{sim.energy_j / lower.energy_j:.3f}" if lower.energy_j > 0 else "–"
        saving = "–"
        if baseline is not None and r is not baseline and baseline.simulation.energy_j > 0:
            saving = f"{100 * (sim.energy_j / baseline.simulation.energy_j - 1):+.1f} %"
        table.add_row(escape(r.algorithm), f"{sim.energy_j / JOULES_PER_KWH:,.3f}", ratio, saving,
                      _hours(sim.on_s), str(sim.hosts_used), str(rejected), f"{r.solve_s:.2f}")
    console.print(table)
    console.print(f"lower bound: {lower.energy_j / JOULES_PER_KWH:,.3f} kWh, "
                  f"{lower.on_s / 3600:,.1f} host-hours on", highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(gapa.__version__, prog_name="gapa")
def main() -> None:
    """gapa: energy-aware VM allocation for the lab classes of a university private cloud."""


@main.command()
@click.argument("workload", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path), default=None,
              help="Fleet and power policy (TOML). Default: scenarios/lab.toml.")
@click.option("--algorithm", "-a", "algorithms", multiple=True, metavar="NAME[,NAME…]",
              help=f"Allocator(s) to run; repeatable. Default: {','.join(MAIN_ALLOCATORS)}.")
@click.option("--allocation", "allocation_path", type=click.Path(path_type=Path), default=None,
              help="Replay a placement (CSV vm_id,host) as algorithm 'given'.")
@click.option("--seed", type=int, default=0, show_default=True, help="The run's one seed.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget per allocator, seconds.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write summary.json and per-algorithm CSVs here.")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary JSON on stdout.")
@click.option("--strict", is_flag=True, help="Exit with code 1 if any VM is rejected.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--population", type=click.IntRange(min=2), default=None, help="GAPA: population size.")
@click.option("--generations", type=click.IntRange(min=0), default=None, help="GAPA: most generations.")
@click.option("--crossover-rate", type=click.FloatRange(0, 1), default=None, help="GAPA: crossover probability.")
@click.option("--mutation-rate", type=click.FloatRange(0, 1), default=None, help="GAPA: mutation probability.")
@click.option("--stagnation", type=click.IntRange(min=1), default=None,
              help="GAPA: stop after this many generations without improvement.")
def simulate(workload: Path, scenario_path: Path | None, algorithms: tuple[str, ...],
             allocation_path: Path | None, seed: int, time_limit: float | None, out_dir: Path | None,
             as_json: bool, strict: bool, quiet: bool, population: int | None, generations: int | None,
             crossover_rate: float | None, mutation_rate: float | None, stagnation: int | None) -> None:
    """Place WORKLOAD's VMs on the fleet, simulate the day, report energy.

    GAPA's settings come from the scenario's [gapa] table; the options above override them.
    """
    ga_overrides = {k: v for k, v in (("population", population), ("generations", generations),
                                      ("crossover_rate", crossover_rate), ("mutation_rate", mutation_rate),
                                      ("stagnation", stagnation)) if v is not None}
    names = _parse_algorithms(algorithms)
    if not names and allocation_path is None:
        names = list(MAIN_ALLOCATORS)
    try:
        work = load_workload(workload)
        scenario = load_scenario(scenario_path or default_scenario_path())
        problem = Problem(work, scenario)
        allocators = []
        if allocation_path is not None:
            allocators.append(GivenAllocation(read_allocation(allocation_path, problem)))
        for name in names:
            settings = dict(scenario.settings.get(name, {}))
            if name == "gapa":
                settings.update(ga_overrides)
            try:
                allocators.append(get_allocator(name, settings))
            except (TypeError, ValueError) as exc:
                raise InputError(f"settings of {name}: {exc}", scenario.source) from None
        err = Console(stderr=True, highlight=False)
        show_progress = not (quiet or as_json) and err.is_terminal
        lower = lower_bound(problem)
        results = []
        for allocator in allocators:
            with ProgressReporter(err, allocator.name, enabled=show_progress) as progress:
                limits = Limits(time_limit_s=time_limit, quiet=not show_progress, progress=progress.update)
                try:
                    results.append(run_allocator(problem, allocator, seed=seed, limits=limits))
                except InfeasibleAllocation as exc:
                    if allocator.name == "given":
                        raise InputError(f"the allocation is infeasible: {exc}", allocation_path) from None
                    raise
        if out_dir is not None:
            try:
                write_results(out_dir, problem, results, lower)
            except OSError as exc:
                raise InputError(f"cannot write results: {exc.strerror}", out_dir) from None
    except InputError as exc:
        _fail(str(exc))
        return
    console = Console()
    if as_json:
        click.echo(json.dumps(summaries(problem, results, lower), indent=2))
    else:
        _render_table(console, results, problem, lower)
        if out_dir is not None:
            console.print(f"results written to {out_dir}/")
    any_rejected = False
    for r in results:
        rejected = problem.workload.vm_ids[r.allocation < 0].tolist()
        if rejected:
            any_rejected = True
            shown = ", ".join(rejected[:10]) + (f" and {len(rejected) - 10} more" if len(rejected) > 10 else "")
            err.print(f"[yellow]warning:[/] {r.algorithm} rejected {len(rejected)} VM(s) that no host "
                      f"could hold: {escape(shown)}", markup=True, soft_wrap=True)
    if strict and any_rejected:
        sys.exit(EXIT_REJECTED)


@main.command()
def algorithms() -> None:
    """List the allocators."""
    for name, cls in ALLOCATORS.items():
        tag = " (stochastic)" if cls.stochastic else ""
        click.echo(f"{name:10s} {cls.summary}{tag}")


@main.command("power-models")
def power_models() -> None:
    """List the power models and the built-in SPECpower servers."""
    click.echo("models: " + ", ".join(known_models()))
    click.echo("specpower servers:")
    for key, s in specpower_servers().items():
        click.echo(f"  {key:28s} {s['name']}, {s['cpu']}: {s['watts'][0]:g}–{s['watts'][-1]:g} W")


if __name__ == "__main__":  # pragma: no cover
    main()
