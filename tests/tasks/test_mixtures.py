"""``tasks:`` entries: names, mixtures and files, with per-task weights and caps."""

from __future__ import annotations

from pathlib import Path

import pytest

from muppet.config.sections import TaskEntry
from muppet.errors import ConfigError
from muppet.tasks.mixtures import MIXTURES, Mixture, expand_entries, select


@pytest.fixture
def duo() -> str:
    """A registered mixture of two tiny tasks, tiny_mc weighted 0.5."""
    MIXTURES.register("duo", Mixture("duo", "test mixture", ["tiny_cls", "tiny_mc"], {"tiny_mc": 0.5}))
    yield "duo"
    MIXTURES.unregister("duo")


def test_entry_weights_multiply_the_mixtures_and_caps_reach_every_member(tiny_root: Path, duo: str) -> None:
    data = str(tiny_root / "data")
    specs, weights, caps = expand_entries([TaskEntry(name=duo, weight=2.0, max_examples=7), "tiny_reg"], data)
    assert [s.name for s in specs] == ["tiny_cls", "tiny_mc", "tiny_reg"]
    assert weights == {"tiny_cls": 2.0, "tiny_mc": 1.0, "tiny_reg": 1.0}
    assert caps == {"tiny_cls": 7, "tiny_mc": 7}


@pytest.mark.parametrize("direct_first", [True, False])
def test_an_entry_naming_one_task_sets_its_options_over_a_mixtures(tiny_root: Path, duo: str, direct_first: bool) -> None:
    direct = TaskEntry(name="tiny_mc", weight=3.0, max_examples=5)
    entries = [direct, TaskEntry(name=duo, max_examples=9)] if direct_first else [TaskEntry(name=duo, max_examples=9), direct]
    specs, weights, caps = expand_entries(entries, str(tiny_root / "data"))
    assert sorted(s.name for s in specs) == ["tiny_cls", "tiny_mc"]
    assert weights == {"tiny_cls": 1.0, "tiny_mc": 3.0}  # the mixture's 0.5 is replaced, not multiplied
    assert caps == {"tiny_cls": 9, "tiny_mc": 5}


def test_a_mixture_file_entry_weighs_its_members_and_select_keeps_caps_of_kept_tasks(tiny_root: Path, tmp_path: Path) -> None:
    mixture = tmp_path / "m.yaml"
    mixture.write_text("mixture: m\ntasks: [tiny_cls, tiny_reg]\nweights: {tiny_reg: 4}\n")
    chosen = select([TaskEntry(name=str(mixture), weight=0.5, max_examples=3)], [], ["tiny_cls"], str(tiny_root / "data"))
    assert [s.name for s in chosen.specs] == ["tiny_reg"] and [s.name for s in chosen.downstream] == ["tiny_cls"]
    assert chosen.weights == {"tiny_reg": 2.0} and chosen.caps == {"tiny_reg": 3}


def test_a_task_named_twice_is_an_error_whatever_the_form(tiny_root: Path) -> None:
    with pytest.raises(ConfigError, match=r"\['tiny_cls'\] listed more than once"):
        expand_entries(["tiny_cls", TaskEntry(name="tiny_cls", weight=2.0)], str(tiny_root / "data"))
