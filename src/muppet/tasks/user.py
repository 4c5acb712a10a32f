"""User-defined tasks: a YAML file declares a task, no Python needed.

```yaml
name: my_reviews
family: classification            # any registered family (muppet tasks list shows them)
labels: [negative, positive]      # classification; family: regression takes label_range: [0, 5]
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

from muppet.config import read_yaml_mapping
from muppet.errors import ConfigError
from muppet.tasks.spec import TASKS, TaskSpec, register, spec_from_dict, spec_to_dict


def is_task_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml"))


def load_task_file(path: str | os.PathLike[str]) -> TaskSpec:
    """The TaskSpec a YAML file declares (validated; local paths resolved against the file)."""
    file = Path(path).resolve()
    data = dict(read_yaml_mapping(file, "task file"))
    local = data.get("local")
    if isinstance(local, Mapping):
        directory = Path(local.get("directory") or ".")
        data["local"] = {**local, "directory": str(directory if directory.is_absolute() else (file.parent / directory).resolve())}
    return spec_from_dict(data, where=str(file))


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
