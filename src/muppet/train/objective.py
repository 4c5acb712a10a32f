"""The multi-task objective: per-example family losses, divided by ln n, averaged.

This is the one place where loss scaling happens. Every example weighs the same (after
scaling), so a task's share of the gradient is its share of the sampled examples. A
micro-batch that is part of a larger shard divides its sum by the shard's size (``per``),
so the micro-batches of a shard add up to the shard's mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from muppet.data.batching import MixedBatch
from muppet.families import get_family

# Per task: [features, sum of raw losses, sum of scaled losses]
TaskStats = dict[str, list[float]]


def mixed_loss(batch: MixedBatch, outputs: Sequence[torch.Tensor], loss_scaling: str,
               per: int | None = None) -> tuple[torch.Tensor, TaskStats]:
    total: torch.Tensor | None = None
    count = 0
    stats: TaskStats = {}
    for seg, logits in zip(batch.segments, outputs):
        raw = get_family(seg.family).loss(logits, seg.targets)
        scaled = raw / seg.targets["log_n"].to(raw.device) if loss_scaling == "log" else raw
        total = scaled.sum() if total is None else total + scaled.sum()
        count += seg.num_features
        entry = stats.setdefault(seg.task, [0.0, 0.0, 0.0])
        entry[0] += seg.num_features
        entry[1] += float(raw.detach().sum())
        entry[2] += float(scaled.detach().sum())
    assert total is not None, "a batch without segments"
    return total / (per or count), stats


def merge_stats(into: TaskStats, other: TaskStats) -> None:
    for task, (n, raw, scaled) in other.items():
        entry = into.setdefault(task, [0.0, 0.0, 0.0])
        entry[0] += n
        entry[1] += raw
        entry[2] += scaled


def r3f_term(batch: MixedBatch, clean: Sequence[torch.Tensor], noisy: Sequence[torch.Tensor],
             per: int | None = None) -> torch.Tensor:
    """The symmetric KL between clean and noisy predictions, summed over the batch's features
    and divided by ``per`` (default: their number, the mean)."""
    total: torch.Tensor | None = None
    count = 0
    for seg, a, b in zip(batch.segments, clean, noisy):
        kl = get_family(seg.family).symmetric_kl(a, b, seg.targets).sum()
        total = kl if total is None else total + kl
        count += seg.num_features
    assert total is not None, "a batch without segments"
    return total / (per or count)


def embedding_noise(eps: float, kind: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """R3F's perturbation of the input embeddings: U(-eps, eps) or N(0, eps^2)."""
    if kind == "uniform":
        return lambda e: torch.empty_like(e).uniform_(-eps, eps)
    return lambda e: torch.empty_like(e).normal_(0.0, eps)
