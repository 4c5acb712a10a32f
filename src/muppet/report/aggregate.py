"""From the tidy rows of ``results.csv`` to what the report shows: the headline metric of each
(model, task, split, fraction) over seeds, gains paired by seed, the grid's missing runs, wall
time, training-set sizes and task-count scaling; and each metric's unit, as its family declares it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from muppet.errors import MuppetError
from muppet.report.format import UNITS
from muppet.report.read import ModelInfo, RunLog

SPLITS = ("dev", "test")
# Fallback order for tasks the catalogue does not know (user-defined tasks).
FALLBACK_METRICS = ("accuracy", "f1", "pearson", "rougeL")
RUN = ["model", "task", "fraction", "seed"]
SMOOTHING_WINDOW = 5


@dataclass
class Cell:
    """The headline metric of one (model, task, split, fraction) over seeds."""

    model: str
    task: str
    split: str
    metric: str
    fraction: float
    n_train: int | None
    values: dict[int, float]  # seed -> value

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.values.values())))

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1) over seeds; None with fewer than two seeds."""
        return float(np.std(list(self.values.values()), ddof=1)) if self.n >= 2 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "task": self.task, "split": self.split, "metric": self.metric,
            "fraction": self.fraction, "n_train": self.n_train, "n": self.n, "mean": self.mean, "std": self.std,
            "values": {str(seed): v for seed, v in sorted(self.values.items())},
        }


@dataclass
class Gain:
    """A model minus the baseline on one (task, split, fraction).

    Paired over the seeds both have (same seed = same data subset and initialisation of the
    head): ``mean`` and ``std`` are those of the per-seed differences, ``wins`` the number of
    seeds where the model scored higher. Without a common seed, ``mean`` is the difference of
    the two means and ``paired`` is False.
    """

    model: str
    baseline: str
    task: str
    split: str
    metric: str
    fraction: float
    mean: float
    std: float | None
    n: int
    wins: int
    paired: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ordered(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


# --------------------------------------------------------------------------------------------
# Metrics and their units


def _task_family(task: str) -> tuple[str, str] | None:
    """(family, headline metric) of a catalogue task; None for a task the catalogue does not know."""
    from muppet.families import get_family
    from muppet.tasks.spec import get_task

    try:
        spec = get_task(task)
        return spec.family, get_family(spec.family).metric_name(spec)
    except MuppetError:
        return None


def headline_metric(task: str, metrics_present: Iterable[str]) -> str:
    """The task's headline metric from the catalogue; for unknown tasks the first present by preference."""
    present = ordered(metrics_present)
    known = _task_family(task)
    metric = known[1] if known else ""
    if metric and (metric in present or not present):
        return metric
    for candidate in FALLBACK_METRICS:
        if candidate in present:
            return candidate
    return present[0] if present else metric


def metric_unit(metric: str, family: str | None = None) -> str:
    """The unit a family declares for ``metric`` (``Family.metric_units``). Without a family (a
    task the catalogue does not know), the unit every family reporting that metric agrees on;
    "as reported" where none declares it, so that a value is never rescaled by a guess."""
    from muppet.families import all_families, get_family

    if family is not None:
        try:
            declared = get_family(family).metric_units
        except MuppetError:
            declared = {}
        if metric in declared:
            return declared[metric]
        # Results written before regression had a family of its own name STS-B "classification"
        # with "pearson": the families that do report the metric decide.
    units = {f.metric_units[metric] for f in all_families() if metric in f.metric_units}
    return units.pop() if len(units) == 1 else "as reported"


def task_unit(task: str, metric: str) -> str:
    known = _task_family(task)
    return metric_unit(metric, known[0] if known else None)


def metric_scale(metric: str, family: str | None = None) -> float:
    """Factor to show a metric in points (0..100): 100 for fractions and correlations, 1 for percentages."""
    return UNITS[metric_unit(metric, family)][0]


# --------------------------------------------------------------------------------------------
# Cells and gains


def aggregate(rows: pd.DataFrame, metrics: Mapping[str, str]) -> list[Cell]:
    """One cell per (model, task, split, fraction) with the headline metric's value per seed."""
    headline = rows[rows["metric"] == rows["task"].map(metrics)]
    cells = []
    for (model, task, split, fraction), group in headline.groupby(["model", "task", "split", "fraction"], sort=False):
        n_train = next((n for n in group["n_train"] if n is not None), None)
        cells.append(Cell(model, task, split, group["metric"].iat[0], fraction, n_train,
                          dict(zip(group["seed"], group["value"]))))
    return cells


def compute_gains(cells: Iterable[Cell], baseline: str) -> list[Gain]:
    """Every other model against the baseline, per (task, split, fraction)."""
    cells = list(cells)
    base = {(c.task, c.split, c.fraction): c for c in cells if c.model == baseline}
    gains = []
    for c in cells:
        b = base.get((c.task, c.split, c.fraction))
        if c.model == baseline or b is None:
            continue
        common = sorted(set(c.values) & set(b.values))
        if common:
            diffs = np.array([c.values[s] - b.values[s] for s in common])
            std = float(np.std(diffs, ddof=1)) if len(diffs) >= 2 else None
            gains.append(Gain(c.model, baseline, c.task, c.split, c.metric, c.fraction, float(diffs.mean()),
                              std, len(common), int((diffs > 0).sum()), True))
        else:
            gains.append(Gain(c.model, baseline, c.task, c.split, c.metric, c.fraction, c.mean - b.mean,
                              None, 0, 0, False))
    return gains


# --------------------------------------------------------------------------------------------
# What is missing


def missing_cells(rows: pd.DataFrame, models: Sequence[str], tasks: Sequence[str],
                  fractions: Sequence[float], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """The (model, task, fraction, seed) combinations of the grid with no row at all."""
    present = set(zip(*(rows[c] for c in RUN)))
    return [
        {"model": m, "task": t, "fraction": f, "seed": s}
        for m in models for t in tasks for f in fractions for s in seeds
        if (m, t, f, s) not in present
    ]


def incomplete_cells(rows: pd.DataFrame, without_value: pd.DataFrame, metrics: Mapping[str, str]) -> list[dict[str, Any]]:
    """Runs that have rows but lack a finite headline metric on a split the task has elsewhere."""
    every = rows.assign(finite=True)
    if len(without_value):
        every = pd.concat([every, without_value.assign(finite=False)])
    task_splits = every.groupby("task", sort=False)["split"].agg(set).to_dict()
    good = every["finite"] & (every["metric"] == every["task"].map(metrics))
    have = every["split"].where(good).groupby([every[c] for c in RUN], sort=False).agg(lambda s: set(s.dropna()))
    out = []
    for (m, t, f, s), splits in have.items():
        lacking = sorted(task_splits[t] - splits)
        if lacking:
            out.append({"model": m, "task": t, "fraction": f, "seed": s, "splits": lacking})
    return out


def stopping(rows: pd.DataFrame) -> dict[str, Any]:
    """How the cells' fine-tunes ended: how many early stopping ended, how many it never ran in
    (off, or a results.csv older than the column), and the cells that ran to their epoch or
    step budget first, whose best score may still have been rising."""
    cells = rows.drop_duplicates(RUN)
    flags = cells["stopped_early"]
    budget = cells[flags.map(lambda v: v is False)]
    return {"early": int(flags.map(lambda v: v is True).sum()), "unknown": int(flags.isna().sum()),
            "budget": [{"model": m, "task": t, "fraction": f, "seed": s} for m, t, f, s in zip(*(budget[c] for c in RUN))]}


def wall_time(rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Seconds per model (and run count): a run's seconds repeat on each of its metric rows, so count once."""
    timed = rows[rows["seconds"].notna()]
    per_run = timed.groupby(RUN, sort=False)["seconds"].agg(lambda s: max(0.0, *s))
    out: dict[str, dict[str, float]] = {}
    for (model, *_), seconds in per_run.items():
        entry = out.setdefault(model, {"seconds": 0.0, "runs": 0})
        entry["seconds"] += seconds
        entry["runs"] += 1
    return out


def n_train_table(rows: pd.DataFrame) -> dict[tuple[str, float], tuple[int, int]]:
    """(task, fraction) -> (min, max) training examples seen in the rows."""
    counted = rows[rows["n_train"].notna()]
    spans = counted.groupby(["task", "fraction"], sort=False)["n_train"].agg(lambda s: (min(s), max(s)))
    return {key: (int(lo), int(hi)) for key, (lo, hi) in spans.items()}


# --------------------------------------------------------------------------------------------
# Plotted splits and task-count scaling


def plot_split(cells: Iterable[Cell], task: str, preferred: str) -> str | None:
    """The split plotted for a task: the preferred one when it has results, else any other."""
    splits = {c.split for c in cells if c.task == task}
    if preferred in splits:
        return preferred
    others = [s for s in SPLITS if s in splits] + sorted(splits - set(SPLITS))
    return others[0] if others else None


def scaling_budget(infos: Iterable[ModelInfo]) -> int | None:
    """The number of updates most pre-finetuned models share (ties: the smaller), so that a
    task-count curve does not mix a longer run into the average of its task count."""
    counts = Counter(i.steps for i in {i.model: i for i in infos if i.task_count}.values())
    if not counts:
        return None
    return min(counts, key=lambda steps: (-counts[steps], steps if steps is not None else -1))


def _scaling_groups(cells: list[Cell], infos: Mapping[str, ModelInfo],
                    splits: Mapping[str, str | None]) -> dict[tuple[str, float], dict[int, list[Cell]]]:
    budget = scaling_budget(infos[c.model] for c in cells if c.model in infos)
    grouped: dict[tuple[str, float], dict[int, list[Cell]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        if c.split == splits.get(c.task) and c.model in infos:
            info = infos[c.model]
            if info.task_count and info.steps != budget:
                continue
            grouped[(c.task, c.fraction)][info.task_count].append(c)
    return grouped


def task_count_scaling(cells: Iterable[Cell], infos: Mapping[str, ModelInfo],
                       splits: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Headline metric vs number of pre-finetuning tasks, per (task, fraction), averaging models with equal counts.

    Task counts are compared at one pre-finetuning budget: where the pre-finetuned models were
    trained for different numbers of updates, only those at the budget most of them share (see
    :func:`scaling_budget`) are drawn, with vanilla models as the 0-task point."""
    cells = list(cells)
    order = {task: i for i, task in enumerate(ordered(c.task for c in cells))}
    grouped = _scaling_groups(cells, infos, splits)
    out = []
    for (task, fraction), by_count in sorted(grouped.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        if len(by_count) < 2:
            continue
        # A seed spread is only meaningful for one model; averaging several models' spreads would not be one.
        points = [
            {"tasks": count, "mean": float(np.mean([c.mean for c in group])),
             "std": group[0].std if len(group) == 1 else None, "models": [c.model for c in group]}
            for count, group in sorted(by_count.items())
        ]
        out.append({"task": task, "fraction": fraction, "split": splits[task], "points": points})
    return out


# --------------------------------------------------------------------------------------------
# Pre-finetuning losses


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Centred mean over ``window`` points, narrower at the ends (no lag, no point lost)."""
    half = max(window, 1) // 2
    sums = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=float))])
    out = []
    for i in range(len(values)):
        lo, hi = max(0, i - half), min(len(values), i + half + 1)
        out.append(float((sums[hi] - sums[lo]) / (hi - lo)))
    return out


def run_summary(run: RunLog) -> dict[str, Any]:
    losses = [v for v in run.loss if v is not None]
    smooth = moving_average(losses, SMOOTHING_WINDOW)
    return {
        "path": run.path, "label": run.label, "tasks": sorted(run.task_steps),
        "logged_rows": len(run.steps), "last_step": run.steps[-1] if run.steps else None,
        "first_loss": smooth[0] if smooth else None, "last_loss": smooth[-1] if smooth else None,
        "dev_evaluations": len(run.dev), "last_dev": run.dev[-1] if run.dev else None,
    }
