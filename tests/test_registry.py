from __future__ import annotations

from pathlib import Path

import pytest

from muppet.errors import ConfigError, DuplicateNameError, UnknownNameError
from muppet.registry import Registry
from muppet.tasks.mixtures import MIXTURES, expand
from muppet.tasks.spec import TASKS, all_tasks, get_task


def test_duplicates_raise_and_unknown_names_suggest() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("alpha", 1)
    with pytest.raises(DuplicateNameError, match="'alpha' is already registered"):
        reg.register("alpha", 2)
    with pytest.raises(UnknownNameError, match="unknown widget 'alpah'; did you mean 'alpha'"):
        reg["alpah"]


def test_catalogue_tasks_are_unique_and_found_by_nearest_name() -> None:
    names = [s.name for s in all_tasks()]
    assert len(names) == len(set(names)) >= 48
    with pytest.raises(UnknownNameError, match="did you mean 'squad_v1'"):
        get_task("squad_v11")
    with pytest.raises(DuplicateNameError):
        TASKS.register("rte", get_task("rte"))


def test_mixtures_expand_in_order_without_repeats(real_data_dir: object) -> None:
    specs, weights = expand(["rte", "local_extractive_qa", "squad_v1"], str(real_data_dir))
    names = [s.name for s in specs]
    assert names[0] == "rte" and names.count("squad_v1") == 1
    assert {s.family for s in specs[1:]} == {"extractive_qa"}
    assert set(weights) == set(names)
    local, _ = expand(["local"], str(real_data_dir))
    assert len(local) == 48
    assert "local" in MIXTURES


def test_mixture_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="task or mixture 'glu'"):
        expand(["glu"], None)
    with pytest.raises(ConfigError, match="more than once"):
        expand(["rte", "rte"], None)
    with pytest.raises(ConfigError, match="no tasks here"):
        expand(["local"], str(tmp_path))
    with pytest.raises(ConfigError, match="data_dir '/nonexistent' is not a folder"):  # never a silent hub fall-back
        expand(["local"], "/nonexistent")
    with pytest.raises(ConfigError, match="which is not set: pass data_dir=PATH or set MUPPET_DATA_DIR"):
        expand(["local"], None)


def test_builtins_load_once_before_the_first_use_even_a_registration() -> None:
    loads: list[int] = []
    reg: Registry[int] = Registry("widget", builtins=lambda: (loads.append(1), reg.register("builtin", 0)))
    assert loads == []  # nothing is loaded at construction
    reg.register("plugin", 1)
    assert reg.names() == ["builtin", "plugin"] and loads == [1]
    assert "builtin" in reg and reg["plugin"] == 1 and len(reg) == 2
    assert loads == [1]
