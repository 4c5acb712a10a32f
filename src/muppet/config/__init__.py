"""Typed settings: one pydantic model per command, composed of sections declared once.

YAML files and ``key=value`` overrides (``a.b=v`` for sections) fill them; unknown keys are
errors naming the nearest keys; the resolved config is saved with every run. ``--help`` and
the README's key tables come from the fields' descriptions (:mod:`muppet.config.docs`).
"""

from muppet.config.base import Config, load_yaml, merge, parse_overrides, read_yaml_mapping
from muppet.config.commands import FinetuneConfig, PrefinetuneConfig
from muppet.config.evaluate import EvaluateConfig
from muppet.config.sections import (
    DEFAULT_MODEL,
    LEAKAGE,
    LOSS_SCALING,
    ON_BAD_RECORD,
    PRECISION,
    SOURCES,
    R3FConfig,
)
from muppet.config.study import StudyConfig
from muppet.config.sweep import SweepConfig, SweepModel
from muppet.data.sampler import BATCHING, SAMPLING

__all__ = [
    "BATCHING", "DEFAULT_MODEL", "LEAKAGE", "LOSS_SCALING", "ON_BAD_RECORD", "PRECISION", "SAMPLING", "SOURCES",
    "Config", "EvaluateConfig", "FinetuneConfig", "PrefinetuneConfig", "R3FConfig", "StudyConfig", "SweepConfig", "SweepModel", "load_yaml", "merge",
    "parse_overrides", "read_yaml_mapping",
]
