"""The shapes the catalogue's declarations share, so that each task states only what differs.

``declare`` registers one task of a family; the constructors build the sources many tasks
have in common (a GLUE or SuperGLUE config, a file per split, the usual column names), as
lm-evaluation-harness's ``include:`` does for its task files. What they build is a plain
:class:`TaskSpec` like any other: the export of a task does not depend on how it was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from muppet.tasks.spec import Column, HubSource, LocalSource, TaskSpec, register

# Hub split names -> muppet's splits (HubSource's default is TRAIN_DEV).
TRAIN_DEV = {"train": "train", "dev": "validation"}
TRAIN_TEST = {"train": "train", "test": "test"}
TRAIN_DEV_TEST = {"train": "train", "dev": "validation", "test": "test"}

# Where the schema of a hub repository shared by several tasks was confirmed (HubSource.evidence).
GLUE_EVIDENCE = (
    "confirmed: tree https://huggingface.co/datasets/nyu-mll/glue/tree/0de23925db68e9cf6287d3776a0f67f5267a42eb "
    "(Parquet per config, no glue.py); columns and label order: datasets@2.5.0 glue.py"
)
SUPERGLUE_EVIDENCE = (
    "unconfirmed: the newest stored main tree (aps/super_glue@ee65e3e) holds only super_glue.py and its conversion PR"
    " #16 was not seen merged, so the Parquet export (subset = the config, not seen) may be read; schema and label "
    "order: datasets@2.5.0 super_glue.py"
)

Files = str | Sequence[str]


def declare(family: str, name: str, description: str, **fields: Any) -> TaskSpec:
    """Register the task ``name`` of ``family``; ``fields`` are the rest of its TaskSpec."""
    return register(TaskSpec(name=name, family=family, description=description, **fields))


def splits(train: Files = (), dev: Files = (), test: Files = ()) -> dict[str, tuple[str, ...]]:
    """A local source's files per split (one file needs no tuple); a split without files is left out."""
    given = {"train": train, "dev": dev, "test": test}
    return {split: (files,) if isinstance(files, str) else tuple(files) for split, files in given.items() if files}


def local(format: str, train: Files = (), dev: Files = (), test: Files = (), **fields: Any) -> LocalSource:
    """A local source of ``format`` with these files per split; ``fields`` are LocalSource's others."""
    return LocalSource(format=format, splits=splits(train, dev, test), **fields)


def text_columns(text_a: str, text_b: str | None = None, label: str = "label", group: str | None = None) -> dict[str, Column]:
    """The column mapping of a classification source: one text or a pair, its label and group."""
    named = {"text_a": text_a, "text_b": text_b, "label": label, "group": group}
    return {field: column for field, column in named.items() if column is not None}


def indexed(labels: Sequence[str], start: int = 0) -> dict[str, str]:
    """The label map of a source whose labels are the class indices ``start``, ``start + 1``, ..."""
    return {str(i): label for i, label in enumerate(labels, start=start)}


def glue(config: str, text_a: str, text_b: str | None = None, dev: str = "validation") -> HubSource:
    """One config of nyu-mll/glue (Parquet, an integer label in the task's label order)."""
    return HubSource("nyu-mll/glue", config, splits={"train": "train", "dev": dev}, columns=text_columns(text_a, text_b),
                     evidence=GLUE_EVIDENCE)


def super_glue(config: str, **fields: Any) -> HubSource:
    """One config of aps/super_glue (train and validation); ``fields`` are HubSource's others."""
    return HubSource("aps/super_glue", config, splits=dict(TRAIN_DEV), evidence=SUPERGLUE_EVIDENCE, **fields)

