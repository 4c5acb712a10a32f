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
class SweepModel(BaseConfig):
    """A model of the grid under a name of its own, with fine-tuning settings of its own: the
    same checkpoint with and without its pre-finetuned head is two models of one sweep."""

    name: str = ""
    model: str = ""
    finetune: dict[str, Any] = field(default_factory=dict)  # over the sweep's shared settings

    def __post_init__(self) -> None:
        if not self.name or not self.model:
            raise ConfigError(f"models: an entry given as a mapping needs a name and a model, got {self.to_dict()}")
        taken = [k for k in CELL_KEYS if k in self.finetune]
        if taken:
            raise ConfigError(f"models: {self.name}: {taken} are set per cell by the sweep; remove them")


@dataclass
class SweepConfig(BaseConfig):
    models: list[str | SweepModel] = field(default_factory=list)  # names, or {name, model, finetune}
    tasks: list[str] = field(default_factory=list)
    fractions: list[float] = field(default_factory=lambda: [1.0])
    seeds: list[int] = field(default_factory=lambda: [42])
    baseline: str | None = None  # the model the report compares against (default: the first)
    output_dir: str = "runs/sweep"
    # Where cells live, if not output_dir/cells: sweeps sharing it share identical cells (the
    # folder names carry a hash of the model and its settings, so only identical cells meet).
    cells_dir: str | None = None
    finetune: dict[str, Any] = field(default_factory=dict)  # settings shared by every cell (finetune keys)
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("models", "tasks", "fractions", "seeds"):
            values = self.model_names() if name == "models" else getattr(self, name)
            if not values:
                raise ConfigError(f"{name}: give at least one")
            if len(set(values)) != len(values):
                raise ConfigError(f"{name}: {values} has repeats")
        for f in self.fractions:
            if not 0 < f <= 1:
                raise ConfigError(f"fractions: {f} is not in (0, 1]")
        if self.baseline is not None and self.baseline not in self.model_names():
            raise ConfigError(f"baseline {self.baseline!r} is not one of the models {self.model_names()}")
        taken = [k for k in CELL_KEYS if k in self.finetune]
        if taken:
            raise ConfigError(f"finetune: {taken} are set per cell by the sweep; remove them")
        for model in self.model_names():  # fail now, not at cell 17
            self.cell_config(model, self.tasks[0], self.fractions[0], self.seeds[0])

    def variants(self) -> list[SweepModel]:
        return [m if isinstance(m, SweepModel) else SweepModel(name=m, model=m) for m in self.models]

    def model_names(self) -> list[str]:
        return [m.name for m in self.variants()]

    def variant(self, name: str) -> SweepModel:
        return next(v for v in self.variants() if v.name == name)

    def cell_config(self, model: str, task: str, fraction: float, seed: int) -> FinetuneConfig:
        """The fine-tuning run of one cell; ``model`` is a model's name in the grid."""
        variant = self.variant(model)
        return FinetuneConfig.from_dict({
            "progress": False,
            **self.finetune,
            **variant.finetune,
            "model": variant.model, "task": task, "train_fraction": fraction, "seed": seed,
            "output_dir": str(self.cell_dir(model, task, fraction, seed)),
        })

    def cell_dir(self, model: str, task: str, fraction: float, seed: int) -> Path:
        if self.cells_dir is None:
            folder = Path(self.output_dir) / "cells" / slug(model)
        else:
            variant = self.variant(model)
            settings = json.dumps([variant.model, {**self.finetune, **variant.finetune}], sort_keys=True, default=str)
            folder = Path(self.cells_dir) / f"{slug(model)}-{hashlib.sha1(settings.encode()).hexdigest()[:8]}"
        return folder / slug(task) / f"f{fraction:g}" / f"s{seed}"

    def cells(self) -> Iterator[tuple[str, str, float, int]]:
        # Models innermost: an interrupted sweep has paired comparisons for what it finished.
        for task in self.tasks:
            for fraction in self.fractions:
                for seed in self.seeds:
                    for model in self.model_names():
                        yield model, task, fraction, seed


def slug(name: str) -> str:
    """A folder name for a model or task: readable, and unique through a short hash."""
    tail = "-".join(Path(name).parts[-2:]) if os.sep in name or "/" in name else name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("_")[:60] or "model"
    return f"{clean}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def result_rows(result: dict[str, Any], fraction: float, model: str | None = None) -> list[dict[str, Any]]:
    """The CSV rows of one cell; ``model`` is the model's name in the grid (default: as run)."""
    rows = []
    for split in ("dev", "test"):
        for metric, value in (result.get(split) or {}).items():
            rows.append({
                "model": model or result["model"], "task": result["task"], "fraction": fraction, "n_train": result["n_train"],
                "seed": result["seed"], "split": split, "metric": metric, "value": value, "seconds": result["seconds"],
            })
    return rows


def write_results_csv(cfg: SweepConfig) -> Path:
    rows: list[dict[str, Any]] = []
    for model, task, fraction, seed in cfg.cells():
        path = cfg.cell_dir(model, task, fraction, seed) / RESULTS_FILE
        if path.is_file():
            rows += result_rows(json.loads(path.read_text(encoding="utf-8")), fraction, model)
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
        before = {v.name: v for v in SweepConfig.from_dict({**previous, "progress": False}).variants()}
        changed = [v.name for v in cfg.variants() if v.name in before and before[v.name] != v]
        if changed:
            raise ConfigError(f"{out} holds a sweep in which the models {changed} stood for another model or other "
                              "settings; finished cells would not be comparable. Use another output_dir.")
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
