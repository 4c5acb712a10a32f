"""``tasks:`` entries with options in the config: validation, normal form and the saved file."""

from __future__ import annotations

from pathlib import Path

import pytest

from muppet.config import PrefinetuneConfig
from muppet.config.sections import TaskEntry
from muppet.config.transfer import AffinityConfig
from muppet.errors import ConfigError


def test_entries_validate_and_an_entry_without_options_is_its_name() -> None:
    cfg = PrefinetuneConfig.from_dict({"tasks": ["rte", {"name": "copa", "weight": 2, "max_examples": 50},
                                                 {"name": "boolq"}]})
    assert cfg.tasks == ["rte", TaskEntry(name="copa", weight=2.0, max_examples=50), "boolq"]
    assert cfg.to_dict()["tasks"] == ["rte", {"name": "copa", "weight": 2.0, "max_examples": 50}, "boolq"]
    assert PrefinetuneConfig.from_dict({"tasks": [{"name": "rte"}]}) == PrefinetuneConfig.from_dict({"tasks": ["rte"]})


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "rte", "weigth": 2}, "unknown config key 'tasks[0].weigth'; did you mean 'tasks[0].weight'?"),
    ({"nmae": "rte"}, "unknown config key 'tasks[0].nmae'; did you mean 'tasks[0].name'?"),
    ({"name": "rte", "weight": 0}, "tasks[0].weight: must be > 0"),
    ({"name": "rte", "weight": -1.5}, "got -1.5"),
    ({"name": "rte", "weight": float("inf")}, "tasks[0].weight: must be a finite number"),
    ({"name": "rte", "weight": float("nan")}, "tasks[0].weight: must be a finite number"),
    ({"name": "rte", "max_examples": 0}, "tasks[0].max_examples: must be >= 1, got 0"),
    ({"name": "rte", "max_examples": 2.5}, "tasks[0].max_examples: expected an integer"),
    (3, "tasks[0]: expected a task name or a mapping {name, weight, max_examples}"),
])
def test_bad_entries_name_the_entry_and_key(entry: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        PrefinetuneConfig.from_dict({"tasks": [entry]})
    assert message in str(info.value)


def test_entries_from_the_command_line_and_saved_config_round_trip(tmp_path: Path) -> None:
    cfg = PrefinetuneConfig.load(None, ["tasks=[rte, {name: copa, weight: 2.5, max_examples: 10}]"])
    cfg.save(tmp_path / "config.yaml")
    assert "max_examples: 10" in (tmp_path / "config.yaml").read_text()
    assert PrefinetuneConfig.load(tmp_path / "config.yaml") == cfg


def test_task_files_in_entries_resolve_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    (tmp_path / "c.yaml").write_text("tasks: [{name: mine.yaml, weight: 2}]\n")
    assert PrefinetuneConfig.load(tmp_path / "c.yaml").tasks == [TaskEntry(name=str(tmp_path / "mine.yaml"), weight=2.0)]


def test_affinity_takes_caps_and_refuses_weights() -> None:
    cfg = AffinityConfig.from_dict({"tasks": [{"name": "copa", "max_examples": 20}], "targets": ["rte"]})
    assert cfg.tasks == [TaskEntry(name="copa", max_examples=20)]
    with pytest.raises(ConfigError, match="weight has no effect in affinity"):
        AffinityConfig.from_dict({"tasks": [{"name": "copa", "weight": 2}], "targets": ["rte"]})
