"""One optimizer update, shared by pre-finetuning and fine-tuning.

An update's examples are arranged (``muppet.data.batching.arrange``) into ``processes x
grad_accum_steps`` equal shards, each cut into micro-batches of similar length under
``max_tokens``; each process runs its shards' micro-batches, accumulating gradients with no
synchronisation until the last one. Every example weighs 1 / (examples per shard) divided by
accelerate's accumulation factor, so the gradient is that of the mean loss over the update's
examples however they are cut. Dropout and R3F noise are seeded per (seed, update, shard,
micro-batch), so k processes and one process with k accumulation steps draw the same masks,
and a resumed run draws what the uninterrupted one drew. An update with a non-finite loss or
gradient on any process is skipped as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from muppet.data.batching import MixedBatch, arrange, collate
from muppet.data.pipeline import TaskData
from muppet.data.sampler import Slot, UpdatePlan
from muppet.errors import ConfigError
from muppet.train.objective import TaskStats, merge_stats, mixed_loss, r3f_term


def use_cpu(forced: bool) -> bool:
    """CPU training: when asked, or when several processes run (torchrun, accelerate launch)
    on a machine without a GPU; accelerate then joins them with gloo (its MULTI_CPU mode)."""
    import os

    return forced or (int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available())


def fresh_accelerator_state() -> None:
    """Forget the precision and accumulation settings of an earlier run in this process.

    accelerate keeps them in process-wide singletons and refuses a second Accelerator with
    other settings; a library call (notebook, sweep, test) must be able to run twice. The
    process group itself (PartialState) is kept.
    """
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()


def make_accelerator(cpu: bool, precision: str, grad_accum_steps: int, batch_size: int,
                     report_to: Sequence[str] = (), project_dir: Path | None = None) -> tuple[Any, int]:
    """The run's Accelerator and its number of shards per update (processes x accumulation);
    ``report_to`` are its experiment trackers, writing under ``project_dir``."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    fresh_accelerator_state()
    accelerator = Accelerator(
        log_with=list(report_to) or None, project_dir=str(project_dir) if report_to and project_dir else None,
        cpu=use_cpu(cpu),
        mixed_precision={"fp32": "no", "bf16": "bf16", "fp16": "fp16"}[precision],
        gradient_accumulation_steps=grad_accum_steps,
        # A micro-batch rarely holds every task, so some heads get no gradient in it.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    if precision == "fp16" and accelerator.device.type == "cpu":
        raise ConfigError("precision: fp16 needs a GPU; use bf16 or fp32 on the CPU")
    shards = accelerator.num_processes * grad_accum_steps
    if batch_size % shards:
        raise ConfigError(
            f"batch_size ({batch_size}) must be divisible by processes x grad_accum_steps "
            f"({accelerator.num_processes} x {grad_accum_steps})"
        )
    return accelerator, shards


def shard_seed(seed: int, step: int, shard: int, micro: int = 0) -> int:
    return int(np.random.SeedSequence([seed, step, shard, micro, 0xD509]).generate_state(1)[0])


def pad_multiple(requested: int | None, device: Any) -> int:
    """Rows are padded to a multiple of this: 8 feeds tensor cores on GPUs; on a CPU it is waste."""
    if requested is not None:
        return requested
    return 8 if getattr(device, "type", str(device)) == "cuda" else 1


def build_batch(slots: Sequence[Slot], tasks: Sequence[TaskData], backbone: Any, pad_to_multiple_of: int = 1) -> MixedBatch:
    """Group a shard's (task, example) slots by task (first-seen order) and collate them."""
    by_task: dict[int, list[int]] = {}
    for t, i in slots:
        by_task.setdefault(t, []).append(i)
    groups = [(tasks[t].spec, tasks[t].head, tasks[t].train.get(idx)) for t, idx in by_task.items()]
    return collate(groups, backbone.pad_token_id, backbone.is_encoder_decoder, backbone.decoder_start_token_id,
                   pad_to_multiple_of)


@dataclass
class UpdateResult:
    loss: float = 0.0  # mean objective over this process's shards
    stats: TaskStats = field(default_factory=dict)
    features: int = 0
    tokens: int = 0  # real (non-pad) tokens
    padded: int = 0  # tokens fed to the backbone, padding included
    micro_batches: int = 0  # backbone passes on this process
    bad: set[str] = field(default_factory=set)  # tasks with a non-finite loss; empty when applied


@dataclass
class Stepper:
    accelerator: Any
    model: Any  # prepared MultiTaskModel
    optimizer: Any
    tasks: Sequence[TaskData]
    seed: int
    grad_accum_steps: int
    loss_scaling: str = "log"
    max_grad_norm: float = 1.0
    noise: Callable[[torch.Tensor], torch.Tensor] | None = None  # R3F
    r3f_lambda: float = 1.0
    pad_to_multiple_of: int = 1
    max_tokens: int | None = None  # padded tokens per micro-batch (None: one micro-batch per shard)

    def __post_init__(self) -> None:
        stats = [t.train.row_stats() for t in self.tasks]
        self.longest, self.rows = [s[0] for s in stats], [s[1] for s in stats]

    def update(self, step: int, plan: UpdatePlan) -> UpdateResult:
        acc, model, accum = self.accelerator, self.model, self.grad_accum_steps
        backbone = acc.unwrap_model(model).backbone
        result = UpdateResult()
        shards = arrange(plan.examples, self.longest, self.rows, acc.num_processes * accum, self.max_tokens,
                         self.pad_to_multiple_of)
        per_shard = len(plan.examples) // len(shards)
        mine = [(s, m, slots) for s in range(acc.process_index * accum, (acc.process_index + 1) * accum)
                for m, slots in enumerate(shards[s])]
        for i, (shard, m, slots) in enumerate(mine):
            torch.manual_seed(shard_seed(self.seed, step, shard, m))
            batch = build_batch(slots, self.tasks, backbone, self.pad_to_multiple_of).to(acc.device)
            # gradients synchronise (and DeepSpeed steps) at the process's last micro-batch only
            acc.sync_gradients = last = i == len(mine) - 1
            with nullcontext() if last else acc.no_sync(model):
                self._backward(batch, per_shard, result)
            result.features += batch.num_features
            result.tokens += batch.real_tokens
            result.padded += batch.input_ids.numel()
        result.micro_batches = len(mine)
        self._apply(result)
        self.optimizer.zero_grad(set_to_none=True)
        return result

    def _backward(self, batch: MixedBatch, per_shard: int, result: UpdateResult) -> None:
        acc, model = self.accelerator, self.model
        outputs = model(batch)
        loss, stats = mixed_loss(batch, outputs, self.loss_scaling, per_shard)
        if self.noise is not None:
            loss = loss + self.r3f_lambda * r3f_term(batch, outputs, model(batch, self.noise), per_shard)
        if torch.isfinite(loss.detach()):
            acc.backward(loss)  # divides by grad_accum_steps: the shards' mean
            result.loss += float(loss.detach()) / self.grad_accum_steps
            merge_stats(result.stats, stats)
        else:
            result.bad |= {t for t, (_, raw, _) in stats.items() if not math.isfinite(raw)} or {"(r3f term)"}
            # every process must still run backward: gradient sync happens there
            acc.backward(sum(p.reshape(-1)[0] * 0.0 for p in model.parameters() if p.requires_grad))

    def _apply(self, result: UpdateResult) -> None:
        """Clip and step, unless any process saw a non-finite loss or gradient."""
        acc = self.accelerator
        if self.max_grad_norm > 0:
            norm = acc.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
            if norm is not None and not torch.isfinite(norm):
                result.bad.add("(gradient)")
        flag = torch.tensor([float(bool(result.bad))], device=acc.device)
        if acc.num_processes > 1:
            flag = acc.reduce(flag, reduction="sum")
        if flag.item() == 0:
            self.optimizer.step()
        elif not result.bad:
            result.bad.add("(another process)")
