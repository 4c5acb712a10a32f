"""The pieces pre-finetuning and fine-tuning share: the model, AdamW with the linear
schedule, the run folder and its metrics log, the stop handlers, the guard that stops a run
on bad updates, and the window of training metrics between two log rows. Each command is a
short composition of these (setup, fit, finish)."""

from __future__ import annotations

import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from muppet.backbone import Backbone
from muppet.errors import TrainingError
from muppet.integrations import trackers
from muppet.model import MultiTaskModel, spectral_normalize_heads
from muppet.tasks.spec import TaskSpec
from muppet.train.checkpoint import set_aside
from muppet.train.metrics_log import MetricsLog, log_row
from muppet.train.objective import TaskStats, embedding_noise, merge_stats
from muppet.train.resume import ResumePoint, announce_resume
from muppet.train.runfolder import any_process, clear


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases and normalisation weights."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_model(cfg: Any, specs: Sequence[TaskSpec]) -> MultiTaskModel:
    """The multi-task model, its new heads initialised from the run's seed."""
    from accelerate.utils import set_seed

    set_seed(cfg.seed)
    return MultiTaskModel(Backbone.from_pretrained(cfg.model, cfg.trust_remote_code), list(specs), cfg.dropout)


def regularize(cfg: Any, model: MultiTaskModel) -> tuple[Callable[..., Any] | None, float]:
    """R4F's spectral norm on the heads (after any head was loaded into them), and R3F's
    embedding noise with its weight (None, 0 without R3F)."""
    if cfg.r3f is None:
        return None, 0.0
    if cfg.r3f.spectral_norm:
        spectral_normalize_heads(model)
    return embedding_noise(cfg.r3f.eps, cfg.r3f.noise), cfg.r3f.lambda_


def optimization(cfg: Any, model: torch.nn.Module, steps: int) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW and its linear warm-up and decay over ``steps`` updates."""
    from transformers import get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr)
    return optimizer, get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)


def advance(scheduler: Any) -> None:
    """One scheduler step, also after a skipped update (the schedule follows the update count)."""
    with warnings.catch_warnings():  # a skipped first update: torch warns that the optimizer did not step
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        scheduler.step()


def weights_finite(model: torch.nn.Module, accelerator: Any) -> bool:
    """Whether every weight is finite on every process (sharded weights: each checks its own)."""
    params = [p.detach() for p in model.parameters()]
    ok = bool(torch.stack([torch.isfinite(p).all() for p in params]).all()) if params else True
    return not any_process(not ok, accelerator)


class UpdateGuard:
    """Stops a run on ``max_bad`` consecutive skipped updates, or at once on non-finite weights,
    naming the last good checkpoint (``last_good`` finds it; fine-tuning has none)."""

    def __init__(self, max_bad: int, last_good: Callable[[], Path | None] | None = None) -> None:
        self.max_bad = max_bad
        self.last_good = last_good
        self.streak = 0

    def _last(self) -> str:
        if self.last_good is None:
            return "Nothing was saved"
        return f"The last good checkpoint is {self.last_good() or 'none (no checkpoint was written yet)'}"

    def check(self, step: int, bad: set[str], model: torch.nn.Module, accelerator: Any) -> bool:
        """Whether update ``step`` counts (False: it was skipped)."""
        if bad:
            self.streak += 1
            if self.streak >= self.max_bad:
                raise TrainingError(
                    f"{self.streak} consecutive updates had a non-finite loss or gradient (last: {', '.join(sorted(bad))}); "
                    f"stopping. {self._last()}: lower lr, check the data of those tasks, or raise max_bad_updates."
                )
            return False
        if not weights_finite(model, accelerator):
            raise TrainingError(f"update {step} made some weights non-finite (NaN or inf); stopping without saving "
                                f"them. {self._last()}: lower lr or check max_grad_norm.")
        self.streak = 0
        return True


class MetricWindow:
    """Training metrics summed since the last log row, reduced over processes into one row."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.reset()

    def reset(self) -> None:
        self.stats: TaskStats = {}
        self.loss, self.updates, self.examples, self.tokens = 0.0, 0, 0, 0
        self.start = time.perf_counter()

    def add(self, done: Any) -> None:
        merge_stats(self.stats, done.stats)
        self.loss += done.loss
        self.updates += 1
        self.examples += done.features
        self.tokens += done.tokens

    def row(self, step: int, lr: float, accelerator: Any, started: float) -> dict[str, Any]:
        """The log row of the window (every process must call it), then a fresh window."""
        packed = torch.tensor(
            [self.stats.get(n, [0.0, 0.0, 0.0]) for n in self.names] + [[self.loss, self.examples, self.tokens]],
            dtype=torch.float64, device=accelerator.device,
        )
        packed = accelerator.reduce(packed, reduction="sum")
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        row = {
            "step": step,
            "loss": float(packed[-1, 0]) / accelerator.num_processes / self.updates,
            "lr": lr,
            "examples_per_s": float(packed[-1, 1]) / elapsed,
            "tokens_per_s": float(packed[-1, 2]) / elapsed,
            "updates": self.updates,
            "elapsed_s": time.perf_counter() - started,  # since the run started, set-up included
            "tasks": {
                n: {"n": int(v[0]), "loss": float(v[1] / v[0]), "scaled_loss": float(v[2] / v[0])}
                for n, v in zip(self.names, packed[:-1].tolist()) if v[0] > 0
            },
        }
        self.reset()
        return row


def prepare_folder(cfg: Any, out: Path, point: ResumePoint | None, run_files: Sequence[str], accelerator: Any) -> None:
    """Touch the old run only now, with everything validated: empty it (overwrite=true) or set
    aside the broken checkpoints a resume fell back past; then save the config."""
    if accelerator.is_main_process:
        if point is None and cfg.overwrite:
            clear(out, run_files)
        elif point is not None and point.skipped:
            set_aside(out, point.step)
        out.mkdir(parents=True, exist_ok=True)
        cfg.save(out / "config.yaml")
    accelerator.wait_for_everyone()


def open_log(cfg: Any, out: Path, point: ResumePoint | None, start: int, max_steps: int, tasks: Sequence[Any],
             accelerator: Any) -> MetricsLog | None:
    """metrics.jsonl (main process only; a resumed run drops the rows after its checkpoint) and
    the trackers of report_to, with the resume and the skipped records announced and logged."""
    trackers.start(accelerator, cfg, start)
    if not accelerator.is_main_process:
        return None
    log = MetricsLog(out / "metrics.jsonl", resume_step=start if cfg.resume else None,
                     tracker=accelerator.log if cfg.report_to else None)
    if point is not None:
        announce_resume(point, max_steps, log)
    skipped = {t.name: t.skipped for t in tasks if t.skipped}
    if skipped:
        print(f"muppet: on_bad_record=skip skipped {sum(skipped.values()):,} malformed record(s): "
              + ", ".join(f"{k} {v:,}" for k, v in skipped.items()), file=sys.stderr, flush=True)
        if start == 0:  # logged once per run
            log_row(log, {"step": 0, "skipped_records": skipped})
    return log


def install_stop_handlers(received: list[int]) -> dict[int, Any]:
    """Record SIGTERM/SIGINT in ``received`` instead of dying mid-update (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda signum, frame: received.append(signum))
    return previous


def restore_stop_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def stop_requested(received: list[int], accelerator: Any) -> bool:
    """Whether any process was asked to stop (all processes then stop at the same update)."""
    return any_process(bool(received), accelerator)


def stop_now(cfg: Any, step: int, max_steps: int, received: list[int], accelerator: Any) -> bool:
    """Whether the run stops after update ``step`` with a checkpoint: a signal, or stop_after."""
    return stop_requested(received, accelerator) or (
        cfg.stop_after is not None and step == cfg.stop_after and step < max_steps)
