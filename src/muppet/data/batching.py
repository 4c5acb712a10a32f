"""Mixed micro-batches: how an update's examples are arranged, and how a micro-batch is built.

``arrange`` cuts the examples the sampler drew for an update into shards (processes x
accumulation steps) and each shard into micro-batches of similar length under a token
budget: padding is kept low by how the drawn examples are arranged, never by which are drawn.

A micro-batch holds rows of many tasks padded into one backbone batch, cut into segments: a
segment is one task's contiguous block of rows with the targets its family collated. The
model runs the backbone once over all rows and each segment's head over its block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from muppet.data.sampler import Slot
from muppet.errors import ConfigError
from muppet.families import get_family
from muppet.families.base import Feature, pad_rows

if TYPE_CHECKING:
    from muppet.tasks.spec import TaskSpec


@dataclass
class Segment:
    task: str
    family: str
    head: str
    rows: slice
    num_features: int
    targets: dict[str, torch.Tensor]


@dataclass
class MixedBatch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None
    decoder_input_ids: torch.Tensor | None
    decoder_attention_mask: torch.Tensor | None
    segments: list[Segment] = field(default_factory=list)

    @property
    def num_features(self) -> int:
        return sum(s.num_features for s in self.segments)

    @property
    def real_tokens(self) -> int:
        return int(self.attention_mask.sum())

    def to(self, device: torch.device | str) -> MixedBatch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, non_blocking=True)

        segments = [
            Segment(s.task, s.family, s.head, s.rows, s.num_features, {k: v.to(device) for k, v in s.targets.items()})
            for s in self.segments
        ]
        return MixedBatch(
            move(self.input_ids),  # type: ignore[arg-type]
            move(self.attention_mask),  # type: ignore[arg-type]
            move(self.token_type_ids),
            move(self.decoder_input_ids),
            move(self.decoder_attention_mask),
            segments,
        )


def _round_up(n: int, multiple: int) -> int:
    return n if multiple <= 1 else -(-n // multiple) * multiple


def arrange(
    examples: Sequence[Slot],
    longest: Sequence[np.ndarray],
    rows: Sequence[np.ndarray],
    num_shards: int,
    max_tokens: int | None = None,
    pad_to_multiple_of: int = 1,
) -> list[list[list[Slot]]]:
    """An update's examples as ``num_shards`` shards, each a list of micro-batches.

    ``longest[t][i]`` and ``rows[t][i]`` are the longest row and the number of rows of
    example i of task t. The examples are sorted by their longest row (ties keep the draw
    order) and dealt round-robin, so every shard gets the same number of examples and the
    same spread of lengths (processes finish together). Each shard, still sorted, is cut
    greedily into micro-batches whose padded size (rows x longest row, rounded up to
    ``pad_to_multiple_of``) stays within ``max_tokens``, fairseq's way; an example alone over
    the budget is a micro-batch of its own. ``max_tokens=None``: one micro-batch per shard.
    Shards that need fewer micro-batches than the most any shard needs are split further
    (their largest micro-batch in two, until they match), so every process runs the same
    number of forward passes per update (FSDP gathers the parameters in each). The result
    depends on the examples and ``num_shards`` only, so k processes and one process with k
    accumulation steps arrange an update identically.
    """
    if len(examples) % num_shards:
        raise ConfigError(f"batch_size {len(examples)} must be divisible by processes x grad_accum_steps ({num_shards})")
    length = np.array([_round_up(int(longest[t][i]), pad_to_multiple_of) for t, i in examples], dtype=np.int64)
    count = np.array([int(rows[t][i]) for t, i in examples], dtype=np.int64)
    order = np.argsort(length, kind="stable")
    shards = []
    for shard in range(num_shards):
        micro: list[list[Slot]] = [[]]
        held = 0  # rows in the open micro-batch
        for j in order[shard::num_shards].tolist():
            # sorted ascending: the newcomer is the longest row, so it sets the padded width
            if micro[-1] and max_tokens is not None and (held + count[j]) * length[j] > max_tokens:
                micro.append([])
                held = 0
            micro[-1].append(examples[j])
            held += int(count[j])
        shards.append(micro)
    most = max(len(m) for m in shards)
    width = {slot: (int(n), int(w)) for slot, n, w in zip(examples, count, length)}
    return [_split_to(m, most, width) for m in shards]


def _split_to(micro: list[list[Slot]], target: int, width: dict[Slot, tuple[int, int]]) -> list[list[Slot]]:
    """Split the micro-batch with the most padded tokens in two until there are ``target``."""
    def padded(batch: list[Slot]) -> int:
        return sum(width[s][0] for s in batch) * max(width[s][1] for s in batch)

    micro = list(micro)
    while len(micro) < target:
        i = max((j for j in range(len(micro)) if len(micro[j]) > 1), key=lambda j: padded(micro[j]))
        half = len(micro[i]) // 2
        micro[i : i + 1] = [micro[i][:half], micro[i][half:]]
    return micro


def collate(
    groups: Sequence[tuple[TaskSpec, str, Sequence[Feature]]],
    pad_token_id: int,
    encoder_decoder: bool = False,
    decoder_start_token_id: int = 0,
    pad_to_multiple_of: int = 1,
) -> MixedBatch:
    """One micro-batch from (spec, head key, features) groups, one segment per group."""
    rows: list[np.ndarray] = []
    types: list[np.ndarray] = []
    has_types = any(f["types"] is not None for _, _, feats in groups for f in feats)
    decoder_rows: list[np.ndarray] = []
    for spec, _, feats in groups:
        family = get_family(spec.family)
        for f in feats:
            rows.extend(f["rows"])
            if has_types:
                types.extend(f["types"] if f["types"] is not None else [np.zeros(len(r), np.int8) for r in f["rows"]])
            if encoder_decoder:
                labels = family.decoder_labels(f)
                if labels is None:
                    decoder_rows.extend(np.concatenate([[decoder_start_token_id], r[:-1]]) for r in f["rows"])
                else:
                    decoder_rows.append(np.concatenate([[decoder_start_token_id], labels[:-1]]))
    length = _round_up(max(len(r) for r in rows), pad_to_multiple_of)
    input_ids = pad_rows(rows, length, pad_token_id)
    attention_mask = pad_rows([np.ones(len(r), np.int8) for r in rows], length, 0)
    token_type_ids = pad_rows(types, length, 0) if has_types else None
    decoder_input_ids = decoder_attention_mask = None
    state_length = target_length = length
    if encoder_decoder:
        target_length = _round_up(max(len(r) for r in decoder_rows), pad_to_multiple_of)
        state_length = target_length
        decoder_input_ids = pad_rows(decoder_rows, target_length, pad_token_id)
        decoder_attention_mask = pad_rows([np.ones(len(r), np.int8) for r in decoder_rows], target_length, 0)
    segments = []
    start = 0
    for spec, head, feats in groups:
        n_rows = sum(len(f["rows"]) for f in feats)
        targets = get_family(spec.family).collate(feats, spec, state_length, target_length)
        segments.append(Segment(spec.name, spec.family, head, slice(start, start + n_rows), len(feats), targets))
        start += n_rows
    return MixedBatch(input_ids, attention_mask, token_type_ids, decoder_input_ids, decoder_attention_mask, segments)


def describe(batch: MixedBatch) -> dict[str, Any]:
    """Shape and padding of a batch (logging and benchmarks)."""
    return {
        "rows": int(batch.input_ids.shape[0]),
        "length": int(batch.input_ids.shape[1]),
        "real_tokens": batch.real_tokens,
        "non_pad_fraction": batch.real_tokens / max(batch.input_ids.numel(), 1),
        "tasks": [s.task for s in batch.segments],
    }
