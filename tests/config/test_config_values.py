"""Every bad setting is one ConfigError naming its key, before any model or data is loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from muppet.config import FinetuneConfig, PrefinetuneConfig, StudyConfig, SweepConfig
from muppet.config.base import read_yaml_mapping
from muppet.errors import ConfigError

SHARED = [  # keys both commands share: one declaration, one validation
    ("lr=inf", "lr: must be a finite number"),
    ("lr=nan", "lr: must be a finite number"),
    ("lr=-1", "lr: must be > 0"),
    ("max_grad_norm=nan", "max_grad_norm: must be a finite number"),
    ("weight_decay=.inf", "weight_decay: must be a finite number"),
    ("heldout_max=-5", "heldout_max: must be > 0"),
    ("heldout_fraction=1", "heldout_fraction: must be < 1"),
    ("warmup_ratio=5", "warmup_ratio: must be < 1"),
    ("dropout=1.5", "dropout: must be < 1"),
    ("seed=-1", "seed: must be >= 0"),
    ("max_length=0", "max_length: must be > 0"),
    ("r3f.eps=inf", "r3f.eps: must be a finite number"),
    ("r3f.lambda=-1", "r3f.lambda: must be >= 0"),
    ("r3f.lamda=1", "unknown config key 'r3f.lamda'; did you mean 'r3f.lambda'"),
    ("precision=fp8", "precision: 'fp8' is not one of"),
    ("num_proc=0", "num_proc: must be > 0"),
]


@pytest.mark.parametrize("command", [PrefinetuneConfig, FinetuneConfig], ids=["prefinetune", "finetune"])
@pytest.mark.parametrize("override,message", SHARED, ids=[o for o, _ in SHARED])
def test_shared_keys_are_validated_alike_by_every_command(command, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        command.load(None, [override])


def test_sweep_cells_and_study_runs_validate_their_settings_up_front() -> None:
    with pytest.raises(ConfigError, match=r"finetune\.lr: must be a finite number"):
        SweepConfig.from_dict({"models": ["m"], "tasks": ["rte"], "finetune": {"lr": float("nan")}})
    with pytest.raises(ConfigError, match=r"finetune\.warmup_ratio: must be < 1"):
        SweepConfig.from_dict({"models": [{"name": "a", "model": "m", "finetune": {"warmup_ratio": 5}}], "tasks": ["rte"]})
    with pytest.raises(ConfigError, match=r"runs\.all: lr: must be a finite number"):
        StudyConfig.from_dict({"prefinetune": {"lr": float("inf")}, "runs": {"all": {}}})


def test_every_problem_of_a_config_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        PrefinetuneConfig.load(None, ["lr=nan", "seed=-1", "batchsize=3"])
    text = str(err.value)
    assert "lr: must be a finite number" in text and "seed: must be >= 0" in text and "'batchsize'" in text


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("lr: 1.0e-4\nmax_steps: 5\nlr: 3.0e-4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml.*key 'lr' is given twice \(lines 1 and 3\)"):
        PrefinetuneConfig.load(path)
    nested = tmp_path / "n.yaml"
    nested.write_text("r3f:\n  eps: 1.0\n  eps: 2.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'eps' is given twice"):
        PrefinetuneConfig.load(nested)
    with pytest.raises(ConfigError, match="'lr' is given twice"):
        PrefinetuneConfig.load(None, ["lr=1e-4", "lr=2e-4"])


def test_a_config_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("max_steps: 5\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml, line 2: not UTF-8 text \(byte 0xe9\)"):
        read_yaml_mapping(path, "config file")


def test_bad_settings_exit_2_without_a_traceback_and_before_loading_anything(tmp_path: Path) -> None:
    # A model path that does not exist: had the config passed, loading it would fail later.
    cmd = [sys.executable, "-m", "muppet.cli", "finetune", f"model={tmp_path / 'nope'}", "lr=inf", "warmup_ratio=5"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "lr: must be a finite number" in proc.stderr and "warmup_ratio: must be < 1" in proc.stderr


def test_saved_config_reloads_equal_and_keeps_sections_together(tmp_path: Path) -> None:
    cfg = PrefinetuneConfig.load(None, ["tasks=[rte]", "r3f={eps: 1.0e-4, lambda: 0.5}", "lr=3e-4"])
    cfg.save(tmp_path / "c.yaml")
    assert PrefinetuneConfig.load(tmp_path / "c.yaml") == cfg
    keys = list(read_yaml_mapping(tmp_path / "c.yaml", "config"))
    assert keys[0] == "tasks" and keys.index("lr") == keys.index("batch_size") + 1
    assert read_yaml_mapping(tmp_path / "c.yaml", "config")["r3f"]["lambda"] == 0.5
