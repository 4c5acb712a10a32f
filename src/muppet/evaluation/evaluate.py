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
from muppet.families import FeatureSettings

if TYPE_CHECKING:
    from accelerate import Accelerator

    from muppet.data.pipeline import TaskData
    from muppet.model import MultiTaskModel


def _batches(features: Sequence[dict[str, Any]], rows_per_batch: int) -> list[list[int]]:
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
    backbone = core.backbone
    device = accelerator.device if accelerator is not None else next(core.parameters()).device
    rank = accelerator.process_index if accelerator is not None else 0
    world = accelerator.num_processes if accelerator is not None else 1
    was_training = core.training
    core.eval()
    family, spec = task.family, task.spec
    mine: list[tuple[int, Any]] = []
    batches = _batches(task.eval_features, batch_size)
    autocast = accelerator.autocast() if accelerator is not None else torch.autocast(device.type, enabled=False)
    with autocast:
        for batch_ids in batches[rank::world]:
            feats = [task.eval_features[i] for i in batch_ids]
            batch = collate(
                [(spec, task.head, feats)],
                backbone.pad_token_id,
                backbone.is_encoder_decoder,
                backbone.decoder_start_token_id,
                pad_to_multiple_of,
            ).to(device)
            raw = family.predict_batch(core, batch, feats, spec, settings, tokenizer)
            mine.extend(zip(batch_ids, raw))
    if world > 1:
        assert accelerator is not None
        from accelerate.utils import gather_object

        mine = gather_object(mine)
    ordered: list[Any] = [None] * len(task.eval_features)
    for i, pred in mine:
        ordered[i] = pred
    predictions = family.decode(task.eval_records, task.eval_features, ordered, spec)
    if was_training:
        core.train()
    return family.metrics(predictions, task.eval_records, spec)
