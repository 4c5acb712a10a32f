"""Fine-tuning on the run skeleton: stopped (stop_after or SIGTERM) and resumed, it is the
uninterrupted fine-tune; resume refuses changes that break exactness; sweeps continue a
stopped cell and keep no checkpoints of finished ones."""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from test_finetune import ft

from muppet.config import SweepConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import BEST_FILE, finetune
from muppet.evaluation.sweep import sweep
from muppet.train.checkpoint import complete_checkpoints
from muppet.train.metrics_log import read_metrics
from muppet.train.step import Stepper

# Dropout on, an evaluation every 2 updates, early stopping that may stop the run: everything
# a resume must restore (RNG, sampler, schedule, optimizer, best score/step/weights, stale count).
SETTINGS: dict[str, Any] = dict(max_steps=10, eval_every=2, early_stopping_patience=3, save_model=True, log_every=1)
SAME = ("dev", "test", "best_step", "steps", "history", "n_train")


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    state = load_file(str(model_dir / "model.safetensors"))
    state.update({f"heads.{k}": v for k, v in load_file(str(model_dir / "heads.safetensors")).items()})
    return state


def assert_same_run(a: Path, b: Path) -> None:
    ra, rb = (json.loads((p / "results.json").read_text()) for p in (a, b))
    assert {k: ra[k] for k in SAME} == {k: rb[k] for k in SAME}
    wa, wb = weights(a / "model"), weights(b / "model")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    rows = [[(r["step"], r.get("loss"), r.get("dev")) for r in read_metrics(p / "metrics.jsonl")
             if "loss" in r or "dev" in r] for p in (a, b)]
    assert [r[0] for r in rows[0]] == [r[0] for r in rows[1]]  # the same rows at the same updates
    assert [r[2] for r in rows[0]] == [r[2] for r in rows[1]]


@pytest.fixture(scope="module")
def reference(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ft-ref") / "ref"
    finetune(ft(tiny_root, out, **SETTINGS))
    return out


def test_stopped_twice_then_resumed_is_the_uninterrupted_finetune(tiny_root: Path, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = finetune(ft(tiny_root, out, **SETTINGS, stop_after=3))
    assert first["stopped"] and first["step"] == 3 and not (out / "results.json").exists()
    # after update 3 the best is the evaluation at 2: its weights travel in the checkpoint
    assert [p.name for p in complete_checkpoints(out)] == ["step_00000003"]
    assert (complete_checkpoints(out)[0] / BEST_FILE).is_file()
    finetune(ft(tiny_root, out, **SETTINGS, stop_after=6, resume=True))
    result = finetune(ft(tiny_root, out, **SETTINGS, resume=True))
    assert result["best_step"] is not None and result["steps"] <= 10
    assert_same_run(reference, out)
    # a finished fine-tune keeps no checkpoints: a sweep's disk holds results, not optimizer states
    assert not (out / "checkpoints").exists() and (out / "config.yaml").is_file()
    resumed = [r for r in read_metrics(out / "metrics.jsonl") if "resumed_from" in r]
    assert [r["step"] for r in resumed] == [3, 6]


def test_sigterm_checkpoints_and_resume_finishes_exactly(tiny_root: Path, reference: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    original = Stepper.update

    def update(self: Stepper, step: int, slots: Any) -> Any:
        done = original(self, step, slots)
        if step == 5:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler records it; the run stops after this update
        return done

    monkeypatch.setattr(Stepper, "update", update)
    out = tmp_path / "run"
    stopped = finetune(ft(tiny_root, out, **SETTINGS))
    assert stopped["stopped"] and stopped["step"] == 5 and stopped["signal"] == signal.SIGTERM
    monkeypatch.setattr(Stepper, "update", original)
    finetune(ft(tiny_root, out, **SETTINGS, resume=True))
    assert_same_run(reference, out)


def test_finetune_resume_refuses_changes_that_break_exactness(tiny_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    finetune(ft(tiny_root, out, **SETTINGS, stop_after=3))
    with pytest.raises(ConfigError, match="already holds a run") as err:
        finetune(ft(tiny_root, out, **SETTINGS))
    assert "resume=true" in str(err.value)
    with pytest.raises(ConfigError) as err:
        finetune(ft(tiny_root, out, **{**SETTINGS, "eval_every": 3, "lr": 2e-3}, resume=True))
    # eval_every decides which weights early stopping keeps: unlike in pre-finetuning it may not change
    assert "eval_every: 2 -> 3" in str(err.value) and "lr: 0.001 -> 0.002" in str(err.value)
    # what only decides what is reported may change
    result = finetune(ft(tiny_root, out, **SETTINGS, resume=True, evaluate_test=False, extra={"note": "x"}))
    assert result["extra"] == {"note": "x"}


def sweep_cfg(tiny_root: Path, out: Path) -> SweepConfig:
    return SweepConfig.from_dict(dict(
        models=[str(tiny_root / "tiny-bert")], tasks=["tiny_cls"], fractions=[0.5], seeds=[1, 2], output_dir=str(out),
        progress=False, finetune=dict(data_dir=str(tiny_root / "data"), epochs=2, batch_size=4, lr=1e-3, max_length=48),
    ))


def values(out: Path) -> list[tuple[str, ...]]:
    return [(r["seed"], r["split"], r["metric"], r["value"]) for r in csv.DictReader((out / "results.csv").open())]


def test_a_sweep_stopped_by_a_signal_continues_the_stopped_cell(tiny_root: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    reference = sweep_cfg(tiny_root, tmp_path / "ref")
    assert sweep(reference)["ran"] == 2
    original = Stepper.update
    calls = {"n": 0}

    def update(self: Stepper, step: int, slots: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 13:  # update 3 of the second cell (10 updates per cell)
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, step, slots)

    monkeypatch.setattr(Stepper, "update", update)
    cfg = sweep_cfg(tiny_root, tmp_path / "sweep")
    stopped = sweep(cfg)
    assert stopped["stopped"] and stopped["ran"] == 1
    cell = cfg.cell_dir(cfg.model_names()[0], "tiny_cls", 0.5, 2)
    assert [p.name for p in complete_checkpoints(cell)] == ["step_00000003"]
    monkeypatch.setattr(Stepper, "update", original)
    again = sweep(cfg)
    assert again["ran"] == 1 and again["skipped"] == 1 and not again["stopped"]
    assert values(tmp_path / "sweep") == values(tmp_path / "ref")
    assert not list((tmp_path / "sweep").rglob("checkpoints"))


def test_free_space_counts_the_best_weights_a_checkpoint_may_carry(tiny_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import namedtuple

    from muppet.tasks.spec import get_task
    from muppet.train import runfolder
    from muppet.train.skeleton import build_model

    cfg = ft(tiny_root, tmp_path / "run", **SETTINGS)
    model = build_model(cfg, [get_task("tiny_cls")])
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    # room for 3 checkpoints of weights + 2 moments and the export, not for the best weights beside them
    free = weights * (3 * (cfg.keep_checkpoints + 1) + 1) + 1
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(runfolder.shutil, "disk_usage", lambda path: usage(10**12, 10**12 - free, free))
    with pytest.raises(ConfigError, match="3 checkpoint\\(s\\) of weights and optimizer state, 1 export"):
        finetune(cfg)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
