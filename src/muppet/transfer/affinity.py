"""Task affinity: from one short co-training run, how much each candidate task's gradient on
the shared backbone helps each target task (Fifty et al. 2021, "TAG"), and the mixture that
follows.

Every update trains on a batch of every task (candidates and targets). Before the first
update and every ``every`` updates, with dropout off, each task's gradient on the backbone is
taken on a fixed-size batch and two measures are recorded per (candidate, target):

- ``lookahead``: 1 - L_t(θ - η g_c) / L_t(θ), the relative change of the target's loss after
  one plain SGD step on the candidate's gradient alone (positive: the candidate helps).
  With ``lookahead_method: linear``, its first-order estimate lookahead_lr · g_c·g_t / L_t(θ)
  instead, from the gradients already taken (no forward pass per pair);
- ``cosine``: the cosine of the two gradients.

Candidate x candidate cosines (for the heatmap) use a fixed random sample of the backbone's
coordinates, so that memory does not grow with the number of candidates times the model size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from muppet.config.transfer import AffinityConfig
from muppet.data.pipeline import TaskData, prepare_tasks
from muppet.data.sampler import task_key
from muppet.errors import ConfigError
from muppet.model import MultiTaskModel
from muppet.tasks.mixtures import names_of, select
from muppet.tasks.user import is_task_file, register_task_file
from muppet.train.objective import mixed_loss
from muppet.train.step import build_batch
from muppet.transfer.gradients import backbone_gradient, cosine_of, unit

log = logging.getLogger(__name__)
SKETCH = 2**20  # backbone coordinates sampled for candidate x candidate cosines
TRAIN, MEASURE = 0, 1  # salts: the batches of updates and of measurements are drawn apart


@dataclass
class AffinityRun:
    cfg: AffinityConfig
    model: MultiTaskModel
    tasks: list[TaskData]  # candidates first, then targets
    candidates: list[str]
    targets: list[str]
    sources: dict[str, str]  # task name -> how tasks: names it (a task file's path, else the name)
    optimizer: torch.optim.Optimizer
    sketch: torch.Tensor  # sampled backbone coordinates
    rows: list[dict[str, Any]] = field(default_factory=list)

    def slots(self, index: int, step: int, salt: int) -> list[tuple[int, int]]:
        """``examples`` training features of task ``index``, a pure function of (seed, step, task, salt)."""
        task = self.tasks[index]
        n = len(task.train)
        rng = np.random.default_rng([self.cfg.seed, step, task_key(task.name), salt])
        return [(index, int(i)) for i in np.sort(rng.choice(n, size=min(self.cfg.examples, n), replace=False))]

    def batch(self, name: str, step: int, salt: int) -> Any:
        index = [t.name for t in self.tasks].index(name)
        return build_batch(self.slots(index, step, salt), self.tasks, self.model.backbone)


def setup(cfg: AffinityConfig) -> AffinityRun:
    from accelerate.utils import set_seed

    from muppet.backbone import Backbone
    from muppet.families import FeatureSettings
    from muppet.train.loop import check_backbone, load_tokenizer
    from muppet.train.skeleton import param_groups

    candidates, _, caps, targets = select(cfg.tasks, cfg.exclude, cfg.targets, cfg.data_dir)
    sources = {spec.name: entry for entry in names_of(cfg.tasks) if is_task_file(entry)
               for spec in [register_task_file(entry)]}
    specs = [*candidates, *targets]
    check_backbone(specs, cfg.model, cfg.trust_remote_code)
    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.model, specs, cfg.trust_remote_code)
    model = MultiTaskModel(Backbone.from_pretrained(cfg.model, cfg.trust_remote_code), specs, cfg.dropout)
    tasks = prepare_tasks(
        specs, model.head_keys, tokenizer,
        FeatureSettings(cfg.max_length, cfg.doc_stride, cfg.max_target_length), progress=cfg.progress, leakage=cfg.leakage,
        leakage_unit=cfg.leakage_unit, num_proc=cfg.num_proc, data_dir=cfg.data_dir, source=cfg.source, on_bad_record=cfg.on_bad_record,
        cache_dir=cfg.cache_dir, heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max, seed=cfg.seed,
        caps=caps,
    )
    size = sum(p.numel() for p in model.backbone.parameters())
    sketch = torch.from_numpy(np.random.default_rng([cfg.seed, 0x5CE7]).choice(size, min(size, SKETCH), replace=False))
    optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr)
    return AffinityRun(cfg, model, tasks, [s.name for s in candidates], [s.name for s in targets],
                       {s.name: sources.get(s.name, s.name) for s in candidates}, optimizer, sketch)


def _loss(run: AffinityRun, batch: Any, per: int | None = None) -> torch.Tensor:
    return mixed_loss(batch, run.model(batch), "log", per=per)[0]


@torch.no_grad()
def _lookahead(run: AffinityRun, gradient: torch.Tensor, batches: dict[str, Any], base: dict[str, float]) -> dict[str, float]:
    """1 - L_t(θ - η g) / L_t(θ) for every target, the backbone restored afterwards."""
    params = list(run.model.backbone.parameters())
    saved = [p.detach().clone() for p in params]
    offset = 0
    for p in params:
        p.sub_(run.cfg.lookahead_lr * gradient[offset:offset + p.numel()].view_as(p))
        offset += p.numel()
    try:
        return {t: 1.0 - float(_loss(run, batches[t])) / base[t] for t in run.targets}
    finally:
        for p, s in zip(params, saved):
            p.copy_(s)


def measure(run: AffinityRun, step: int) -> None:
    """One measurement of every (candidate, target) pair, appended to ``run.rows``."""
    run.model.eval()  # dropout off: both measures compare like with like
    batches = {t: run.batch(t, step, MEASURE) for t in run.targets}
    target_grads, norms, base = {}, {}, {}
    for t in run.targets:
        target_grads[t], base[t] = backbone_gradient(run.model, batches[t])
        norms[t] = float(target_grads[t].norm())
    sampled = []
    for c in run.candidates:
        g, _ = backbone_gradient(run.model, run.batch(c, step, MEASURE))
        sampled.append(unit(g[run.sketch]))
        # one dot product per target gives both the cosine and the linear lookahead
        dots, norm = {t: float(g @ gt) for t, gt in target_grads.items()}, float(g.norm())
        if run.cfg.lookahead_method == "exact":
            ahead = _lookahead(run, g, batches, base)
        else:  # L_t(θ - η g) ≈ L_t(θ) - η g·g_t
            ahead = {t: run.cfg.lookahead_lr * dots[t] / base[t] for t in run.targets}
        for t in run.targets:
            run.rows.append({"step": step, "candidate": c, "target": t, "measure": "lookahead", "value": ahead[t]})
            run.rows.append({"step": step, "candidate": c, "target": t, "measure": "cosine",
                             "value": cosine_of(dots[t], norm, norms[t])})
    sketches = torch.stack(sampled)
    between = (sketches @ sketches.T).tolist()  # every pair in one product
    for i, a in enumerate(run.candidates):
        for j, b in enumerate(run.candidates):
            run.rows.append({"step": step, "candidate": a, "target": b, "measure": "candidate_cosine",
                             "value": between[i][j]})
    run.model.train()


def train_step(run: AffinityRun, step: int) -> float:
    """One co-training update on a batch of every task (candidates and targets alike): the mean
    loss over all their examples, accumulated one task at a time, since a single batch of 40+
    tasks' examples (choices and QA windows included) held tens of GiB of activations."""
    slots = [run.slots(index, step, TRAIN) for index in range(len(run.tasks))]
    per = sum(len(s) for s in slots)
    run.optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for task_slots in slots:
        batch = build_batch(task_slots, run.tasks, run.model.backbone)
        loss = _loss(run, batch, per)
        if not torch.isfinite(loss):
            raise ConfigError(f"co-training update {step} has a non-finite loss: lower lr")
        loss.backward()
        total += float(loss.detach())
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), 1.0)
    run.optimizer.step()
    return total


@contextmanager
def _timed(seconds: dict[str, float], key: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[key] += time.perf_counter() - started


def fit(run: AffinityRun) -> dict[str, float]:
    """Co-train for ``steps`` updates, measuring before the first and every ``every``; the seconds
    taken by measurements and by updates, apart, since they are what a user trades for cost."""
    cfg = run.cfg
    seconds = {"measure_s": 0.0, "train_s": 0.0}
    bar = tqdm(total=cfg.steps, desc="affinity", unit="update", disable=not cfg.progress)
    with _timed(seconds, "measure_s"):
        measure(run, 0)
    for step in range(1, cfg.steps + 1):
        with _timed(seconds, "train_s"):
            loss = train_step(run, step)
        if step % cfg.every == 0:
            with _timed(seconds, "measure_s"):
                measure(run, step)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
    bar.close()
    return {key: round(value, 1) for key, value in seconds.items()}


def affinity(cfg: AffinityConfig) -> dict[str, Any]:
    """``muppet affinity``: set up, co-train and measure, then write the tables, plot and mixtures."""
    from muppet.transfer.outputs import write_outputs

    started = time.perf_counter()
    run = setup(cfg)
    prepared = time.perf_counter() - started
    seconds = fit(run)
    return write_outputs(run.rows, cfg, run.targets, run.sources, {"setup_s": round(prepared, 1), **seconds})

