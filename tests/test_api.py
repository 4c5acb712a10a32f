"""The Python API: the same configs and validation as the CLI, end to end on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import muppet
from muppet.config import PrefinetuneConfig

TASKS = ["tiny_cls", "tiny_mc"]


def settings(tiny_root: Path, out: Path) -> dict[str, object]:
    return dict(model=str(tiny_root / "tiny-bert"), tasks=TASKS, data_dir=str(tiny_root / "data"), output_dir=str(out),
                max_steps=2, batch_size=4, lr=1e-3, max_length=32, progress=False, seed=1)


def test_prefinetune_then_finetune_from_python(tiny_root: Path, tmp_path: Path) -> None:
    summary = muppet.prefinetune(settings(tiny_root, tmp_path / "pre"), max_steps=3)
    assert summary["step"] == 3
    saved = PrefinetuneConfig.load(tmp_path / "pre" / "config.yaml")
    assert saved.max_steps == 3 and saved.tasks == TASKS  # the keyword override won over the mapping
    result = muppet.finetune(model=summary["export"], task="tiny_cls", data_dir=str(tiny_root / "data"),
                             output_dir=str(tmp_path / "ft"), max_steps=2, batch_size=4, max_length=32,
                             progress=False)
    assert result["task"] == "tiny_cls" and result["steps"] == 2
    assert json.loads((tmp_path / "ft" / "results.json").read_text())["dev"] == result["dev"]


def test_config_objects_and_yaml_paths_are_accepted(tiny_root: Path, tmp_path: Path) -> None:
    from muppet.api import resolve

    cfg = PrefinetuneConfig.from_dict(settings(tiny_root, tmp_path / "a"))
    assert resolve(PrefinetuneConfig, cfg, lr=3e-4).lr == 3e-4
    cfg.save(tmp_path / "c.yaml")
    assert resolve(PrefinetuneConfig, tmp_path / "c.yaml") == cfg
    assert resolve(PrefinetuneConfig, str(tmp_path / "c.yaml"), r3f={"eps": 1e-3}).r3f.eps == 1e-3
    # task files in a YAML config resolve against its folder, as on the command line
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.yaml").write_text("name: mine\n")
    (tmp_path / "sub" / "c.yaml").write_text("tasks: [mine.yaml]\n")
    expected = str(tmp_path / "sub" / "mine.yaml")
    assert resolve(PrefinetuneConfig, tmp_path / "sub" / "c.yaml").tasks == [expected]
    assert PrefinetuneConfig.load(tmp_path / "sub" / "c.yaml").tasks == [expected]


def test_bad_keywords_are_config_errors_with_the_nearest_names() -> None:
    with pytest.raises(muppet.ConfigError, match="unknown config key 'max_step'; did you mean 'max_steps'"):
        muppet.prefinetune(max_step=3)
    with pytest.raises(muppet.ConfigError, match="lr: must be a finite number"):
        muppet.finetune(lr=float("inf"))
    with pytest.raises(muppet.ConfigError, match="expected a FinetuneConfig"):
        muppet.finetune(PrefinetuneConfig())


def test_only_the_documented_names_are_public() -> None:
    import subprocess
    import sys

    assert set(muppet.__all__) == {"prefinetune", "finetune", "sweep", "study", "register_task", "PrefinetuneConfig",
                                   "FinetuneConfig",
                                   "SweepConfig", "StudyConfig", "MuppetError", "ConfigError", "DataError",
                                   "__version__"}
    with pytest.raises(AttributeError):
        muppet.not_there  # noqa: B018
    # importing muppet loads neither torch nor pydantic
    code = "import sys, muppet; print('torch' in sys.modules, 'pydantic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False", "False"]
