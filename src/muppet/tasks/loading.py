"""Read a task's splits into canonical records, and carve held-out evaluation slices.

Every record of a split is read and checked before training starts, so a malformed line is
reported (file, line, field, reason) in seconds, not hours into a run.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from muppet.errors import ConfigError, DataError
from muppet.families import get_family
from muppet.tasks import memory
from muppet.tasks.formats import FORMATS, BadRecord, Loc, RecordError
from muppet.tasks.formats.base import has_bad_bytes
from muppet.tasks.hub import HubLoader, HubRows, declared_request, open_rows
from muppet.tasks.spec import SPLITS, Column, TaskSpec

MAX_ERRORS_SHOWN = 20
Record = dict[str, Any]


@dataclass
class SplitRecords:
    records: list[Record]
    source: str
    skipped: list[str] = field(default_factory=list)  # "loc: reason" of each skipped record
    filtered: int = 0  # rows a hub filter left out (e.g. SNLI's unlabeled rows)


def map_columns(raw: Mapping[str, Any], columns: Mapping[str, Column], label_map: Mapping[str, str]) -> Record:
    """Canonical field -> value, using the source's column mapping (identity when empty)."""
    if not columns:
        fields = dict(raw)
    else:
        fields = {}
        for canonical, source in columns.items():
            if isinstance(source, str):
                if source not in raw:
                    raise RecordError(f"missing field {source!r}", source)
                fields[canonical] = raw[source]
            else:
                missing = [s for s in source if s not in raw]
                if missing:
                    raise RecordError(f"missing field {missing[0]!r}", missing[0])
                fields[canonical] = [raw[s] for s in source]
    if label_map and "label" in fields:
        key = str(fields["label"])
        if key in label_map:
            fields["label"] = label_map[key]
    for name, value in fields.items():
        # Nested too: options and answers are lists of texts.
        if has_bad_bytes(value):
            raise RecordError("contains bytes that are not UTF-8", name)
    return fields


@dataclass(frozen=True)
class Problem:
    """One malformed record: where, which field, why."""

    loc: Loc
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f" (field {self.field!r})" if self.field else ""
        return f"{self.loc}{where}: {self.reason}"


def iter_canonical(
    spec: TaskSpec,
    raw_records: Iterable[tuple[Loc, Mapping[str, Any] | BadRecord]],
    columns: Mapping[str, Column],
    label_map: Mapping[str, str],
) -> Iterator[tuple[Loc, Record | Problem]]:
    """Canonical records (or the problem with each bad one), one at a time: nothing is held.
    The family's split check sees them all, and a problem of the whole split is a DataError."""
    family = get_family(spec.family)
    check = family.split_check(spec)
    for loc, raw in raw_records:
        fields: Mapping[str, Any] | None = None
        try:
            if isinstance(raw, BadRecord):
                raise RecordError(raw.reason, raw.field)
            fields = map_columns(raw, columns, label_map)
            record = family.make_record(fields, spec)
            check.record(record)
            yield loc, record
        except RecordError as exc:
            if fields is not None:
                check.rejected(loc, fields, exc)
            yield loc, Problem(loc, exc.reason, exc.field)
    problem = check.problem()
    if problem:
        raise DataError(f"task {spec.name!r}: {problem}")


def raise_problems(spec: TaskSpec, problems: list[str], source: str) -> None:
    shown = "\n  ".join(problems[:MAX_ERRORS_SHOWN])
    more = f"\n  ... and {len(problems) - MAX_ERRORS_SHOWN} more" if len(problems) > MAX_ERRORS_SHOWN else ""
    raise DataError(
        f"task {spec.name!r}: {len(problems)} malformed record(s) in {source}:\n  {shown}{more}\n"
        "Fix the data, or set on_bad_record=skip to skip and count them."
    )


@dataclass
class SplitSource:
    """An opened split: where it comes from, what identifies its content, and its raw records."""

    spec: TaskSpec
    split: str
    description: str  # for messages: the folder or hub dataset
    identity: dict[str, Any] | None  # what the content depends on (None: unknown, never cached)
    raw: Callable[[], Iterator[tuple[Loc, Mapping[str, Any] | BadRecord]]]
    columns: Mapping[str, Column]
    label_map: Mapping[str, str]
    hub_rows: HubRows | None = None  # counts the rows a hub filter leaves out

    @property
    def filtered(self) -> int:
        """Rows the source's filter left out on purpose (known once the records were read)."""
        return self.hub_rows.filtered if self.hub_rows is not None else 0

    def records(self) -> Iterator[tuple[Loc, Record | Problem]]:
        return iter_canonical(self.spec, self.raw(), self.columns, self.label_map)

    def read(self, on_bad_record: str = "error") -> SplitRecords:
        records: list[Record] = []
        problems: list[str] = []
        for _, item in self.records():
            if isinstance(item, Problem):
                problems.append(str(item))
            else:
                records.append(item)
        if problems and on_bad_record == "error":
            raise_problems(self.spec, problems, self.description)
        return SplitRecords(records, self.description, problems, self.filtered)


def file_digest(path: Path) -> str:
    """A fast hash of a file's bytes: the record cache follows content, not size and
    timestamps, which ``cp -p`` and ``rsync -t`` carry over to an edited file."""
    digest = memory.hasher()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return str(digest.hexdigest())


def open_local_split(spec: TaskSpec, split: str, data_dir: str | os.PathLike[str] | None) -> SplitSource:
    if spec.local is None:
        raise ConfigError(f"task {spec.name!r} has no local source")
    if split not in spec.local.splits:
        raise ConfigError(f"task {spec.name!r} has no local {split!r} split (it has {sorted(spec.local.splits)})")
    local = spec.local
    reader = FORMATS[local.format]
    try:  # an unknown (misspelt) or missing option is a configuration error, not a crash in the reader
        inspect.signature(reader).bind(Path(), **local.options)
    except TypeError as exc:
        raise ConfigError(f"task {spec.name!r}: format {local.format!r}: {exc}") from None
    root = spec.local_root(data_dir)
    assert root is not None
    paths = [root / name for name in local.splits[split]]
    for path in paths:
        if path.is_dir():
            raise DataError(f"task {spec.name!r}: {path} is a directory, not a data file (split {split!r})")
        if not path.is_file():
            raise DataError(f"task {spec.name!r}: file {path} not found (split {split!r})")
    # Side files a reader opens (e.g. PIQA's labels) sit in the same folder: all count.
    watched = sorted({p for path in paths for p in path.parent.iterdir() if p.is_file()})
    identity = {"files": [[str(p), p.stat().st_size, file_digest(p)] for p in watched]}

    def raw() -> Iterator[tuple[Loc, Mapping[str, Any] | BadRecord]]:
        for path in paths:
            yield from reader(path, **local.options)

    return SplitSource(spec, split, f"{root} [{split}]", identity, raw, local.columns, local.label_map)


def open_memory_split(spec: TaskSpec, split: str) -> SplitSource:
    """A split registered from Python, identified by its content (hashed now, as it is read)."""
    assert spec.memory is not None
    if split not in spec.memory.splits:
        raise ConfigError(f"task {spec.name!r} has no {split!r} split (it has {list(spec.memory.splits)})")
    identity = {"memory": memory.content_hash(memory.table(spec, split))}
    return SplitSource(spec, split, memory.describe(spec, split), identity, lambda: memory.rows(spec, split),
                       spec.memory.columns, spec.memory.label_map)


def open_hub_split(
    spec: TaskSpec, split: str, loader: HubLoader | None = None, streaming: bool = False, limit: int | None = None,
    limit_kept: bool = False,
) -> SplitSource:
    """A hub split (the Parquet export when the repository only holds a script); ``limit``: the
    first rows only (with ``limit_kept``, the first rows the filter keeps), e.g. to check a declaration."""
    hub = spec.hub
    if hub is None:
        raise ConfigError(f"task {spec.name!r} has no hub source")
    if split not in hub.splits:
        raise ConfigError(f"task {spec.name!r}: hub source has no {split!r} split")
    rows, request = open_rows(spec, split, loader, streaming)
    where = f"hub:{hub.path}" + (f"/{hub.name}" if hub.name else "") + f"[{hub.splits[split]}]"
    if request != declared_request(hub):
        where += f"@{request.revision_used}"
    hub_rows = HubRows(spec, rows, where, request, limit, limit_kept)
    fingerprint = getattr(rows, "_fingerprint", None)
    identity = {"hub": where, "fingerprint": fingerprint} if fingerprint else None
    return SplitSource(spec, split, where, identity, lambda: iter(hub_rows), hub.columns, hub.label_map, hub_rows)


def reads_local(spec: TaskSpec, data_dir: str | os.PathLike[str] | None, source: str = "auto") -> bool:
    """Whether a run reads the task's local files (else its hub source)."""
    if source not in ("auto", "local", "hub"):
        raise ConfigError(f"source must be auto, local or hub, not {source!r}")
    return source == "local" or (source == "auto" and "train" in spec.local_splits(data_dir))


def open_split(
    spec: TaskSpec,
    split: str,
    data_dir: str | os.PathLike[str] | None,
    source: str = "auto",
    hub_loader: HubLoader | None = None,
) -> SplitSource:
    """Open one split from local files (``source=local``), the hub (``hub``), or, with ``auto``,
    the local files when the task's training split is on disk, else the hub. A task registered
    from Python data reads that data, whatever ``source`` says."""
    if spec.memory is not None:
        return open_memory_split(spec, split)
    if reads_local(spec, data_dir, source):
        if spec.local_root(data_dir) is None:
            raise ConfigError("data_dir is not set (config key data_dir or $MUPPET_DATA_DIR)")
        return open_local_split(spec, split, data_dir or "")
    if spec.hub is None or split not in spec.hub.splits:
        hint = f"under {Path(data_dir) / spec.directory}" if data_dir else "(data_dir is not set)"
        raise DataError(f"task {spec.name!r}: no local {split!r} split {hint} and no hub source for it")
    return open_hub_split(spec, split, hub_loader)


def read_local_split(
    spec: TaskSpec, split: str, data_dir: str | os.PathLike[str], on_bad_record: str = "error"
) -> SplitRecords:
    return open_local_split(spec, split, data_dir).read(on_bad_record)


def read_hub_split(
    spec: TaskSpec, split: str, on_bad_record: str = "error", loader: HubLoader | None = None
) -> SplitRecords:
    return open_hub_split(spec, split, loader).read(on_bad_record)


def read_split(
    spec: TaskSpec,
    split: str,
    data_dir: str | os.PathLike[str] | None,
    source: str = "auto",
    on_bad_record: str = "error",
    hub_loader: HubLoader | None = None,
) -> SplitRecords:
    """Every canonical record of one split, in memory (see :func:`open_split`)."""
    return open_split(spec, split, data_dir, source, hub_loader).read(on_bad_record)


def available_splits(spec: TaskSpec, data_dir: str | os.PathLike[str] | None, source: str = "auto") -> list[str]:
    """The splits a run would read. ``auto`` takes the local files when the training split is
    on disk, else the hub: never a mix, since two copies of a dataset need not agree."""
    if spec.memory is not None:
        return [s for s in SPLITS if s in spec.memory.splits]
    if reads_local(spec, data_dir, source):
        return spec.local_splits(data_dir)
    return [s for s in SPLITS if spec.hub is not None and s in spec.hub.splits]


def hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def text_hash(spec: TaskSpec, record: Record) -> int:
    """A 64-bit hash of the example's input text; case and whitespace do not count."""
    return hash64(" ".join(get_family(spec.family).leak_text(record).lower().split()))


def passage_hash(spec: TaskSpec, record: Record) -> int:
    """A 64-bit hash of the passage the example reads (its family's ``passage``), normalised as
    texts are; 0 where it has none. Its own namespace: a passage never equals an example's text hash."""
    passage = get_family(spec.family).passage(record)
    if passage is None or not passage.strip():
        return 0
    return hash64("passage\x00" + " ".join(passage.lower().split())) or 1


def group_hash(spec: TaskSpec, record: Record) -> int:
    """The unit of held-out carving: the record's passage group, else its text.

    Records sharing a passage carry a ``group`` (set by readers); otherwise the text decides,
    so identical examples can never straddle train and held-out.
    """
    group = record.get("group")
    return hash64(f"group\x00{group}") if group is not None else text_hash(spec, record)


_MASK = (1 << 64) - 1


def _mix(values: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of values xor salt: a per-task order of groups that is fixed forever."""
    with np.errstate(over="ignore"):
        z = values ^ np.uint64(salt & _MASK)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def carve_indices(task: str, groups: np.ndarray, fraction: float, max_examples: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) positions: whole groups, in a hashed order, go to the held-out side
    until it holds ``min(max_examples, round(fraction * n))`` records (at least one)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    target = max(1, min(max_examples, round(fraction * n)))
    salt = hash64(f"carve\x00{task}")
    ranks = _mix(np.asarray(groups, dtype=np.uint64), salt)
    unique, inverse, counts = np.unique(ranks, return_inverse=True, return_counts=True)
    last = int(np.searchsorted(np.cumsum(counts), target))  # groups 0..last reach the target
    held = inverse.reshape(-1) <= last
    if held.all():  # one huge group: nothing left to train on
        raise DataError(f"task {task!r}: cannot carve a held-out slice; all records share one group")
    positions = np.arange(n, dtype=np.int64)
    return positions[~held], positions[held]


def carve_heldout(
    spec: TaskSpec, records: list[Record], fraction: float, max_examples: int
) -> tuple[list[Record], list[Record]]:
    """:func:`carve_indices` on records in memory."""
    groups = np.array([group_hash(spec, r) for r in records], dtype=np.uint64)
    train, held = carve_indices(spec.name, groups, fraction, max_examples)
    return [records[i] for i in train], [records[i] for i in held]
