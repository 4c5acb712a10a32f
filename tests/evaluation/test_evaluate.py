"""Batched evaluation: two processes (DDP on CPU, gloo) gather every evaluation feature exactly
once, into the predictions and metrics one process computes; padding changes neither."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.pipeline import TaskData, prepare_tasks
from muppet.evaluation.evaluate import _batches, evaluate_task
from muppet.families import FeatureSettings
from muppet.model import MultiTaskModel
from muppet.tasks.spec import get_task

TASKS = ["tiny_cls", "tiny_qa"]  # QA: several features per example, gathered by feature
SETTINGS = FeatureSettings(max_length=40, doc_stride=12)
# Rows per batch: 7 classification features are one batch (the second process has none) and 18
# QA features three (two and one): unequal shares, and a short last batch.
BATCH = 7

# Run by each of the two processes; rank 0 writes what was gathered and what decode received.
WORKER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/.."]
import accelerate.utils
from test_evaluate import predictions, setup
from muppet.train.step import make_accelerator

accelerator, _ = make_accelerator(False, "fp32", 1, 2)
model, tasks = setup(sys.argv[2], sys.argv[3])  # the same model: seeded
gather, gathered = accelerate.utils.gather_object, []
def recording_gather(items):
    gathered.append([i for i, _ in gather(items)])
    return gather(items)
accelerate.utils.gather_object = recording_gather
out = {"processes": accelerator.num_processes}
for task in tasks:
    ordered, metrics = predictions(model, task, 1, accelerator)
    out[task.name] = {"ordered": ordered, "metrics": metrics, "gathered": gathered.pop()}
if accelerator.is_main_process:
    open(sys.argv[4], "w").write(json.dumps(out))
"""


def setup(model_dir: str, data_dir: str) -> tuple[MultiTaskModel, list[TaskData]]:
    tiny.register_tiny_tasks()
    torch.manual_seed(0)
    specs = [get_task(n) for n in TASKS]
    model = MultiTaskModel(Backbone.from_pretrained(model_dir), specs)
    tasks = prepare_tasks(specs, model.head_keys, tiny.tokenizer(), SETTINGS, progress=False, data_dir=data_dir,
                          max_eval_examples=7)
    return model, tasks


def predictions(model: MultiTaskModel, task: TaskData, pad: int, accelerator: Any = None) -> tuple[list[str], dict]:
    """What decode receives (one prediction per feature, in feature order), and the metrics."""
    seen: dict[str, Any] = {}
    decode = task.family.decode

    def recording(records: Any, features: Any, ordered: list[Any], spec: Any) -> Any:
        seen["ordered"] = ordered
        return decode(records, features, ordered, spec)

    task.family.decode = recording  # type: ignore[method-assign]
    try:
        metrics = evaluate_task(model, task, SETTINGS, tiny.tokenizer(), accelerator, BATCH, pad)
    finally:
        task.family.decode = decode  # type: ignore[method-assign]
    return [repr(p) for p in seen["ordered"]], metrics


@pytest.fixture(scope="module")
def single(tiny_root: Path) -> tuple[MultiTaskModel, list[TaskData]]:
    return setup(str(tiny_root / "tiny-bert"), str(tiny_root / "data"))


def test_two_processes_gather_every_feature_exactly_once_into_one_processes_result(
    tiny_root: Path, tmp_path: Path, single: tuple[MultiTaskModel, list[TaskData]]
) -> None:
    model, tasks = single
    assert len(tasks[1].eval_features) > len(tasks[1].eval_records)  # QA really splits examples into features
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).parent / "accelerate"
    out, worker = tmp_path / "two.json", tmp_path / "worker.py"
    worker.write_text(WORKER)
    done = subprocess.run([str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no", str(worker), str(Path(__file__).parent),
                           str(tiny_root / "tiny-bert"), str(tiny_root / "data"), str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    two = json.loads(out.read_text())
    assert two["processes"] == 2
    for task in tasks:
        n = len(task.eval_features)
        assert len(_batches(task.eval_features, BATCH)) % 2 == 1  # the processes' shares differ
        assert sorted(two[task.name]["gathered"]) == list(range(n))  # each feature once, none twice
        ordered, metrics = predictions(model, task, 1)
        assert two[task.name]["ordered"] == ordered  # the same prediction at the same place
        assert two[task.name]["metrics"] == metrics


def test_padding_to_a_multiple_changes_no_prediction(single: tuple[MultiTaskModel, list[TaskData]]) -> None:
    model, tasks = single
    for task in tasks:
        (plain, plain_metrics), (padded, padded_metrics) = predictions(model, task, 1), predictions(model, task, 16)
        assert padded_metrics == pytest.approx(plain_metrics, abs=1e-6)
        assert len(padded) == len(plain) == len(task.eval_features)
