"""Checkpoint pruning: which steps stay after each save."""

from __future__ import annotations

from pathlib import Path

from accelerate import Accelerator
from torch import nn

from muppet.train.checkpoint import checkpoint_dir, complete_checkpoints, read_state, save_checkpoint


def _steps(out: Path) -> list[int]:
    return [int(p.name.removeprefix("step_")) for p in complete_checkpoints(out)]


def test_pruning_keeps_the_newest_complete_checkpoints_and_only_counts_complete_ones(tmp_path: Path) -> None:
    accelerator = Accelerator(cpu=True)
    accelerator.prepare(nn.Linear(2, 2))  # save_state writes its weights and the random states
    kept = []
    for step in (1, 2, 3, 4):
        save_checkpoint(accelerator, tmp_path, step, {"note": step}, keep=2)
        kept.append(_steps(tmp_path))
    assert kept == [[1], [1, 2], [2, 3], [3, 4]]
    root = checkpoint_dir(tmp_path)
    (root / ".tmp-step_00000005").mkdir()  # a crash mid-write
    (root / "step_00000006").mkdir()  # renamed by hand, no trainer_state.json: not complete
    (root / "broken-step_00000007").mkdir()  # set aside by a resume fallback
    save_checkpoint(accelerator, tmp_path, 12, {}, keep=2)
    assert read_state(root / "step_00000004")["note"] == 4  # the kept ones are the ones written at those steps
    assert _steps(tmp_path) == [4, 12]  # by step number; the incomplete folders neither count nor push one out
    assert not (root / ".tmp-step_00000005").exists()  # half-written folders are cleaned up
    assert (root / "broken-step_00000007").is_dir() and (root / "step_00000006").is_dir()  # kept to inspect
    save_checkpoint(accelerator, tmp_path, 13, {}, keep=1)
    assert _steps(tmp_path) == [13]

    assert read_state(root / "step_00000013")["step"] == 13
