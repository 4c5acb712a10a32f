"""The plain PyTorch loop both benches hold muppet against (bench/throughput.py on the CPU,
bench/gpu.py on the GPU): the same rows, sorted by length, pre-padded on the device
beforehand, forward + backward + AdamW through the backbone and one linear head, no data
loading. What it leaves out (mixing tasks, many heads, arranging updates) is muppet's cost."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@dataclass
class PlainLoop:
    backbone: Any
    head: torch.nn.Linear
    optimizer: torch.optim.Optimizer
    batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
    device: torch.device
    bf16: bool
    forward: Any

    @property
    def padded_tokens(self) -> int:
        return sum(b[0].numel() for b in self.batches)

    def step(self, ids: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> None:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            states = self.forward(input_ids=ids, attention_mask=mask).last_hidden_state
            loss = torch.nn.functional.cross_entropy(self.head(states[:, 0]).float(), target)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def run(self) -> float:
        """Seconds for one pass over all batches."""
        self.backbone.train()
        sync(self.device)
        start = time.perf_counter()
        for batch in self.batches:
            self.step(*batch)
        sync(self.device)
        return time.perf_counter() - start


def plain_loop(
    backbone: Any, rows: Sequence[Sequence[int]], rows_per_batch: int, *, pad_token_id: int = 0,
    pad_to_multiple_of: int = 1, device: torch.device | None = None, bf16: bool = False, compile: bool = False,
    warmup: int = 1,
) -> PlainLoop:
    """The loop over ``rows`` in batches of ``rows_per_batch``, warmed up (and compiled) on
    its first ``warmup`` batches, untimed. CUDA gets fused AdamW."""
    device = device or torch.device("cpu")
    backbone = backbone.to(device)
    head = torch.nn.Linear(backbone.config.hidden_size, 2).to(device)
    fused = {"fused": True} if device.type == "cuda" else {}
    optimizer = torch.optim.AdamW(list(backbone.parameters()) + list(head.parameters()), lr=1e-5, **fused)
    ordered = sorted(rows, key=len)
    batches = []
    for start in range(0, len(ordered), rows_per_batch):
        chunk = ordered[start : start + rows_per_batch]
        width = -(-max(len(r) for r in chunk) // pad_to_multiple_of) * pad_to_multiple_of
        ids = torch.full((len(chunk), width), pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for j, r in enumerate(chunk):
            ids[j, : len(r)] = torch.from_numpy(np.asarray(r, dtype=np.int64))
            mask[j, : len(r)] = 1
        batches.append((ids.to(device), mask.to(device), torch.zeros(len(chunk), dtype=torch.long, device=device)))
    forward = torch.compile(backbone, dynamic=True) if compile else backbone
    loop = PlainLoop(backbone, head, optimizer, batches, device, bf16, forward)
    backbone.train()
    for batch in batches[: max(warmup, 1)]:  # the same shapes, untimed
        loop.step(*batch)
    return loop
