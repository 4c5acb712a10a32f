"""Whether a checkpoint may be resumed under a given config, and what changed.

A resumed run is exact only if everything that decides its updates is what the checkpoint
was trained with. Keys that only decide what is logged, evaluated or kept may change; so may
``max_steps``, upwards: the scheduler is rebuilt for the new length, so the learning rate
from the resumed update on follows the linear decay to 0 at the new ``max_steps`` (a jump
at the resume point, where the old schedule would have decayed to 0 sooner), and with
``batching: sequential`` it is refused because the task blocks depend on it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muppet.config import read_yaml_mapping
from muppet.config.base import RENAMED
from muppet.errors import ConfigError
from muppet.train.checkpoint import read_state, usable_checkpoints
from muppet.train.metrics_log import MetricsLog, log_row
from muppet.train.runfolder import present

# Keys that never change which examples, weights or random numbers an update sees.
SAFE_ON_RESUME = frozenset({
    "progress", "eval_every", "log_every", "save_every", "keep_checkpoints", "stop_after", "resume", "overwrite",
    "export", "max_bad_updates", "num_proc", "cache_dir", "eval_batch_size", "output_dir", "report_to",
    "monitor_gradients",
})


def changed_keys(saved: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (saved.get(k), new.get(k)) for k in sorted({*saved, *new}) if saved.get(k) != new.get(k)}


def check_resume(
    saved: Mapping[str, Any], new: Mapping[str, Any], step: int, checkpoint: Path, safe: frozenset[str] = SAFE_ON_RESUME,
) -> dict[str, tuple[Any, Any]]:
    """The changed keys, when all of them are in ``safe``; else a ConfigError naming every refused one.
    ``saved`` may name keys by their old names (a run from before a rename)."""
    changes = changed_keys({RENAMED.get(k, k): v for k, v in saved.items()}, new)
    refused = []
    for key, (old, value) in changes.items():
        if key in safe:
            continue
        if key == "max_steps" and isinstance(value, int) and isinstance(old, int):
            if value < step:
                raise ConfigError(f"max_steps={value} is below the step of the checkpoint {checkpoint} ({step}); "
                                  f"resume with max_steps >= {step}")
            if value > old and new.get("batching") != "sequential":
                continue
        refused.append(f"{key}: {old!r} -> {value!r}")
    if refused:
        raise ConfigError(
            f"resume: the config differs from the one checkpoint {checkpoint} was trained with, so the run would "
            f"not continue exactly: {'; '.join(refused)}. Restore those keys (only a larger max_steps and "
            f"{', '.join(sorted(safe - {'resume', 'overwrite', 'output_dir'}))} may change), "
            "or start a new run in another output_dir"
        )
    return changes


def with_defaults(saved: Mapping[str, Any], cfg: Any) -> dict[str, Any]:
    """``saved`` plus the defaults of keys newer than the checkpoint's muppet: the old run behaved
    as those defaults do, so they are no change (a key renamed since counts as known)."""
    from pydantic_core import to_jsonable_python

    known = {RENAMED.get(k, k) for k in saved}
    defaults = {
        field.alias or name: to_jsonable_python(field.get_default(call_default_factory=True), by_alias=True)
        for name, field in type(cfg).model_fields.items()
        if (field.alias or name) not in known and not field.is_required()
    }
    return {**defaults, **saved}


def describe(changes: Mapping[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changes.items() if k != "resume")


@dataclass
class ResumePoint:
    path: Path
    step: int
    state: dict[str, Any]
    changes: dict[str, tuple[Any, Any]]
    skipped: list[str]  # newer checkpoints that were incomplete, with why


def resume_point(
    cfg: Any, out: Path, names: Sequence[str], shards: int, run_files: Sequence[str],
    safe: frozenset[str] = SAFE_ON_RESUME,
) -> ResumePoint | None:
    """The checkpoint this run continues from, checked against the config before any model or
    data is loaded; None for a fresh run (which must not replace a run unasked). ``run_files``
    are what the command writes into its output_dir, ``safe`` the keys that may change."""
    if cfg.resume and cfg.overwrite:
        raise ConfigError("resume=true and overwrite=true contradict each other: continue the run or replace it")
    held = present(out, run_files)
    if not cfg.resume:
        if held and not cfg.overwrite:
            raise ConfigError(f"{out} already holds a run ({', '.join(held)}): pass resume=true to continue it "
                              "or overwrite=true to replace it (its files are deleted first)")
        return None
    path, skipped = usable_checkpoints(out)
    if path is None:
        if skipped or "results.json" in held:
            why = "; ".join(skipped) or "it has results.json but no checkpoint"
            raise ConfigError(f"resume: {out} holds no usable checkpoint ({why}); pass overwrite=true to start again")
        return None
    state = read_state(path)
    if list(state.get("tasks", [])) != list(names):
        old, new = state.get("tasks", []), list(names)
        raise ConfigError(
            f"resume: checkpoint {path} was trained on other tasks (added: {sorted(set(new) - set(old)) or 'none'}, "
            f"removed: {sorted(set(old) - set(new)) or 'none'}{'' if set(old) != set(new) else ', order changed'}); "
            "resume with the same tasks, or start a new run in another output_dir"
        )
    if state.get("shards", shards) != shards:
        raise ConfigError(f"resume: checkpoint {path} was trained with {state['shards']} shards per update "
                          f"(processes x grad_accum_steps), this run has {shards}; resume with the same")
    saved = with_defaults(state.get("config") or read_yaml_mapping(out / "config.yaml", "the run's config"), cfg)
    changes = check_resume(saved, cfg.to_dict(), int(state["step"]), path, safe)
    return ResumePoint(path, int(state["step"]), state, changes, skipped)


def announce_resume(point: ResumePoint, max_steps: int, log: MetricsLog | None) -> None:
    """Say (and log) which checkpoint the run continues from, what it skipped and what changed."""
    notes = [f"resuming from {point.path} (update {point.step} of {max_steps})"]
    if point.skipped:
        notes.append(f"fell back past incomplete checkpoints, set aside as broken-step_*: {'; '.join(point.skipped)}")
    if describe(point.changes):
        notes.append(f"changed: {describe(point.changes)}")
    print("muppet: " + "; ".join(notes), file=sys.stderr, flush=True)
    log_row(log, {"step": point.step, "resumed_from": point.path.name, "skipped_checkpoints": point.skipped,
                  "changed": {k: list(v) for k, v in point.changes.items()}})


def resume_state(point: ResumePoint | None, accelerator: Any, sampler: Any, scheduler: Any) -> int:
    """Load the checkpoint into the prepared objects; the update to continue after (0: fresh).

    The scheduler is not prepared (a prepared one steps once per process) and, like the
    sampler, is saved as JSON in trainer_state.json: accelerate would pickle both, and
    nothing in a checkpoint is unpickled beyond tensors (torch.load with weights_only=True)."""
    if point is None:
        return 0
    accelerator.load_state(str(point.path))
    sampler.load_state_dict(point.state["sampler"])
    scheduler.load_state_dict(point.state["scheduler"])
    if point.step != sampler.step:
        raise ConfigError(f"{point.path}: sampler at update {sampler.step}, checkpoint says {point.step}")
    return point.step
