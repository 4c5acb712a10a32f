"""Runs that survive faults: non-finite losses, SIGTERM, SIGKILL at any moment (exact resume)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tiny
import torch
import yaml
from safetensors.torch import load_file

from muppet.config import PrefinetuneConfig
from muppet.errors import ConfigError
from muppet.families import get_family
from muppet.train.checkpoint import complete_checkpoints
from muppet.train.loop import TrainingError, prefinetune
from muppet.train.metrics_log import read_metrics

TASKS = ["tiny_cls", "tiny_reg", "tiny_mc"]


def cfg_dict(tiny_root: Path, out: Path, **kw: object) -> dict:
    base = dict(model=str(tiny_root / "tiny-bert"), tasks=TASKS, data_dir=str(tiny_root / "data"), output_dir=str(out),
                max_steps=8, batch_size=6, lr=1e-3, max_length=48, log_every=1, progress=False, seed=5,
                max_eval_examples=4)
    base.update(kw)
    return base


def test_nonfinite_updates_are_skipped_then_stop_the_run(tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    family = get_family("regression")  # tiny_reg's
    original = family.loss
    calls = {"n": 0}

    def flaky(logits: torch.Tensor, targets: dict) -> torch.Tensor:
        calls["n"] += 1
        out = original(logits, targets)
        return out * float("nan") if 3 <= calls["n"] <= 6 else out

    monkeypatch.setattr(family, "loss", flaky)
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "skip", max_bad_updates=10, export=False)))
    rows = read_metrics(tmp_path / "skip" / "metrics.jsonl")
    skipped = [r for r in rows if r.get("skipped_update")]
    assert skipped and all(r["nonfinite"] == ["tiny_reg"] for r in skipped)
    assert all(r["step"] not in {s["step"] for s in skipped} for r in rows if "loss" in r)
    assert len(skipped) <= 4  # only the updates whose tiny_reg loss was made NaN (loss calls 3-6)
    assert max(r["step"] for r in rows if "loss" in r) == 8  # and training went on to the end

    monkeypatch.setattr(family, "loss", lambda logits, targets: original(logits, targets) * float("nan"))
    with pytest.raises(TrainingError, match="3 consecutive updates had a non-finite loss") as err:
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "stop", max_bad_updates=3)))
    assert ("tiny_cls" in str(err.value) or "tiny_reg" in str(err.value)) and "last good checkpoint" in str(err.value)


def _launch(config: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "muppet", "prefinetune", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)



def _wait_for_rows(metrics: Path, rows: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and sum(1 for line in metrics.read_text().splitlines() if '"loss"' in line) >= rows:
            return
        time.sleep(0.05)


def test_sigterm_saves_a_checkpoint_and_resume_finishes(tiny_root: Path, tmp_path: Path) -> None:
    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg_dict(tiny_root, tmp_path / "run", max_steps=400, tasks=files)))
    proc = _launch(config)
    _wait_for_rows(tmp_path / "run" / "metrics.jsonl", 3, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "continue with resume=true" in out
    done = complete_checkpoints(tmp_path / "run")
    assert done and int(done[-1].name.split("_")[1]) >= 3



def test_sigkill_anywhere_then_resume_is_bit_identical(tiny_root: Path, tmp_path: Path) -> None:
    steps = 10
    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    reference = prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "ref", max_steps=steps, save_every=1, tasks=files)))
    assert reference["step"] == steps
    config = tmp_path / "k.yaml"
    config.write_text(yaml.safe_dump(cfg_dict(tiny_root, tmp_path / "killed", max_steps=steps, save_every=1, resume=True, tasks=files)))
    rng = random.Random(0)

    def latest() -> int:
        done = complete_checkpoints(tmp_path / "killed")
        return int(done[-1].name.split("_")[1]) if done else 0

    kills = 0
    # Kill after chosen updates, at a random moment after their checkpoint: mid-update,
    # mid-checkpoint or mid-log, then resume; finally run to the end.
    for target in sorted(rng.sample(range(1, steps - 1), 3)):
        if latest() >= target:
            continue
        proc = _launch(config)
        deadline = time.time() + 120
        while latest() < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=120)
    proc = _launch(config)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert kills >= 1
    assert not list((tmp_path / "killed" / "checkpoints").glob(".tmp-*"))
    a, b = tiny.export_weights(tmp_path / "ref" / "export"), tiny.export_weights(tmp_path / "killed" / "export")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps_logged = [r["step"] for r in read_metrics(tmp_path / "killed" / "metrics.jsonl") if "loss" in r]
    assert steps_logged == list(range(1, steps + 1))


def _same_weights(a: Path, b: Path) -> bool:
    x, y = tiny.export_weights(a), tiny.export_weights(b)
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def test_weights_that_become_nonfinite_stop_the_run_without_an_export(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Poisoned(torch.optim.AdamW):
        """AdamW whose third step leaves an infinite weight, as lr=inf would."""

        steps = 0

        def step(self, closure=None):  # type: ignore[no-untyped-def]
            out = super().step(closure)
            Poisoned.steps += 1
            if Poisoned.steps == 3:
                with torch.no_grad():
                    self.param_groups[0]["params"][0].view(-1)[0] = float("inf")
            return out

    monkeypatch.setattr(torch.optim, "AdamW", Poisoned)
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match="update 3 made some weights non-finite") as err:
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=5, save_every=1)))
    assert str(out / "checkpoints" / "step_00000002") in str(err.value)
    assert not (out / "export").exists() and not (out / "results.json").exists()
    assert [p.name for p in complete_checkpoints(out)] == ["step_00000001", "step_00000002"]
    assert all(torch.isfinite(t).all() for t in load_file(str(complete_checkpoints(out)[-1] / "model.safetensors")).values())


def test_a_failed_checkpoint_write_names_the_last_complete_one_which_resumes_exactly(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from accelerate import Accelerator

    settings = dict(max_steps=4, save_every=1, keep_checkpoints=3)
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "ref", **settings)))
    original = Accelerator.save_state

    def full_disk(self, output_dir=None, **kw):  # type: ignore[no-untyped-def]
        if "step_00000003" in str(output_dir):
            (Path(output_dir) / "model.safetensors").parent.mkdir(parents=True, exist_ok=True)
            (Path(output_dir) / "model.safetensors").write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, output_dir, **kw)

    monkeypatch.setattr(Accelerator, "save_state", full_disk)
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match="No space left on device") as err:
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, **settings)))
    assert f"last complete checkpoint is {out / 'checkpoints' / 'step_00000002'}" in str(err.value)
    assert not list((out / "checkpoints").glob(".tmp-*"))
    monkeypatch.setattr(Accelerator, "save_state", original)
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, resume=True, **settings)))
    assert _same_weights(tmp_path / "ref" / "export", out / "export")


def test_too_little_free_space_is_refused_before_training(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from collections import namedtuple

    from muppet.cli import main
    from muppet.train import runfolder

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(runfolder.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    out = tmp_path / "run"
    args = [f"{k}={json.dumps(v)}" for k, v in cfg_dict(tiny_root, out, keep_checkpoints=3).items()]
    assert main(["prefinetune", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"output_dir {out}: 0.00 GiB free" in err and "4 checkpoint(s)" in err
    assert not (out / "metrics.jsonl").exists()


@pytest.mark.parametrize("split", ["train", "dev"])
def test_a_run_with_an_empty_split_is_an_error_before_training(tiny_root: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], split: str) -> None:
    import json
    import shutil

    from muppet.cli import main

    data = tmp_path / "data"
    shutil.copytree(tiny_root / "data", data)
    (data / "tiny_cls" / f"{split}.jsonl").write_text("")
    out = tmp_path / "run"
    args = [f"{k}={json.dumps(v)}" for k, v in cfg_dict(tiny_root, out, data_dir=str(data)).items()]
    assert main(["prefinetune", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "task 'tiny_cls'" in err
    assert ("no training examples in" if split == "train" else "its dev split has no examples") in err
    assert not (out / "metrics.jsonl").exists()


def test_sequential_batching_with_fewer_steps_than_tasks_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_steps=2 is less than the 3 tasks"):
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "seq", batching="sequential", max_steps=2)))


@pytest.mark.parametrize("damage", ["delete heads.safetensors", "truncate heads.safetensors", "corrupt muppet.json",
                                    "truncate model.safetensors"])
def test_load_export_names_a_missing_or_corrupt_file(tiny_root: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    from muppet.train.export import load_export

    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "run", max_steps=1, tasks=["tiny_cls"])))
    export = tmp_path / "export"
    shutil.copytree(tmp_path / "run" / "export", export)
    load_export(export)
    action, name = damage.split()
    target = export / name
    if action == "delete":
        target.unlink()
    elif action == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    else:
        target.write_text('{"tasks": [')
    with pytest.raises(ConfigError, match=name if name != "model.safetensors" else "cannot load weights"):
        load_export(export)


def test_max_length_too_short_for_a_qa_question_is_one_message(tiny_root: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from muppet.cli import main

    args = [f"{k}={json.dumps(v)}" for k, v in cfg_dict(tiny_root, tmp_path / "qa", tasks=["tiny_qa"], max_length=12,
                                                         doc_stride=2).items()]
    assert main(["prefinetune", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "task 'tiny_qa': max_length=12 leaves 1 context tokens" in err
    assert "doc_stride=2" in err
