"""The settings of ``muppet study``: named pre-finetuning runs and the sweeps comparing them.
Light (no torch): every run and sweep is resolved and validated when the study is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from muppet.config.base import Config, keys_of, merge, renamed
from muppet.config.commands import FinetuneConfig, PrefinetuneConfig
from muppet.config.sweep import SweepConfig
from muppet.errors import ConfigError

# Set by the study for each run, not by the user.
RUN_KEYS = ("output_dir", "resume", "overwrite", "export")


class StudyConfig(Config):
    """``muppet study``: named pre-finetuning runs and the sweeps comparing them."""

    output_dir: str = Field("runs/study", description="study.yaml, runs/, sweeps/, cells/, summary.md")
    prefinetune: keys_of(PrefinetuneConfig) = Field({}, description="prefinetune keys shared by every run")
    runs: dict[str, Any] = Field({}, description="run name -> its own prefinetune keys")
    finetune: keys_of(FinetuneConfig) = Field({}, description="finetune keys shared by every sweep")
    sweeps: dict[str, Any] = Field({}, description="sweep name -> sweep keys; a model naming a run stands for its "
                                                   "export; tasks default to the runs' downstream tasks")
    progress: bool = Field(True, description="progress bars")
    _runs: dict[str, PrefinetuneConfig] = PrivateAttr(default_factory=dict)
    _sweeps: dict[str, SweepConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _resolve(self) -> Any:
        if not self.runs and not self.sweeps:
            raise ValueError("a study needs runs or sweeps")
        for name, overrides in self.runs.items():
            if overrides is not None and not isinstance(overrides, dict):
                raise ValueError(f"runs.{name}: expected a mapping of prefinetune keys, got {overrides!r}")
            taken = [k for k in RUN_KEYS if k in (overrides or {}) or k in self.prefinetune]
            if taken:
                raise ValueError(f"runs.{name}: {taken} are set by the study; remove them")
        self._runs = {name: self.run_config(name) for name in self.runs}  # validates every run now
        self._sweeps = {name: self.sweep_config(name) for name in self.sweeps}
        used = {m.model for s in self._sweeps.values() for m in s.variants()}
        unused = [name for name in self.runs if str(self.export_dir(name)) not in used]
        if unused and self.sweeps:
            raise ValueError(f"runs {unused} are not used by any sweep")
        return self

    @property
    def run_configs(self) -> dict[str, PrefinetuneConfig]:
        """Every run's resolved config, by name."""
        return dict(self._runs)

    @property
    def sweep_configs(self) -> dict[str, SweepConfig]:
        """Every sweep's resolved config, by name."""
        return dict(self._sweeps)

    def run_dir(self, name: str) -> Path:
        return Path(self.output_dir) / "runs" / name

    def export_dir(self, name: str) -> Path:
        return self.run_dir(name) / "export"

    def run_config(self, name: str) -> PrefinetuneConfig:
        try:
            return PrefinetuneConfig.from_dict({
                **merge(self.prefinetune, renamed(self.runs[name] or {}, PrefinetuneConfig.keys())),
                "output_dir": str(self.run_dir(name)), "resume": True, "export": True,
                "progress": self.progress,
            })
        except ConfigError as exc:
            raise ConfigError(f"runs.{name}: {exc}") from None

    def downstream(self) -> list[str]:
        tasks = {tuple(c.downstream) for c in self._runs.values()}
        return list(next(iter(tasks))) if len(tasks) == 1 else []

    def sweep_config(self, name: str) -> SweepConfig:
        raw = self.sweeps[name]
        if not isinstance(raw, dict):
            raise ConfigError(f"sweeps.{name}: expected a mapping of sweep keys, got {raw!r}")
        taken = [k for k in ("output_dir", "cells_dir", "progress") if k in raw]
        if taken:
            raise ConfigError(f"sweeps.{name}: {taken} are set by the study; remove them")
        models = []
        for entry in raw.get("models") or []:
            variant = entry if isinstance(entry, dict) else {"name": entry, "model": entry}
            variant = dict(variant)
            if variant.get("model") in self.runs:
                variant["model"] = str(self.export_dir(variant["model"]))
            models.append(variant)
        if not raw.get("tasks") and not self.downstream():
            raise ConfigError(f"sweeps.{name}: give its tasks (the runs do not share one `downstream` list to default to)")
        data = {
            "tasks": self.downstream(),
            **raw,
            "models": models,
            "finetune": merge(self.finetune, renamed(raw.get("finetune") or {}, FinetuneConfig.keys(), f"sweeps.{name}")),
            "output_dir": str(Path(self.output_dir) / "sweeps" / name),
            "cells_dir": str(Path(self.output_dir) / "cells"),  # a cell two sweeps share runs once
            "progress": self.progress,
        }
        try:
            return SweepConfig.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"sweeps.{name}: {exc}") from None

    def runs_of(self, sweep: SweepConfig) -> list[str]:
        paths = {m.model for m in sweep.variants()}
        return [name for name in self.runs if str(self.export_dir(name)) in paths]
