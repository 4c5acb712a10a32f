"""Whether a checkpoint may be resumed under a given config, and what changed.

A resumed run is exact only if everything that decides its updates is what the checkpoint
was trained with. Keys that only decide what is logged, evaluated or kept may change; so may
``max_steps``, upwards: the scheduler is rebuilt for the new length, so the learning rate
from the resumed update on follows the linear decay to 0 at the new ``max_steps`` (a jump
at the resume point, where the old schedule would have decayed to 0 sooner), and with
``batching: sequential`` it is refused because the task blocks depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from muppet.config.base import RENAMED
from muppet.errors import ConfigError

# Keys that never change which examples, weights or random numbers an update sees.
SAFE_ON_RESUME = frozenset({
    "progress", "eval_every", "log_every", "save_every", "keep_checkpoints", "stop_after", "resume", "overwrite",
    "export", "max_bad_updates", "num_proc", "cache_dir", "eval_batch_size", "output_dir", "monitor_gradients",
})


def changed_keys(saved: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (saved.get(k), new.get(k)) for k in sorted({*saved, *new}) if saved.get(k) != new.get(k)}


def check_resume(saved: Mapping[str, Any], new: Mapping[str, Any], step: int, checkpoint: Path) -> dict[str, tuple[Any, Any]]:
    """The changed keys, when all of them are safe; else a ConfigError naming every refused one.
    ``saved`` may name keys by their old names (a run from before a rename)."""
    changes = changed_keys({RENAMED.get(k, k): v for k, v in saved.items()}, new)
    refused = []
    for key, (old, value) in changes.items():
        if key in SAFE_ON_RESUME:
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
            f"{', '.join(sorted(SAFE_ON_RESUME - {'resume', 'overwrite', 'output_dir'}))} may change), "
            "or start a new run in another output_dir"
        )
    return changes


def describe(changes: Mapping[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changes.items() if k != "resume")
