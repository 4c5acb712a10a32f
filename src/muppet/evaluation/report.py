"""``muppet report``: tables, gains and plots from a fine-tuning sweep's ``results.csv``.

Everything here is a pure function of the sweep directory (and optional pre-finetuning run
directories): read the tidy results, aggregate the headline metric over seeds, compare every
model with the baseline seed by seed, list the cells that are still missing, and write
``report.md``, ``report.json`` and PNG plots. No training code is imported; the task
catalogue is imported lazily, only to look up headline metrics.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from muppet.errors import MuppetError

REQUIRED_COLUMNS = ("model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds")
SPLITS = ("dev", "test")
# Metrics the evaluators already report on a 0..100 scale; the rest live in [0, 1] (or [-1, 1]).
PERCENT_METRICS = frozenset({"exact_match", "f1", "rouge1", "rouge2", "rougeL", "rougeLsum"})
# Shown with a % sign; correlations and ROUGE are shown as plain points (x100).
PERCENT_SIGN_METRICS = frozenset({"accuracy", "f1_macro", "exact_match", "f1"})
# Fallback order for tasks the catalogue does not know (user-defined tasks).
FALLBACK_METRICS = ("accuracy", "f1", "pearson", "rougeL")
SMOOTHING_WINDOW = 5
MAX_MISSING_ROWS = 200


class Result(NamedTuple):
    model: str
    task: str
    fraction: float
    n_train: int | None
    seed: int
    split: str
    metric: str
    value: float
    seconds: float | None


@dataclass
class ModelInfo:
    """A swept model: its name as given, a short label for tables and legends, and its pre-finetuning."""

    model: str
    label: str = ""
    path: str | None = None  # the local folder, when the model is one
    tasks: list[str] = field(default_factory=list)  # pre-finetuning tasks (empty: vanilla)
    steps: int | None = None
    base_model: str | None = None
    run_dir: str | None = None  # the pre-finetuning run it was exported from, if found

    @property
    def task_count(self) -> int:
        return len(self.tasks)


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


@dataclass
class RunLog:
    """A pre-finetuning run's metrics.jsonl, split into training and dev rows."""

    path: str
    label: str
    steps: list[int]
    loss: list[float | None]
    task_steps: dict[str, list[int]]
    task_scaled_loss: dict[str, list[float]]
    dev: list[dict[str, Any]]  # {"step": int, "dev": {task: {metric: value}}}

    def summary(self) -> dict[str, Any]:
        losses = [v for v in self.loss if v is not None]
        smooth = moving_average(losses, SMOOTHING_WINDOW)
        return {
            "path": self.path, "label": self.label, "tasks": sorted(self.task_steps),
            "logged_rows": len(self.steps), "last_step": self.steps[-1] if self.steps else None,
            "first_loss": smooth[0] if smooth else None, "last_loss": smooth[-1] if smooth else None,
            "dev_evaluations": len(self.dev), "last_dev": self.dev[-1] if self.dev else None,
        }


# --------------------------------------------------------------------------------------------
# Reading


def fraction_key(value: float | str) -> float:
    """Fractions come from CSV text and YAML numbers; rounding makes 0.1 and 0.1000000001 one key."""
    return round(float(value), 10)


def _float_or_none(text: str | None) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_results(path: str | os.PathLike[str]) -> tuple[list[Result], int]:
    """The rows of ``results.csv`` with a finite value, and the number of rows without one."""
    path = Path(path)
    if not path.is_file():
        raise MuppetError(f"no results table at {path} (a sweep writes results.csv into its directory)")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise MuppetError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
        rows, empty = [], 0
        for line, raw in enumerate(reader, start=2):
            value = _float_or_none(raw["value"])
            if value is None:  # a failed metric (NaN) or a cell still being written
                empty += 1
                continue
            try:
                fraction, seed = fraction_key(raw["fraction"]), int(float(raw["seed"]))
            except (TypeError, ValueError):
                raise MuppetError(f"{path}:{line}: fraction {raw['fraction']!r} / seed {raw['seed']!r} "
                                  "are not numbers") from None
            n_train = _float_or_none(raw["n_train"])
            rows.append(Result(
                model=raw["model"], task=raw["task"], fraction=fraction,
                n_train=int(n_train) if n_train is not None else None, seed=seed, split=raw["split"],
                metric=raw["metric"], value=value, seconds=_float_or_none(raw["seconds"]),
            ))
    return rows, empty


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, (str, Mapping)) else list(value)


def _names(value: Any) -> list[str]:
    """A config list of names; an entry may be a mapping with a ``name``/``model``/``path`` key."""
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, Mapping):
            item = item.get("name") or item.get("model") or item.get("path")
        if item is not None:
            out.append(str(item))
    return out


def read_sweep_config(sweep_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``sweep.yaml`` normalised to lists (models, tasks, fractions, seeds) and a baseline; {} when absent."""
    import yaml

    path = Path(sweep_dir) / "sweep.yaml"
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MuppetError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, Mapping):
        raise MuppetError(f"{path}: expected a mapping with models, tasks, fractions, seeds")
    seeds = raw.get("seeds")
    if isinstance(seeds, int):
        seeds = [seeds]
    try:
        return {
            "models": _names(raw.get("models")),
            "paths": {str(m["name"]): str(m["model"]) for m in _list(raw.get("models"))
                      if isinstance(m, Mapping) and m.get("name") and m.get("model")},
            "tasks": _names(raw.get("tasks")),
            "fractions": [fraction_key(f) for f in (raw.get("fractions") or [])],
            "seeds": [int(s) for s in (seeds or [])],
            "baseline": str(raw["baseline"]) if raw.get("baseline") is not None else None,
        }
    except (TypeError, ValueError) as exc:
        raise MuppetError(f"{path}: fractions must be numbers and seeds integers ({exc})") from None


def _ordered(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def headline_metric(task: str, metrics_present: Iterable[str]) -> str:
    """The task's headline metric from the catalogue; for unknown tasks the first present by preference."""
    present = _ordered(metrics_present)
    from muppet.families import get_family
    from muppet.tasks.spec import get_task

    try:
        spec = get_task(task)
        metric = get_family(spec.family).metric_name(spec)
    except MuppetError:
        metric = ""
    if metric and (metric in present or not present):
        return metric
    for candidate in FALLBACK_METRICS:
        if candidate in present:
            return candidate
    return present[0] if present else metric


def metric_scale(metric: str, values: Iterable[float] = ()) -> float:
    """Factor to show a metric in points (0..100): 100 for [0, 1] metrics, 1 for percent ones."""
    if metric in PERCENT_METRICS or any(abs(v) > 1.0 for v in values):
        return 1.0
    return 100.0


# --------------------------------------------------------------------------------------------
# Models, exports and runs


def _candidates(model: str, sweep_dir: Path) -> list[Path]:
    path = Path(model).expanduser()
    if path.is_absolute():
        return [path]
    return [Path.cwd() / path, sweep_dir / path, sweep_dir.parent / path]


def model_info(model: str, sweep_dir: str | os.PathLike[str], source: str | None = None) -> ModelInfo:
    """Where a model lives locally and, for a muppet export, its pre-finetuning tasks and steps.

    ``model`` is the name in the sweep; ``source`` the model it stands for, when another.
    """
    info = ModelInfo(model=model)
    for candidate in _candidates(source or model, Path(sweep_dir)):
        if candidate.is_dir():
            info.path = str(candidate.resolve())
            break
    if info.path is None:
        return info  # a hub id (or a folder that is gone): counted as vanilla
    folder = Path(info.path)
    manifest = folder / "muppet.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MuppetError(f"{manifest}: not valid JSON ({exc})") from None
        info.tasks = [str(t["name"]) if isinstance(t, Mapping) else str(t) for t in data.get("tasks") or []]
        info.steps = data.get("steps")
        info.base_model = data.get("base_model")
    # An export written by `muppet prefinetune` sits in <run>/export next to the run's log.
    if (folder.parent / "metrics.jsonl").is_file():
        info.run_dir = str(folder.parent)
    return info


def _short(name: str) -> str:
    parts = [p for p in re.split(r"[\\/]+", name.rstrip("/\\")) if p]
    if not parts:
        return name
    if parts[-1] in ("export", "final", "model") and len(parts) >= 2:
        return "/".join(parts[-2:])
    return parts[-1]


def assign_labels(infos: Sequence[ModelInfo]) -> None:
    """Short, unique labels: the last path component (two for ``<run>/export``), else the full name."""
    shorts = [_short(i.model) for i in infos]
    for info, short in zip(infos, shorts):
        info.label = short if shorts.count(short) == 1 else info.model


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Centred mean over ``window`` points, narrower at the ends (no lag, no point lost)."""
    half = max(window, 1) // 2
    sums = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=float))])
    out = []
    for i in range(len(values)):
        lo, hi = max(0, i - half), min(len(values), i + half + 1)
        out.append(float((sums[hi] - sums[lo]) / (hi - lo)))
    return out


def read_run(run_dir: str | os.PathLike[str], label: str | None = None) -> RunLog:
    """Training and dev rows of ``<run_dir>/metrics.jsonl``; rows are told apart by their keys."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.jsonl" if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise MuppetError(f"no metrics.jsonl in {run_dir} (pass a pre-finetuning output directory)")
    log = RunLog(path=str(path.parent), label=label or path.parent.name, steps=[], loss=[],
                 task_steps=defaultdict(list), task_scaled_loss=defaultdict(list), dev=[])
    lines = path.read_text(encoding="utf-8").splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if index == last:  # a run that is still writing: its last line may be cut off
                break
            raise MuppetError(f"{path}:{index + 1}: not a JSON row") from None
        if "dev" in row:
            log.dev.append({"step": row.get("step"), "dev": row["dev"]})
            continue
        if "loss" not in row or "step" not in row:
            continue
        log.steps.append(int(row["step"]))
        log.loss.append(_float_or_none(row["loss"]))
        for task, stats in (row.get("tasks") or {}).items():
            scaled = _float_or_none((stats or {}).get("scaled_loss", (stats or {}).get("loss")))
            if scaled is not None:
                log.task_steps[task].append(int(row["step"]))
                log.task_scaled_loss[task].append(scaled)
    log.task_steps, log.task_scaled_loss = dict(log.task_steps), dict(log.task_scaled_loss)
    return log


# --------------------------------------------------------------------------------------------
# Aggregation


def aggregate(rows: Iterable[Result], metrics: Mapping[str, str]) -> list[Cell]:
    """One cell per (model, task, split, fraction) with the headline metric's value per seed."""
    cells: dict[tuple[str, str, str, float], Cell] = {}
    for r in rows:
        if metrics.get(r.task) != r.metric:
            continue
        key = (r.model, r.task, r.split, r.fraction)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(r.model, r.task, r.split, r.metric, r.fraction, r.n_train, {})
        cell.values[r.seed] = r.value
        if cell.n_train is None:
            cell.n_train = r.n_train
    return list(cells.values())


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


def missing_cells(rows: Iterable[Result], models: Sequence[str], tasks: Sequence[str],
                  fractions: Sequence[float], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """The (model, task, fraction, seed) combinations of the grid with no row at all."""
    present = {(r.model, r.task, r.fraction, r.seed) for r in rows}
    return [
        {"model": m, "task": t, "fraction": f, "seed": s}
        for m in models for t in tasks for f in fractions for s in seeds
        if (m, t, f, s) not in present
    ]


def incomplete_cells(rows: Iterable[Result], metrics: Mapping[str, str]) -> list[dict[str, Any]]:
    """Runs that have rows but lack the headline metric on a split the task has elsewhere."""
    rows = list(rows)
    task_splits: dict[str, set[str]] = defaultdict(set)
    have: dict[tuple[str, str, float, int], set[str]] = defaultdict(set)
    for r in rows:
        task_splits[r.task].add(r.split)
        have.setdefault((r.model, r.task, r.fraction, r.seed), set())
        if r.metric == metrics.get(r.task):
            have[(r.model, r.task, r.fraction, r.seed)].add(r.split)
    out = []
    for (m, t, f, s), splits in have.items():
        lacking = sorted(task_splits[t] - splits)
        if lacking:
            out.append({"model": m, "task": t, "fraction": f, "seed": s, "splits": lacking})
    return out


def wall_time(rows: Iterable[Result]) -> dict[str, dict[str, float]]:
    """Seconds per model (and run count): a run's seconds repeat on each of its metric rows, so count once."""
    per_run: dict[tuple[str, str, float, int], float] = {}
    for r in rows:
        if r.seconds is not None:
            key = (r.model, r.task, r.fraction, r.seed)
            per_run[key] = max(per_run.get(key, 0.0), r.seconds)
    out: dict[str, dict[str, float]] = {}
    for (model, *_), seconds in per_run.items():
        entry = out.setdefault(model, {"seconds": 0.0, "runs": 0})
        entry["seconds"] += seconds
        entry["runs"] += 1
    return out


def n_train_table(rows: Iterable[Result]) -> dict[tuple[str, float], tuple[int, int]]:
    """(task, fraction) -> (min, max) training examples seen in the rows."""
    out: dict[tuple[str, float], tuple[int, int]] = {}
    for r in rows:
        if r.n_train is None:
            continue
        lo, hi = out.get((r.task, r.fraction), (r.n_train, r.n_train))
        out[(r.task, r.fraction)] = (min(lo, r.n_train), max(hi, r.n_train))
    return out


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


def task_count_scaling(cells: Iterable[Cell], infos: Mapping[str, ModelInfo],
                       splits: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Headline metric vs number of pre-finetuning tasks, per (task, fraction), averaging models with equal counts.

    Task counts are compared at one pre-finetuning budget: where the pre-finetuned models were
    trained for different numbers of updates, only those at the budget most of them share (see
    :func:`scaling_budget`) are drawn, with vanilla models as the 0-task point."""
    cells = list(cells)
    budget = scaling_budget(infos[c.model] for c in cells if c.model in infos)
    grouped: dict[tuple[str, float], dict[int, list[Cell]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        if c.split == splits.get(c.task) and c.model in infos:
            info = infos[c.model]
            if info.task_count and info.steps != budget:
                continue
            grouped[(c.task, c.fraction)][info.task_count].append(c)
    order = {task: i for i, task in enumerate(_ordered(c.task for c in cells))}
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
# Formatting


def fmt_fraction(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def fmt_points(value: float | None, scale: float, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * scale:+.2f}" if signed else f"{value * scale:.2f}"


def fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "task"


def _unit(metric: str, scale: float) -> str:
    if metric in PERCENT_SIGN_METRICS:
        return "%"
    return "×100" if scale == 100.0 else "points"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# --------------------------------------------------------------------------------------------
# Plots (matplotlib's object API: no pyplot state, no GUI backend)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _fraction_axis(ax: Any, fractions: Sequence[float], n_train: Mapping[float, tuple[int, int]]) -> None:
    from matplotlib.ticker import NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(list(fractions))
    labels = []
    for f in fractions:
        lo_hi = n_train.get(f)
        n = "" if lo_hi is None else f"\nn={lo_hi[0]:,}" if lo_hi[0] == lo_hi[1] else f"\nn={lo_hi[0]:,}–{lo_hi[1]:,}"
        labels.append(fmt_fraction(f) + n)
    ax.set_xticklabels(labels, fontsize=8)
    if len(fractions) == 1:
        ax.set_xlim(fractions[0] / 2, min(fractions[0] * 2, 2.0))
    else:
        ax.set_xlim(min(fractions) / 1.4, max(fractions) * 1.4)
    ax.set_xlabel("training data used (log scale)")
    ax.grid(True, alpha=0.3)


def _y_axis(ax: Any, label: str, metric: str) -> None:
    from matplotlib.ticker import PercentFormatter

    if metric in PERCENT_SIGN_METRICS:
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_ylabel(label)


def _legend_label(info: ModelInfo) -> str:
    if info.tasks:
        return f"{info.label} ({info.task_count} tasks)"
    return info.label if "vanilla" in info.label.lower() else f"{info.label} (vanilla)"


def _legend(ax: Any, count: int) -> None:
    if count > 6:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    else:
        ax.legend(fontsize=8, loc="best")


def plot_sample_efficiency(path: Path, task: str, metric: str, split: str, cells: Sequence[Cell],
                           models: Sequence[ModelInfo], baseline: str, scale: float,
                           n_train: Mapping[float, tuple[int, int]]) -> None:
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    fractions = sorted({c.fraction for c in cells})
    for i, info in enumerate(models):
        own = sorted((c for c in cells if c.model == info.model), key=lambda c: c.fraction)
        if not own:
            continue
        x = [c.fraction for c in own]
        y = np.array([c.mean * scale for c in own])
        sd = np.array([(c.std or 0.0) * scale for c in own])
        style = "--" if info.model == baseline else "-"
        label = _legend_label(info) + (" — baseline" if info.model == baseline else "")
        (line,) = ax.plot(x, y, style, marker="o", ms=4, color=f"C{i % 10}", label=label)
        ax.fill_between(x, y - sd, y + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    _fraction_axis(ax, fractions, n_train)
    unit = _unit(metric, scale)
    _y_axis(ax, f"{metric} ({unit})" if unit != "%" else metric, metric)
    ax.set_title(f"{task}: {metric} on {split} vs training data (mean ± std over seeds)", fontsize=10)
    _legend(ax, len(models))
    fig.savefig(path)


def plot_gains(path: Path, task: str, metric: str, split: str, gains: Sequence[Gain],
               models: Sequence[ModelInfo], baseline_label: str, scale: float,
               n_train: Mapping[float, tuple[int, int]]) -> None:
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    fractions = sorted({g.fraction for g in gains})
    ax.axhline(0.0, color="black", linewidth=0.8)
    for i, info in enumerate(models):
        own = sorted((g for g in gains if g.model == info.model), key=lambda g: g.fraction)
        if not own:
            continue
        x = [g.fraction for g in own]
        y = np.array([g.mean * scale for g in own])
        sd = np.array([(g.std or 0.0) * scale for g in own])
        (line,) = ax.plot(x, y, marker="o", ms=4, color=f"C{i % 10}", label=_legend_label(info))
        if len(x) == 1:  # a band over a single fraction has no width: draw the spread as a bar
            ax.errorbar(x, y, yerr=sd, color=line.get_color(), capsize=3, linewidth=1.0)
        else:
            ax.fill_between(x, y - sd, y + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    _fraction_axis(ax, fractions, n_train)
    ax.set_ylabel(f"Δ {metric} (points)")
    ax.set_title(f"{task}: gain over {baseline_label} on {split} (± std of per-seed differences)", fontsize=10)
    _legend(ax, len(models))
    fig.savefig(path)


def plot_gain_overview(path: Path, report: Report) -> Any:
    """Every task's gains over the baseline in one figure: a panel per task, a group of bars
    per model (one bar per fraction), the seed spread as error bars and the wins above them.

    The view for ablations, which compare many models at one fraction and would otherwise be
    one dot per model in each task's gain plot."""
    tasks = [t for t in report.tasks if any(g.task == t and g.split == report.plot_splits.get(t) for g in report.gains)]
    models = [i for i in report.models if i.model != report.baseline]
    fractions = sorted({g.fraction for g in report.gains})
    ncols = min(2, len(tasks))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(max(5.0, 1.1 * len(models) * max(1, len(fractions)) ** 0.5 + 2.0) * ncols, 3.6 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    width = 0.8 / len(fractions)
    for ax, task in zip(axes.flat, tasks):
        split, scale = report.plot_splits[task], report.scales[task]
        gains = {(g.model, g.fraction): g for g in report.gains if g.task == task and g.split == split}
        ax.axhline(0.0, color="black", linewidth=0.8)
        for j, fraction in enumerate(fractions):
            xs, ys, sds, wins = [], [], [], []
            for k, info in enumerate(models):
                gain = gains.get((info.model, fraction))
                if gain is None:
                    continue
                xs.append(k + (j - (len(fractions) - 1) / 2) * width)
                ys.append(gain.mean * scale)
                sds.append((gain.std or 0.0) * scale)
                wins.append(f"{gain.wins}/{gain.n}" if gain.paired else "")
            label = f"{fmt_fraction(fraction)} of data" if len(fractions) > 1 else None
            ax.bar(xs, ys, width * 0.9, yerr=sds, capsize=3, color=f"C{j % 10}", alpha=0.85, label=label,
                   error_kw={"linewidth": 0.9})
            for x, y, sd, won in zip(xs, ys, sds, wins):
                ax.annotate(won, (x, y + sd if y >= 0 else y - sd), xytext=(0, 2 if y >= 0 else -2),
                            textcoords="offset points", ha="center", va="bottom" if y >= 0 else "top", fontsize=7)
        ax.set_xticks(range(len(models)), [i.label for i in models], rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(f"Δ {report.metrics[task]} (points)")
        ax.set_title(f"{task} ({split})", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    what = f"at {fmt_fraction(fractions[0])} of the data" if len(fractions) == 1 else "per fraction of the data"
    fig.suptitle(f"Gain over {report.info(report.baseline).label} {what} "
                 "(mean ± std of per-seed differences; seeds won / paired)", fontsize=10)
    if len(fractions) > 1:
        fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=len(fractions),
                   fontsize=8, frameon=False)
    fig.savefig(path)
    return fig  # for the tests, which read the bars back


def plot_task_count_scaling(path: Path, scaling: Sequence[Mapping[str, Any]], metrics: Mapping[str, str],
                            scales: Mapping[str, float]) -> None:
    tasks = _ordered(s["task"] for s in scaling)
    ncols = min(3, len(tasks))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(4.2 * ncols + 0.8, 3.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        series = [s for s in scaling if s["task"] == task]
        counts: set[int] = set()
        for j, s in enumerate(sorted(series, key=lambda s: s["fraction"])):
            x = [p["tasks"] for p in s["points"]]
            y = np.array([p["mean"] * scales[task] for p in s["points"]])
            sd = np.array([(p["std"] or 0.0) * scales[task] for p in s["points"]])
            counts.update(x)
            color = f"C{j % 10}"
            ax.errorbar(x, y, yerr=sd, marker="o", ms=4, capsize=3, color=color,
                        label=f"{fmt_fraction(s['fraction'])} of data")
            # The vanilla level as a line, so that "hurts" and "helps" read at a glance.
            if x and x[0] == 0:
                ax.axhline(y[0], color=color, linestyle=":", linewidth=0.9)
        ax.set_xticks(sorted(counts))
        ax.set_xlabel("pre-finetuning tasks (0 = vanilla)")
        unit = _unit(metrics[task], scales[task])
        _y_axis(ax, f"{metrics[task]} ({unit})" if unit != "%" else metrics[task], metrics[task])
        ax.set_title(f"{task} ({series[0]['split']})", fontsize=10)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    # One legend for all panels (the fractions are shared), outside so it hides no line.
    handles: dict[str, Any] = {}
    for ax in list(axes.flat)[:len(tasks)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize=8, title="fine-tuning data",
               title_fontsize=8)
    fig.suptitle("Task-count scaling: fine-tuned score vs number of pre-finetuning tasks "
                 "(mean ± std over seeds; dotted: vanilla)", fontsize=11)
    fig.savefig(path)


def plot_prefinetune_loss(path: Path, runs: Sequence[RunLog]) -> None:
    from matplotlib.lines import Line2D

    most_tasks = max((len(r.task_steps) for r in runs), default=0)
    legend_cols = 1 if most_tasks <= 16 else 2 if most_tasks <= 40 else 3
    fig = _figure(11.0 + 1.2 * legend_cols, 3.8 * len(runs))
    axes = fig.subplots(len(runs), 2, squeeze=False, width_ratios=[1.6, 1.0])
    styles = ["-", "--", ":", "-."]
    for (left, right), run in zip(axes, runs):
        for i, task in enumerate(sorted(run.task_steps)):
            smooth = moving_average(run.task_scaled_loss[task], SMOOTHING_WINDOW)
            left.plot(run.task_steps[task], smooth, styles[(i // 10) % len(styles)], color=f"C{i % 10}",
                      linewidth=1.1, label=task)
        left.set_title(f"{run.label}: scaled loss per task (moving average of {SMOOTHING_WINDOW} logs)", fontsize=10)
        left.set_xlabel("update step")
        left.set_ylabel("scaled loss")
        left.grid(True, alpha=0.3)
        if run.task_steps:
            left.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                        ncol=legend_cols if len(run.task_steps) > 16 else 1)
        points = [(s, v) for s, v in zip(run.steps, run.loss) if v is not None]
        if points:
            steps, loss = zip(*points)
            right.plot(steps, loss, color="0.7", linewidth=0.8)
            right.plot(steps, moving_average(loss, SMOOTHING_WINDOW), color="C0", linewidth=1.6)
            right.legend(handles=[Line2D([], [], color="0.7", label="logged"),
                                  Line2D([], [], color="C0", label=f"moving average ({SMOOTHING_WINDOW})")],
                         fontsize=7, loc="best")  # a fixed corner can hide the curve (sequential ends near its top)
        right.set_title(f"{run.label}: total loss", fontsize=10)
        right.set_xlabel("update step")
        right.set_ylabel("loss")
        right.grid(True, alpha=0.3)
    fig.savefig(path)


# --------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    sweep_dir: Path
    out_dir: Path
    split: str
    baseline: str | None
    config: dict[str, Any]
    rows: list[Result]
    empty_rows: int
    models: list[ModelInfo]
    tasks: list[str]
    fractions: list[float]
    seeds: list[int]
    metrics: dict[str, str]
    scales: dict[str, float]
    cells: list[Cell]
    gains: list[Gain]
    missing: list[dict[str, Any]]
    incomplete: list[dict[str, Any]]
    plot_splits: dict[str, str | None]
    scaling: list[dict[str, Any]]
    runs: list[RunLog]
    wall: dict[str, dict[str, float]]
    n_train: dict[tuple[str, float], tuple[int, int]]
    plots: dict[str, str] = field(default_factory=dict)  # kind or kind:task -> file name

    def info(self, model: str) -> ModelInfo:
        return next(i for i in self.models if i.model == model)


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


def _discover_runs(models: Sequence[ModelInfo], run_dirs: Sequence[str | os.PathLike[str]]) -> list[RunLog]:
    runs: dict[str, RunLog] = {}
    for run_dir in run_dirs:
        log = read_run(run_dir)
        runs.setdefault(str(Path(log.path).resolve()), log)
    for info in models:
        if info.run_dir and str(Path(info.run_dir).resolve()) not in runs:
            runs[str(Path(info.run_dir).resolve())] = read_run(info.run_dir, label=info.label)
    logs = list(runs.values())
    names = [r.label for r in logs]
    for log in logs:
        if names.count(log.label) > 1:
            log.label = log.path
    return logs


def build_report(sweep_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                 run_dirs: Sequence[str | os.PathLike[str]] = (), baseline: str | None = None,
                 split: str = "dev") -> Report:
    """Read a sweep directory (and run directories) and compute everything the report shows."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise MuppetError(f"sweep directory {sweep_dir} does not exist")
    config = read_sweep_config(sweep_dir)
    csv_path = sweep_dir / "results.csv"
    if csv_path.is_file() or not config:
        rows, empty = read_results(csv_path)
    else:
        rows, empty = [], 0  # the sweep has not written its first cell yet
    models = _ordered([*config.get("models", []), *(r.model for r in rows)])
    tasks = _ordered([*config.get("tasks", []), *(r.task for r in rows)])
    fractions = sorted(set(config.get("fractions", [])) | {r.fraction for r in rows})
    seeds = sorted(set(config.get("seeds", [])) | {r.seed for r in rows})
    infos = [model_info(m, sweep_dir, config.get("paths", {}).get(m)) for m in models]
    assign_labels(infos)
    base = _resolve_baseline(baseline or config.get("baseline"), infos)
    by_task: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_task[r.task].append(r.metric)
    metrics = {t: headline_metric(t, by_task.get(t, [])) for t in tasks}
    cells = aggregate(rows, metrics)
    scales = {t: metric_scale(metrics[t], [c.mean for c in cells if c.task == t]) for t in tasks}
    plot_splits = {t: plot_split(cells, t, split) for t in tasks}
    info_map = {i.model: i for i in infos}
    return Report(
        sweep_dir=sweep_dir, out_dir=Path(out_dir) if out_dir else sweep_dir, split=split, baseline=base,
        config=config, rows=rows, empty_rows=empty, models=infos, tasks=tasks, fractions=fractions, seeds=seeds,
        metrics=metrics, scales=scales, cells=cells, gains=compute_gains(cells, base) if base else [],
        missing=missing_cells(rows, models, tasks, fractions, seeds), incomplete=incomplete_cells(rows, metrics),
        plot_splits=plot_splits, scaling=task_count_scaling(cells, info_map, plot_splits),
        runs=_discover_runs(infos, run_dirs), wall=wall_time(rows), n_train=n_train_table(rows),
    )


def write_plots(report: Report) -> dict[str, str]:
    out = report.out_dir
    plots: dict[str, str] = {}
    for task in report.tasks:
        split = report.plot_splits[task]
        if split is None:
            continue
        n_train = {f: v for (t, f), v in report.n_train.items() if t == task}
        cells = [c for c in report.cells if c.task == task and c.split == split]
        name = f"sample_efficiency_{safe_name(task)}.png"
        plot_sample_efficiency(out / name, task, report.metrics[task], split, cells, report.models,
                               report.baseline or "", report.scales[task], n_train)
        plots[f"sample_efficiency:{task}"] = name
        gains = [g for g in report.gains if g.task == task and g.split == split]
        if gains:
            name = f"gain_{safe_name(task)}.png"
            others = [i for i in report.models if i.model != report.baseline]
            plot_gains(out / name, task, report.metrics[task], split, gains, others,
                       report.info(report.baseline).label, report.scales[task], n_train)
            plots[f"gain:{task}"] = name
    if any(g.split == report.plot_splits.get(g.task) for g in report.gains):
        plot_gain_overview(out / "gains.png", report)
        plots["gains"] = "gains.png"
    if report.scaling:
        plot_task_count_scaling(out / "task_count_scaling.png", report.scaling, report.metrics, report.scales)
        plots["task_count_scaling"] = "task_count_scaling.png"
    if report.runs:
        plot_prefinetune_loss(out / "prefinetune_loss.png", report.runs)
        plots["prefinetune_loss"] = "prefinetune_loss.png"
    return plots


def _mean_std(cell: Cell | None, scale: float, expected_seeds: int) -> str:
    if cell is None:
        return "–"
    text = fmt_points(cell.mean, scale)
    if cell.std is not None:
        text += f" ± {cell.std * scale:.2f}"
    if cell.n != expected_seeds:
        text += f" (n={cell.n})"
    return text


def _gain_text(gain: Gain | None, scale: float) -> str:
    if gain is None:
        return "–"
    if not gain.paired:
        return f"{fmt_points(gain.mean, scale, signed=True)} (unpaired)"
    text = fmt_points(gain.mean, scale, signed=True)
    if gain.std is not None:
        text += f" ± {gain.std * scale:.2f}"
    return text + f" ({gain.wins}/{gain.n})"


def _task_section(report: Report, task: str) -> list[str]:
    metric, scale = report.metrics[task], report.scales[task]
    unit = _unit(metric, scale)
    lines = [f"### {task}", "", f"Headline metric: **{metric}** ({unit}).", ""]
    cells = {(c.model, c.split, c.fraction): c for c in report.cells if c.task == task}
    splits = [s for s in SPLITS if any(k[1] == s for k in cells)] + sorted({k[1] for k in cells} - set(SPLITS))
    fractions = sorted({k[2] for k in cells}) or report.fractions
    header = ["model", *(fmt_fraction(f) for f in fractions)]
    if not cells:
        return lines + ["No results yet.", ""]
    for split in splits:
        lines.append(f"**{split}**, mean ± std over seeds:")
        lines.append("")
        rows = []
        for info in report.models:
            name = info.label + (" (baseline)" if info.model == report.baseline else "")
            rows.append([name, *(_mean_std(cells.get((info.model, split, f)), scale, len(report.seeds))
                                 for f in fractions)])
        lines += _table(header, rows) + [""]
    gains = {(g.model, g.split, g.fraction): g for g in report.gains if g.task == task}
    for split in splits:
        if not any(k[1] == split for k in gains):
            continue
        lines.append(f"**Gain over {report.info(report.baseline).label}** on {split}, in points "
                     "(mean ± std of per-seed differences, (seeds where the model is higher / paired seeds)):")
        lines.append("")
        rows = [[info.label, *(_gain_text(gains.get((info.model, split, f)), scale) for f in fractions)]
                for info in report.models if info.model != report.baseline]
        lines += _table(header, rows) + [""]
    for kind, title in (("sample_efficiency", "sample efficiency"), ("gain", "gain over baseline")):
        name = report.plots.get(f"{kind}:{task}")
        if name:
            lines += [f"![{task}: {title}]({name})", ""]
    return lines


def _missing_section(report: Report) -> list[str]:
    lines = ["## Missing cells", ""]
    source = "sweep.yaml" if report.config else "the union of the values present in results.csv"
    total = len(report.models) * len(report.tasks) * len(report.fractions) * len(report.seeds)
    if not report.missing and not report.incomplete and not report.empty_rows:
        return lines + [f"None: all {total} (model, task, fraction, seed) runs of the grid (from {source}) "
                        "have results.", ""]
    lines += [f"{len(report.missing)} of {total} (model, task, fraction, seed) runs of the grid (from {source}) "
              "have no row in results.csv (still running, or failed):", ""]
    grouped: dict[tuple[str, str], dict[float, list[int]]] = defaultdict(lambda: defaultdict(list))
    for m in report.missing:
        grouped[(m["model"], m["task"])][m["fraction"]].append(m["seed"])
    rows = []
    for (model, task), by_fraction in grouped.items():
        if len(by_fraction) == len(report.fractions) and all(len(s) == len(report.seeds) for s in by_fraction.values()):
            what = "all fractions and seeds"
        else:
            what = "; ".join(
                f"{fmt_fraction(f)}: " + ("all seeds" if len(s) == len(report.seeds) else
                                          ("seed " if len(s) == 1 else "seeds ") + ", ".join(str(x) for x in s))
                for f, s in sorted(by_fraction.items())
            )
        rows.append([report.info(model).label, task, what])
    if rows:
        lines += _table(["model", "task", "missing"], rows[:MAX_MISSING_ROWS]) + [""]
        if len(rows) > MAX_MISSING_ROWS:
            lines += [f"… and {len(rows) - MAX_MISSING_ROWS} more (model, task) pairs; see report.json.", ""]
    if report.incomplete:
        lines += [f"{len(report.incomplete)} run(s) have rows but lack the headline metric on a split:", ""]
        rows = [[report.info(i["model"]).label, i["task"], fmt_fraction(i["fraction"]), str(i["seed"]),
                 ", ".join(i["splits"])] for i in report.incomplete[:MAX_MISSING_ROWS]]
        lines += _table(["model", "task", "fraction", "seed", "missing split"], rows) + [""]
    if report.empty_rows:
        lines += [f"{report.empty_rows} row(s) of results.csv have no finite value (NaN or empty) and were left out.",
                  ""]
    return lines


def _sweep_section(report: Report) -> list[str]:
    lines = ["## What was swept", ""]
    rows = []
    for info in report.models:
        role = "baseline" if info.model == report.baseline else ""
        rows.append([info.label, f"`{info.model}`", str(info.task_count) if info.tasks else "0 (vanilla)",
                     "–" if info.steps is None else f"{info.steps:,}", info.base_model or "–", role])
    lines += _table(["model", "as given", "pre-finetuning tasks", "steps", "base model", ""], rows) + [""]
    lines += [
        f"- Tasks: {', '.join(f'{t} ({report.metrics[t]})' for t in report.tasks) or '–'}",
        f"- Fractions of the training data: {', '.join(fmt_fraction(f) for f in report.fractions) or '–'}",
        f"- Seeds: {', '.join(str(s) for s in report.seeds) or '–'}",
        f"- Grid from: {'sweep.yaml' if report.config else 'the values present in results.csv'}; "
        f"{len(report.rows):,} result rows.",
        "",
    ]
    if report.n_train:
        lines += ["Training examples per task and fraction:", ""]
        rows = []
        for task in report.tasks:
            row = [task]
            for f in report.fractions:
                lo_hi = report.n_train.get((task, f))
                row.append("–" if lo_hi is None else f"{lo_hi[0]:,}" if lo_hi[0] == lo_hi[1]
                           else f"{lo_hi[0]:,}–{lo_hi[1]:,}")
            rows.append(row)
        lines += _table(["task", *(fmt_fraction(f) for f in report.fractions)], rows) + [""]
    return lines


def _scaling_section(report: Report) -> list[str]:
    if not report.scaling:
        return []
    lines = ["## Task-count scaling", "",
             "Headline metric (mean over seeds) against the number of pre-finetuning tasks of each model; "
             "models with the same count are averaged.", ""]
    budget = scaling_budget(report.models)
    other = [i.label for i in report.models if i.task_count and i.steps != budget]
    if other:
        lines += [f"Compared at one pre-finetuning budget ({budget if budget is not None else 'unknown'} updates); "
                  f"left out, trained for another number of updates: {', '.join(other)}.", ""]
    counts = sorted({p["tasks"] for s in report.scaling for p in s["points"]})
    rows = []
    for s in report.scaling:
        by_count = {p["tasks"]: p["mean"] for p in s["points"]}
        scale = report.scales[s["task"]]
        rows.append([s["task"], fmt_fraction(s["fraction"]), s["split"],
                     *(fmt_points(by_count.get(c), scale) for c in counts)])
    lines += _table(["task", "fraction", "split", *(f"{c} tasks" for c in counts)], rows) + [""]
    return lines + [f"![task-count scaling]({report.plots['task_count_scaling']})", ""]


def _runs_section(report: Report) -> list[str]:
    if not report.runs:
        return []
    lines = ["## Pre-finetuning runs", ""]
    rows = []
    for run in report.runs:
        s = run.summary()
        loss = "–" if s["first_loss"] is None else f"{s['first_loss']:.3f} → {s['last_loss']:.3f}"
        rows.append([run.label, f"`{run.path}`", str(len(s["tasks"])), str(s["last_step"] or "–"), loss,
                     str(s["dev_evaluations"])])
    lines += _table(["run", "directory", "tasks", "last step", f"loss (moving avg. {SMOOTHING_WINDOW})",
                     "dev evaluations"], rows) + [""]
    return lines + [f"![pre-finetuning loss]({report.plots['prefinetune_loss']})", ""]


def _wall_section(report: Report) -> list[str]:
    lines = ["## Wall time", ""]
    if not report.wall:
        return lines + ["No timings recorded.", ""]
    rows = [[report.info(m).label, str(int(w["runs"])), fmt_seconds(w["seconds"]),
             fmt_seconds(w["seconds"] / w["runs"]) if w["runs"] else "–"]
            for m, w in report.wall.items()]
    total = sum(w["seconds"] for w in report.wall.values())
    rows.append(["**total**", str(int(sum(w["runs"] for w in report.wall.values()))), fmt_seconds(total), ""])
    return lines + _table(["model", "runs", "total (h:mm:ss)", "per run"], rows) + [""]


def render_markdown(report: Report) -> str:
    lines = [f"# Fine-tuning report: {report.sweep_dir.resolve().name}", ""]
    lines += [
        f"Sweep directory `{report.sweep_dir}`. Scores are shown in points (×100 for metrics in [0, 1]). "
        f"Plots use the {report.split} split (the other split where a task has no {report.split} results). "
        "Mean ± sample standard deviation over seeds; `(n=k)` marks cells with fewer seeds than the grid. "
        "Gains are paired by seed: the spread of the per-seed differences and the count of seeds where the "
        "model is higher describe the runs; with a handful of seeds they are not a significance test.",
        "",
    ]
    lines += _sweep_section(report)
    if "gains" in report.plots:
        lines += ["## Gains at a glance", "", f"![gain over {report.info(report.baseline).label}]({report.plots['gains']})", ""]
    lines += ["## Results per task", ""]
    for task in report.tasks:
        lines += _task_section(report, task)
    lines += _scaling_section(report)
    lines += _runs_section(report)
    lines += _missing_section(report)
    lines += _wall_section(report)
    return "\n".join(lines).rstrip() + "\n"


def report_json(report: Report) -> dict[str, Any]:
    return {
        "sweep_dir": str(report.sweep_dir), "split": report.split, "baseline": report.baseline,
        "models": [{**asdict(i), "task_count": i.task_count} for i in report.models],
        "tasks": [{"task": t, "metric": report.metrics[t], "display_scale": report.scales[t],
                   "plot_split": report.plot_splits[t]} for t in report.tasks],
        "fractions": report.fractions, "seeds": report.seeds,
        "n_train": [{"task": t, "fraction": f, "min": lo, "max": hi} for (t, f), (lo, hi) in report.n_train.items()],
        "cells": [c.to_json() for c in report.cells],
        "gains": [g.to_json() for g in report.gains],
        "missing": report.missing, "incomplete": report.incomplete, "rows_without_value": report.empty_rows,
        "task_count_scaling": report.scaling,
        "runs": [r.summary() for r in report.runs],
        "wall_time": report.wall,
        "plots": report.plots,
    }


def write_report(sweep_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                 run_dirs: Sequence[str | os.PathLike[str]] = (), baseline: str | None = None,
                 split: str = "dev") -> Report:
    """Build the report and write report.md, report.json and the plots into ``out_dir`` (default: the sweep)."""
    report = build_report(sweep_dir, out_dir, run_dirs, baseline, split)
    report.out_dir.mkdir(parents=True, exist_ok=True)
    report.plots = write_plots(report)
    (report.out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (report.out_dir / "report.json").write_text(json.dumps(report_json(report), indent=1) + "\n", encoding="utf-8")
    return report
