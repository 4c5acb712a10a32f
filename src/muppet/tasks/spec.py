"""Declarative task records and the task registry.

A task says *what* the data is (family, sources, columns, label space, metric); the family
module says *how* it is featurized, scored and decoded. Nothing downstream branches on a
task's name.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError
from muppet.registry import Registry, nearest

SPLITS = ("train", "dev", "test")
# A column maps a canonical field to one source field, or (multiple-choice options) to several.
Column = str | tuple[str, ...]


@dataclass(frozen=True)
class LocalSource:
    """Files under ``data_dir/<directory>`` in one of the registered formats."""

    format: str
    splits: Mapping[str, tuple[str, ...]]  # split -> files, read in order and concatenated
    columns: Mapping[str, Column] = field(default_factory=dict)  # canonical -> source field
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the format reader
    label_map: Mapping[str, str] = field(default_factory=dict)  # raw label (as str) -> label name
    directory: str | None = None  # defaults to the task name

    def __post_init__(self) -> None:
        bad = sorted(set(self.splits) - set(SPLITS))
        if bad:
            raise ConfigError(f"local source: unknown split(s) {bad}; splits are {SPLITS}")
        for split, files in self.splits.items():
            if isinstance(files, str) or not files:
                raise ConfigError(f"local source: split {split!r} needs a non-empty tuple of files")


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face hub dataset (used when the files are not on disk and the hub is reachable)."""

    path: str
    name: str | None = None
    splits: Mapping[str, str] = field(default_factory=lambda: {"train": "train", "dev": "validation"})
    columns: Mapping[str, Column] = field(default_factory=dict)
    label_map: Mapping[str, str] = field(default_factory=dict)
    # A row adapter (ROW_FORMATS) for rows that need more than a column mapping, e.g. nested
    # answers; it runs before ``columns``.
    format: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # Keep only rows whose columns pass these conditions: column -> value (equality) or
    # {op: value} with op one of FILTER_OPS, e.g. {"label": {"!=": -1}} drops SNLI's unlabeled rows.
    # The rows left out are counted, not errors.
    filter: Mapping[str, Any] = field(default_factory=dict)
    revision: str | None = None  # a branch, tag, commit or "refs/pr/N"; None: main
    data_dir: str | None = None  # passed to datasets.load_dataset: a sub-folder of the repository
    data_files: Any = None  # passed to datasets.load_dataset: files per split, for repos with no usable config
    # The subset (folder) of the Hub's automatic Parquet export (revision refs/convert/parquet),
    # read when the repository only holds a loading script; None: ``name``, else "default".
    export_subset: str | None = None
    # Where the schema (columns, label names and order) was confirmed: a dataset card, revision
    # or repository file, or "unconfirmed: why".
    evidence: str = ""

    def __post_init__(self) -> None:
        bad = sorted(set(self.splits) - set(SPLITS))
        if bad:
            raise ConfigError(f"hub source {self.path}: unknown split(s) {bad}; splits are {SPLITS}")
        filter_conditions(self.filter, f"hub source {self.path}")  # fails early on an unknown operator


@dataclass(frozen=True)
class MemorySource:
    """Tables a Python process holds, one per split (a pandas DataFrame or a datasets Dataset),
    registered with ``muppet.register_task``; the declaration names the splits, the tables stay
    with the process (``muppet.tasks.memory``)."""

    splits: tuple[str, ...] = ("train",)
    columns: Mapping[str, Column] = field(default_factory=dict)  # canonical -> source column
    label_map: Mapping[str, str] = field(default_factory=dict)  # raw label (as str) -> label name

    def __post_init__(self) -> None:
        bad = sorted(set(self.splits) - set(SPLITS))
        if bad:
            raise ConfigError(f"in-memory source: unknown split(s) {bad}; splits are {SPLITS}")
        if "train" not in self.splits:
            raise ConfigError("in-memory source: needs a train split")


FILTER_OPS = ("==", "!=", "in", "not in")


def filter_conditions(where: Mapping[str, Any], owner: str = "filter") -> list[tuple[str, str, Any]]:
    """``HubSource.filter`` as (column, operator, value) triples; a bare value means equality."""
    out = []
    for column, test in where.items():
        if not isinstance(test, Mapping):
            out.append((str(column), "==", test))
            continue
        if len(test) != 1 or next(iter(test)) not in FILTER_OPS:
            raise ConfigError(f"{owner}: filter on {column!r} must be a value or one {{op: value}} with op in {FILTER_OPS}, "
                              f"not {dict(test)!r}")
        op, value = next(iter(test.items()))
        if op in ("in", "not in") and (isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set))):
            raise ConfigError(f"{owner}: filter {column!r} {op} needs a list of values, not {value!r}")
        out.append((str(column), op, value))
    return out


@dataclass(frozen=True)
class TaskSpec:
    name: str
    family: str
    local: LocalSource | None = None
    hub: HubSource | None = None
    labels: tuple[str, ...] = ()  # class names, in head-output order (families with classes)
    label_range: tuple[float, float] | None = None  # regression targets (labels stay empty)
    metric: str = ""  # the headline metric (one of the family's metric_names); empty means its default
    description: str = ""
    # Family-specific declarations, e.g. {"unanswerable": True} for SQuAD 2.0-style QA.
    options: Mapping[str, Any] = field(default_factory=dict)
    memory: MemorySource | None = None  # tables held by the process that registered the task

    def __post_init__(self) -> None:
        from muppet.families import declare  # families import this module

        if not self.name:
            raise ConfigError("a task needs a name")
        if self.local is None and self.hub is None and self.memory is None:
            raise ConfigError(f"task {self.name!r} has neither a local nor a hub source")
        if self.memory is not None and (self.local is not None or self.hub is not None):
            raise ConfigError(f"task {self.name!r}: in-memory tables are its only source (no local or hub one)")
        # The family validates the rest; an older spelling is stored as the family serving it.
        object.__setattr__(self, "family", declare(self))

    @property
    def directory(self) -> str:
        return (self.local.directory if self.local and self.local.directory else None) or self.name

    def local_root(self, data_dir: str | os.PathLike[str] | None) -> Path | None:
        """The folder of the local files: ``data_dir/<directory>``, or ``directory`` if absolute."""
        if self.local is None:
            return None
        if Path(self.directory).is_absolute():
            return Path(self.directory)
        return Path(data_dir) / self.directory if data_dir else None

    def local_splits(self, data_dir: str | os.PathLike[str] | None) -> list[str]:
        """The splits whose files all exist under ``data_dir``."""
        root = self.local_root(data_dir)
        if self.local is None or root is None:
            return []
        return [
            split
            for split in SPLITS
            if split in self.local.splits and all((root / f).is_file() for f in self.local.splits[split])
        ]


def register_catalog() -> None:
    """Register the built-in catalogue (idempotent: Python imports a module once)."""
    import muppet.tasks.catalog  # noqa: F401  (its modules register their tasks and mixtures)


# The catalogue is registered before the registry's first use, not on `import muppet`.
TASKS: Registry[TaskSpec] = Registry("task", builtins=register_catalog)


def register(spec: TaskSpec) -> TaskSpec:
    return TASKS.register(spec.name, spec)


def get_task(name: str) -> TaskSpec:
    return TASKS[name]


def all_tasks() -> list[TaskSpec]:
    return [spec for _, spec in TASKS.items()]


def spec_to_dict(spec: TaskSpec) -> dict[str, Any]:
    """A JSON-ready description of a task (stored in exports, so heads can be rebuilt anywhere)."""
    out = dataclasses.asdict(spec)
    if out["memory"] is None:  # as before in-memory tasks: file tasks keep their cache keys and exports
        del out["memory"]
    return out


# The dataclasses above are the one schema of a task declaration: the catalogue constructs
# them, and the one loader below validates task files and exports against them (pydantic
# reads their fields and types). Unknown keys are errors; a number is read as a string where
# the schema says string (YAML turns `1: positive` into an int key).
for _schema in (LocalSource, HubSource, MemorySource, TaskSpec):
    _schema.__pydantic_config__ = {"extra": "forbid", "coerce_numbers_to_str": True}  # type: ignore[attr-defined]
_SECTIONS: dict[str, type] = {"local": LocalSource, "hub": HubSource, "memory": MemorySource}


@functools.cache
def _adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(TaskSpec)


def spec_from_dict(data: Mapping[str, Any], where: str = "task") -> TaskSpec:
    """A TaskSpec from plain data (a task file, an export's muppet.json); a ConfigError names
    ``where`` and each bad key, with the nearest valid names for unknown ones."""
    from pydantic import ValidationError

    try:
        return _adapter().validate_python(_plain_defaults(data))
    except ValidationError as exc:
        raise ConfigError(f"{where}: " + "; ".join(_describe(error) for error in exc.errors())) from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _plain_defaults(data: Any) -> Any:
    """What a hand-written declaration may shorten: null means the default, one file needs no list."""
    if not isinstance(data, Mapping):
        return data
    out = {k: v for k, v in data.items() if v is not None}
    for section in _SECTIONS:
        if isinstance(out.get(section), Mapping):
            out[section] = {k: v for k, v in out[section].items() if v is not None}
    local = out.get("local")
    if isinstance(local, dict) and isinstance(local.get("splits"), Mapping):
        local["splits"] = {k: (v,) if isinstance(v, str) else v for k, v in local["splits"].items()}
    return out


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    section = loc[0] if len(loc) > 1 and loc[0] in _SECTIONS else None
    prefix = f"{section}: " if section else ""
    key = loc[-1] if loc else ""
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden") and len(loc) <= 2:
        allowed = [f.name for f in dataclasses.fields(_SECTIONS[section] if section else TaskSpec)]
        near = nearest(key, allowed)
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        return f"{prefix}unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
    if error["type"] == "missing":  # inside a value too: `label_range: [5]` misses 'label_range.1'
        return f"{prefix}missing {'.'.join(loc[1:] if section else loc)!r}"
    msg = error["msg"]
    return f"{'.'.join(loc)}: {msg[:1].lower()}{msg[1:]} (got {error.get('input')!r:.60})"
