"""Reading a sweep directory: ``results.csv``, ``sweep.yaml``, the exports' ``muppet.json`` and
the pre-finetuning runs' ``metrics.jsonl``. Every problem with a file is a :class:`DataError`
naming the file (and line): a report never silently leaves out what it could not read."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from muppet.errors import DataError, MuppetError

REQUIRED_COLUMNS = ("model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds")
# Read when present; a results.csv written before the column existed reads as "not known".
OPTIONAL_COLUMNS = ("stopped_early",)
TEXT_COLUMNS = ("model", "task", "split", "metric")
# One value per (run, split, metric): a second row for the same key is an error, not "the last wins".
ROW_KEY = ["model", "task", "fraction", "seed", "split", "metric"]
MAX_NAMED = 5


@dataclass
class Results:
    """``results.csv``: the rows with a finite value, and the rows without one (NaN, inf or empty,
    kept as the text written).

    Both frames hold the columns of the file, converted, plus ``line`` (the row's line in the file)."""

    path: Path
    rows: pd.DataFrame
    without_value: pd.DataFrame

    @property
    def every(self) -> pd.DataFrame:
        """All rows, with a value or not."""
        return pd.concat([self.rows, self.without_value]) if len(self.without_value) else self.rows


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
class RunLog:
    """A pre-finetuning run's metrics.jsonl, split into training and dev rows."""

    path: str
    label: str
    steps: list[int] = field(default_factory=list)
    loss: list[float | None] = field(default_factory=list)
    task_steps: dict[str, list[int]] = field(default_factory=dict)
    task_scaled_loss: dict[str, list[float]] = field(default_factory=dict)
    dev: list[dict[str, Any]] = field(default_factory=list)  # {"step": int, "dev": {task: {metric: value}}}


def fraction_key(value: float | str) -> float:
    """Fractions come from CSV text and YAML numbers; rounding makes 0.1 and 0.1000000001 one key."""
    return round(float(value), 10)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


# --------------------------------------------------------------------------------------------
# results.csv


def _value(text: str) -> float:
    return float(text) if text.strip() else math.nan  # an empty value: a cell still being written


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError("not in (0, 1]")
    return fraction_key(value)


def _integer(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError("not an integer")
    return int(value)


def _count_or_none(text: str) -> int | None:
    if not text.strip():
        return None
    value = _integer(text)
    if value < 0:
        raise ValueError("negative")
    return value


def _seconds_or_none(text: str) -> float | None:
    value = float(text) if text.strip() else math.nan
    if value < 0 or math.isinf(value):
        raise ValueError("not a duration")
    return None if math.isnan(value) else value


def _flag_or_none(text: str) -> bool | None:
    flags = {"true": True, "false": False, "": None}
    if text.strip().lower() not in flags:
        raise ValueError("not a flag")
    return flags[text.strip().lower()]


def _convert(table: pd.DataFrame, column: str, convert: Callable[[str], Any], path: Path, expected: str) -> list[Any]:
    out, bad = [], []
    for line, text in zip(table["line"], table[column]):
        try:
            out.append(convert(text))
        except ValueError:
            bad.append(f"{path}:{line}: {column} {text!r}")
    if bad:
        more = f"; and {len(bad) - MAX_NAMED} more row(s)" if len(bad) > MAX_NAMED else ""
        raise DataError(f"{'; '.join(bad[:MAX_NAMED])}{more}: expected {expected}")
    return out


def _load_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise MuppetError(f"no results table at {path} (a sweep writes results.csv into its directory)")
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file; expected the header {','.join(REQUIRED_COLUMNS)} and a row per metric")
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing or len(set(header)) != len(header):
            raise DataError(f"{path}: missing or repeated column(s) {', '.join(missing) or header}; expected "
                            f"{', '.join(REQUIRED_COLUMNS)}")
        records, lines = [], []
        for fields in reader:
            if fields and len(fields) != len(header):
                raise DataError(f"{path}:{reader.line_num}: {len(fields)} fields where the header has {len(header)}")
            if fields:
                records.append(fields)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: cannot be read as CSV ({exc})") from None
    if not records:
        raise DataError(f"{path}: a header and no rows; no cell of the sweep has finished (run `muppet sweep` "
                        "first, or point the report at another directory)")
    return pd.DataFrame(records, columns=header).assign(line=lines)


def _check_keys(table: pd.DataFrame, path: Path) -> None:
    for column in TEXT_COLUMNS:
        empty = table.loc[table[column].str.strip() == "", "line"].tolist()
        if empty:
            raise DataError(f"{path}:{empty[0]}: empty {column} ({len(empty)} row(s) in all)")
    repeated = table[table.duplicated(ROW_KEY, keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        lines = repeated.loc[(repeated[ROW_KEY] == first[ROW_KEY]).all(axis=1), "line"].tolist()
        key = ", ".join(f"{k}={first[k]}" for k in ROW_KEY)
        raise DataError(f"{path}: lines {', '.join(map(str, lines))} give one metric of one run twice ({key})")


def read_results(path: str | os.PathLike[str]) -> Results:
    """``results.csv`` checked and converted; every unreadable row is an error naming its line."""
    path = Path(path)
    table = _load_csv(path)
    converted = {
        "value": (_value, "a number (nan or empty for a failed metric)"),
        "fraction": (_fraction, "a fraction in (0, 1]"),
        "seed": (_integer, "an integer"),
        "n_train": (_count_or_none, "a count of examples or nothing"),
        "seconds": (_seconds_or_none, "seconds or nothing"),
        "stopped_early": (_flag_or_none, "true, false or nothing (early stopping off)"),
    }
    for column in OPTIONAL_COLUMNS:
        if column not in table:
            table[column] = ""
    written = table["value"]
    for column, (convert, expected) in converted.items():
        table[column] = pd.Series(_convert(table, column, convert, path, expected), index=table.index, dtype=object)
    _check_keys(table, path)
    finite = table["value"].map(math.isfinite).astype(bool)
    columns = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "line"]
    without_value = table.loc[~finite, columns].assign(value=written[~finite])  # as written: nan, inf, empty
    return Results(path, table.loc[finite, columns].reset_index(drop=True), without_value.reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# sweep.yaml


def read_sweep_config(sweep_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``sweep.yaml`` through the sweep's own schema (``muppet.config.sweep``, which imports no
    torch): the grid's models, tasks, fractions and seeds, each model's source and the baseline;
    {} when absent."""
    from muppet.config import read_yaml_mapping
    from muppet.config.sweep import SweepConfig

    path = Path(sweep_dir) / "sweep.yaml"
    if not path.is_file():
        return {}
    try:
        cfg = SweepConfig.from_dict({**read_yaml_mapping(path, "sweep.yaml"), "progress": False})
    except MuppetError as exc:
        raise DataError(f"{path}: {exc}" if str(path) not in str(exc) else str(exc)) from None
    return {
        "models": cfg.model_names(), "paths": {v.name: v.model for v in cfg.variants()}, "tasks": list(cfg.tasks),
        "fractions": [fraction_key(f) for f in cfg.fractions], "seeds": list(cfg.seeds), "baseline": cfg.baseline,
    }


# --------------------------------------------------------------------------------------------
# Models and their exports


def _candidates(model: str, sweep_dir: Path) -> list[Path]:
    path = Path(model).expanduser()
    if path.is_absolute():
        return [path]
    return [Path.cwd() / path, sweep_dir / path, sweep_dir.parent / path]


def _read_manifest(info: ModelInfo, manifest: Path) -> None:
    try:
        data = json.loads(_read_text(manifest))
    except json.JSONDecodeError as exc:
        raise DataError(f"{manifest}: not valid JSON ({exc})") from None
    tasks, steps = (data.get("tasks"), data.get("steps")) if isinstance(data, Mapping) else (None, None)
    if not isinstance(data, Mapping) or not isinstance(tasks or [], list) or not isinstance(steps, (int, type(None))):
        raise DataError(f"{manifest}: expected an export's manifest (a mapping with a list of tasks and a step count)")
    info.tasks = [str(t["name"]) if isinstance(t, Mapping) else str(t) for t in tasks or []]
    info.steps = steps
    info.base_model = data.get("base_model")


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
    if (folder / "muppet.json").is_file():
        _read_manifest(info, folder / "muppet.json")
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


# --------------------------------------------------------------------------------------------
# Pre-finetuning runs


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _add_row(log: RunLog, row: Mapping[str, Any], where: str) -> None:
    if "dev" in row:
        log.dev.append({"step": row.get("step"), "dev": row["dev"]})
        return
    if "loss" not in row or "step" not in row:
        return
    step, tasks = row["step"], row.get("tasks") or {}
    if not isinstance(step, int) or isinstance(step, bool) or not isinstance(tasks, Mapping):
        raise DataError(f"{where}: expected an integer step and a mapping of tasks, got step {step!r}")
    log.steps.append(step)
    log.loss.append(_float_or_none(row["loss"]))
    for task, stats in tasks.items():
        stats = stats if isinstance(stats, Mapping) else {}
        scaled = _float_or_none(stats.get("scaled_loss", stats.get("loss")))
        if scaled is not None:
            log.task_steps.setdefault(task, []).append(step)
            log.task_scaled_loss.setdefault(task, []).append(scaled)


def read_run(run_dir: str | os.PathLike[str], label: str | None = None) -> RunLog:
    """Training and dev rows of ``<run_dir>/metrics.jsonl``; rows are told apart by their keys."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.jsonl" if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise MuppetError(f"no metrics.jsonl in {run_dir} (pass a pre-finetuning output directory)")
    log = RunLog(path=str(path.parent), label=label or path.parent.name)
    lines = _read_text(path).splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if index == last:  # a run that is still writing: its last line may be cut off
                break
            raise DataError(f"{path}:{index + 1}: not a JSON row") from None
        if not isinstance(row, Mapping):
            raise DataError(f"{path}:{index + 1}: expected a JSON object, got {type(row).__name__}")
        _add_row(log, row, f"{path}:{index + 1}")
    if not log.steps:
        raise DataError(f"{path}: no training rows (step and loss) to plot; is it a pre-finetuning run's log?")
    return log


def discover_runs(models: Sequence[ModelInfo], run_dirs: Sequence[str | os.PathLike[str]]) -> list[RunLog]:
    """The runs given, then the runs the exports came from; a label two runs share becomes the path."""
    runs: dict[str, RunLog] = {}
    for run_dir in run_dirs:
        log = read_run(run_dir)
        runs.setdefault(str(Path(log.path).resolve()), log)
    for info in models:
        if info.run_dir and str(Path(info.run_dir).resolve()) not in runs:
            runs[str(Path(info.run_dir).resolve())] = read_run(info.run_dir, label=info.label)
    logs = list(runs.values())
    names = defaultdict(int)
    for log in logs:
        names[log.label] += 1
    for log in logs:
        if names[log.label] > 1:
            log.label = log.path
    return logs
