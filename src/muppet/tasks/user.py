"""User-defined tasks: a YAML file declares a task, no Python needed.

```yaml
name: my_reviews
family: classification            # classification | multiple_choice | extractive_qa | summarization
labels: [negative, positive]      # classification; or label_range: [0, 5] for regression
metric: accuracy                  # optional: the headline metric
description: Product reviews, one per line.
local:
  format: jsonl                   # jsonl | json | csv | tsv | parquet | label_text | any registered reader
  splits: {train: train.jsonl, dev: dev.jsonl}   # paths relative to this file (or absolute)
  columns: {text_a: review, label: stars}
  label_map: {"1": negative, "5": positive}
hub:                              # optional, or instead of local
  path: org/dataset
  splits: {train: train, dev: validation}
  columns: {text_a: text, label: label}
  filter: {label: {"!=": -1}}     # optional: ==, !=, in, not in; also revision, data_dir, data_files, export_subset
```

``tasks:`` in a run config names such files (``tasks: [rte, ./my_reviews.yaml]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from muppet.config import read_yaml_mapping
from muppet.errors import ConfigError
from muppet.registry import nearest
from muppet.tasks.spec import TASKS, HubSource, LocalSource, TaskSpec, register, spec_to_dict

TASK_KEYS = ("name", "family", "labels", "label_range", "metric", "description", "options", "local", "hub")
LOCAL_KEYS = ("format", "splits", "columns", "options", "label_map", "directory")
HUB_LOAD_KEYS = ("revision", "data_dir", "data_files", "export_subset", "evidence")  # passed through as written
HUB_KEYS = ("path", "name", "splits", "columns", "label_map", "format", "options", "filter", *HUB_LOAD_KEYS)


def is_task_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml"))


def _check_keys(where: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            near = nearest(str(key), list(allowed))
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint} (allowed: {', '.join(allowed)})")


def _mapping(where: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return dict(value)


def _columns(where: str, value: Any) -> dict[str, Any]:
    return {k: v if isinstance(v, str) else tuple(v) for k, v in _mapping(where, value).items()}


def load_task_file(path: str | os.PathLike[str]) -> TaskSpec:
    """The TaskSpec a YAML file declares (validated; local paths resolved against the file)."""
    file = Path(path).resolve()
    data = read_yaml_mapping(file, "task file")
    where = str(file)
    _check_keys(where, data, TASK_KEYS)
    for key in ("name", "family"):
        if not data.get(key):
            raise ConfigError(f"{where}: missing {key!r}")
    local = hub = None
    if data.get("local") is not None:
        raw = _mapping(f"{where}: local", data["local"])
        _check_keys(f"{where}: local", raw, LOCAL_KEYS)
        if "format" not in raw or "splits" not in raw:
            raise ConfigError(f"{where}: local needs 'format' and 'splits'")
        splits = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in _mapping(f"{where}: local.splits", raw["splits"]).items()}
        directory = Path(raw.get("directory") or ".")
        local = LocalSource(
            format=str(raw["format"]),
            splits=splits,
            columns=_columns(f"{where}: local.columns", raw.get("columns")),
            options=_mapping(f"{where}: local.options", raw.get("options")),
            label_map={str(k): str(v) for k, v in _mapping(f"{where}: local.label_map", raw.get("label_map")).items()},
            directory=str(directory if directory.is_absolute() else (file.parent / directory).resolve()),
        )
    if data.get("hub") is not None:
        raw = _mapping(f"{where}: hub", data["hub"])
        _check_keys(f"{where}: hub", raw, HUB_KEYS)
        if "path" not in raw:
            raise ConfigError(f"{where}: hub needs 'path'")
        kwargs: dict[str, Any] = {"path": str(raw["path"]), "name": raw.get("name")}
        if raw.get("splits") is not None:
            kwargs["splits"] = {str(k): str(v) for k, v in _mapping(f"{where}: hub.splits", raw["splits"]).items()}
        hub = HubSource(
            **kwargs,
            columns=_columns(f"{where}: hub.columns", raw.get("columns")),
            label_map={str(k): str(v) for k, v in _mapping(f"{where}: hub.label_map", raw.get("label_map")).items()},
            format=raw.get("format"),
            options=_mapping(f"{where}: hub.options", raw.get("options")),
            filter=_mapping(f"{where}: hub.filter", raw.get("filter")),
            **{key: raw[key] for key in HUB_LOAD_KEYS if raw.get(key) is not None},
        )
    labels, label_range = data.get("labels"), data.get("label_range")
    if labels is not None and not isinstance(labels, list):  # `labels: yn` would become labels y and n
        raise ConfigError(f"{where}: labels: expected a list of label names (e.g. [no, yes]), got {labels!r}")
    if label_range is not None and not (
        isinstance(label_range, list) and len(label_range) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in label_range)
    ):
        raise ConfigError(f"{where}: label_range: expected two numbers [low, high], got {label_range!r}")
    try:
        return TaskSpec(
            name=str(data["name"]),
            family=str(data["family"]),
            local=local,
            hub=hub,
            labels=tuple(str(label) for label in labels or ()),
            label_range=(float(label_range[0]), float(label_range[1])) if label_range is not None else None,
            metric=str(data.get("metric") or ""),
            description=str(data.get("description") or ""),
            options=_mapping(f"{where}: options", data.get("options")),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


_FROM_FILES: set[str] = set()  # names registered from task files (may be redeclared)


def is_file_task(name: str) -> bool:
    """Whether a registered task came from a task file (not the built-in catalogue)."""
    return name in _FROM_FILES


def register_task_file(path: str | os.PathLike[str]) -> TaskSpec:
    """Load and register a task file. A task file may redeclare a task that came from a file
    (the file changed or moved); it may not take the name of a built-in task."""
    spec = load_task_file(path)
    if spec.name in TASKS:
        if spec_to_dict(TASKS[spec.name]) == spec_to_dict(spec):
            return TASKS[spec.name]
        if spec.name not in _FROM_FILES:
            raise ConfigError(f"{path}: task name {spec.name!r} is already taken by a built-in task")
        TASKS.unregister(spec.name)
    _FROM_FILES.add(spec.name)
    return register(spec)
