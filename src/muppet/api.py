"""The documented Python surface: the CLI's commands as functions, on the same typed configs.

Each takes a config (a config object, a mapping, or a YAML path; none for the defaults) and
keyword overrides on top, validated exactly as the CLI validates ``key=value``::

    import muppet

    summary = muppet.prefinetune("configs/demo.yaml", max_steps=200, output_dir="runs/mine")
    result = muppet.finetune(model=summary["export"], task="rte", train_fraction=0.1, seed=1)
    muppet.evaluate(summary["export"], split="dev")      # the export's own heads, no fine-tuning
    model = muppet.load(summary["export"])
    model.predict([{"text_a": "A man sleeps.", "text_b": "A man is awake."}], task="rte")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from muppet.config import FinetuneConfig, PrefinetuneConfig, StudyConfig, SweepConfig, merge
from muppet.config.base import Config, read_config_file
from muppet.config.evaluate import EvaluateConfig
from muppet.errors import ConfigError
from muppet.tasks.memory import register_task  # noqa: F401  (public: tasks from Python data)

if TYPE_CHECKING:
    from muppet.evaluation.predict import Pretrained

C = TypeVar("C", bound=Config)
Source = Config | Mapping[str, Any] | str | os.PathLike[str] | None


def settings(cls: type[Config], config: Source = None) -> Mapping[str, Any]:
    """The settings ``config`` (object, mapping or YAML path) holds, unvalidated."""
    if isinstance(config, Config):
        if not isinstance(config, cls):
            raise ConfigError(f"expected a {cls.__name__} or its settings, got a {type(config).__name__}")
        return config.to_dict()
    if isinstance(config, Mapping):
        return config
    if isinstance(config, (str, os.PathLike)):
        return read_config_file(config)  # task files relative to the file, as `muppet CMD FILE` reads them
    if config is None:
        return {}
    raise ConfigError(f"config: expected a {cls.__name__}, a mapping or a YAML path, got {type(config).__name__}")


def resolve(cls: type[C], config: Source = None, **overrides: Any) -> C:
    """``config`` (object, mapping or YAML path) with ``overrides`` on top, as a validated ``cls``."""
    return cls.from_dict(merge(settings(cls, config), overrides))


def prefinetune(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Pre-finetune (``muppet prefinetune``); returns the run's summary (step, results, export path)."""
    from muppet.train.loop import prefinetune as run

    return run(resolve(PrefinetuneConfig, config, **overrides))


def finetune(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Fine-tune one model on one task (``muppet finetune``); returns what ``results.json`` holds,
    or ``{"stopped": True, "step": N, ...}`` when a signal or ``stop_after`` stopped it with a
    checkpoint (continue with ``resume=True``)."""
    from muppet.evaluation.finetune import finetune as run

    return run(resolve(FinetuneConfig, config, **overrides))


def sweep(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Run (or continue) a fine-tuning sweep (``muppet sweep``); returns cell counts, the CSV's path
    and whether a signal stopped it (``stopped``: rerun to continue the stopped cell)."""
    from muppet.evaluation.sweep import sweep as run

    return run(resolve(SweepConfig, config, **overrides))


def study(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Run (or continue) a study (``muppet study``); returns the summary's and reports' paths."""
    from muppet.study import run_study

    return run_study(resolve(StudyConfig, config, **overrides))


def evaluate(config: Source = None, /, **overrides: Any) -> dict[str, Any]:
    """Score an export's own heads on its tasks' dev or test splits (``muppet evaluate``); ``config``
    may also be the export folder itself. Returns the metrics per task and the results table."""
    from muppet.evaluation.score import evaluate as run
    from muppet.evaluation.score import export_defaults

    if isinstance(config, (str, os.PathLike)) and Path(config).is_dir():
        config, overrides = None, {"export": str(config), **overrides}
    given = merge(settings(EvaluateConfig, config), overrides)
    cfg = EvaluateConfig.from_dict(given)  # bad keys fail before the export is read
    if not isinstance(config, Config):  # the keys left out come from the export's training config
        cfg = EvaluateConfig.from_dict(export_defaults(given))
    return run(cfg)


def load(export: str | os.PathLike[str], device: str | None = None, **settings: Any) -> Pretrained:
    """An export ready to predict with its own heads: ``load(path).predict(inputs, task=NAME)``.

    ``settings`` override the featurizing and decoding settings it was trained with
    (``max_length``, ``doc_stride``, ``max_target_length``, ``max_answer_length``, ``num_beams``,
    ``max_new_tokens``); ``device`` defaults to CUDA when there is one.
    """
    from muppet.evaluation.predict import Pretrained

    return Pretrained(export, device, **settings)
