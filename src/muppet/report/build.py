"""The report of one sweep directory: read, aggregate, then write ``report.md``, ``report.json``
and the plots."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from muppet.errors import MuppetError
from muppet.files import write_text_atomic
from muppet.report import aggregate as agg
from muppet.report.format import UNITS
from muppet.report.read import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ModelInfo,
    Results,
    RunLog,
    assign_labels,
    discover_runs,
    model_info,
    read_results,
    read_sweep_config,
)


@dataclass
class Grid:
    """What a sweep covers: from sweep.yaml, extended by the values present in results.csv."""

    config: dict[str, Any]
    models: list[str]
    tasks: list[str]
    fractions: list[float]
    seeds: list[int]


@dataclass
class Gaps:
    """What results.csv lacks of the grid, and the rows of it that hold no result."""

    missing: list[dict[str, Any]]  # (model, task, fraction, seed) runs of the grid without a row
    incomplete: list[dict[str, Any]]  # runs with rows but without a finite headline metric on a split
    without_value: list[dict[str, Any]]  # rows without a finite value, with their line in results.csv


@dataclass
class Report:
    sweep_dir: Path
    out_dir: Path
    split: str
    grid: Grid
    results: Results
    models: list[ModelInfo]
    baseline: str | None
    metrics: dict[str, str]  # task -> headline metric
    units: dict[str, str]  # task -> unit of its headline metric, as its family declares it
    cells: list[agg.Cell]
    gains: list[agg.Gain]
    gaps: Gaps
    plot_splits: dict[str, str | None]
    scaling: list[dict[str, Any]]
    runs: list[RunLog]
    plots: dict[str, str] = field(default_factory=dict)  # kind or kind:task -> file name

    @cached_property
    def wall(self) -> dict[str, dict[str, float]]:
        return agg.wall_time(self.results.rows)

    @cached_property
    def stopping(self) -> dict[str, Any]:
        return agg.stopping(self.results.rows)

    @cached_property
    def n_train(self) -> dict[tuple[str, float], tuple[int, int]]:
        return agg.n_train_table(self.results.rows)

    @property
    def scales(self) -> dict[str, float]:
        return {task: UNITS[unit][0] for task, unit in self.units.items()}

    def unit_label(self, task: str) -> str:
        return UNITS[self.units[task]][1]

    def info(self, model: str) -> ModelInfo:
        return next(i for i in self.models if i.model == model)

    def task_n_train(self, task: str) -> dict[float, tuple[int, int]]:
        return {f: v for (t, f), v in self.n_train.items() if t == task}


def _resolve_baseline(requested: str | None, models: Sequence[ModelInfo]) -> str | None:
    if not models:
        return None
    if requested is None:
        return models[0].model
    for info in models:
        if requested in (info.model, info.label):
            return info.model
    raise MuppetError(f"baseline {requested!r} is not one of the swept models: "
                      f"{', '.join(i.model for i in models)}")


def _read(sweep_dir: Path) -> tuple[Grid, Results]:
    config = read_sweep_config(sweep_dir)
    csv_path = sweep_dir / "results.csv"
    if csv_path.is_file() or not config:
        results = read_results(csv_path)
    else:  # the sweep has not written its first cell yet
        empty = pd.DataFrame(columns=[*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "line"])
        results = Results(csv_path, empty, empty)
    every = results.every
    grid = Grid(
        config=config,
        models=agg.ordered([*config.get("models", []), *every["model"]]),
        tasks=agg.ordered([*config.get("tasks", []), *every["task"]]),
        fractions=sorted(set(config.get("fractions", [])) | set(every["fraction"])),
        seeds=sorted(set(config.get("seeds", [])) | set(every["seed"])),
    )
    return grid, results  # never empty: sweep.yaml's schema needs a cell, results.csv a row


def _gaps(grid: Grid, results: Results, metrics: dict[str, str]) -> Gaps:
    return Gaps(
        missing=agg.missing_cells(results.every, grid.models, grid.tasks, grid.fractions, grid.seeds),
        incomplete=agg.incomplete_cells(results.rows, results.without_value, metrics),
        without_value=results.without_value.to_dict("records"),
    )


def build_report(sweep_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                 run_dirs: Sequence[str | os.PathLike[str]] = (), baseline: str | None = None,
                 split: str = "dev") -> Report:
    """Read a sweep directory (and run directories) and compute everything the report shows."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise MuppetError(f"sweep directory {sweep_dir} does not exist")
    grid, results = _read(sweep_dir)
    infos = [model_info(m, sweep_dir, grid.config.get("paths", {}).get(m)) for m in grid.models]
    assign_labels(infos)
    base = _resolve_baseline(baseline or grid.config.get("baseline"), infos)
    present = results.every.groupby("task", sort=False)["metric"].agg(list).to_dict()
    metrics = {t: agg.headline_metric(t, present.get(t, [])) for t in grid.tasks}
    cells = agg.aggregate(results.rows, metrics)
    plot_splits = {t: agg.plot_split(cells, t, split) for t in grid.tasks}
    return Report(
        sweep_dir=sweep_dir, out_dir=Path(out_dir) if out_dir else sweep_dir, split=split, grid=grid,
        results=results, models=infos, baseline=base, metrics=metrics,
        units={t: agg.task_unit(t, metrics[t]) for t in grid.tasks}, cells=cells,
        gains=agg.compute_gains(cells, base) if base else [], gaps=_gaps(grid, results, metrics),
        plot_splits=plot_splits, scaling=agg.task_count_scaling(cells, {i.model: i for i in infos}, plot_splits),
        runs=discover_runs(infos, run_dirs),
    )


def report_json(report: Report) -> dict[str, Any]:
    return {
        "sweep_dir": str(report.sweep_dir), "split": report.split, "baseline": report.baseline,
        "models": [{**asdict(i), "task_count": i.task_count} for i in report.models],
        "tasks": [{"task": t, "metric": report.metrics[t], "display_scale": report.scales[t],
                   "plot_split": report.plot_splits[t]} for t in report.grid.tasks],
        "fractions": report.grid.fractions, "seeds": report.grid.seeds,
        "n_train": [{"task": t, "fraction": f, "min": lo, "max": hi} for (t, f), (lo, hi) in report.n_train.items()],
        "cells": [c.to_json() for c in report.cells],
        "gains": [g.to_json() for g in report.gains],
        "missing": report.gaps.missing, "incomplete": report.gaps.incomplete,
        "rows_without_value": len(report.gaps.without_value), "without_value": report.gaps.without_value,
        "task_count_scaling": report.scaling,
        "runs": [agg.run_summary(r) for r in report.runs],
        "stopping": report.stopping,
        "wall_time": report.wall,
        "plots": report.plots,
    }


def write_report(sweep_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                 run_dirs: Sequence[str | os.PathLike[str]] = (), baseline: str | None = None,
                 split: str = "dev") -> Report:
    """Build the report and write report.md, report.json and the plots into ``out_dir`` (default: the sweep)."""
    from muppet.report.markdown import render_markdown
    from muppet.report.plots import write_plots

    report = build_report(sweep_dir, out_dir, run_dirs, baseline, split)
    try:
        report.out_dir.mkdir(parents=True, exist_ok=True)
        report.plots = write_plots(report)
        for name, text in (("report.md", render_markdown(report)),
                           ("report.json", json.dumps(report_json(report), indent=1))):
            # complete or absent: a study's summary reads report.json back, and the study's
            # processes each rewrite the report after their cells
            write_text_atomic(report.out_dir / name, text.rstrip("\n") + "\n")
    except OSError as exc:
        raise MuppetError(f"cannot write the report into {report.out_dir} ({exc.strerror or exc})") from None
    return report
