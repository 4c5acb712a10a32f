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
    pass_cost: int = 0,
) -> list[list[list[Slot]]]:
    """An update's examples as ``num_shards`` shards, each a list of micro-batches.

    ``longest[t][i]`` and ``rows[t][i]`` are the longest row and the number of rows of
    example i of task t. The examples are sorted by their longest row (ties keep the draw
    order) and dealt round-robin, so every shard gets the same number of examples and the
    same spread of lengths (processes finish together). Each shard, still sorted, is cut into
    runs (micro-batches) whose padded size (rows x longest row, rounded up to
    ``pad_to_multiple_of``) stays within ``max_tokens``; an example alone over the budget is a
    micro-batch of its own. ``max_tokens=None``: one micro-batch per shard.

    The cut points are the optimal ones, not greedy: every shard gets the same number of
    micro-batches (every process runs as many forward passes per update; FSDP gathers the
    parameters in each), and that number and the cuts minimise the padded tokens of all shards
    plus ``pass_cost`` tokens per backbone pass (what one more pass costs, in tokens' worth of
    time). The result depends on the examples and ``num_shards`` only, so k processes and one
    process with k accumulation steps arrange an update identically.
    """
    if len(examples) % num_shards:
        raise ConfigError(f"batch_size {len(examples)} must be divisible by processes x grad_accum_steps ({num_shards})")
    length = np.array([_round_up(int(longest[t][i]), pad_to_multiple_of) for t, i in examples], dtype=np.int64)
    count = np.array([int(rows[t][i]) for t, i in examples], dtype=np.int64)
    order = np.argsort(length, kind="stable")
    shards = [order[shard::num_shards] for shard in range(num_shards)]
    if max_tokens is None:
        return [[[examples[j] for j in idx.tolist()]] for idx in shards]
    cuts = _common_cuts([_run_costs(length[idx], count[idx], max_tokens) for idx in shards], pass_cost)
    return [[[examples[j] for j in idx[a:b].tolist()] for a, b in zip(ends, ends[1:])] for idx, ends in zip(shards, cuts)]


def _run_costs(width: np.ndarray, count: np.ndarray, max_tokens: int) -> np.ndarray:
    """``cost[j, k]``: padded tokens of the run of sorted examples j..k-1 as one micro-batch
    (inf where it is empty, or over the budget with more than one example)."""
    n = len(width)
    held = np.concatenate([[0], np.cumsum(count)])
    cost = (held[None, :] - held[:, None]) * np.concatenate([[0], width])[None, :]  # sorted: the last is the widest
    start, end = np.indices((n + 1, n + 1))
    return np.where((end <= start) | ((cost > max_tokens) & (end - start > 1)), np.inf, cost.astype(np.float64))


def _common_cuts(costs: list[np.ndarray], pass_cost: int) -> list[list[int]]:
    """Each shard's cut points (run boundaries) for the micro-batch count that minimises the
    padded tokens of all shards plus ``pass_cost`` per pass; the fewest runs on a tie.

    A dynamic programme over the number of runs: ``least[s][k]`` is the fewest padded tokens
    that cut shard s's first k examples into c runs. It stops when even padding-free shards
    could not repay the passes of one more run, so a large ``pass_cost`` keeps it short.
    """
    n = costs[0].shape[0] - 1
    floor = sum(float(np.diag(c, 1).sum()) for c in costs)  # each example alone: no padding between examples
    least = [np.where(np.arange(n + 1) == 0, 0.0, np.inf) for _ in costs]
    back: list[list[np.ndarray]] = [[] for _ in costs]
    best, chosen = np.inf, 0
    for runs in range(1, n + 1):
        for s, cost in enumerate(costs):
            total = least[s][:, None] + cost
            back[s].append(total.argmin(axis=0))
            least[s] = total[back[s][-1], np.arange(n + 1)]
        score = sum(float(row[n]) for row in least) + pass_cost * runs * len(costs)
        if score < best:
            best, chosen = score, runs
        if floor + pass_cost * (runs + 1) * len(costs) >= best:
            break
    cuts = []
    for pointers in back:
        ends = [n]
        for level in range(chosen - 1, -1, -1):
            ends.append(int(pointers[level][ends[-1]]))
        cuts.append(ends[::-1])
    return cuts


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
