"""Tasks from data a Python process holds: a pandas DataFrame or a datasets Dataset per split.

```python
import muppet

muppet.register_task("reviews", {"train": train_df, "dev": dev_df}, family="classification",
                     columns={"text_a": "review", "label": "stars"}, labels=["neg", "pos"],
                     label_map={"1": "neg", "5": "pos"})
muppet.prefinetune(tasks=["reviews", "rte"])
```

The declaration is a :class:`TaskSpec` with a :class:`MemorySource` (the split names, the
column mapping and label map), validated like a task file; the tables stay here, with the
process that registered them. A run reads them through the same record checks as files (a
bad row is named by its index and field), the same held-out carving and leakage checks, and
caches their records under a hash of their content, taken when the run reads them: the same
in every process of a multi-process run that registered the same data (no per-process
fingerprints, no Python ``hash``), and another one when a single value changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from muppet.errors import ConfigError, DataError
from muppet.tasks.formats.base import Loc, Raw
from muppet.tasks.spec import SPLITS, TASKS, HubSource, TaskSpec, register, spec_from_dict

CHUNK = 2000
SPLIT_NAMES = {"validation": "dev"}  # a DatasetDict's names for muppet's splits
_TABLES: dict[str, dict[str, Any]] = {}  # task -> split -> its DataFrame or Dataset


def hasher() -> Any:
    """A fast content hash (xxh3-128 where installed); the same bytes give the same digest anywhere."""
    try:
        import xxhash

        return xxhash.xxh3_128()
    except ImportError:
        return hashlib.blake2b(digest_size=16)


def _kind(table: Any) -> str:
    """``DataFrame`` or ``Dataset`` (what a table is, for messages), else a ConfigError."""
    import datasets
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        return "DataFrame"
    if isinstance(table, datasets.Dataset):
        return "Dataset"
    streamed = isinstance(table, datasets.IterableDataset)
    raise ConfigError(f"expected a pandas DataFrame or a datasets Dataset per split, got {type(table).__name__}"
                      + (" (a streamed dataset has no content to hash; load it without streaming)" if streamed else ""))


def _splits(data: Any) -> dict[str, Any]:
    """``data`` as split -> table: one table is the training split; a DatasetDict's
    ``validation`` is muppet's ``dev``."""
    if not isinstance(data, Mapping):
        _kind(data)
        return {"train": data}
    out: dict[str, Any] = {}
    for name, table in data.items():
        split = SPLIT_NAMES.get(str(name), str(name))
        if split not in SPLITS:
            raise ConfigError(f"split {name!r}: splits are {', '.join(SPLITS)} ('validation' stands for dev)")
        if split in out:
            raise ConfigError(f"split {split!r} is given twice (as {split!r} and {name!r})")
        _kind(table)
        out[split] = table
    if "train" not in out:
        raise ConfigError(f"no train split among {sorted(out)}")
    return out


def register_task(
    name: str,
    data: Any = None,
    *,
    family: str,
    columns: Mapping[str, Any] | None = None,
    label_map: Mapping[Any, str] | None = None,
    labels: Any = None,
    label_range: Any = None,
    metric: str | None = None,
    description: str = "",
    options: Mapping[str, Any] | None = None,
    hub: HubSource | Mapping[str, Any] | None = None,
) -> TaskSpec:
    """Declare a task whose data is ``data`` (a DataFrame or Dataset: the training split; or a
    mapping of split -> table, a DatasetDict too), or a Hub dataset (``hub``: HubSource's keys,
    ``revision`` and ``data_files`` among them). ``columns`` maps the family's fields to
    columns (``muppet tasks show`` shows a task's). Registering a name again replaces the
    earlier Python-registered task; a catalogue or task-file name is refused."""
    where = f"register_task({name!r})"
    if (data is None) == (hub is None):
        raise ConfigError(f"{where}: give the task's data (a DataFrame, a Dataset or a mapping of splits) or a hub "
                          "source, one of the two")
    try:
        tables = _splits(data) if data is not None else {}
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    declared: dict[str, Any] = {"name": name, "family": family, "labels": labels, "label_range": label_range,
                                "metric": metric, "description": description, "options": options}
    if hub is not None:
        declared["hub"] = dataclasses.asdict(hub) if isinstance(hub, HubSource) else hub
    else:
        source = {"splits": [s for s in SPLITS if s in tables], "columns": columns, "label_map": label_map}
        declared["memory"] = {k: v for k, v in source.items() if v is not None}
    if hub is not None and (columns is not None or label_map is not None):
        raise ConfigError(f"{where}: a hub source takes its columns and label_map inside hub=")
    spec = spec_from_dict(declared, where=where)
    if spec.name in TASKS:
        if spec.name not in _TABLES:
            raise ConfigError(f"{where}: task name {spec.name!r} is already taken by a catalogue or task-file task")
        TASKS.unregister(spec.name)
    _TABLES[spec.name] = tables
    return register(spec)


def table(spec: TaskSpec, split: str) -> Any:
    """The table a task's split was registered with, in this process."""
    held = _TABLES.get(spec.name, {})
    if split not in held:
        raise DataError(f"task {spec.name!r}: its {split!r} split is in-memory data that this process does not hold; "
                        "call muppet.register_task for it in this process (every process of a run registers it)")
    return held[split]


def describe(spec: TaskSpec, split: str) -> str:
    return f"{_kind(table(spec, split))} of task {spec.name!r} [{split}]"


def content_hash(data: Any) -> str:
    """A digest of a table's columns, types and values (a DataFrame's index too)."""
    digest = hasher()
    if _kind(data) == "DataFrame":
        import pandas as pd

        digest.update(json.dumps([[str(c), str(t)] for c, t in data.dtypes.items()]).encode())
        try:
            digest.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists of options, dicts): hash their JSON, row by row
            digest.update(json.dumps([str(i) for i in data.index]).encode())
            for _, row in _dataframe_rows(data):
                digest.update(json.dumps(row, sort_keys=True, default=str).encode())
        return str(digest.hexdigest())
    import pyarrow as pa

    for batch in data.with_format("arrow").iter(batch_size=CHUNK):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:  # only the rows in view (a select or a slice)
            writer.write_table(batch)
        digest.update(sink.getvalue())
    digest.update(str(len(data)).encode())
    return str(digest.hexdigest())


def _native(value: Any) -> Any:
    """numpy arrays in cells (lists of options read from Parquet) as lists."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) and not isinstance(value, (str, bytes)) else value


def _dataframe_rows(data: Any) -> Iterator[tuple[Any, Raw]]:
    for start in range(0, len(data), CHUNK):
        part = data.iloc[start:start + CHUNK]
        for index, row in zip(part.index, part.to_dict("records")):
            yield index, {str(k): _native(v) for k, v in row.items()}


def _dataset_rows(data: Any) -> Iterator[tuple[int, Raw]]:
    data = data.with_format(None)
    for start in range(0, len(data), CHUNK):
        columns = data[start:start + CHUNK]
        for offset, values in enumerate(zip(*columns.values())):
            yield start + offset, dict(zip(columns, values))


def rows(spec: TaskSpec, split: str) -> Iterator[tuple[Loc, Raw]]:
    """The split's rows, each with its location: the DataFrame's index label or the Dataset's position."""
    data = table(spec, split)
    where = describe(spec, split)
    read = _dataframe_rows if _kind(data) == "DataFrame" else _dataset_rows
    for index, row in read(data):
        yield Loc(f"{where} row {index}"), row
