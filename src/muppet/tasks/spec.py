"""Declarative task records and the task registry.

A task says *what* the data is (family, sources, columns, label space, metric); the family
module says *how* it is featurized, scored and decoded. Nothing downstream branches on a
task's name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError
from muppet.registry import Registry

FAMILIES = ("classification", "multiple_choice", "extractive_qa", "summarization")
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
    labels: tuple[str, ...] = ()  # classification label names, in head-output order
    label_range: tuple[float, float] | None = None  # regression targets (labels stay empty)
    metric: str = ""  # the headline metric; empty means the family's default
    description: str = ""
    # Family-specific declarations, e.g. {"unanswerable": True} for SQuAD 2.0-style QA.
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"task {self.name!r}: family {self.family!r} is not one of {FAMILIES}")
        if self.local is None and self.hub is None:
            raise ConfigError(f"task {self.name!r} has neither a local nor a hub source")
        if self.family == "classification":
            if bool(self.labels) == (self.label_range is not None):
                raise ConfigError(
                    f"task {self.name!r}: a classification task needs either labels or label_range"
                )
            if len(set(self.labels)) != len(self.labels):
                raise ConfigError(f"task {self.name!r}: duplicate label names {self.labels}")
            if self.labels and len(self.labels) < 2:
                raise ConfigError(f"task {self.name!r}: needs at least two labels")
        elif self.labels or self.label_range is not None:
            raise ConfigError(f"task {self.name!r}: only classification tasks declare labels")

    @property
    def is_regression(self) -> bool:
        return self.label_range is not None

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


TASKS: Registry[TaskSpec] = Registry("task")


def register(spec: TaskSpec) -> TaskSpec:
    return TASKS.register(spec.name, spec)


def get_task(name: str) -> TaskSpec:
    _load_catalog()
    return TASKS[name]


def all_tasks() -> list[TaskSpec]:
    _load_catalog()
    return [spec for _, spec in TASKS.items()]


_loaded = False


def _load_catalog() -> None:
    # The catalogue registers itself on import; importing lazily keeps `import muppet` cheap.
    global _loaded
    if not _loaded:
        _loaded = True
        import muppet.tasks.catalog  # noqa: F401


def spec_to_dict(spec: TaskSpec) -> dict[str, Any]:
    """A JSON-ready description of a task (stored in exports, so heads can be rebuilt anywhere)."""
    import dataclasses

    return dataclasses.asdict(spec)


def spec_from_dict(data: Mapping[str, Any]) -> TaskSpec:
    fields_ = dict(data)
    local = fields_.pop("local", None)
    hub = fields_.pop("hub", None)
    if local is not None:
        local = dict(local)
        local["splits"] = {k: tuple(v) for k, v in local["splits"].items()}
        local["columns"] = {k: v if isinstance(v, str) else tuple(v) for k, v in local.get("columns", {}).items()}
        local = LocalSource(**local)
    if hub is not None:
        hub = dict(hub)
        hub["columns"] = {k: v if isinstance(v, str) else tuple(v) for k, v in hub.get("columns", {}).items()}
        hub = HubSource(**hub)
    labels = tuple(fields_.pop("labels", ()) or ())
    label_range = fields_.pop("label_range", None)
    return TaskSpec(
        local=local,
        hub=hub,
        labels=labels,
        label_range=tuple(label_range) if label_range is not None else None,  # type: ignore[arg-type]
        **fields_,
    )
