"""Fine-tune any model (hub id, local folder or muppet export) on one task, optionally on a
deterministic low-resource subset of its training data, and score it on dev (and test).

A fine-tune is a one-task mixture: the same sampler, batching, objective and evaluation as
pre-finetuning, on the same run skeleton (setup, fit, finish; checkpoints, resume, signals,
metrics.jsonl). Early stopping keeps the weights of the best dev evaluation; its state and
those weights are part of every checkpoint, so a resumed fine-tune is the uninterrupted one.
A finished fine-tune deletes its checkpoints: results.json (and model/) are what it leaves,
so a sweep of many cells holds at most one cell's checkpoints at a time.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from muppet.config import FinetuneConfig
from muppet.data.pipeline import check_leakage, featurize_plan, plan_task
from muppet.data.sampler import MixtureSampler
from muppet.data.store import RecordStore, tokenizer_fingerprint
from muppet.errors import ConfigError
from muppet.evaluation.evaluate import evaluate_task
from muppet.evaluation.splits import task_subset
from muppet.integrations import trackers
from muppet.integrations.trackers import TRACKERS_DIR
from muppet.model import MultiTaskModel, remove_head_parametrizations
from muppet.tasks.loading import available_splits
from muppet.tasks.mixtures import expand
from muppet.tasks.spec import TaskSpec
from muppet.train.checkpoint import latest_checkpoint, save_checkpoint, write_json_atomic
from muppet.train.export import HEADS_FILE, export_model, head_state
from muppet.train.loop import check_backbone, check_not_empty, feature_settings, load_tokenizer
from muppet.train.metrics_log import MetricsLog, log_row
from muppet.train.resume import SAFE_ON_RESUME, ResumePoint, resume_point, resume_state
from muppet.train.runfolder import check_free_space, clear, own_folder
from muppet.train.skeleton import (
    MetricWindow,
    UpdateGuard,
    advance,
    build_model,
    cache_builders_first,
    install_stop_handlers,
    open_log,
    optimization,
    prepare_folder,
    regularize,
    restore_stop_handlers,
    stop_now,
)
from muppet.train.step import Stepper, make_accelerator, pad_multiple

RESULTS_FILE = "results.json"
# What a fine-tune writes into its output_dir (overwrite=true removes exactly these).
RUN_FILES = ("config.yaml", "metrics.jsonl", RESULTS_FILE, "checkpoints", "model", TRACKERS_DIR)
# The best weights in a checkpoint saved after the best evaluation.
BEST_FILE = "best.safetensors"
# eval_every decides which weights early stopping keeps; the others only what is reported.
SAFE_ON_FINETUNE_RESUME = (SAFE_ON_RESUME - {"eval_every"}) | {"evaluate_test", "save_model", "extra"}


def reuse_head(model: MultiTaskModel, spec: TaskSpec, source: str) -> tuple[str | None, str | None]:
    """Load the export's head for this task (classification) or family (shared heads).

    Returns the key reused, or None and why not. A model that is not an export reuses
    nothing for any task: an error. An export without this task's head (a downstream task it
    never trained) or with a head of another shape is said loudly and recorded in results.json.
    """
    key = model.head_keys[spec.name]
    head = model.head(key)
    path = Path(source)
    if head is None:
        raise ConfigError(f"reuse_head: task {spec.name!r} has no head of its own to reuse (key {key!r})")
    if not (path / HEADS_FILE).is_file():
        raise ConfigError(f"reuse_head: model {source!r} is not a muppet export (no {HEADS_FILE}); "
                          "pass an export folder or set reuse_head=false")
    state = head_state(path, key)
    if not state:
        return None, f"the export has no head {key!r} for task {spec.name!r}: a fresh head is trained"
    try:
        head.load_state_dict(state)
    except RuntimeError as exc:  # e.g. a classification head with another number of labels
        return None, (f"the export's head {key!r} does not fit task {spec.name!r} "
                      f"({str(exc).splitlines()[-1].strip()[:200]}): a fresh head is trained")
    return key, None


def _selection(spec: TaskSpec, cfg: FinetuneConfig):  # type: ignore[no-untyped-def]
    def select(store: RecordStore, candidates: np.ndarray) -> np.ndarray:
        if cfg.max_train_examples is not None:  # seed-independent: the pool is the task's data
            candidates = task_subset(store, candidates, spec.name, 0, examples=cfg.max_train_examples,
                                     salt=0x504F4F4C)
        return task_subset(store, candidates, spec.name, cfg.seed, fraction=cfg.train_fraction,
                           examples=cfg.train_examples)

    return select


def finetune(cfg: FinetuneConfig) -> dict[str, Any]:
    started = time.perf_counter()
    out = Path(cfg.output_dir)
    trackers.check_installed(cfg.report_to)
    specs, _ = expand([cfg.task], cfg.data_dir)
    spec = specs[0]
    check_backbone(specs, cfg.model, cfg.trust_remote_code, cfg.max_length)
    accelerator, shards = make_accelerator(cfg.cpu, cfg.precision, cfg.grad_accum_steps, cfg.batch_size,
                                           cfg.report_to, trackers.project_dir(out))
    with own_folder(out, accelerator):
        if (out / RESULTS_FILE).exists() and not cfg.overwrite:
            raise ConfigError(f"{out / RESULTS_FILE} holds a finished fine-tuning result: pass overwrite=true to "
                              "replace it, or choose another output_dir")
        point = resume_point(cfg, out, [spec.name], shards, RUN_FILES, SAFE_ON_FINETUNE_RESUME)
        run = setup(cfg, spec, accelerator, shards, point, started)
        stopped = fit(run)
        if stopped is not None:
            accelerator.end_training()
            return {"step": stopped[0], "output_dir": str(out), "stopped": True, "signal": stopped[1]}
        return finish(run)


def finetune_data(cfg: FinetuneConfig, spec: TaskSpec, head: str, tokenizer: Any, settings: Any, accelerator: Any) -> list[Any]:
    """The task's training subset with its dev evaluation, and its test split where it has one."""
    common: dict[str, Any] = dict(
        data_dir=cfg.data_dir, source=cfg.source, on_bad_record=cfg.on_bad_record, cache_dir=cfg.cache_dir,
        heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max, max_eval_examples=cfg.max_eval_examples,
        seed=cfg.seed, train_selection=_selection(spec, cfg),
    )
    with cache_builders_first(accelerator, cfg.cache_dir, cfg.cache_shared):
        plans = [plan_task(spec, head, eval_split="dev", **common)]
        if cfg.evaluate_test and "test" in available_splits(spec, cfg.data_dir, cfg.source):
            plans.append(plan_task(spec, head, eval_split="test", **common))
        check_leakage(plans, cfg.leakage, unit=cfg.leakage_unit)
        key = tokenizer_fingerprint(tokenizer)
        data = [featurize_plan(p, tokenizer, settings, cache_dir=cfg.cache_dir, num_proc=cfg.num_proc, tokenizer_key=key)
                for p in plans]
    check_not_empty(data)
    return data


@dataclass
class EarlyStopping:
    """The dev evaluations so far, the best score with its update and weights (CPU copies), and
    the evaluations since it; all of it is saved in checkpoints (the weights in BEST_FILE)."""

    metric: str
    patience: int
    history: list[dict[str, Any]] = field(default_factory=list)
    score: float = float("nan")
    step: int | None = None
    stale: int = 0
    weights: dict[str, torch.Tensor] | None = None

    def record(self, step: int, scores: dict[str, float], core: torch.nn.Module) -> bool:
        """Take the evaluation after update ``step``; whether to stop now."""
        self.history.append({"step": step, "dev": scores})
        value = scores.get(self.metric, float("nan"))
        if self.step is None or value > self.score:
            self.score, self.step, self.stale = value, step, 0
            self.weights = copy_weights(core)
            return False
        self.stale += 1
        return bool(self.patience) and self.stale >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "score": self.score, "step": self.step, "stale": self.stale}

    def load(self, point: ResumePoint, core: torch.nn.Module) -> None:
        """The state of checkpoint ``point``, loaded into ``core`` already."""
        state = point.state["early_stopping"]
        self.history, self.score, self.step, self.stale = state["history"], state["score"], state["step"], state["stale"]
        if self.step == point.step:  # the checkpoint's own weights are the best
            self.weights = copy_weights(core)
        elif self.step is not None:
            self.weights = load_file(str(point.path / BEST_FILE))

    def save_best(self, folder: Path, step: int) -> None:
        if self.weights is not None and self.step != step:
            save_file({k: v.contiguous() for k, v in self.weights.items()}, str(folder / BEST_FILE))


def stopped_early(result: dict[str, Any]) -> bool | None:
    """Whether early stopping ended a finished fine-tune (``early_stopping_patience`` dev
    evaluations in a row without a new best); False when it ran out of epochs or steps first,
    so its best score may still have been rising; None when early stopping was off. Read from
    the evaluation history, so every results.json answers, however old."""
    patience = int((result.get("config") or {}).get("early_stopping_patience") or 0)
    if not patience:
        return None
    after_best = sum(1 for h in result["history"] if h["step"] > result["best_step"])
    return after_best >= patience


def copy_weights(core: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in core.state_dict().items()}


@dataclass
class FineTune:
    """A fine-tune set up and ready to fit: what every later stage reads."""

    cfg: FinetuneConfig
    out: Path
    accelerator: Any
    spec: TaskSpec
    train: Any  # the TaskData of the training subset, evaluated on dev
    test: Any  # the TaskData evaluated on test, or None
    tokenizer: Any
    settings: Any
    model: Any  # prepared by accelerate
    scheduler: Any
    sampler: MixtureSampler
    stepper: Stepper
    padding: int
    shards: int
    steps: int
    eval_every: int
    start: int
    early: EarlyStopping
    log: MetricsLog | None
    show: bool
    started: float
    reused: tuple[str | None, str | None]  # the head reused, or why none

    @property
    def core(self) -> MultiTaskModel:
        return self.accelerator.unwrap_model(self.model)

    def evaluate(self, task: Any) -> dict[str, float]:
        return evaluate_task(self.model, task, self.settings, self.tokenizer, self.accelerator,
                             self.cfg.eval_batch_size, self.padding)

    def checkpoint(self, step: int) -> None:
        state = {"tasks": [self.spec.name], "sampler": self.sampler.state_dict(), "early_stopping":
                 self.early.state_dict(), "scheduler": self.scheduler.state_dict(), "shards": self.shards,
                 "config": self.cfg.to_dict()}
        save_checkpoint(self.accelerator, self.out, step, state, self.cfg.keep_checkpoints,
                        extra=lambda folder: self.early.save_best(folder, step))


def setup(cfg: FinetuneConfig, spec: TaskSpec, accelerator: Any, shards: int, point: ResumePoint | None,
          started: float) -> FineTune:
    """Model (with any reused head), data, optimizer, sampler and resumed state."""
    out = Path(cfg.output_dir)
    show = cfg.progress and accelerator.is_local_main_process
    model = build_model(cfg, [spec])
    reused = reuse_head(model, spec, cfg.model) if cfg.reuse_head else (None, None)
    if reused[1] and accelerator.is_main_process:
        print(f"muppet: warning: reuse_head: {reused[1]}", file=sys.stderr, flush=True)
    noise, r3f_lambda = regularize(cfg, model)  # after the reused head is in
    tokenizer = load_tokenizer(cfg.model, [spec], cfg.trust_remote_code)
    settings = feature_settings(cfg)
    data = finetune_data(cfg, spec, model.head_keys[spec.name], tokenizer, settings, accelerator)
    train, test = data[0], (data[1] if len(data) > 1 else None)
    # a checkpoint may carry the best weights beside the current ones: 4 copies of the weights
    check_free_space(out, model, cfg.keep_checkpoints + 1, int(cfg.save_model), accelerator, per_checkpoint=4)
    prepare_folder(cfg, out, point, RUN_FILES, accelerator)
    per_epoch = math.ceil(len(train.train) / cfg.batch_size)
    steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * per_epoch))
    sampler = MixtureSampler([spec.name], [len(train.train)], np.array([1.0]), seed=cfg.seed,
                             batch_size=cfg.batch_size, batching="heterogeneous", max_steps=steps)
    padding = pad_multiple(cfg.pad_to_multiple_of, accelerator.device)
    optimizer, scheduler = optimization(cfg, model, steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    start = resume_state(point, accelerator, sampler, scheduler)
    early = EarlyStopping(train.family.metric_name(spec), cfg.early_stopping_patience)
    if point is not None:
        early.load(point, accelerator.unwrap_model(model))
    log = open_log(cfg, out, point, start, steps, [train], accelerator)
    stepper = Stepper(accelerator, model, optimizer, [train], cfg.seed, cfg.grad_accum_steps, "none",
                      cfg.max_grad_norm, noise, r3f_lambda, padding, cfg.max_tokens)
    return FineTune(cfg, out, accelerator, spec, train, test, tokenizer, settings, model, scheduler, sampler, stepper,
                    padding, shards, steps, cfg.eval_every or per_epoch, start, early, log, show, started, reused)


def fit(run: FineTune) -> tuple[int, int | None] | None:
    """The updates from ``run.start`` until the last or early stopping; (update, signal) if it
    was stopped (a signal or stop_after), with a checkpoint."""
    cfg, accelerator = run.cfg, run.accelerator
    signals: list[int] = []
    previous = install_stop_handlers(signals)
    window = MetricWindow([run.spec.name])
    guard = UpdateGuard(cfg.max_bad_updates, lambda: latest_checkpoint(run.out))
    bar = tqdm(total=run.steps, initial=run.start, desc=f"fine-tuning {run.spec.name}", unit="update",
               disable=not run.show)
    run.model.train()
    try:
        for step in range(run.start + 1, run.steps + 1):
            done = run.stepper.update(step, run.sampler.next_update())
            advance(run.scheduler)
            bar.update(1)
            counted = guard.check(step, done.bad, run.model, accelerator)
            if counted:
                window.add(done)
                bar.set_postfix(loss=f"{done.loss:.3f}")
            if (step % cfg.log_every == 0 or step == run.steps) and window.updates:
                log_row(run.log, window.row(step, run.scheduler.get_last_lr()[0], accelerator, run.started))
            if counted and (step % run.eval_every == 0 or step == run.steps):
                scores = run.evaluate(run.train)
                log_row(run.log, {"step": step, "dev": scores})
                if run.early.record(step, scores, run.core):
                    break
                window.start = time.perf_counter()  # evaluation time is not training throughput
            stopping = stop_now(cfg, step, run.steps, signals, accelerator) and step < run.steps
            if stopping or (cfg.save_every and step % cfg.save_every == 0 and step < run.steps):
                run.checkpoint(step)  # none at the end: finish follows, and deletes them
                window.start = time.perf_counter()
            if stopping:
                return step, (signals[0] if signals else None)
    finally:
        restore_stop_handlers(previous)
        bar.close()
    return None


def finish(run: FineTune) -> dict[str, Any]:
    """The best weights back in the model, results.json and the optional export; then the
    checkpoints go (a finished fine-tune is never resumed)."""
    cfg, out, accelerator, early, core = run.cfg, run.out, run.accelerator, run.early, run.core
    if early.weights is None:  # no evaluation counted (the last updates were skipped): evaluate what there is
        early.record(run.sampler.step, run.evaluate(run.train), core)
    core.load_state_dict(early.weights)
    # The kept weights were scored when they were kept (evaluation is deterministic): no rerun.
    dev = next(h["dev"] for h in early.history if h["step"] == early.step)
    result = results(run, dev)
    if accelerator.is_main_process:
        clear(out, ("model",))  # an unfinished earlier attempt's
        if cfg.save_model:
            remove_head_parametrizations(core)
            export_model(core, run.tokenizer, [run.spec], out / "model", base_model=cfg.model, step=early.step,
                         task_info={run.spec.name: {"metric": early.metric, "dev": dev}}, config=cfg.to_dict())
        write_json_atomic(out / RESULTS_FILE, result)  # complete or absent: sweeps rely on it
        clear(out, ("checkpoints",))
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return result


def results(run: FineTune, dev: dict[str, float]) -> dict[str, Any]:
    """results.json, with the test split scored now (by the best weights)."""
    cfg, spec, train = run.cfg, run.spec, run.train
    return {
        "model": cfg.model,
        "task": spec.name,
        "family": spec.family,
        "metric": run.early.metric,
        "train_fraction": cfg.train_fraction,
        "train_examples": cfg.train_examples,
        "n_train": train.n_train_records,
        "n_features": len(train.train),
        "skipped_records": train.skipped,  # malformed records skipped (on_bad_record=skip)
        "seed": cfg.seed,
        "steps": run.sampler.step,  # the last update: max_steps, or where early stopping stopped
        "best_step": run.early.step,
        "dev_split": train.eval_split,
        "dev": dev,
        "test": run.evaluate(run.test) if run.test is not None else None,
        "reused_head": run.reused[0],
        "reuse_head_skipped": run.reused[1],  # why reuse_head=true reused nothing
        "r3f": cfg.r3f.to_dict() if cfg.r3f is not None else None,
        "history": run.early.history,
        "extra": cfg.extra,
        "config": cfg.to_dict(),
        "seconds": time.perf_counter() - run.started,
    }
