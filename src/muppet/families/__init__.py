"""Task families; ``get_family(name)`` returns the one registered instance of each.

A family defined anywhere else registers itself with ``FAMILY_REGISTRY.register(name, instance)``;
the built-in families are registered before the registry's first use, whatever comes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from muppet.errors import ConfigError, UnknownNameError
from muppet.families.base import Family, FeatureSettings, RowView, SplitCheck
from muppet.registry import Registry, nearest

if TYPE_CHECKING:
    from muppet.tasks.spec import TaskSpec


def all_families() -> list[Family]:
    return [family for _, family in FAMILY_REGISTRY.items()]


def _register_builtin() -> None:
    from muppet.families.classification import Classification
    from muppet.families.extractive_qa import ExtractiveQA
    from muppet.families.multiple_choice import MultipleChoice
    from muppet.families.regression import Regression
    from muppet.families.summarization import Summarization

    for family in (Classification(), Regression(), MultipleChoice(), ExtractiveQA(), Summarization()):
        FAMILY_REGISTRY.register(family.name, family)


FAMILY_REGISTRY: Registry[Family] = Registry("task family", builtins=_register_builtin)


def get_family(name: str) -> Family:
    return FAMILY_REGISTRY[name]


def family_names() -> list[str]:
    return FAMILY_REGISTRY.names()


def declare(spec: TaskSpec) -> str:
    """Check a task declaration against its family; the name of the family that serves it.

    Raises ConfigError naming the task (unknown family, a label space or metric the family
    does not have, with the nearest names).
    """
    try:
        family = get_family(spec.family)
    except UnknownNameError as exc:
        raise ConfigError(f"task {spec.name!r}: {exc}") from None
    family = get_family(family.family_for(spec))
    family.validate_spec(spec)
    if spec.metric and spec.metric not in family.metric_names:
        near = nearest(spec.metric, family.metric_names)
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise ConfigError(
            f"task {spec.name!r}: the {family.name} family does not compute metric {spec.metric!r}{hint} "
            f"(its metrics: {', '.join(family.metric_names)})"
        )
    return family.name


__all__ = ["FAMILY_REGISTRY", "Family", "FeatureSettings", "RowView", "SplitCheck", "all_families", "declare", "family_names", "get_family"]
