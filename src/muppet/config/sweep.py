"""The settings of ``muppet sweep``: the grid models x tasks x fractions x seeds of fine-tuning
runs. Light (no torch), so reports read a sweep's ``sweep.yaml`` through the same schema."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from muppet.config.base import Config, keys_of
from muppet.config.commands import FinetuneConfig

# Set per cell by the sweep; not allowed among the shared settings.
CELL_KEYS = ("model", "task", "train_fraction", "train_examples", "seed", "output_dir")


def _no_cell_keys(where: str, settings: dict[str, Any]) -> None:
    taken = [k for k in CELL_KEYS if k in settings]
    if taken:
        raise ValueError(f"{where}: {taken} are set per cell by the sweep; remove them")


class SweepModel(Config):
    """A model of the grid under a name of its own, with fine-tuning settings of its own: the
    same checkpoint with and without its pre-finetuned head is two models of one sweep."""

    name: str = Field("", description="the model's name in results and reports")
    model: str = Field("", description="hub id, local folder or muppet export")
    finetune: keys_of(FinetuneConfig) = Field({}, description="fine-tuning keys over the sweep's shared settings")

    @model_validator(mode="after")
    def _named(self) -> Any:
        if not self.name or not self.model:
            raise ValueError(f"models: an entry given as a mapping needs a name and a model, got {self.to_dict()}")
        _no_cell_keys(f"models: {self.name}", self.finetune)
        return self


class SweepConfig(Config):
    """``muppet sweep``: every cell is a ``muppet finetune`` run in a folder of its own."""

    models: list[str | SweepModel] = Field([], description="models to compare: names, or {name, model, finetune}")
    tasks: list[str] = Field([], description="tasks to fine-tune on (names or task files)")
    fractions: list[float] = Field([1.0], description="shares of each task's training data (nested subsets)")
    seeds: list[int] = Field([42], description="fine-tuning seeds; cells of one seed are paired across models")
    baseline: str | None = Field(None, description="the model the report compares against (default: the first)")
    output_dir: str = Field("runs/sweep", description="sweep.yaml, results.csv and, by default, the cells")
    cells_dir: str | None = Field(None, description="where cells live if not output_dir/cells; sweeps sharing it "
                                                    "share identical cells")
    finetune: keys_of(FinetuneConfig) = Field({}, description="fine-tuning keys shared by every cell")
    progress: bool = Field(True, description="progress bar over the cells")

    @model_validator(mode="after")
    def _grid(self) -> Any:
        for name in ("models", "tasks", "fractions", "seeds"):
            values = self.model_names() if name == "models" else getattr(self, name)
            if not values:
                raise ValueError(f"{name}: give at least one")
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: {values} has repeats")
        for f in self.fractions:
            if not 0 < f <= 1:
                raise ValueError(f"fractions: {f} is not in (0, 1]")
        if self.baseline is not None and self.baseline not in self.model_names():
            raise ValueError(f"baseline {self.baseline!r} is not one of the models {self.model_names()}")
        _no_cell_keys("finetune", self.finetune)
        for model in self.model_names():  # every model's settings checked now, not at cell 17
            self.cell_config(model, self.tasks[0], self.fractions[0], self.seeds[0])
        return self

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
        }, prefix="finetune.")

    def cell_dir(self, model: str, task: str, fraction: float, seed: int) -> Path:
        if self.cells_dir is None:
            folder = Path(self.output_dir) / "cells" / slug(model)
        else:
            variant = self.variant(model)
            settings = json.dumps([variant.model, {**self.finetune, **variant.finetune}], sort_keys=True, default=str)
            folder = Path(self.cells_dir) / f"{slug(model)}-{_short_hash(settings, 8)}"
        return folder / slug(task) / f"f{fraction:g}" / f"s{seed}"

    def cells(self) -> Iterator[tuple[str, str, float, int]]:
        # Models innermost: an interrupted sweep has paired comparisons for what it finished.
        for task in self.tasks:
            for fraction in self.fractions:
                for seed in self.seeds:
                    for model in self.model_names():
                        yield model, task, fraction, seed


def _short_hash(text: str, n: int) -> str:
    # A folder-name hash, not a security boundary.
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:n]


def slug(name: str) -> str:
    """A folder name for a model or task: readable, and unique through a short hash."""
    tail = "-".join(Path(name).parts[-2:]) if os.sep in name or "/" in name else name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("_")[:60] or "model"
    return f"{clean}-{_short_hash(name, 6)}"
