"""Read a task's splits into canonical records, and carve held-out evaluation slices.

Every record of a split is read and checked before training starts, so a malformed line is
reported (file, line, field, reason) in seconds, not hours into a run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError, DataError
from muppet.families import get_family
from muppet.tasks.formats import FORMATS, ROW_FORMATS, BadRecord, Loc, RecordError
from muppet.tasks.formats.base import has_bad_bytes
from muppet.tasks.spec import SPLITS, Column, TaskSpec

MAX_ERRORS_SHOWN = 20
Record = dict[str, Any]


@dataclass
class SplitRecords:
    records: list[Record]
    source: str
    skipped: list[str] = field(default_factory=list)  # "loc: reason" of each skipped record


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
        if isinstance(value, str) and has_bad_bytes(value):
            raise RecordError("contains bytes that are not UTF-8", name)
    return fields


def _canonical_records(
    spec: TaskSpec,
    raw_records: Iterable[tuple[Loc, Mapping[str, Any] | BadRecord]],
    columns: Mapping[str, Column],
    label_map: Mapping[str, str],
    source: str,
    on_bad_record: str,
) -> SplitRecords:
    family = get_family(spec.family)
    records: list[Record] = []
    problems: list[str] = []
    for loc, raw in raw_records:
        try:
            if isinstance(raw, BadRecord):
                raise RecordError(raw.reason, raw.field)
            records.append(family.make_record(map_columns(raw, columns, label_map), spec))
        except RecordError as exc:
            where = f" (field {exc.field!r})" if exc.field else ""
            problems.append(f"{loc}{where}: {exc.reason}")
    if problems and on_bad_record == "error":
        shown = "\n  ".join(problems[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_ERRORS_SHOWN} more" if len(problems) > MAX_ERRORS_SHOWN else ""
        raise DataError(
            f"task {spec.name!r}: {len(problems)} malformed record(s) in {source}:\n  {shown}{more}\n"
            "Fix the data, or set on_bad_record=skip to skip and count them."
        )
    return SplitRecords(records, source, problems)


def read_local_split(
    spec: TaskSpec, split: str, data_dir: str | os.PathLike[str], on_bad_record: str = "error"
) -> SplitRecords:
    if spec.local is None:
        raise ConfigError(f"task {spec.name!r} has no local source")
    if split not in spec.local.splits:
        raise ConfigError(f"task {spec.name!r} has no local {split!r} split (it has {sorted(spec.local.splits)})")
    reader = FORMATS[spec.local.format]
    root = Path(data_dir) / spec.directory
    paths = [root / name for name in spec.local.splits[split]]
    for path in paths:
        if not path.is_file():
            raise DataError(f"task {spec.name!r}: file {path} not found (split {split!r})")

    def raw() -> Iterator[tuple[Loc, Mapping[str, Any] | BadRecord]]:
        for path in paths:
            yield from reader(path, **spec.local.options)

    return _canonical_records(
        spec, raw(), spec.local.columns, spec.local.label_map, f"{root} [{split}]", on_bad_record
    )


HubLoader = Callable[..., Any]


def _default_hub_loader(path: str, name: str | None, split: str) -> Any:
    import datasets

    return datasets.load_dataset(path, name, split=split)


def read_hub_split(
    spec: TaskSpec, split: str, on_bad_record: str = "error", loader: HubLoader | None = None
) -> SplitRecords:
    hub = spec.hub
    if hub is None:
        raise ConfigError(f"task {spec.name!r} has no hub source")
    if split not in hub.splits:
        raise ConfigError(f"task {spec.name!r}: hub source has no {split!r} split")
    where = f"hub:{hub.path}" + (f"/{hub.name}" if hub.name else "") + f"[{hub.splits[split]}]"
    try:
        rows = (loader or _default_hub_loader)(hub.path, hub.name, split=hub.splits[split])
    except (OSError, ValueError, ConnectionError) as exc:
        raise DataError(
            f"task {spec.name!r}: cannot load {where} ({type(exc).__name__}: {str(exc)[:300]}). "
            "Offline? Point data_dir at local files instead."
        ) from None
    adapter = ROW_FORMATS[hub.format] if hub.format else None

    def raw() -> Iterator[tuple[Loc, Mapping[str, Any] | BadRecord]]:
        for i, row in enumerate(rows, start=1):
            if adapter is None:
                yield Loc(where, record=i), dict(row)
                continue
            try:
                yield Loc(where, record=i), adapter(dict(row), **hub.options)
            except RecordError as exc:
                yield Loc(where, record=i), BadRecord(exc.reason, exc.field)

    return _canonical_records(spec, raw(), hub.columns, hub.label_map, where, on_bad_record)


def read_split(
    spec: TaskSpec,
    split: str,
    data_dir: str | os.PathLike[str] | None,
    source: str = "auto",
    on_bad_record: str = "error",
    hub_loader: HubLoader | None = None,
) -> SplitRecords:
    """Read one split from local files (``source=local``), the hub (``hub``), or the first that has it."""
    if source not in ("auto", "local", "hub"):
        raise ConfigError(f"source must be auto, local or hub, not {source!r}")
    use_local = source == "local" or (source == "auto" and "train" in spec.local_splits(data_dir))
    if use_local:
        if not data_dir:
            raise ConfigError("data_dir is not set (config key data_dir or $MUPPET_DATA_DIR)")
        return read_local_split(spec, split, data_dir, on_bad_record)
    if spec.hub is None or split not in spec.hub.splits:
        hint = f"under {Path(data_dir) / spec.directory}" if data_dir else "(data_dir is not set)"
        raise DataError(f"task {spec.name!r}: no local {split!r} split {hint} and no hub source for it")
    return read_hub_split(spec, split, on_bad_record, hub_loader)


def available_splits(spec: TaskSpec, data_dir: str | os.PathLike[str] | None, source: str = "auto") -> list[str]:
    """The splits a run would read. ``auto`` takes the local files when the training split is
    on disk, else the hub: never a mix, since two copies of a dataset need not agree."""
    local = spec.local_splits(data_dir)
    hub = [s for s in SPLITS if spec.hub is not None and s in spec.hub.splits]
    if source == "local" or (source == "auto" and "train" in local):
        return local
    return hub if source in ("auto", "hub") else []


def record_key(record: Record) -> str:
    """A stable key that sends a record and its duplicates/siblings to the same side of a split.

    Records sharing a passage carry a ``group`` (set by readers); otherwise the text decides, so
    identical examples can never straddle train and held-out.
    """
    group = record.get("group")
    if group is not None:
        return f"group:{group}"
    text = {k: v for k, v in record.items() if k not in ("label", "answers", "summary", "group")}
    return json.dumps(text, sort_keys=True, ensure_ascii=False)


def _rank(task: str, key: str) -> str:
    return hashlib.sha1(f"{task}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()


def carve_heldout(
    task: str, records: list[Record], fraction: float, max_examples: int
) -> tuple[list[Record], list[Record]]:
    """Split ``records`` into (train, held-out) by hashed group, the same way on every run.

    The held-out side gets whole groups in hash order until it holds
    ``min(max_examples, round(fraction * n))`` records (at least one).
    """
    if not records:
        return [], []
    target = max(1, min(max_examples, round(fraction * len(records))))
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        groups.setdefault(record_key(rec), []).append(i)
    order = sorted(groups, key=lambda k: _rank(task, k))
    held: set[int] = set()
    for key in order:
        if len(held) >= target:
            break
        held.update(groups[key])
    if len(held) == len(records):  # one huge group: nothing left to train on
        raise DataError(f"task {task!r}: cannot carve a held-out slice; all records share one group")
    train = [r for i, r in enumerate(records) if i not in held]
    heldout = [r for i, r in enumerate(records) if i in held]
    return train, heldout
