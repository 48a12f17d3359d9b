"""A sweep's store as tables (pandas) and a figure: ``gapa sweep FILE --report``.

* ``DIR/summary.csv`` — per (workload, scenario, power, algorithm): runs, failed, mean
  and standard deviation of energy (kWh), mean host on-time (h);
* ``DIR/savings.csv`` — per (workload, scenario, power, algorithm): the saving against
  the baseline (BFD when the grid has it, else its first algorithm) over seeds: mean,
  standard deviation, worst, best, with the baseline's energy taken from the same
  workload, scenario and power variation;
* ``DIR/figures/saving.png`` — saving against the swept parameter, spread over seeds;
* ``DIR/report.md`` — both tables and the figure.

Only rows of the sweep's current grid count (a store may hold runs of an older
version of the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

import gapa
from gapa.sweep.spec import Sweep
from gapa.sweep.store import ResultStore

GROUP = ["workload", "scenario", "power", "algorithm"]


def _frame(sweep: Sweep, store: ResultStore) -> pd.DataFrame:
    """The store's rows of the sweep's current grid, labelled by the sweep file (not by what the
    store recorded), in the file's order."""
    df = store.frame().drop(columns=["workload", "scenario", "power", "algorithm"])
    labels = pd.DataFrame([{"run_id": r.run_id, "order": i, **r.labels()} for i, r in enumerate(sweep.runs)])
    df = labels.merge(df, on="run_id", how="inner")
    return df.sort_values("order").drop(columns=["order"])


def summary_table(sweep: Sweep, store: ResultStore) -> pd.DataFrame:
    """Energy, on-time and rejected VMs per grid cell (ok runs), with run and failure counts."""
    df = _frame(sweep, store)
    ok = df[df["status"] == "ok"]
    out = ok.groupby(GROUP, sort=False).agg(runs=("run_id", "size"), energy_kwh_mean=("energy_kwh", "mean"),
                                            energy_kwh_std=("energy_kwh", "std"),
                                            host_on_h_mean=("host_on_s", lambda s: s.mean() / 3600),
                                            rejected_mean=("rejected", "mean"))
    failed = df[df["status"] != "ok"].groupby(GROUP, sort=False).size().rename("failed")
    out = out.join(failed, how="outer").fillna({"failed": 0, "runs": 0})
    out["runs"] = out["runs"].astype(int)
    out["failed"] = out["failed"].astype(int)
    return out.reset_index()


def baseline_of(sweep: Sweep) -> str:
    """The algorithm savings are measured against: BFD when the grid has it."""
    algorithms = sweep.axes["algorithm"]
    return "bfd" if "bfd" in algorithms else algorithms[0]


def savings_table(sweep: Sweep, store: ResultStore) -> pd.DataFrame:
    """Per grid cell of a non-baseline algorithm: the saving against the baseline over seeds.

    The baseline is the same workload, scenario and power variation; a stochastic baseline is
    paired seed by seed (else its one run serves every seed).  A cell whose baseline did not
    finish keeps its row with no saving.  ``rejected`` and ``baseline_rejected`` are the mean
    rejected VMs: a saving between runs that place different VMs compares different work.
    """
    df = _frame(sweep, store)
    ok = df[df["status"] == "ok"]
    base_name = baseline_of(sweep)
    cell = ["workload", "scenario", "power"]
    base = ok[ok["algorithm"] == base_name]
    rest = ok[ok["algorithm"] != base_name]
    if base["seed"].nunique() > 1:  # stochastic baseline: pair seed by seed
        pair = base.set_index([*cell, "seed"])[["energy_j", "rejected"]]
        rest = rest.join(pair.rename(columns={"energy_j": "baseline_j", "rejected": "baseline_rejected"}),
                         on=[*cell, "seed"])
    else:
        single = base.groupby(cell, sort=False)[["energy_j", "rejected"]].mean()
        rest = rest.join(single.rename(columns={"energy_j": "baseline_j", "rejected": "baseline_rejected"}), on=cell)
    rest = rest.assign(saving=1 - rest["energy_j"] / rest["baseline_j"].where(rest["baseline_j"] > 0))
    out = rest.groupby(GROUP, sort=False).agg(seeds=("seed", "size"), saving_mean=("saving", "mean"),
                                              saving_std=("saving", "std"), saving_worst=("saving", "min"),
                                              saving_best=("saving", "max"), rejected=("rejected", "mean"),
                                              baseline_rejected=("baseline_rejected", "mean"),
                                              idle_share=("idle_share", "first"))
    return out.reset_index()


def swept_axis(sweep: Sweep) -> str:
    """The axis the figure puts on x: the power axis if it varies, else the first that does."""
    for axis in ("power", "workload", "scenario"):
        if len(sweep.axes[axis]) > 1:
            return axis
    return "power"


def _markdown(df: pd.DataFrame, percent: tuple[str, ...] = ()) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c])
                                                           else ":---" for c in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("–" if pd.isna(v) else (f"{100 * v:+.2f} %" if c in percent else f"{v:,.3f}"))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_sweep_report(sweep: Sweep, store: ResultStore, out_dir: str | Path, regenerate: str = "") -> Path:
    """Write the CSVs, the figure and report.md; return the report's path."""
    from gapa import plots  # matplotlib only when figures are written

    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    summary = summary_table(sweep, store)
    savings = savings_table(sweep, store)
    summary.to_csv(out / "summary.csv", index=False)
    savings.to_csv(out / "savings.csv", index=False)
    axis = swept_axis(sweep)
    base = baseline_of(sweep)
    fig = None
    if len(savings):
        fig = plots.sweep_saving_figure(savings, axis, sweep.axes[axis], base, out / "figures" / "saving.png",
                                        sweep.description or sweep.source.name)
    df = _frame(sweep, store)
    n_ok = int((df["status"] == "ok").sum())
    n_failed = int((df["status"] != "ok").sum())
    versions = sorted(set(df["gapa_version"].dropna()))
    lines = [f"# gapa sweep: {sweep.source.name}", ""]
    if sweep.description:
        lines += [sweep.description, ""]
    lines += [f"- grid: {len(sweep.runs)} runs over " + ", ".join(f"{k} ({len(v)})" for k, v in sweep.axes.items()),
              f"- in the store: {n_ok} finished, {n_failed} failed, {len(sweep.runs) - n_ok - n_failed} not run",
              (f"- gapa {', '.join(versions) or gapa.__version__}; each run's seed is in `summary.csv`'s rows "
              "and in the store")]
    if regenerate:
        lines += ["", "Regenerate with:", "", "```sh", regenerate, "```"]
    shown = savings.drop(columns=["idle_share"]) if "idle_share" in savings else savings
    lines += ["", f"## Saving against {base} (over seeds)", "",
              _markdown(shown, percent=("saving_mean", "saving_std", "saving_worst", "saving_best")),
              "", "## Energy per grid cell", "", _markdown(summary)]
    if fig is not None:
        lines += ["", "## Figure", "", f"![saving]({Path(os.path.relpath(fig, out)).as_posix()})", "",
                  (f"Saving against {base} for each value of the {axis} axis: the mean over seeds, a bar from the "
                  "worst to the best seed.")]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
