"""Fine-tune any model (hub id, local folder or muppet export) on one task, optionally on a
deterministic low-resource subset of its training data, and score it on dev (and test).

A fine-tune is a one-task mixture: the same sampler, batching, objective and evaluation as
pre-finetuning. Early stopping keeps the weights of the best dev evaluation.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from muppet.config import FinetuneConfig
from muppet.data.pipeline import check_leakage, featurize_plan, plan_task
from muppet.data.sampler import MixtureSampler
from muppet.data.store import RecordStore, tokenizer_fingerprint
from muppet.errors import ConfigError
from muppet.evaluation.evaluate import evaluate_task
from muppet.evaluation.splits import task_subset
from muppet.families import get_family
from muppet.model import MultiTaskModel, remove_head_parametrizations
from muppet.tasks.loading import available_splits
from muppet.tasks.mixtures import expand
from muppet.tasks.spec import TaskSpec
from muppet.train.checkpoint import write_json_atomic
from muppet.train.export import HEADS_FILE, export_model, head_state
from muppet.train.loop import check_backbone, check_not_empty, feature_settings, load_tokenizer
from muppet.train.runfolder import clear, own_folder
from muppet.train.skeleton import UpdateGuard, advance, build_model, optimization, regularize
from muppet.train.step import Stepper, make_accelerator, pad_multiple

RESULTS_FILE = "results.json"


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
    specs, _ = expand([cfg.task], cfg.data_dir)
    spec = specs[0]
    check_backbone(specs, cfg.model, cfg.trust_remote_code, cfg.max_length)
    accelerator, shards = make_accelerator(cfg.cpu, cfg.precision, cfg.grad_accum_steps, cfg.batch_size)
    with own_folder(out, accelerator):
        if (out / RESULTS_FILE).exists() and not cfg.overwrite:
            raise ConfigError(f"{out / RESULTS_FILE} holds a finished fine-tuning result: pass overwrite=true to "
                              "replace it, or choose another output_dir")
        return _finetune(cfg, spec, accelerator, shards, started)


def finetune_data(cfg: FinetuneConfig, spec: TaskSpec, head: str, tokenizer: Any, settings: Any, accelerator: Any) -> list[Any]:
    """The task's training subset with its dev evaluation, and its test split where it has one."""
    common: dict[str, Any] = dict(
        data_dir=cfg.data_dir, source=cfg.source, on_bad_record=cfg.on_bad_record, cache_dir=cfg.cache_dir,
        heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max, max_eval_examples=cfg.max_eval_examples,
        seed=cfg.seed, train_selection=_selection(spec, cfg),
    )
    with accelerator.main_process_first():
        plans = [plan_task(spec, head, eval_split="dev", **common)]
        if cfg.evaluate_test and "test" in available_splits(spec, cfg.data_dir, cfg.source):
            plans.append(plan_task(spec, head, eval_split="test", **common))
        check_leakage(plans, cfg.leakage)
        key = tokenizer_fingerprint(tokenizer)
        data = [featurize_plan(p, tokenizer, settings, cache_dir=cfg.cache_dir, num_proc=cfg.num_proc, tokenizer_key=key)
                for p in plans]
    check_not_empty(data)
    return data


def _finetune(cfg: FinetuneConfig, spec: TaskSpec, accelerator: Any, shards: int, started: float) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    family = get_family(spec.family)
    show = cfg.progress and accelerator.is_local_main_process
    model = build_model(cfg, [spec])
    reused, not_reused = reuse_head(model, spec, cfg.model) if cfg.reuse_head else (None, None)
    if not_reused and accelerator.is_main_process:
        print(f"muppet: warning: reuse_head: {not_reused}", file=sys.stderr, flush=True)
    noise, r3f_lambda = regularize(cfg, model)  # after the reused head is in
    tokenizer = load_tokenizer(cfg.model, [spec], cfg.trust_remote_code)
    settings = feature_settings(cfg)
    data = finetune_data(cfg, spec, model.head_keys[spec.name], tokenizer, settings, accelerator)
    train, dev, test = data[0], data[0], (data[1] if len(data) > 1 else None)

    per_epoch = math.ceil(len(train.train) / cfg.batch_size)
    steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * per_epoch))
    eval_every = cfg.eval_every or per_epoch
    sampler = MixtureSampler([spec.name], [len(train.train)], np.array([1.0]), seed=cfg.seed,
                             batch_size=cfg.batch_size, batching="heterogeneous", max_steps=steps)
    padding = pad_multiple(cfg.pad_to_multiple_of, accelerator.device)
    optimizer, scheduler = optimization(cfg, model, steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    core: MultiTaskModel = accelerator.unwrap_model(model)

    def evaluate(task: Any) -> dict[str, float]:
        return evaluate_task(model, task, settings, tokenizer, accelerator, cfg.eval_batch_size, padding)

    metric = family.metric_name(spec)
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    stale = 0
    stepper = Stepper(accelerator, model, optimizer, [train], cfg.seed, cfg.grad_accum_steps, "none",
                      cfg.max_grad_norm, noise, r3f_lambda, padding, cfg.max_tokens)
    guard = UpdateGuard(cfg.max_bad_updates)
    bar = tqdm(total=steps, desc=f"fine-tuning {spec.name}", unit="update", disable=not show)
    model.train()
    for step in range(1, steps + 1):
        done = stepper.update(step, sampler.next_update())
        advance(scheduler)
        bar.update(1)
        if not guard.check(step, done.bad, model, accelerator):
            continue
        bar.set_postfix(loss=f"{done.loss:.3f}")
        if step % eval_every == 0 or step == steps:
            scores = evaluate(dev)
            history.append({"step": step, "dev": scores})
            value = scores.get(metric, float("nan"))
            if best is None or value > best[0]:
                best = (value, step, {k: v.detach().cpu().clone() for k, v in core.state_dict().items()})
                stale = 0
            else:
                stale += 1
                if cfg.early_stopping_patience and stale >= cfg.early_stopping_patience:
                    break
    bar.close()
    if best is None:  # the last updates were skipped: evaluate what there is
        best = (float("nan"), step, {k: v.detach().cpu().clone() for k, v in core.state_dict().items()})
    core.load_state_dict(best[2])
    # The kept weights were scored when they were kept (evaluation is deterministic): no rerun.
    final_dev = history[-1]["dev"] if history and history[-1]["step"] == best[1] else evaluate(dev)
    result: dict[str, Any] = {
        "model": cfg.model,
        "task": spec.name,
        "family": spec.family,
        "metric": metric,
        "train_fraction": cfg.train_fraction,
        "train_examples": cfg.train_examples,
        "n_train": train.n_train_records,
        "n_features": len(train.train),
        "skipped_records": train.skipped,  # malformed records skipped (on_bad_record=skip)
        "seed": cfg.seed,
        "steps": step,
        "best_step": best[1],
        "dev_split": dev.eval_split,
        "dev": final_dev,
        "test": evaluate(test) if test is not None else None,
        "reused_head": reused,
        "reuse_head_skipped": not_reused,  # why reuse_head=true reused nothing
        "r3f": cfg.r3f.to_dict() if cfg.r3f is not None else None,
        "history": history,
        "extra": cfg.extra,
        "config": cfg.to_dict(),
    }
    result["seconds"] = time.perf_counter() - started
    if accelerator.is_main_process:
        clear(out, (RESULTS_FILE, "model"))  # an unfinished earlier attempt, or overwrite=true
        if cfg.save_model:
            remove_head_parametrizations(core)
            export_model(core, tokenizer, [spec], out / "model", base_model=cfg.model, step=best[1],
                         task_info={spec.name: {"metric": metric, "dev": result["dev"]}}, config=cfg.to_dict())
        write_json_atomic(out / RESULTS_FILE, result)  # complete or absent: sweeps rely on it
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return result
