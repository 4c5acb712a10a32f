"""Transfer probes during pre-finetuning: how well the current backbone serves each target task.

At update 0 (the base model), every ``probe.every`` updates and after the last one, each
target task gets a short, fixed training on one stratified subset of its training examples
(the same subset every time), and is scored on its dev split with its headline metric:

- ``method: head``: the backbone is frozen; its states of the probe examples are computed
  once, and a fresh head of the task's family is trained on them (its own head, loss and
  metric); summarization has no head of its own and is refused;
- ``method: finetune``: a copy of the backbone with a fresh head is fine-tuned in full.

A probe never changes the training run: it runs under its own seeded RNG (``fork_rng``, the
same fresh head at every probe), in eval mode for the backbone (restored afterwards), with its
own optimizer, and reads no sampler. Every process computes the same probes with no
collective operation, so distributed runs agree without synchronising.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from muppet.config.transfer import ProbeConfig
from muppet.data.pipeline import TaskData, featurize_plan, plan_task
from muppet.data.sampler import task_key
from muppet.data.store import tokenizer_fingerprint
from muppet.errors import ConfigError
from muppet.evaluation.evaluate import evaluate_task
from muppet.evaluation.splits import task_subset
from muppet.families import FeatureSettings, get_family
from muppet.model import MultiTaskModel
from muppet.tasks.mixtures import expand
from muppet.tasks.spec import TaskSpec
from muppet.train.objective import mixed_loss
from muppet.train.step import build_batch
from muppet.transfer.plots import curves

SALT = 0x50524F42  # the probe's RNG streams, apart from every training stream


def probe_specs(cfg: ProbeConfig, data_dir: str | None) -> list[TaskSpec]:
    """The probed tasks, refused before any data is read where the method cannot serve them."""
    specs, _ = expand(cfg.tasks, data_dir)
    if cfg.method == "head":
        # a family scored through the backbone's own LM head (summarization) has no head to train
        headless = [f"{s.name} ({s.family})" for s in specs if get_family(s.family).build_head(s, 1, 0.0) is None]
        if headless:
            raise ConfigError(f"probe.method: head trains a fresh head on frozen features, and tasks {headless} have "
                              "no head of their own; use probe.method=finetune or drop them from probe.tasks")
    return specs


def probe_data(specs: Sequence[TaskSpec], cfg: Any, tokenizer: Any, settings: FeatureSettings) -> list[TaskData]:
    """Each probed task's fixed training subset and its dev split (capped by max_eval_examples)."""
    out = []
    for spec in specs:
        def select(store: Any, candidates: np.ndarray, name: str = spec.name) -> np.ndarray:
            return task_subset(store, candidates, name, cfg.seed, examples=cfg.probe.examples)

        plan = plan_task(spec, get_family(spec.family).head_key(spec), data_dir=cfg.data_dir, source=cfg.source,
                         on_bad_record=cfg.on_bad_record, heldout_fraction=cfg.heldout_fraction,
                         heldout_max=cfg.heldout_max, max_eval_examples=cfg.max_eval_examples, seed=cfg.seed,
                         cache_dir=cfg.cache_dir, train_selection=select)
        out.append(featurize_plan(plan, tokenizer, settings, cache_dir=cfg.cache_dir, num_proc=cfg.num_proc,
                                  tokenizer_key=tokenizer_fingerprint(tokenizer)))
    return out


def in_points(task: TaskData, score: float) -> float:
    """A probe score (the task's headline metric) on the 0..100 scale every task shares."""
    return task.family.in_points(task.family.metric_name(task.spec), score)


def mean_gain(scores: Mapping[str, float], vanilla: Mapping[str, float], tasks: Sequence[TaskData]) -> float:
    """The mean over tasks of score minus the base model's score, in points (0..100 scales)."""
    gains = [in_points(t, scores[t.name]) - in_points(t, vanilla[t.name]) for t in tasks]
    return float(np.mean(gains)) if gains else float("nan")


class Probes:
    """The probes of one run: when they are due, running them, their history and its best step."""

    def __init__(self, cfg: ProbeConfig, tasks: list[TaskData], settings: FeatureSettings, tokenizer: Any, *,
                 seed: int, dropout: float, eval_batch_size: int, padding: int, max_steps: int) -> None:
        self.cfg, self.tasks, self.settings, self.tokenizer = cfg, tasks, settings, tokenizer
        self.seed, self.dropout, self.eval_batch_size, self.padding = seed, dropout, eval_batch_size, padding
        self.max_steps = max_steps
        self.history: dict[int, dict[str, float]] = {}
        self.seconds = 0.0

    def due(self, step: int) -> bool:
        """Whether update ``step`` is probed (0: the base model, before the first update)."""
        return step % self.cfg.every == 0 or step == self.max_steps

    def run(self, step: int, core: MultiTaskModel) -> dict[str, float]:
        """Probe every task on ``core``'s current backbone; its weights and modes are left as they were."""
        started = time.perf_counter()
        was_training = core.training
        device = next(core.parameters()).device
        core.eval()
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                scores = {t.name: self.score(t, core) for t in self.tasks}
        finally:
            core.train(was_training)
        self.history[step] = scores
        self.seconds += time.perf_counter() - started
        return scores

    def score(self, task: TaskData, core: MultiTaskModel) -> float:
        """One task's probe: a fresh head (and, with finetune, a copy of the backbone) trained on the
        probe examples, then the headline metric on its dev split."""
        torch.manual_seed(int(np.random.SeedSequence([self.seed, task_key(task.name), SALT]).generate_state(1)[0]))
        device = next(core.parameters()).device
        backbone = core.backbone if self.cfg.method == "head" else copy.deepcopy(core.backbone)
        probe = MultiTaskModel(backbone, [task.spec], self.dropout).to(device)
        n = len(task.train)
        chunks = [list(range(i, min(i + self.cfg.batch_size, n))) for i in range(0, n, self.cfg.batch_size)]
        batches = [build_batch([(0, i) for i in c], [task], backbone, self.padding).to(device) for c in chunks]
        if self.cfg.method == "head":
            with torch.no_grad():  # the frozen backbone's states, once per probe
                states = [probe.states(b) for b in batches]
            probe.heads.train()
            params = list(probe.heads.parameters())

            def loss_at(i: int) -> torch.Tensor:
                return mixed_loss(batches[i], probe.apply_heads(batches[i], states[i]), "none")[0]
        else:
            probe.train()
            params = [p for p in probe.parameters() if p.requires_grad]

            def loss_at(i: int) -> torch.Tensor:
                return mixed_loss(batches[i], probe(batches[i]), "none")[0]
        self.train(task, params, loss_at, len(batches))
        probe.eval()
        metrics = evaluate_task(probe, task, self.settings, self.tokenizer, None, self.eval_batch_size, self.padding)
        return float(metrics.get(task.family.metric_name(task.spec), float("nan")))

    def train(self, task: TaskData, params: list[torch.nn.Parameter], loss_at: Any, batches: int) -> None:
        """``steps`` AdamW updates, each on one batch of the probe examples (shuffled epochs)."""
        rng = np.random.default_rng([self.seed, task_key(task.name), SALT])
        order = np.concatenate([rng.permutation(batches) for _ in range(math.ceil(self.cfg.steps / batches))])
        optimizer = torch.optim.AdamW(params, lr=self.cfg.learning_rate, weight_decay=0.0)
        for i in order[: self.cfg.steps].tolist():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_at(i)
            if not torch.isfinite(loss):
                continue  # a diverged probe step is dropped; the probe's score shows the damage
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()

    # --- history: resume, selection, outputs ---------------------------------------------
    def state_dict(self) -> dict[str, dict[str, float]]:
        return {str(step): dict(scores) for step, scores in sorted(self.history.items())}

    def load_state_dict(self, state: Mapping[str, Mapping[str, float]] | None) -> None:
        self.history = {int(step): dict(scores) for step, scores in (state or {}).items()}

    def gains(self) -> dict[int, float]:
        """Mean probe gain over the base model (points) of every probed update after 0."""
        vanilla = self.history.get(0)
        if vanilla is None:
            return {}
        return {s: mean_gain(scores, vanilla, self.tasks) for s, scores in sorted(self.history.items()) if s > 0}

    def best(self) -> tuple[int, float] | None:
        """The probed update with the best mean gain (ties to the earliest), and that gain."""
        finite = [(g, s) for s, g in self.gains().items() if math.isfinite(g)]
        if not finite:
            return None
        gain, step = min(finite, key=lambda gs: (-gs[0], gs[1]))
        return step, gain

    def summary(self, selected: int | None) -> dict[str, Any]:
        """The whole curve and the choice, for results.json, muppet.json and the card."""
        best = self.best()
        gains = self.gains()
        return {
            "tasks": {t.name: t.family.metric_name(t.spec) for t in self.tasks},
            "method": self.cfg.method, "examples": self.cfg.examples, "steps": self.cfg.steps, "every": self.cfg.every,
            "vanilla": self.history.get(0, {}),
            "curve": [{"step": s, "scores": v, **({"gain": gains[s]} if s in gains else {})}
                      for s, v in sorted(self.history.items())],
            "best_step": best[0] if best else None, "best_gain": best[1] if best else None,
            "beats_vanilla": bool(best and best[1] > 0), "selected_step": selected, "seconds": round(self.seconds, 1),
        }

    def verdict(self) -> str | None:
        """What to say plainly at the end when no probe beat the base model (None when one did)."""
        best = self.best()
        if best is not None and best[1] > 0:
            return None
        names = ", ".join(t.name for t in self.tasks)
        where = f" (the best: {best[1]:+.2f} points at update {best[0]})" if best else ""
        return (f"no probe beat the base model on {names}: the mean probe gain over vanilla is <= 0 at every probed "
                f"update{where}; for these tasks, fine-tuning the base model may be the better start")

    def plot(self, path: Path) -> None:
        """probe.png: each task's probe score against updates in points (one 0..100 scale, so an
        accuracy and an F1 share the axis), the base model's as a dashed line; and the gain over
        the base model per task with their mean, the curve select_checkpoint: probe maximises."""
        series = {t.name: [(s, in_points(t, v[t.name])) for s, v in sorted(self.history.items())] for t in self.tasks}
        metrics = ", ".join(sorted({t.family.metric_name(t.spec) for t in self.tasks}))
        panels = [(f"transfer probes ({self.cfg.method}, {self.cfg.examples} examples): {metrics}, points", series)]
        vanilla = {name: rows[0][1] for name, rows in series.items()} if 0 in self.history else {}
        if vanilla:
            gains = {name: [(s, v - vanilla[name]) for s, v in rows] for name, rows in series.items()}
            gains["mean"] = [(0, 0.0), *sorted(self.gains().items())]
            panels.append(("gain over the base model (points); select_checkpoint: probe takes the best mean", gains))
        curves(path, panels, baselines=vanilla)
