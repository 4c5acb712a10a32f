"""The grid models x tasks x fractions x seeds of fine-tuning runs, resumable, into one tidy CSV.

Each cell runs in its own folder ``cells/<model>/<task>/f<fraction>/s<seed>/`` and is done
when its ``results.json`` exists (written atomically): a rerun skips finished cells.
``results.csv`` is rebuilt from the cells after each one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from muppet.config import BaseConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import RESULTS_FILE, FinetuneConfig, finetune

CSV_COLUMNS = ["model", "task", "fraction", "n_train", "seed", "split", "metric", "value", "seconds"]
# Set per cell by the sweep; not allowed among the shared settings.
CELL_KEYS = ("model", "task", "train_fraction", "train_examples", "seed", "output_dir")


@dataclass
class SweepConfig(BaseConfig):
    models: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    fractions: list[float] = field(default_factory=lambda: [1.0])
    seeds: list[int] = field(default_factory=lambda: [42])
    baseline: str | None = None  # the model the report compares against (default: the first)
    output_dir: str = "runs/sweep"
    finetune: dict[str, Any] = field(default_factory=dict)  # settings shared by every cell (finetune keys)
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("models", "tasks", "fractions", "seeds"):
            values = getattr(self, name)
            if not values:
                raise ConfigError(f"{name}: give at least one")
            if len(set(values)) != len(values):
                raise ConfigError(f"{name}: {values} has repeats")
        for f in self.fractions:
            if not 0 < f <= 1:
                raise ConfigError(f"fractions: {f} is not in (0, 1]")
        if self.baseline is not None and self.baseline not in self.models:
            raise ConfigError(f"baseline {self.baseline!r} is not one of the models {self.models}")
        taken = [k for k in CELL_KEYS if k in self.finetune]
        if taken:
            raise ConfigError(f"finetune: {taken} are set per cell by the sweep; remove them")
        self.cell_config(self.models[0], self.tasks[0], self.fractions[0], self.seeds[0])  # fail now, not at cell 17

    def cell_config(self, model: str, task: str, fraction: float, seed: int) -> FinetuneConfig:
        return FinetuneConfig.from_dict({
            "progress": False,
            **self.finetune,
            "model": model, "task": task, "train_fraction": fraction, "seed": seed,
            "output_dir": str(self.cell_dir(model, task, fraction, seed)),
        })

    def cell_dir(self, model: str, task: str, fraction: float, seed: int) -> Path:
        return Path(self.output_dir) / "cells" / slug(model) / slug(task) / f"f{fraction:g}" / f"s{seed}"

    def cells(self) -> Iterator[tuple[str, str, float, int]]:
        for model in self.models:
            for task in self.tasks:
                for fraction in self.fractions:
                    for seed in self.seeds:
                        yield model, task, fraction, seed


def slug(name: str) -> str:
    """A folder name for a model or task: readable, and unique through a short hash."""
    tail = "-".join(Path(name).parts[-2:]) if os.sep in name or "/" in name else name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("_")[:60] or "model"
    return f"{clean}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def result_rows(result: dict[str, Any], fraction: float) -> list[dict[str, Any]]:
    rows = []
    for split in ("dev", "test"):
        for metric, value in (result.get(split) or {}).items():
            rows.append({
                "model": result["model"], "task": result["task"], "fraction": fraction, "n_train": result["n_train"],
                "seed": result["seed"], "split": split, "metric": metric, "value": value, "seconds": result["seconds"],
            })
    return rows


def write_results_csv(cfg: SweepConfig) -> Path:
    rows: list[dict[str, Any]] = []
    for model, task, fraction, seed in cfg.cells():
        path = cfg.cell_dir(model, task, fraction, seed) / RESULTS_FILE
        if path.is_file():
            rows += result_rows(json.loads(path.read_text(encoding="utf-8")), fraction)
    out = Path(cfg.output_dir) / "results.csv"
    tmp = out.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)
    return out


def sweep(cfg: SweepConfig) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "sweep.yaml"
    if saved.is_file():
        previous = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
        if previous.get("finetune") != cfg.finetune:
            raise ConfigError(
                f"{out} holds a sweep with other shared settings ({previous.get('finetune')}); finished cells "
                "would not be comparable. Use another output_dir."
            )
    cfg.save(saved)
    cells = list(cfg.cells())
    done = ran = 0
    bar = tqdm(cells, desc="sweep", unit="cell", disable=not cfg.progress)
    for model, task, fraction, seed in bar:
        bar.set_postfix_str(f"{Path(model).name} {task} f={fraction:g} s={seed}")
        if (cfg.cell_dir(model, task, fraction, seed) / RESULTS_FILE).is_file():
            done += 1
            continue
        finetune(cfg.cell_config(model, task, fraction, seed))
        ran += 1
        write_results_csv(cfg)
    csv_path = write_results_csv(cfg)
    return {"cells": len(cells), "skipped": done, "ran": ran, "results": str(csv_path)}
