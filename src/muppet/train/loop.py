"""The pre-finetuning loop, top to bottom. Distribution, precision and gradient accumulation
are accelerate's (``prepare``, ``accumulate``, ``backward``, ``reduce``/``gather``)."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from muppet.backbone import load_config, resolve_model_path
from muppet.config import PrefinetuneConfig
from muppet.data.pipeline import TaskData, prepare_tasks
from muppet.data.sampler import MixtureSampler, sampling_rates
from muppet.errors import ConfigError, DataError, TrainingError
from muppet.evaluation.evaluate import evaluate_task
from muppet.families import FeatureSettings, get_family
from muppet.integrations import hub_push, trackers
from muppet.integrations.trackers import TRACKERS_DIR
from muppet.model import MultiTaskModel, remove_head_parametrizations
from muppet.tables import markdown_table
from muppet.tasks.mixtures import Selection, select
from muppet.tasks.spec import TaskSpec
from muppet.train.checkpoint import (
    checkpoint_dir,
    checkpoint_problem,
    latest_checkpoint,
    save_checkpoint,
    write_json_atomic,
)
from muppet.train.export import export_model
from muppet.train.metrics_log import MetricsLog, log_row
from muppet.train.resume import ResumePoint, resume_point, resume_state
from muppet.train.runfolder import check_free_space, own_folder
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
from muppet.transfer.monitor import GradientMonitor
from muppet.transfer.probes import Probes, probe_data, probe_specs

logger = logging.getLogger(__name__)


def feature_settings(cfg: Any) -> FeatureSettings:
    return FeatureSettings(
        max_length=cfg.max_length,
        doc_stride=cfg.doc_stride,
        max_target_length=cfg.max_target_length,
        max_answer_length=cfg.max_answer_length,
        num_beams=cfg.num_beams,
        max_new_tokens=cfg.max_new_tokens,
    )


def check_backbone(specs: Sequence[TaskSpec], model_name: str, trust_remote_code: bool, max_length: int | None = None) -> None:
    """Refuse, before reading any data, tasks the backbone cannot serve and rows longer than
    its position embeddings (an index error deep in the first forward pass otherwise)."""
    config = load_config(model_name, trust_remote_code)
    positions = getattr(config, "max_position_embeddings", None)
    if max_length is not None and isinstance(positions, int) and max_length > positions:
        raise ConfigError(f"max_length={max_length} exceeds the {positions} positions of {model_name} "
                          f"(max_position_embeddings); use max_length <= {positions}")
    if getattr(config, "is_encoder_decoder", False):
        return
    bad = [f"{s.name} ({s.family})" for s in specs if get_family(s.family).needs_decoder]
    if bad:
        raise ConfigError(
            f"tasks {bad} need an encoder-decoder backbone (BART, T5, ...); "
            f"{model_name} ({config.model_type}) is encoder-only. Drop them or choose another model."
        )


def load_tokenizer(model_name: str, specs: Sequence[TaskSpec], trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(model_name), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model {model_name!r}: cannot load its tokenizer ({str(exc).splitlines()[0][:300]})") from None
    offsets = [f"{s.name} ({s.family})" for s in specs if get_family(s.family).needs_offsets]
    if offsets and not getattr(tokenizer, "is_fast", False):
        raise ConfigError(f"tasks {offsets} need a fast tokenizer (offset mappings); {model_name} has none")
    return tokenizer


def check_not_empty(tasks: Sequence[TaskData]) -> None:
    """A task with no training features or no evaluation examples would train or score nothing."""
    for t in tasks:
        if not len(t.train):
            raise DataError(f"task {t.name!r}: its training split has no usable examples ({t.source}); "
                            "check the file (empty or header-only?) or drop the task")
        if not t.eval_records:
            where = (f"its {t.eval_split} split" if not t.eval_split.startswith("held-out")
                     else "the held-out slice carved from its training split")
            raise DataError(f"task {t.name!r}: {where} has no examples ({t.source}); check the file, or for a "
                            "held-out slice raise heldout_fraction")


def evaluate_all(
    model: Any, tasks: Sequence[TaskData], settings: FeatureSettings, tokenizer: Any, accelerator: Any, batch_size: int,
    progress: bool, pad_to_multiple_of: int = 1,
) -> dict[str, dict[str, float]]:
    out = {}
    for task in tqdm(tasks, desc="evaluating", unit="task", disable=not progress, leave=False):
        out[task.name] = evaluate_task(model, task, settings, tokenizer, accelerator, batch_size, pad_to_multiple_of)
    return out


def results_table(tasks: Sequence[TaskData], results: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for task in tasks:
        metric = task.family.metric_name(task.spec)
        ref = task.family.chance(task.eval_records, task.spec)
        rows.append(
            {
                "task": task.name,
                "family": task.spec.family,
                "eval_split": task.eval_split,
                "n": len(task.eval_records),
                "metric": metric,
                "score": results.get(task.name, {}).get(metric, float("nan")),
                "random": ref["random"],
                "trivial": ref["trivial"],
                "filtered": task.filtered,  # source rows the hub filter left out
            }
        )
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    def pct(family: str, metric: str, v: float) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        # Fractions and correlations read better as points; the family declares which a metric is.
        return f"{get_family(family).in_points(metric, v):.1f}"

    header = ("task", "family", "eval split", "n", "metric", "score", "random", "trivial")
    return "\n".join(markdown_table(header, [
        (r["task"], r["family"], r["eval_split"], r["n"], r["metric"],
         *(pct(r["family"], r["metric"], r[k]) for k in ("score", "random", "trivial"))) for r in rows]))


# What a pre-finetuning run writes into its output_dir (overwrite=true removes exactly these).
RUN_FILES = ("config.yaml", "metrics.jsonl", "results.json", "results.md", "checkpoints", "export", TRACKERS_DIR)


def prefinetune(cfg: PrefinetuneConfig) -> dict[str, Any]:
    # --- set-up: everything that can fail on bad input fails here, before any training ---
    started = time.perf_counter()
    out = Path(cfg.output_dir)
    trackers.check_installed(cfg.report_to)
    selection = select(cfg.tasks, cfg.exclude, cfg.downstream, cfg.data_dir)
    specs = selection.specs
    probed = probe_specs(cfg.probe, cfg.data_dir) if cfg.probe.tasks else []
    check_backbone([*specs, *probed], cfg.model, cfg.trust_remote_code, cfg.max_length)
    if cfg.push_to_hub:
        hub_push.check_can_push()
    accelerator, shards = make_accelerator(cfg.cpu, cfg.precision, cfg.grad_accum_steps, cfg.batch_size,
                                           cfg.report_to, trackers.project_dir(out))
    check_whole_model(cfg, accelerator)
    if cfg.batching == "sequential" and cfg.max_steps < len(specs):
        raise ConfigError(f"batching: sequential gives each task its share of max_steps, but max_steps={cfg.max_steps} "
                          f"is less than the {len(specs)} tasks: some would never train; raise max_steps")
    with own_folder(out, accelerator):
        point = resume_point(cfg, out, [s.name for s in specs], shards, RUN_FILES)
        return _prefinetune(cfg, selection, probed, accelerator, shards, point, started)


def check_whole_model(cfg: PrefinetuneConfig, accelerator: Any) -> None:
    """Probes and the gradient monitor run the backbone outside the training wrapper, so every
    process must hold all its weights: one process or DDP, not FSDP or DeepSpeed ZeRO-3."""
    if not (cfg.probe.tasks or cfg.monitor_gradients):
        return
    plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    sharded = accelerator.distributed_type.name == "FSDP" or getattr(plugin, "zero_stage", 0) == 3
    if sharded:
        raise ConfigError("probe.tasks and monitor_gradients need the whole model on every process (one process or "
                          "DDP); this run shards its weights (FSDP or DeepSpeed ZeRO-3): turn them off or use DDP")


@dataclass
class Run:
    """A pre-finetuning run set up and ready to fit: what every later stage reads."""

    cfg: PrefinetuneConfig
    out: Path
    accelerator: Any
    tasks: list[TaskData]
    rates: Any
    tokenizer: Any
    settings: FeatureSettings
    model: Any  # prepared by accelerate
    optimizer: Any
    scheduler: Any
    sampler: MixtureSampler
    stepper: Stepper
    padding: int
    shards: int
    start: int
    log: MetricsLog | None
    show: bool
    started: float
    probes: Probes | None = None
    monitor: GradientMonitor | None = None

    def evaluate(self) -> dict[str, dict[str, float]]:
        return evaluate_all(self.model, self.tasks, self.settings, self.tokenizer, self.accelerator,
                            self.cfg.eval_batch_size, self.show, self.padding)

    def checkpoint(self, step: int) -> None:
        state = {"tasks": [t.name for t in self.tasks], "sampler": self.sampler.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "shards": self.shards, "config": self.cfg.to_dict()}
        keep: set[int] = set()
        if self.probes is not None:
            state["probe"] = self.probes.state_dict()
            best = self.probes.best() if self.cfg.select_checkpoint == "probe" else None
            keep = {best[0]} if best else set()  # the checkpoint probe selection would export survives pruning
        save_checkpoint(self.accelerator, self.out, step, state, self.cfg.keep_checkpoints, keep_steps=keep)

    def before_update(self, step: int, plan: Any) -> None:
        """The gradient monitor, when due: it reads the update's examples before they are applied."""
        if self.monitor is not None and self.monitor.due(step):
            log_row(self.log, self.monitor.run(step, plan, self.accelerator.unwrap_model(self.model)))

    def after_update(self, step: int) -> bool:
        """The transfer probes, when due after update ``step`` (0: the base model); whether they ran."""
        if self.probes is None or not self.probes.due(step):
            return False
        before = self.probes.seconds
        scores = self.probes.run(step, self.accelerator.unwrap_model(self.model))
        log_row(self.log, {"step": step, "probe": scores, "probe_s": round(self.probes.seconds - before, 2)})
        if self.accelerator.is_main_process:
            self.probes.plot(self.out / "probe.png")
        return True

    def saves(self, step: int, stopping: bool) -> bool:
        """Whether update ``step`` writes a checkpoint (with select_checkpoint: probe, every probe does)."""
        probed = self.probes is not None and self.cfg.select_checkpoint == "probe" and self.probes.due(step)
        return bool(self.cfg.save_every and step % self.cfg.save_every == 0) or step == self.cfg.max_steps \
            or stopping or probed


def _prefinetune(
    cfg: PrefinetuneConfig, selection: Selection, probed: list[TaskSpec], accelerator: Any, shards: int,
    point: ResumePoint | None, started: float,
) -> dict[str, Any]:
    run = setup(cfg, selection, probed, accelerator, shards, point, started)
    run.probes = setup_probes(cfg, probed, run, point)
    if cfg.monitor_gradients:
        run.monitor = GradientMonitor(cfg.monitor_gradients, run.tasks, cfg.loss_scaling, run.padding,
                                      run.out if accelerator.is_main_process else None)
    last_eval, stopped = fit(run)
    if stopped is not None:
        accelerator.end_training()
        return {"step": stopped[0], "output_dir": str(run.out), "stopped": True, "results": None, "signal": stopped[1]}
    step, last_eval = chosen_checkpoint(run, last_eval)
    return finish(run, selection.specs, step, last_eval or run.evaluate())  # nothing evaluated: a finished run resumed


def setup(
    cfg: PrefinetuneConfig, selection: Selection, probed: list[TaskSpec], accelerator: Any, shards: int,
    point: ResumePoint | None, started: float,
) -> Run:
    """Model, data, optimizer, sampler and resumed state; the old run is touched only at the end."""
    out = Path(cfg.output_dir)
    show = cfg.progress and accelerator.is_local_main_process
    specs, weights = selection.specs, selection.weights
    model = build_model(cfg, specs)
    noise, r3f_lambda = regularize(cfg, model)
    tokenizer = load_tokenizer(cfg.model, specs, cfg.trust_remote_code)
    settings = feature_settings(cfg)
    trained = {s.name for s in [*specs, *selection.downstream]}
    # probed dev splits are evaluated in this run: no training text may be one of them
    protect = [*selection.downstream, *(s for s in probed if s.name not in trained)]
    with cache_builders_first(accelerator, cfg.cache_dir, cfg.cache_shared):
        tasks = prepare_tasks(
            specs, model.head_keys, tokenizer, settings, progress=show, leakage=cfg.leakage, leakage_unit=cfg.leakage_unit,
            num_proc=cfg.num_proc, protect=protect, caps=selection.caps,
            data_dir=cfg.data_dir, source=cfg.source, on_bad_record=cfg.on_bad_record, cache_dir=cfg.cache_dir,
            heldout_fraction=cfg.heldout_fraction, heldout_max=cfg.heldout_max,
            max_train_examples=cfg.max_train_examples, max_eval_examples=cfg.max_eval_examples, seed=cfg.seed,
        )
    check_not_empty(tasks)
    # keep_checkpoints complete ones, plus the one being written
    check_free_space(out, model, cfg.keep_checkpoints + 1, int(cfg.export), accelerator)
    prepare_folder(cfg, out, point, RUN_FILES, accelerator)
    # Rates count examples, not features: a QA example cut into many windows weighs as one.
    rates = sampling_rates([t.n_train_records for t in tasks], cfg.sampling, cfg.temperature, [weights[t.name] for t in tasks])
    sampler = MixtureSampler(
        [t.name for t in tasks], [len(t.train) for t in tasks], rates,
        seed=cfg.seed, batch_size=cfg.batch_size, batching=cfg.batching, max_steps=cfg.max_steps,
    )
    padding = pad_multiple(cfg.pad_to_multiple_of, accelerator.device)
    optimizer, scheduler = optimization(cfg, model, cfg.max_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    start = resume_state(point, accelerator, sampler, scheduler)
    log = open_log(cfg, out, point, start, cfg.max_steps, tasks, accelerator)
    stepper = Stepper(accelerator, model, optimizer, tasks, cfg.seed, cfg.grad_accum_steps, cfg.loss_scaling,
                      cfg.max_grad_norm, noise, r3f_lambda, padding, cfg.max_tokens)
    return Run(cfg, out, accelerator, tasks, rates, tokenizer, settings, model, optimizer, scheduler, sampler, stepper,
               padding, shards, start, log, show, started)


def setup_probes(cfg: PrefinetuneConfig, probed: list[TaskSpec], run: Run,
                 point: ResumePoint | None) -> Probes | None:
    """The run's transfer probes with their data, and their history when it resumes (None: off)."""
    if not probed:
        return None
    with cache_builders_first(run.accelerator, cfg.cache_dir, cfg.cache_shared):
        data = probe_data(probed, cfg, run.tokenizer, run.settings)
    check_not_empty(data)
    probes = Probes(cfg.probe, data, run.settings, run.tokenizer, seed=cfg.seed, dropout=cfg.dropout,
                    eval_batch_size=cfg.eval_batch_size, padding=run.padding, max_steps=cfg.max_steps)
    if point is not None:
        probes.load_state_dict(point.state.get("probe"))
    return probes


def fit(run: Run) -> tuple[dict[str, dict[str, float]], tuple[int, int | None] | None]:
    """The updates from ``run.start``: the last evaluation, and (update, signal) if it stopped early."""
    cfg, accelerator = run.cfg, run.accelerator
    # SIGTERM (schedulers, torchrun) and Ctrl-C end the run at the next update boundary, with a checkpoint.
    signals: list[int] = []
    previous = install_stop_handlers(signals)
    guard = UpdateGuard(cfg.max_bad_updates, lambda: latest_checkpoint(run.out))
    last_eval: dict[str, dict[str, float]] = {}
    bar = tqdm(total=cfg.max_steps, initial=run.start, desc="pre-finetuning", unit="update", disable=not run.show)
    run.model.train()
    if run.start == 0:
        run.after_update(0)  # probes of the base model: every probe curve starts from vanilla
    window = MetricWindow([t.name for t in run.tasks])
    try:
        for step in range(run.start + 1, cfg.max_steps + 1):
            plan = run.sampler.next_update()
            run.before_update(step, plan)
            done = run.stepper.update(step, plan)
            advance(run.scheduler)
            if done.bad:
                log_row(run.log, {"step": step, "skipped_update": True, "nonfinite": sorted(done.bad)})
                logger.warning("update %d skipped: non-finite loss or gradient in %s", step, ", ".join(sorted(done.bad)))
            if guard.check(step, done.bad, run.model, accelerator):
                window.add(done)
            if (step % cfg.log_every == 0 or step == cfg.max_steps) and window.updates:
                row = window.row(step, run.scheduler.get_last_lr()[0], accelerator, run.started)
                log_row(run.log, row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", ex_s=f"{row['examples_per_s']:.1f}")
            bar.update(1)
            if (cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.max_steps:
                last_eval = run.evaluate()
                log_row(run.log, {"step": step, "dev": last_eval})
                window.start = time.perf_counter()  # evaluation time is not training throughput
            if run.after_update(step):
                window.start = time.perf_counter()
            stopping = stop_now(cfg, step, cfg.max_steps, signals, accelerator)
            if run.saves(step, stopping):
                run.checkpoint(step)
                window.start = time.perf_counter()
            if stopping and step < cfg.max_steps:
                bar.close()
                return last_eval, (step, signals[0] if signals else None)
    finally:
        restore_stop_handlers(previous)
    bar.close()
    return last_eval, None


def chosen_checkpoint(run: Run, last_eval: dict[str, dict[str, float]]) -> tuple[int, dict[str, dict[str, float]]]:
    """The update exported and its dev results: the last, or with select_checkpoint: probe the
    best-probed one, loaded back from its checkpoint and evaluated."""
    best = run.probes.best() if run.probes is not None and run.cfg.select_checkpoint == "probe" else None
    if best is None or best[0] == run.cfg.max_steps:
        return run.cfg.max_steps, last_eval
    path = checkpoint_dir(run.out) / f"step_{best[0]:08d}"
    problem = checkpoint_problem(path) if path.is_dir() else "it is missing"
    if problem:
        raise TrainingError(f"select_checkpoint: probe chose update {best[0]}, but its checkpoint {path} is unusable "
                            f"({problem}); rerun with resume=true and select_checkpoint=last to export the last one")
    run.accelerator.load_state(str(path))
    return best[0], run.evaluate()


def finish(run: Run, specs: Sequence[TaskSpec], step: int, last_eval: dict[str, dict[str, float]]) -> dict[str, Any]:
    """results.json/.md and the export of update ``step``; a failed write says how to redo it from
    the final checkpoint."""
    out, accelerator = run.out, run.accelerator
    rows = results_table(run.tasks, last_eval)
    summary = {"step": run.cfg.max_steps, "output_dir": str(out), "results": rows}
    if run.probes is not None:
        summary["probe"] = run.probes.summary(step)
        summary["probe"]["verdict"] = run.probes.verdict()
        if summary["probe"]["verdict"] and accelerator.is_main_process:
            print(f"muppet: {summary['probe']['verdict']}", file=sys.stderr, flush=True)
    try:
        if accelerator.is_main_process:
            core: MultiTaskModel = accelerator.unwrap_model(run.model)
            write_outputs(run.cfg, out, run.tasks, run.rates, rows, last_eval, core, run.tokenizer, specs, summary,
                          step)
    except OSError as exc:
        raise TrainingError(
            f"writing the results or the export into {out} failed ({exc.strerror or exc}); the final checkpoint "
            f"{latest_checkpoint(out)} is complete: free space and rerun with resume=true to evaluate and export it"
        ) from None
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return summary


def write_outputs(
    cfg: PrefinetuneConfig, out: Path, tasks: Sequence[TaskData], rates: Any, rows: list[dict[str, Any]],
    last_eval: dict[str, dict[str, float]], core: MultiTaskModel, tokenizer: Any, specs: Sequence[TaskSpec],
    summary: dict[str, Any], step: int,
) -> None:
    """results.json/.md and the export of update ``step`` (main process)."""
    skipped = {t.name: t.skipped for t in tasks if t.skipped}  # on_bad_record=skip
    write_json_atomic(out / "results.json", {"step": cfg.max_steps, "exported_step": step, "dev": last_eval,
                                             "table": rows, "skipped_records": skipped,
                                             **({"probe": summary["probe"]} if "probe" in summary else {})})
    (out / "results.md").write_text(format_table(rows) + "\n", encoding="utf-8")
    if cfg.export:
        remove_head_parametrizations(core)  # exported heads are plain linear layers
        info = {
            t.name: {
                "metric": t.family.metric_name(t.spec),
                "train_examples": t.n_train_records,
                "train_features": len(t.train),
                "eval_split": t.eval_split,
                "sampling_rate": float(rate),
                "skipped_records": t.skipped,
                "dev": last_eval.get(t.name, {}),
                # for the transfer card: chance levels, the leakage outcome, the data's identity
                "eval_examples": row["n"], "chance": {"random": row["random"], "trivial": row["trivial"]},
                "dropped_leaks": t.dropped_leaks, "data": t.data_key,
            }
            for t, rate, row in zip(tasks, rates, rows)
        }
        mixture = {
            "tasks": [t.name for t in tasks], "sampling": cfg.sampling, "batching": cfg.batching,
            "loss_scaling": cfg.loss_scaling, "batch_size": cfg.batch_size,
        }
        summary["export"] = str(
            export_model(core, tokenizer, specs, out / "export", base_model=cfg.model, step=step,
                         task_info=info, mixture=mixture, config=cfg.to_dict(), probe=summary.get("probe"))
        )
        if cfg.push_to_hub:
            summary["pushed"] = hub_push.push(summary["export"], cfg.push_to_hub)
