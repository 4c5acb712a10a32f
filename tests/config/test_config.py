"""Config: typed, validated on construction, YAML + key=value, unknown keys are errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from muppet.config import FinetuneConfig, PrefinetuneConfig, base, parse_overrides
from muppet.config.base import RENAMED
from muppet.config.study import StudyConfig
from muppet.config.sweep import SweepConfig
from muppet.errors import ConfigError
from muppet.tasks.mixtures import expand

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_overrides_are_typed() -> None:
    cfg = PrefinetuneConfig.load(None, ["lr=5e-5", "tasks=[rte,copa]", "max_train_examples=null", "resume=true",
                                         "batch_size=64", "warmup_ratio=0.1"])
    assert cfg.lr == 5e-5 and cfg.tasks == ["rte", "copa"] and cfg.max_train_examples is None
    assert cfg.resume is True and cfg.batch_size == 64
    assert PrefinetuneConfig.load(None, ["tasks=rte,copa"]).tasks == ["rte", "copa"]
    assert PrefinetuneConfig.load(None, ["tasks=local"]).tasks == ["local"]
    assert parse_overrides(["output_dir=runs/a=b"]) == {"output_dir": "runs/a=b"}


@pytest.mark.parametrize(
    "override,message",
    [
        ("batchsize=3", "unknown config key 'batchsize'; did you mean 'batch_size'"),
        ("batching=mixed", "batching: 'mixed' is not one of"),
        ("loss_scaling=log2", "did you mean 'log'"),
        ("max_steps=abc", "max_steps: expected an integer"),
        ("max_steps=2.5", "max_steps: expected an integer"),
        ("lr=-1", "lr: must be > 0"),
        ("precision=fp8", "precision"),
        ("batch_size=10", "divisible by grad_accum_steps"),
        ("doc_stride=300", "doc_stride"),
        ("resume=maybe", "resume: expected true or false"),
        ("tasks=[]", "at least one task"),
        ("noequals", "key=value"),
        ("length_buckets=16", "'length_buckets' was removed: updates draw their tasks slot by slot and padding is kept low by max_tokens"),
        ("max_tokens=0", "max_tokens: must be > 0"),
    ],
)
def test_errors_name_the_key_and_the_allowed_values(override: str, message: str) -> None:
    extra = ["grad_accum_steps=4"] if override.startswith("batch_size") else []
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        PrefinetuneConfig.load(None, [override, *extra])


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = PrefinetuneConfig.load(None, ["tasks=[rte]", "max_steps=7", "data_dir=/data"])
    cfg.save(tmp_path / "c.yaml")
    assert PrefinetuneConfig.load(tmp_path / "c.yaml") == cfg
    (tmp_path / "bad.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        PrefinetuneConfig.load(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="not found"):
        PrefinetuneConfig.load(tmp_path / "missing.yaml")


def test_data_dir_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUPPET_DATA_DIR", "/somewhere")
    assert PrefinetuneConfig().data_dir == "/somewhere"
    assert PrefinetuneConfig(data_dir="/else").data_dir == "/else"


def command_of(path: Path) -> type:
    """The command that reads a shipped config, told by its keys (not by its file name)."""
    from muppet.config.transfer import AffinityConfig

    keys = set(base.read_yaml_mapping(path, "config"))
    return (StudyConfig if keys & {"runs", "sweeps"} else SweepConfig if "models" in keys
            else AffinityConfig if "targets" in keys else PrefinetuneConfig)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_parses_without_any_data(path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      transfer_stage1: list[str]) -> None:
    monkeypatch.delenv("MUPPET_DATA_DIR", raising=False)
    cfg = command_of(path).load(path)
    assert cfg.to_dict() == type(cfg).from_dict(cfg.to_dict()).to_dict()


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_is_valid(path: Path, real_data_dir: Path, transfer_stage1: list[str]) -> None:
    kind = command_of(path)
    if kind is StudyConfig:
        study = StudyConfig.load(path, [f"prefinetune.data_dir={real_data_dir}", f"finetune.data_dir={real_data_dir}"])
        run = study.run_config("all")
        tasks, data_dir = [*run.tasks, *run.downstream], str(real_data_dir)  # tests/test_study.py checks the rest
    elif kind is SweepConfig:
        sweep = SweepConfig.load(path, [f"finetune.data_dir={real_data_dir}"])
        tasks, data_dir = sweep.tasks, str(real_data_dir)
    else:
        cfg = kind.load(path, [f"data_dir={real_data_dir}"])
        tasks, data_dir = [*cfg.tasks, *getattr(cfg, "targets", [])], cfg.data_dir
    specs, _ = expand(tasks, data_dir)
    assert specs, path
    for spec in specs:
        assert "train" in spec.local_splits(data_dir), f"{path.name}: {spec.name} has no local training data"


def test_demo_config_spans_three_families(real_data_dir: Path) -> None:
    cfg = PrefinetuneConfig.load(Path(__file__).resolve().parents[2] / "configs" / "demo.yaml")
    specs, _ = expand(cfg.tasks, real_data_dir)
    assert len(specs) >= 15
    assert {s.family for s in specs} >= {"classification", "multiple_choice", "extractive_qa"}


ACCELERATE = sorted((Path(__file__).resolve().parents[2] / "configs" / "accelerate").glob("*.yaml"))


@pytest.mark.parametrize("path", ACCELERATE, ids=[p.name for p in ACCELERATE])
def test_accelerate_configs_load(path: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    cfg = load_config_from_file(str(path))
    assert cfg.distributed_type in (DistributedType.MULTI_GPU, DistributedType.FSDP, DistributedType.DEEPSPEED)
    assert cfg.num_processes >= 2 and not cfg.use_cpu


@pytest.mark.parametrize("old,new", sorted(RENAMED.items()))
def test_an_old_key_name_still_works_warns_once_naming_the_new_one_and_is_saved_under_it(
    old: str, new: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="muppet.config.base"):
        cfg = PrefinetuneConfig.load(None, [f"{old}=7"])
        again = FinetuneConfig.load(None, [f"{old}=7"])
    assert getattr(cfg, new) == 7 and getattr(again, new) == 7
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [f"config key {old!r} is deprecated: it is now {new!r}"]
    cfg.save(tmp_path / "c.yaml")
    saved = (tmp_path / "c.yaml").read_text()
    assert f"\n{new}: 7\n" in saved and old not in saved
    with pytest.raises(ConfigError, match=f"'{old}' is the old name of '{new}'; give only '{new}'"):
        PrefinetuneConfig.load(None, [f"{old}=7", f"{new}=8"])


def test_old_key_names_in_sweep_and_study_layers_merge_under_the_new_names() -> None:
    sweep = SweepConfig.from_dict({
        "models": ["m", {"name": "own", "model": "m2", "finetune": {"max_eval_examples": 9}}], "tasks": ["rte"],
        "finetune": {"eval_max_examples": 5, "max_train_examples": 50},
    })
    assert sweep.finetune == {"max_eval_examples": 5, "max_train_examples": 50}
    assert sweep.cell_config("m", "rte", 1.0, 1).max_eval_examples == 5
    assert sweep.cell_config("own", "rte", 1.0, 1).max_eval_examples == 9  # the model's layer wins, by its new name
    study = StudyConfig.from_dict({
        "prefinetune": {"tasks": ["rte"], "max_examples_per_task": 100},
        "runs": {"a": {}, "b": {"max_train_examples": 200}, "c": {"eval_max_examples": 3}},
    })
    caps = {name: (c.max_train_examples, c.max_eval_examples) for name, c in study.run_configs.items()}
    assert caps == {"a": (100, 1000), "b": (200, 1000), "c": (100, 3)}
