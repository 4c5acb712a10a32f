"""Experiment trackers through accelerate's tracking (``report_to``): the rows of
``metrics.jsonl`` go to every tracker too, flattened to ``dev/rte/accuracy``-style keys, at
the same update numbers (a resumed run continues them), with the resolved config as
hyperparameters. A tracker that is not installed is a ConfigError before anything loads."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError

# accelerate's trackers and the pip package each needs.
TRACKERS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow", "comet_ml": "comet-ml", "aim": "aim",
            "clearml": "clearml", "dvclive": "dvclive", "swanlab": "swanlab", "trackio": "trackio"}
PROJECT = "muppet"
TRACKERS_DIR = "trackers"  # inside output_dir: where trackers that write files (tensorboard) write


def check_installed(names: Sequence[str]) -> None:
    """Refuse trackers whose package is missing (accelerate would silently log nothing)."""
    if not names:
        return
    from accelerate.tracking import get_available_trackers

    available = {str(getattr(t, "value", t)) for t in get_available_trackers()}
    missing = [n for n in names if n not in available]
    if missing:
        raise ConfigError(f"report_to: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed; "
                          f"pip install {' '.join(TRACKERS[n] for n in missing)}, or remove "
                          f"{'it' if len(missing) == 1 else 'them'} from report_to")


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a log row under slash-joined keys (``dev/rte/accuracy``); text,
    lists, flags and the step itself are left out."""
    out: dict[str, float] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            if name != "step":
                out[name] = value
    return out


def hyperparameters(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The resolved config, flattened, with every value a number, text or flag (what trackers store)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            out.update(hyperparameters(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value if isinstance(value, (bool, int, float, str)) else json.dumps(value)
    return out


def start(accelerator: Any, cfg: Any, start_step: int) -> None:
    """Open the trackers of ``cfg.report_to``; a resumed run drops what a crash left logged
    after its checkpoint (TensorBoard's purge_step), as metrics.jsonl does (resume=true without
    a checkpoint starts at 0 and drops everything)."""
    if not cfg.report_to:
        return
    kwargs = {"tensorboard": {"purge_step": start_step + 1}} if cfg.resume and "tensorboard" in cfg.report_to else {}
    accelerator.init_trackers(PROJECT, config=hyperparameters(cfg.to_dict()), init_kwargs=kwargs)


def project_dir(output_dir: str | Path) -> Path:
    return Path(output_dir) / TRACKERS_DIR
