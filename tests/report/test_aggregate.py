"""Aggregation: headline metrics and their units, scaling at one budget."""

from __future__ import annotations

import pytest

from muppet.families import all_families, get_family
from muppet.report.aggregate import (
    Cell,
    headline_metric,
    metric_scale,
    metric_unit,
    moving_average,
    scaling_budget,
    task_count_scaling,
    task_unit,
)
from muppet.report.format import UNITS
from muppet.report.read import ModelInfo
from muppet.tasks.spec import all_tasks


def test_headline_metrics() -> None:
    assert headline_metric("rte", ["f1_macro", "accuracy"]) == "accuracy"
    assert headline_metric("cola", ["accuracy", "mcc"]) == "mcc"  # the catalogue's choice wins
    assert headline_metric("toy_qa", ["exact_match", "f1"]) == "f1"  # unknown task: fallback order
    assert headline_metric("toy_gen", ["bleu", "rouge2"]) == "bleu"


def test_moving_average_is_centred_and_narrower_at_the_ends() -> None:
    assert moving_average([1.0, 3.0, 5.0, 7.0, 9.0], 3) == [2.0, 3.0, 5.0, 7.0, 8.0]


def test_a_metrics_unit_is_the_one_its_family_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    assert metric_unit("accuracy", "classification") == "fraction" and metric_scale("accuracy", "multiple_choice") == 100
    assert metric_unit("mcc", "classification") == "correlation" and metric_scale("pearson", "classification") == 100
    assert metric_scale("f1", "extractive_qa") == 1 and metric_unit("rougeL", "summarization") == "points"
    assert task_unit("stsb", "pearson") == "correlation" and task_unit("squad_v1", "f1") == "percent"
    assert metric_unit("f1") == "percent"  # a task the catalogue does not know: the families reporting f1 agree
    assert metric_unit("bleu") == "as reported" and metric_scale("bleu") == 1  # nobody declares it: never guessed
    summarization = type(get_family("summarization"))
    monkeypatch.setattr(summarization, "metric_units", {**summarization.metric_units, "bleu": "fraction"})
    assert metric_scale("bleu") == 100 and metric_scale("bleu", "summarization") == 100  # the declaration decides
    monkeypatch.setattr(type(get_family("multiple_choice")), "metric_units", {"accuracy": "fraction", "f1": "fraction"})
    assert metric_unit("f1") == "as reported"  # two families disagree: no guess either
    assert metric_unit("f1", "multiple_choice") == "fraction" and metric_unit("f1", "extractive_qa") == "percent"


def test_every_family_declares_a_unit_the_report_knows_for_every_headline_metric() -> None:
    for family in all_families():
        assert family.metric_units and set(family.metric_units.values()) <= set(UNITS), family.name
    for spec in all_tasks():
        family = get_family(spec.family)
        assert family.metric_name(spec) in family.metric_units, spec.name


def test_task_counts_are_compared_at_one_pre_finetuning_budget() -> None:
    infos = {
        "vanilla": ModelInfo("vanilla"),
        "t2": ModelInfo("t2", tasks=["a", "b"], steps=500),
        "t4": ModelInfo("t4", tasks=["a", "b", "c", "d"], steps=500),
        "t4-long": ModelInfo("t4-long", tasks=["a", "b", "c", "d"], steps=1000),  # a budget control
    }
    assert scaling_budget(infos.values()) == 500  # what most pre-finetuned models share
    assert scaling_budget([infos["vanilla"]]) is None
    assert scaling_budget([infos["t2"], infos["t4-long"]]) == 500  # a tie: the smaller budget
    cells = [Cell(m, "rte", "dev", "accuracy", 0.1, 50, {1: v, 2: v + 0.02})
             for m, v in (("vanilla", 0.50), ("t2", 0.60), ("t4", 0.70), ("t4-long", 0.90))]
    (series,) = task_count_scaling(cells, infos, {"rte": "dev"})
    # the 1000-update run is not averaged into the 4-task point: that would mix budgets
    assert [(p["tasks"], p["models"]) for p in series["points"]] == [(0, ["vanilla"]), (2, ["t2"]), (4, ["t4"])]
    assert series["points"][2]["mean"] == pytest.approx(0.71) and series["points"][2]["std"] is not None
