"""The ``gapa`` command line: parse, call the library, render, map outcomes to exit codes.

Exit codes: 0 success; 1 rejected VMs under ``--strict``; 2 bad input (one
line on stderr naming the file, line and problem).
"""

from __future__ import annotations

import json
import math
import shlex
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import gapa
from gapa.allocation_file import read_allocation
from gapa.allocators import (
    ALLOCATORS,
    MAIN_ALLOCATORS,
    GivenAllocation,
    Limits,
    available_cores,
    get_allocator,
)
from gapa.bench import load_suite, run_suite, summarise
from gapa.bench_report import write_results as write_benchmark
from gapa.blocks import split_gap_s
from gapa.compare import compare as run_comparison
from gapa.errors import InfeasibleAllocation, InputError
from gapa.lower_bound import lower_bound
from gapa.outputs import summaries, write_comparison, write_results, write_simulation_report
from gapa.power import known_models, specpower_servers
from gapa.problem import Problem
from gapa.progress import ProgressReporter, RunsProgress, SuiteProgress
from gapa.readers import READERS, ReadSummary, read_trace
from gapa.run import RunResult, run_allocator
from gapa.scenario import load_scenario, settings_error
from gapa.tables import TextTable, benchmark_table, comparison_table, simulation_table
from gapa.workload import write_workload

DEFAULT_SCENARIO = Path("scenarios") / "lab.toml"
DEFAULT_GPU_SCENARIO = Path("scenarios") / "lab_gpu.toml"
EXIT_REJECTED = 1
EXIT_BAD_INPUT = 2


def default_scenario_path(default: Path = DEFAULT_SCENARIO) -> Path:
    """``scenarios/lab.toml`` (or ``default``) in the current directory, else the copy shipped in the package."""
    if default.is_file():
        return default
    from importlib import resources

    return Path(str(resources.files("gapa").joinpath(f"data/{default.name}")))


def _fail(message: str) -> None:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}", markup=True,
                                                 soft_wrap=True)
    sys.exit(EXIT_BAD_INPUT)


def _write_error(exc: OSError, out_dir: Path) -> InputError:
    """The error for results that could not be written under ``out_dir``."""
    if out_dir.exists() and not out_dir.is_dir():
        return InputError("--out must name a directory; this is a file", out_dir)
    return InputError(f"cannot write results: {exc.strerror}", out_dir)


def _parse_algorithms(values: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in ALLOCATORS:
                hint = " (replay a placement with --allocation FILE)" if name == "given" else ""
                _fail(f"unknown algorithm {name!r}; known: {', '.join(ALLOCATORS)}{hint}")
            if name not in names:
                names.append(name)
    return names


def _stdout() -> Console:
    """The console for results: the terminal's width, or wide enough for any table when
    stdout is a file or a pipe (rich would otherwise cut cells at 80 columns)."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _print_table(console: Console, table: TextTable) -> None:
    compact = {"pad_edge": False, "collapse_padding": True} if table.compact else {}
    rich_table = Table(box=box.SIMPLE_HEAD, title=escape(table.title), **compact)  # type: ignore[arg-type]
    for col, justify in table.columns:
        rich_table.add_column(escape(col), justify=justify, no_wrap=True,
                              min_width=max(len(line) for line in col.splitlines()))
    for row in table.rows:
        rich_table.add_row(*(escape(cell) for cell in row))
    console.print(rich_table)
    for note in table.notes:
        console.print(escape(note), highlight=False)


def _command_line(ctx: click.Context) -> str:
    """The command as it could be typed again: the arguments and the options given on the
    command line (repeated list options joined with commas)."""
    parts = ["gapa", ctx.info_name or ""]
    for param in ctx.command.params:
        name = param.name or ""
        value = ctx.params.get(name)
        if isinstance(param, click.Argument):
            parts.append(shlex.quote(str(value)))
        elif ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            flag = max(param.opts, key=len)
            if isinstance(param, click.Option) and param.is_flag:
                parts += [flag] if value else []
            elif isinstance(value, tuple):
                items = [item.strip() for v in value for item in str(v).split(",") if item.strip()]
                parts += [flag, shlex.quote(",".join(dict.fromkeys(items)))]
            else:
                parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def _gapa_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that override GAPA's settings (shared by simulate and compare)."""
    options = [
        click.option("--population", type=click.IntRange(min=2), default=None, help="GAPA: population size."),
        click.option("--generations", type=click.IntRange(min=0), default=None, help="GAPA: most generations."),
        click.option("--crossover-rate", type=click.FloatRange(0, 1), default=None,
                     help="GAPA: crossover probability."),
        click.option("--mutation-rate", type=click.FloatRange(0, 1), default=None,
                     help="GAPA: mutation probability."),
        click.option("--stagnation", type=click.IntRange(min=1), default=None,
                     help="GAPA: stop after this many generations without improvement."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _print_blocks(console: Console, problem: Problem, results: list[RunResult]) -> None:
    """One line: into how many independent blocks the allocators split the problem."""
    blocks = max((int(r.allocator.info.get("blocks", 1)) for r in results), default=1)
    if blocks > 1:
        gap = split_gap_s(problem)
        between = f"for at least {gap:g} s " if gap > 0 else ""
        console.print(f"allocated in {blocks:,} independent blocks (no VM runs {between}between them, "
                      "so every host is off)", highlight=False, soft_wrap=True)


def _parallel_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--workers and --scheduler: where a problem's independent blocks are allocated."""
    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Allocate independent blocks on this Dask cluster "
                                "(e.g. tcp://host:8786) instead of local worker processes.")(command)
    return click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                        help="Worker processes that allocate independent blocks at once "
                             "(and run GAPA's islands). Default: every core "
                             f"({available_cores()} here). Same allocation for any N "
                             "without a time limit.")(command)


_FORMAT_HELP = "; ".join(f"{f.name}: {f.summary}" for f in READERS.values())
_RAM_HELP = ("MB of RAM per core for VMs whose input gives no memory ("
             + ", ".join(f"{f.name}: default {f.ram_mb_default}" for f in READERS.values()
                         if f.ram_mb_default is not None) + "); other formats refuse it.")


def _format_options(command: Callable[..., Any], default: str | None = "gapa") -> Callable[..., Any]:
    """--format and --ram-mb (shared by simulate, compare and workload convert)."""
    command = click.option("--ram-mb", type=click.IntRange(min=0), default=None, metavar="MB",
                           help=_RAM_HELP)(command)
    if default is None:
        return click.option("--format", "fmt", type=click.Choice(list(READERS)), required=True,
                            help=f"Input format. {_FORMAT_HELP}.")(command)
    return click.option("--format", "fmt", type=click.Choice(list(READERS)), default=default, show_default=True,
                        help=f"Input format. {_FORMAT_HELP}.")(command)


def _format_options_required(command: Callable[..., Any]) -> Callable[..., Any]:
    return _format_options(command, default=None)


def _problem_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """WORKLOAD, --format, --ram-mb and --scenario (shared by simulate and compare)."""
    command = _format_options(command)
    command = click.option("--scenario", "scenario_path", type=click.Path(path_type=Path), default=None,
                           help="Fleet and power policy (TOML). Default: scenarios/lab.toml; with "
                                "--format tbpp, the instance's own fleet (n hosts of capacity cores, "
                                "linear 170-250 W), which --scenario replaces.")(command)
    return click.argument("workload", type=click.Path(path_type=Path))(command)


def _gapa_overrides(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _allocator_settings(problem: Problem, name: str, ga_overrides: dict[str, Any]) -> dict[str, Any]:
    """The scenario's table of allocator ``name``, with the command line's GAPA options on top."""
    return {**problem.scenario.settings.get(name, {}), **(ga_overrides if name == "gapa" else {})}


def _print_summary(console: Console, summary: ReadSummary) -> None:
    for line in summary.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _load_problem(workload: Path, scenario_path: Path | None, fmt: str = "gapa", ram_mb: int | None = None,
                  err: Console | None = None) -> Problem:
    """The workload read in ``fmt`` (its summary on ``err`` unless gapa's own CSV) and the scenario:
    ``scenario_path``, else the input's own fleet (tbpp), else the default."""
    trace = read_trace(workload, fmt, ram_mb)
    if err is not None and fmt != "gapa":
        _print_summary(err, trace.summary)
    if scenario_path is not None or trace.scenario is None:
        scenario = load_scenario(scenario_path or default_scenario_path())
    else:
        scenario = trace.scenario
    return Problem(trace.workload, scenario)


def _warn_rejected(err: Console, problem: Problem, results: list[RunResult], with_seed: bool = False) -> bool:
    """Warn on stderr about each run that rejected VMs; return whether any did."""
    any_rejected = False
    for r in results:
        rejected = problem.workload.vm_ids[r.allocation < 0].tolist()
        if rejected:
            any_rejected = True
            shown = ", ".join(rejected[:10]) + (f" and {len(rejected) - 10} more" if len(rejected) > 10 else "")
            seed = f" (seed {r.seed})" if with_seed else ""
            err.print(f"[yellow]warning:[/] {escape(r.algorithm)}{seed} rejected {len(rejected)} VM(s) "
                      f"that no host could hold: {escape(shown)}", markup=True, soft_wrap=True)
    return any_rejected


class _OneLineErrors(click.Group):
    """Click's group, with a bad option or argument reported as one ``error:`` line
    (exit 2, as for a bad file) instead of click's usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare ``gapa``: its help
            click.echo(exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            command = f"{exc.ctx.command_path} --help" if exc.ctx is not None else "gapa --help"
            _fail(f"{exc.format_message()} (see {command})")
        except (click.Abort, KeyboardInterrupt):
            Console(stderr=True, highlight=False).print("Aborted!", markup=False)
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(gapa.__version__, prog_name="gapa")
def main() -> None:
    """gapa: energy-aware VM allocation for the lab classes of a university private cloud."""


@main.command()
@_problem_options
@click.option("--algorithm", "-a", "algorithms", multiple=True, metavar="NAME[,NAME…]",
              help=f"Allocator(s) to run; repeatable. Default: {','.join(MAIN_ALLOCATORS)}.")
@click.option("--allocation", "allocation_path", type=click.Path(path_type=Path), default=None,
              help="Replay a placement (CSV vm_id,host) as algorithm 'given'.")
@click.option("--seed", type=int, default=0, show_default=True, help="The run's one seed.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget per allocator, seconds.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write summary.json, per-algorithm CSVs, figures and report.md here.")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary JSON on stdout.")
@click.option("--strict", is_flag=True, help="Exit with code 1 if any VM is rejected.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_parallel_options
@_gapa_options
@click.pass_context
def simulate(ctx: click.Context, workload: Path, scenario_path: Path | None, fmt: str, ram_mb: int | None,
             algorithms: tuple[str, ...],
             allocation_path: Path | None, seed: int, time_limit: float | None, out_dir: Path | None,
             as_json: bool, strict: bool, quiet: bool, workers: int | None, scheduler: str | None,
             population: int | None, generations: int | None,
             crossover_rate: float | None, mutation_rate: float | None, stagnation: int | None) -> None:
    """Place WORKLOAD's VMs on the fleet, simulate the day, report energy.

    GAPA's settings come from the scenario's [gapa] table; the GAPA options below override them.
    """
    ga_overrides = _gapa_overrides(population=population, generations=generations,
                                   crossover_rate=crossover_rate, mutation_rate=mutation_rate,
                                   stagnation=stagnation)
    names = _parse_algorithms(algorithms)
    if not names and allocation_path is None:
        names = list(MAIN_ALLOCATORS)
    err = Console(stderr=True, highlight=False)
    try:
        problem = _load_problem(workload, scenario_path, fmt, ram_mb, err)
        scenario = problem.scenario
        allocators = []
        if allocation_path is not None:
            allocators.append(GivenAllocation(read_allocation(allocation_path, problem)))
        for name in names:
            chosen = _allocator_settings(problem, name, ga_overrides)
            try:
                allocators.append(get_allocator(name, chosen))
            except (TypeError, ValueError) as exc:
                raise settings_error(scenario, name, chosen, exc) from None
        show_progress = not (quiet or as_json) and err.is_terminal
        lower = lower_bound(problem)
        results = []
        for allocator in allocators:
            with ProgressReporter(err, allocator.name, enabled=show_progress) as progress:
                limits = Limits(time_limit_s=time_limit, quiet=not show_progress, progress=progress.update,
                                processes=workers or available_cores(), scheduler=scheduler)
                try:
                    results.append(run_allocator(problem, allocator, seed=seed, limits=limits))
                except InfeasibleAllocation as exc:
                    if allocator.name == "given":
                        raise InputError(f"the allocation is infeasible: {exc}", allocation_path) from None
                    raise
        if out_dir is not None:
            try:
                write_results(out_dir, problem, results, lower)
                write_simulation_report(out_dir, problem, results, lower, _command_line(ctx))
            except OSError as exc:
                raise _write_error(exc, out_dir) from None
    except InputError as exc:
        _fail(str(exc))
        return
    console = _stdout()
    if as_json:
        click.echo(json.dumps(summaries(problem, results, lower), indent=2))
    else:
        _print_table(console, simulation_table(problem, results, lower))
        _print_blocks(console, problem, results)
        if out_dir is not None:
            console.print(f"results written to {escape(str(out_dir))}/", highlight=False)
    if _warn_rejected(err, problem, results) and strict:
        sys.exit(EXIT_REJECTED)


@main.command()
@_problem_options
@click.option("--algorithm", "-a", "algorithms", multiple=True, metavar="NAME[,NAME…]",
              help=f"Allocator(s) to compare; repeatable. Default: {','.join(MAIN_ALLOCATORS)}.")
@click.option("--seeds", "n_seeds", type=click.IntRange(min=1), required=True, metavar="N",
              help="Run each stochastic allocator with seeds 0…N−1 (deterministic ones run once).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget per run, seconds.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write runs.csv, summary.json, logbook.csv, figures and report.md here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_parallel_options
@_gapa_options
@click.pass_context
def compare(ctx: click.Context, workload: Path, scenario_path: Path | None, fmt: str, ram_mb: int | None,
            algorithms: tuple[str, ...],
            n_seeds: int, time_limit: float | None, out_dir: Path | None, quiet: bool,
            workers: int | None, scheduler: str | None, population: int | None, generations: int | None,
            crossover_rate: float | None, mutation_rate: float | None, stagnation: int | None) -> None:
    """Compare allocators on WORKLOAD over seeds 0…N−1: mean, spread, bound and saving vs BFD.

    GAPA's settings come from the scenario's [gapa] table; the GAPA options below override them.
    """
    ga_overrides = _gapa_overrides(population=population, generations=generations,
                                   crossover_rate=crossover_rate, mutation_rate=mutation_rate,
                                   stagnation=stagnation)
    names = _parse_algorithms(algorithms) or list(MAIN_ALLOCATORS)
    err = Console(stderr=True, highlight=False)
    try:
        problem = _load_problem(workload, scenario_path, fmt, ram_mb, err)
        settings = {name: _allocator_settings(problem, name, ga_overrides) for name in names}
        with RunsProgress(err, enabled=not quiet and err.is_terminal) as progress:
            comparison = run_comparison(problem, names, range(n_seeds), settings, time_limit, progress,
                                        processes=workers or available_cores(), scheduler=scheduler)
        if out_dir is not None:
            try:
                write_comparison(out_dir, comparison, _command_line(ctx))
            except OSError as exc:
                raise _write_error(exc, out_dir) from None
    except InputError as exc:
        _fail(str(exc))
        return
    console = _stdout()
    _print_table(console, comparison_table(problem, comparison.aggregates(), comparison.lower,
                                           comparison.seeds))
    if out_dir is not None:
        console.print(f"results written to {escape(str(out_dir))}/", highlight=False)
    _warn_rejected(err, problem, comparison.results, with_seed=True)


@main.group()
def workload() -> None:
    """Work with workload files: convert public traces to gapa's CSV."""


@workload.command()
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), required=True, metavar="OUT.csv",
              help="Where to write gapa's workload CSV (the format `gapa simulate` reads).")
@_format_options_required
def convert(input_path: Path, output: Path, fmt: str, ram_mb: int | None) -> None:
    """Convert IN (a trace in --format) to gapa's workload CSV; print what was read and skipped.

    A tbpp instance's fleet is not written: simulate the instance itself with --format tbpp to use it.
    """
    try:
        if output.resolve() == input_path.resolve():
            raise InputError("the output would overwrite the input", output)
        trace = read_trace(input_path, fmt, ram_mb)
        try:
            write_workload(trace.workload, output)
        except OSError as exc:
            raise InputError(f"cannot write the workload: {exc.strerror}", output) from None
    except InputError as exc:
        _fail(str(exc))
        return
    console = _stdout()
    _print_summary(console, trace.summary)
    if trace.scenario is not None:
        console.print(f"the fleet is not written; to simulate on it: gapa simulate "
                      f"{escape(shlex.quote(str(input_path)))} --format {fmt}", highlight=False, soft_wrap=True)
    console.print(f"wrote {trace.workload.n:,} VM(s) to {escape(str(output))}", highlight=False, soft_wrap=True)


@main.command()
@click.argument("suite_path", metavar="SUITE", type=click.Path(path_type=Path))
@click.option("--quick", is_flag=True, help="Only the first few instances of each set (the suite's 'quick').")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write results.csv, summary.csv, ratios.png and report.md here.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write the markdown page here instead of DIR/report.md (needs --out).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances run at once, in worker processes.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.pass_context
def bench(ctx: click.Context, suite_path: Path, quick: bool, out_dir: Path | None,
          report_path: Path | None, jobs: int, quiet: bool) -> None:
    """Run the allocators of a benchmark SUITE (TOML) over its instances; print one summary table.

    Per instance: the lower bound, each allocator's energy as a ratio to it, the exact
    solver's proven gap, the time per allocator. See benchmarks/suites/.
    """
    err = Console(stderr=True, highlight=False)
    t0 = time.perf_counter()
    try:
        if report_path is not None and out_dir is None:
            raise InputError("--report needs --out", report_path)
        suite = load_suite(suite_path)
        with SuiteProgress(err, enabled=not quiet and err.is_terminal) as progress:
            records = run_suite(suite, quick=quick, observer=progress.update, jobs=jobs)
        summary = summarise(records)
        written = None
        if out_dir is not None:
            try:
                written = write_benchmark(out_dir, suite, records, summary, _command_line(ctx),
                                        time.perf_counter() - t0, report_path)
            except OSError as exc:
                raise _write_error(exc, out_dir) from None
    except InputError as exc:
        _fail(str(exc))
        return
    console = _stdout()
    _print_table(console, benchmark_table(f"{suite_path.name}{' (quick)' if quick else ''}", summary))
    console.print(f"wall time {time.perf_counter() - t0:.0f} s", highlight=False)
    if written is not None:
        console.print(f"results written to {escape(str(out_dir))}/, report {escape(str(written))}", highlight=False)


@main.command()
@click.argument("workload", type=click.Path(path_type=Path))
@click.option("--jobs", "jobs_path", type=click.Path(path_type=Path), required=True,
              help="GPU jobs (CSV: job_id,template,release,deadline,gpus,params), e.g. workloads/gpu_jobs.csv.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path), default=None,
              help="Fleet with GPU hosts (TOML). Default: scenarios/lab_gpu.toml.")
@click.option("--policy", "policies", multiple=True, metavar="NAME[,NAME…]",
              help="GPU scheduling policies; repeatable. Default: asap,energy-aware. "
                   "Also: asap-capped, energy-aware-uncapped (each half of energy-aware alone).")
@click.option("--algorithm", "-a", "algorithm", default="bfd", show_default=True,
              help="Lab allocator: places the lab VMs first.")
@click.option("--seed", type=int, default=0, show_default=True, help="The run's one seed.")
@click.option("--iterations", type=click.IntRange(min=0), default=None,
              help="Rounds of the energy-aware search (default 500).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write summary.json, schedule.csv, figures and report.md here.")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.pass_context
def jobs(ctx: click.Context, workload: Path, jobs_path: Path, scenario_path: Path | None,
         policies: tuple[str, ...], algorithm: str, seed: int, iterations: int | None, out_dir: Path | None,
         as_json: bool, quiet: bool) -> None:
    """Schedule GPU jobs around WORKLOAD's lab VMs, per policy, and simulate both together.

    Prints per policy the total energy, the lab share (the lab VMs alone), the GPU share
    (the rest), makespan and deadlines met.
    """
    from gapa.jobs import POLICIES, load_jobs, run_jobs
    from gapa.jobs.outputs import jobs_summaries, write_jobs_results
    from gapa.jobs.profile import load_profile
    from gapa.tables import jobs_breakdown_table, jobs_table

    names = [n.strip() for v in policies for n in v.split(",") if n.strip()] or ["asap", "energy-aware"]
    names = list(dict.fromkeys(names))
    err = Console(stderr=True, highlight=False)
    try:
        for name in names:
            if name not in POLICIES:
                raise InputError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
        if algorithm not in ALLOCATORS:
            raise InputError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALLOCATORS)}")
        scenario_file = scenario_path or default_scenario_path(DEFAULT_GPU_SCENARIO)
        problem = _load_problem(workload, scenario_file)
        job_list = load_jobs(jobs_path)
        profile = load_profile(problem.scenario.gpu_jobs.profile)
        if not (problem.fleet.gpus > 0).any():
            raise InputError("the fleet has no GPU hosts (give a host group "
                             "gpus = { count, model, idle_w, max_w })", scenario_file)
        show = not (quiet or as_json) and err.is_terminal
        with ProgressReporter(err, algorithm, enabled=show) as progress:
            limits = Limits(quiet=not show, progress=progress.update, processes=available_cores())
            lab = run_allocator(problem, algorithm, seed=seed, limits=limits,
                                settings=problem.scenario.settings.get(algorithm, {}))
        if show:
            err.print(f"scheduling {len(job_list)} GPU jobs with {', '.join(names)} …", highlight=False)
        try:
            runs = run_jobs(problem, lab.allocation, job_list, names, profile, seed=seed, iterations=iterations)
        except ValueError as exc:
            raise InputError(str(exc), problem.scenario.source) from None
        if out_dir is not None:
            try:
                write_jobs_results(out_dir, runs, seed, algorithm, str(jobs_path), _command_line(ctx))
            except OSError as exc:
                raise _write_error(exc, out_dir) from None
    except InputError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(jobs_summaries(runs, seed, algorithm, str(jobs_path)), indent=2))
        return
    console = _stdout()
    _print_table(console, jobs_table(runs))
    _print_table(console, jobs_breakdown_table(runs))
    if out_dir is not None:
        console.print(f"results written to {escape(str(out_dir))}/", highlight=False)
    _warn_rejected(err, problem, [lab])
    for job, why in runs[0].schedule.rejected.items():  # the same jobs for every policy
        err.print(f"[yellow]warning:[/] job {escape(job_list[job].job_id)} ({escape(str(jobs_path))}) was rejected: "
                  f"{escape(why)}", markup=True, soft_wrap=True)


@main.command()
@click.argument("sweep_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on this existing Dask cluster. Default: a local cluster of worker processes.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Workers of the local cluster (default: one per core).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where the store and the report go. Default: sweeps/<FILE's name> in the current directory.")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
              help="The SQLite results store. Default: OUT/results.sqlite.")
@click.option("--report", "report_only", is_flag=True,
              help="Only turn the store into tables and a figure (OUT/report.md); run nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.pass_context
def sweep(ctx: click.Context, sweep_path: Path, scheduler: str | None, workers: int | None, out_dir: Path | None,
          store_path: Path | None, report_only: bool, quiet: bool) -> None:
    """Run the grid of a sweep FILE on Dask, writing each run to a SQLite store as it finishes.

    A rerun skips the runs already in the store (and retries failed ones); then the
    store is turned into OUT/report.md, summary.csv, savings.csv and a figure.
    """
    from gapa.sweep import ResultStore, load_sweep, local_cluster, run_sweep
    from gapa.sweep.report import savings_table, write_sweep_report

    err = Console(stderr=True, highlight=False)
    store_file = None
    try:
        spec = load_sweep(sweep_path)
        out = out_dir or Path("sweeps") / sweep_path.stem
        store_file = store_path or out / "results.sqlite"
        if report_only and not store_file.is_file():
            raise InputError("no results store to report on (run the sweep first, or give --out/--store)",
                             store_file)
        store = ResultStore(store_file)
    except InputError as exc:
        _fail(str(exc))
        return
    except (OSError, sqlite3.Error) as exc:
        _fail(f"{store_file}: cannot open the results store: {exc}")
        return
    with store:
        if not report_only:
            try:
                outcome = _run_sweep(spec, store, scheduler, workers, quiet, err, local_cluster, run_sweep)
            except InputError as exc:
                _fail(str(exc))
                return
            except KeyboardInterrupt:
                done = len(store.done_ids() & {r.run_id for r in spec.runs})
                err.print(f"interrupted: {done} of {len(spec.runs)} runs are in {store.path}; "
                          "run the same command again to finish the rest", highlight=False)
                sys.exit(130)
            err.print(f"{outcome.total} runs: {outcome.skipped} already in the store, {outcome.ok} finished, "
                      f"{outcome.failed} failed ({outcome.wall_s:.1f} s)", highlight=False)
        try:
            report = write_sweep_report(spec, store, out, _command_line(ctx).replace(" --report", "") + " --report")
        except OSError as exc:
            _fail(f"cannot write the report: {exc}")
            return
        savings = savings_table(spec, store)
    console = _stdout()
    if len(savings):
        shown = savings.drop(columns=["idle_share"]).copy()
        for col in ("saving_mean", "saving_std", "saving_worst", "saving_best"):
            shown[col] = shown[col].map(lambda v: "–" if math.isnan(v) else f"{100 * v:+.2f} %")
        console.print(shown.to_string(index=False), highlight=False, markup=False)
    console.print(f"store: {escape(str(store.path))}; report: {escape(str(report))}", highlight=False)


def _run_sweep(spec, store, scheduler, workers, quiet, err, local_cluster, run_sweep):
    """Connect to (or start) a Dask cluster, run the grid with a progress bar, close what was started."""
    from distributed import Client
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    show = not quiet and err.is_terminal
    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[state]}"),
                  TimeElapsedColumn(), console=err, disable=not show, transient=False) as bar:
        task = bar.add_task("sweep", total=None, state="starting")

        def progress(done: int, running: int, failed: int, total: int) -> None:
            bar.update(task, completed=done, total=total, state=f"running {running}, failed {failed}")

        if scheduler:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, ValueError) as exc:
                _fail(f"cannot reach the Dask scheduler at {scheduler}: {exc}")
            with client:
                return run_sweep(spec, store, client, progress)
        with local_cluster(workers) as cluster, Client(cluster) as client:
            return run_sweep(spec, store, client, progress)


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
