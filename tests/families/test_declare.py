"""Declaring a task goes through its family: the family name, the label space and the headline
metric are checked when the task is declared, with the nearest valid names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from muppet.errors import ConfigError
from muppet.families import FAMILY_REGISTRY, family_names, get_family
from muppet.tasks.mixtures import MIXTURES
from muppet.tasks.spec import HubSource, TaskSpec, get_task, spec_from_dict, spec_to_dict
from muppet.tasks.user import load_task_file

HUB = HubSource("none/none")


def test_an_unknown_family_names_the_nearest_one() -> None:
    with pytest.raises(ConfigError, match="task 't': unknown task family 'clasification'; did you mean 'classification'"):
        TaskSpec("t", "clasification", hub=HUB, labels=("a", "b"))


@pytest.mark.parametrize(
    "family,kw,metric,message",
    [
        ("classification", {"labels": ("a", "b")}, "f1", r"classification family does not compute metric 'f1'; did you mean 'f1_macro'.*accuracy, f1_macro, mcc"),
        ("extractive_qa", {}, "accuracy", r"extractive_qa family does not compute metric 'accuracy'.*exact_match, f1"),
        ("classification", {"label_range": (0.0, 5.0)}, "accuracy", r"regression family does not compute.*pearson, spearman"),
        ("summarization", {}, "rouge_l", r"did you mean 'rougeL'"),
    ],
)
def test_a_headline_metric_the_family_does_not_compute_is_refused_at_declaration(
    family: str, kw: dict, metric: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        TaskSpec("t", family, hub=HUB, metric=metric, **kw)


def test_a_task_file_with_a_wrong_metric_fails_before_any_training(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "family": "extractive_qa", "metric": "accuracy", "hub": {"path": "a/b"}}))
    with pytest.raises(ConfigError, match=f"{path}: task 't': the extractive_qa family does not compute metric 'accuracy'"):
        load_task_file(path)


@pytest.mark.parametrize("name", ["classification", "regression", "multiple_choice", "extractive_qa", "summarization"])
def test_every_built_in_family_declares_its_metrics(name: str) -> None:
    family = get_family(name)
    assert family.default_metric in family.metric_names
    assert len(set(family.metric_names)) == len(family.metric_names)


def test_every_family_has_its_local_mixture() -> None:
    for name in family_names():
        assert f"local_{name}" in MIXTURES


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"labels": ("a",)}, "at least two labels"),
        ({"labels": ("a", "a")}, "duplicate label names"),
        ({}, "needs either labels or label_range"),
        ({"labels": ("a", "b"), "label_range": (0.0, 1.0)}, "needs either labels or label_range"),
        ({"label_range": (5.0, 0.0)}, "lo < hi"),
    ],
)
def test_label_spaces_are_checked_by_the_family(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TaskSpec("t", "classification", hub=HUB, **kw)
    with pytest.raises(ConfigError, match="multiple_choice tasks declare no labels"):
        TaskSpec("t", "multiple_choice", hub=HUB, labels=("a", "b"))


def test_classification_with_a_label_range_is_a_regression_task() -> None:
    old = TaskSpec("t", "classification", hub=HUB, label_range=(0.0, 5.0))
    new = TaskSpec("t", "regression", hub=HUB, label_range=(0.0, 5.0))
    assert old == new and old.family == "regression"
    assert get_family(old.family).head_key(old) == "cls/t"  # the head of old exports
    # an export written before regression was a family reads back as one
    legacy = {**spec_to_dict(get_task("stsb")), "family": "classification"}
    assert spec_from_dict(legacy) == get_task("stsb") and get_task("stsb").family == "regression"


def test_label_space_is_the_familys_word() -> None:
    assert get_family("regression").label_space(get_task("stsb")) == "0..5"
    assert get_family("classification").label_space(get_task("rte")) == "entailment/not_entailment"
    assert get_family("extractive_qa").label_space(get_task("squad_v2")) == "span or none"
    assert get_family("extractive_qa").label_space(get_task("squad_v1")) == "span"


def test_built_in_families_load_even_when_a_plug_in_registers_first() -> None:
    """The registry used to load the built-ins only when it was empty at the first lookup."""
    code = (
        "from muppet.families import FAMILY_REGISTRY, get_family\n"
        "from muppet.families.multiple_choice import MultipleChoice\n"
        "class Ranking(MultipleChoice):\n"
        "    name = 'ranking'\n"
        "FAMILY_REGISTRY.register('ranking', Ranking())\n"
        "print(get_family('classification').name, sorted(FAMILY_REGISTRY.names()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split(" ", 1)[0] == "classification"
    assert "'ranking'" in out and "'summarization'" in out and "'regression'" in out


def test_a_registered_family_is_accepted_by_task_specs() -> None:
    from muppet.families.multiple_choice import MultipleChoice

    class Ordering(MultipleChoice):
        name = "ordering_for_test"

    FAMILY_REGISTRY.register(Ordering.name, Ordering())
    try:
        spec = TaskSpec("t_order", Ordering.name, hub=HUB, metric="accuracy")
        assert spec.family == "ordering_for_test"
    finally:
        FAMILY_REGISTRY.unregister(Ordering.name)
