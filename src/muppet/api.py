"""The documented Python surface: the CLI's commands as functions, on the same typed configs.

Each takes a config (a config object, a mapping, or a YAML path; none for the defaults) and
keyword overrides on top, validated exactly as the CLI validates ``key=value``::

    import muppet

    summary = muppet.prefinetune("configs/demo.yaml", max_steps=200, output_dir="runs/mine")
    result = muppet.finetune(model=summary["export"], task="rte", train_fraction=0.1, seed=1)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from muppet.config import FinetuneConfig, PrefinetuneConfig, StudyConfig, SweepConfig, merge
from muppet.config.base import Config, read_config_file
from muppet.errors import ConfigError
from muppet.tasks.memory import register_task  # noqa: F401  (public: tasks from Python data)

C = TypeVar("C", bound=Config)
Source = Config | Mapping[str, Any] | str | os.PathLike[str] | None


def resolve(cls: type[C], config: Source = None, **overrides: Any) -> C:
    """``config`` (object, mapping or YAML path) with ``overrides`` on top, as a validated ``cls``."""
    if isinstance(config, Config):
        if not isinstance(config, cls):
            raise ConfigError(f"expected a {cls.__name__} or its settings, got a {type(config).__name__}")
        base: Mapping[str, Any] = config.to_dict()
    elif isinstance(config, Mapping):
        base = config
    elif isinstance(config, (str, os.PathLike)):
        base = read_config_file(config)  # task files relative to the file, as `muppet CMD FILE` reads them
    elif config is None:
        base = {}
    else:
        raise ConfigError(f"config: expected a {cls.__name__}, a mapping or a YAML path, got {type(config).__name__}")
    return cls.from_dict(merge(base, overrides))


def prefinetune(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Pre-finetune (``muppet prefinetune``); returns the run's summary (step, results, export path)."""
    from muppet.train.loop import prefinetune as run

    return run(resolve(PrefinetuneConfig, config, **overrides))


def finetune(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Fine-tune one model on one task (``muppet finetune``); returns what ``results.json`` holds."""
    from muppet.evaluation.finetune import finetune as run

    return run(resolve(FinetuneConfig, config, **overrides))


def sweep(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Run (or continue) a fine-tuning sweep (``muppet sweep``); returns cell counts and the CSV's path."""
    from muppet.evaluation.sweep import sweep as run

    return run(resolve(SweepConfig, config, **overrides))


def study(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Run (or continue) a study (``muppet study``); returns the summary's and reports' paths."""
    from muppet.study import run_study

    return run_study(resolve(StudyConfig, config, **overrides))
