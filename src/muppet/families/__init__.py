"""Task families; ``get_family(name)`` returns the one module-level instance of each."""

from __future__ import annotations

from muppet.families.base import Family, FeatureSettings, RowView
from muppet.registry import Registry

FAMILY_REGISTRY: Registry[Family] = Registry("task family")


def get_family(name: str) -> Family:
    if not len(FAMILY_REGISTRY):
        _register_builtin()
    return FAMILY_REGISTRY[name]


def all_families() -> list[Family]:
    if not len(FAMILY_REGISTRY):
        _register_builtin()
    return [family for _, family in FAMILY_REGISTRY.items()]


def _register_builtin() -> None:
    from muppet.families.classification import Classification
    from muppet.families.extractive_qa import ExtractiveQA
    from muppet.families.multiple_choice import MultipleChoice
    from muppet.families.summarization import Summarization

    for family in (Classification(), MultipleChoice(), ExtractiveQA(), Summarization()):
        FAMILY_REGISTRY.register(family.name, family)


__all__ = ["FAMILY_REGISTRY", "Family", "FeatureSettings", "RowView", "all_families", "get_family"]
