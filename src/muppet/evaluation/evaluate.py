"""Batched, gradient-free evaluation of any task, shared by pre-finetuning and fine-tuning.

Features are sorted by length so that batches carry little padding; with several processes
each takes every k-th batch and the predictions are gathered, so no example is counted twice
or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from muppet.data.batching import collate
from muppet.families import FeatureSettings, get_family
from muppet.families.base import Feature

if TYPE_CHECKING:
    from accelerate import Accelerator

    from muppet.data.pipeline import TaskData
    from muppet.model import MultiTaskModel
    from muppet.tasks.spec import TaskSpec


def _batches(features: Sequence[Feature], rows_per_batch: int) -> list[list[int]]:
    """Feature indices grouped into batches of about ``rows_per_batch`` backbone rows, by length."""
    lengths = np.array([max(len(r) for r in f["rows"]) for f in features])
    order = np.argsort(-lengths, kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    rows = 0
    for i in order.tolist():
        k = len(features[i]["rows"])
        if current and rows + k > rows_per_batch:
            batches.append(current)
            current, rows = [], 0
        current.append(i)
        rows += k
    if current:
        batches.append(current)
    return batches


@torch.no_grad()
def raw_predictions(
    model: MultiTaskModel,
    spec: TaskSpec,
    head: str,
    features: Sequence[Feature],
    settings: FeatureSettings,
    tokenizer: Any,
    device: torch.device,
    batch_size: int = 64,
    pad_to_multiple_of: int = 1,
    shard: tuple[int, int] = (0, 1),
) -> list[tuple[int, Any]]:
    """(feature index, raw prediction) for the features of shard ``rank`` of ``world``, through
    the family's ``predict_batch`` (generation included); ``model`` is unwrapped, in eval mode."""
    family = get_family(spec.family)
    backbone = model.backbone
    rank, world = shard
    out: list[tuple[int, Any]] = []
    for batch_ids in _batches(features, batch_size)[rank::world]:
        feats = [features[i] for i in batch_ids]
        batch = collate(
            [(spec, head, feats)],
            backbone.pad_token_id,
            backbone.is_encoder_decoder,
            backbone.decoder_start_token_id,
            pad_to_multiple_of,
        ).to(device)
        out.extend(zip(batch_ids, family.predict_batch(model, batch, feats, spec, settings, tokenizer)))
    return out


def in_order(pairs: Sequence[tuple[int, Any]], count: int) -> list[Any]:
    ordered: list[Any] = [None] * count
    for i, pred in pairs:
        ordered[i] = pred
    return ordered


@torch.no_grad()
def evaluate_task(
    model: MultiTaskModel,
    task: TaskData,
    settings: FeatureSettings,
    tokenizer: Any,
    accelerator: Accelerator | None = None,
    batch_size: int = 64,
    pad_to_multiple_of: int = 1,
) -> dict[str, float]:
    """Every metric of the task's family on its evaluation examples."""
    if not task.eval_records:
        return {}
    core: MultiTaskModel = accelerator.unwrap_model(model) if accelerator is not None else model
    device = accelerator.device if accelerator is not None else next(core.parameters()).device
    shard = (accelerator.process_index, accelerator.num_processes) if accelerator is not None else (0, 1)
    was_training = core.training
    core.eval()
    autocast = accelerator.autocast() if accelerator is not None else torch.autocast(device.type, enabled=False)
    with autocast:
        mine = raw_predictions(core, task.spec, task.head, task.eval_features, settings, tokenizer, device, batch_size,
                               pad_to_multiple_of, shard)
    if shard[1] > 1:
        from accelerate.utils import gather_object

        mine = gather_object(mine)
    ordered = in_order(mine, len(task.eval_features))
    predictions = task.family.decode(task.eval_records, task.eval_features, ordered, task.spec)
    if was_training:
        core.train()
    return task.family.metrics(predictions, task.eval_records, task.spec)
