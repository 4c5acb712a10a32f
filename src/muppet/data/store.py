"""Records and features on disk: Arrow files, memory-mapped, cached by what they depend on.

A split's canonical records are streamed from its reader into an Arrow file, with four
extra columns: ``_loc`` (file and line), ``_text`` (a 64-bit hash of the example's
normalised input text), ``_group`` (the hash of its passage group, or of its text) and
``_passage`` (the hash of the passage text it reads, 0 for none; compared across tasks).
Features (token rows and targets) are written the same way. Neither is ever held as
Python objects in full, so millions of examples cost little memory, and a second run with
the same data, tokenizer and settings reads them back without tokenizing anything.

Cache keys: records depend on the task's declaration, the split and its source files
(path, size, content hash), hub fingerprint or in-memory table (content hash); features on the records, the selected
example indices, the tokenizer (its full serialisation) and the featurizing settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from muppet.errors import DataError
from muppet.families import FeatureSettings, get_family
from muppet.families.base import Feature, Record
from muppet.tasks.loading import Problem, SplitSource, group_hash, passage_hash, raise_problems, text_hash
from muppet.tasks.spec import TaskSpec, spec_to_dict

DATA_VERSION = 2  # bump when the layout of records or features changes
WRITE_BATCH = 2000
HIDDEN = ("_loc", "_text", "_group", "_passage")


def default_cache_dir() -> Path:
    return Path(os.environ.get("MUPPET_CACHE_DIR") or Path.home() / ".cache" / "muppet")


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _write_arrow(path: Path, schema: dict[str, Any], batches: Iterable[list[dict[str, Any]]]) -> int:
    """Stream batches of rows into an Arrow file (written aside, then renamed into place)."""
    import pyarrow as pa
    from datasets import Features

    features = Features(schema)
    arrow_schema = features.arrow_schema
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    count = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, arrow_schema) as writer:
            for rows in batches:
                if rows:
                    writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=arrow_schema))
                    count += len(rows)
        os.replace(tmp, path)
    except OSError as exc:
        # A full disk or an unwritable cache: nothing half-written is left behind, and the
        # cached files already complete stay valid.
        raise DataError(f"cannot write the cache file {path} ({exc.strerror or exc}): free space there, or point "
                        "cache_dir (or $MUPPET_CACHE_DIR) at a disk with room, then rerun") from None
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _open_arrow(path: Path) -> Any:
    from datasets import Dataset

    return Dataset.from_file(str(path))


# --- records ------------------------------------------------------------------------------
@dataclass
class RecordStore:
    spec: TaskSpec
    split: str
    dataset: Any  # datasets.Dataset, memory-mapped
    key: str | None  # cache identity; None when the source cannot be identified
    description: str
    skipped: list[str] = field(default_factory=list)
    cached: bool = False  # read back from the cache
    filtered: int = 0  # source rows a hub filter left out

    def __len__(self) -> int:
        return len(self.dataset)

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array, straight from Arrow (no per-row Python objects)."""
        table = self.dataset.with_format("arrow")[:]
        return table.column(name).to_numpy()

    def hashes(self, column: str) -> np.ndarray:
        return self.column(column).astype(np.uint64, copy=False)

    def locations(self, indices: Sequence[int]) -> list[str]:
        return list(self.dataset.select(indices)["_loc"]) if len(indices) else []

    def records(self, indices: Sequence[int] | np.ndarray | None = None) -> list[Record]:
        ds = self.dataset if indices is None else self.dataset.select(np.asarray(indices, dtype=np.int64))
        ds = ds.remove_columns([c for c in HIDDEN if c in ds.column_names])
        return list(ds)

    def labels(self) -> np.ndarray | None:
        """The values that stratify a subset (the family's ``stratify_column``), or None."""
        column = get_family(self.spec.family).stratify_column(self.spec)
        return None if column is None else self.column(column)


def record_schema(spec: TaskSpec) -> dict[str, Any]:
    from datasets import Value

    schema = dict(get_family(spec.family).record_schema(spec))
    schema.update({"_loc": Value("string"), "_text": Value("uint64"), "_group": Value("uint64"), "_passage": Value("uint64")})
    return schema


def _record_rows(source: SplitSource, problems: list[str]) -> Iterator[list[dict[str, Any]]]:
    spec = source.spec
    names = list(get_family(spec.family).record_schema(spec))
    batch: list[dict[str, Any]] = []
    for loc, item in source.records():
        if isinstance(item, Problem):
            problems.append(str(item))
            continue
        row = {name: item.get(name) for name in names}
        row.update({"_loc": str(loc), "_text": text_hash(spec, item), "_group": group_hash(spec, item),
                    "_passage": passage_hash(spec, item)})
        batch.append(row)
        if len(batch) >= WRITE_BATCH:
            yield batch
            batch = []
    yield batch


def build_records(source: SplitSource, on_bad_record: str = "error", cache_dir: str | os.PathLike[str] | None = None) -> RecordStore:
    """The split's canonical records as an Arrow file (from the cache when it is current)."""
    spec = source.spec
    key = None
    if source.identity is not None:
        key = digest({"v": DATA_VERSION, "spec": spec_to_dict(spec), "split": source.split, "source": source.identity})
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    path = root / "records" / spec.name / f"{source.split}-{key[:20] if key else 'nokey-' + uuid.uuid4().hex}.arrow"
    meta = path.with_suffix(".json")
    if key and path.is_file() and meta.is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        skipped = info["skipped"]
        if skipped and on_bad_record == "error":
            raise_problems(spec, skipped, source.description)
        return RecordStore(spec, source.split, _open_arrow(path), key, source.description, skipped, cached=True,
                           filtered=info.get("filtered", 0))
    problems: list[str] = []
    _write_arrow(path, record_schema(spec), _record_rows(source, problems))
    if key:
        meta.write_text(json.dumps({"task": spec.name, "split": source.split, "skipped": problems,
                                    "filtered": source.filtered}), encoding="utf-8")
    if problems and on_bad_record == "error":
        raise_problems(spec, problems, source.description)
    return RecordStore(spec, source.split, _open_arrow(path), key, source.description, problems, filtered=source.filtered)


# --- features -----------------------------------------------------------------------------
def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Changes whenever tokenization could: the tokenizer's full serialisation and settings."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        body = json.loads(backend.to_str())
        # Each call sets the backend's truncation/padding state; it says nothing about the vocabulary.
        body.pop("truncation", None)
        body.pop("padding", None)
    else:
        body = sorted(tokenizer.get_vocab().items())
    return digest([type(tokenizer).__name__, body, getattr(tokenizer, "model_max_length", None)])


def feature_schema(spec: TaskSpec, train: bool) -> dict[str, Any]:
    from datasets import List, Value

    schema = {"rows": List(List(Value("int32"))), "types": List(List(Value("int8"))), "example": Value("int64")}
    schema.update(get_family(spec.family).feature_schema(spec, train))
    return schema


def _plain(value: Any) -> Any:
    """Arrow-ready values: numpy arrays and tuples become lists; rows of token ids stay as they are."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple, np.ndarray)):
            return [_plain(v) for v in value]
        return list(value) if isinstance(value, tuple) else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _featurize_chunk(
    spec: TaskSpec, records: list[Record], offset: int, tokenizer: Any, settings: FeatureSettings, train: bool, names: list[str]
) -> list[dict[str, Any]]:
    features = get_family(spec.family).featurize(records, spec, tokenizer, settings, train)
    rows = []
    for f in features:
        row = {name: _plain(f.get(name)) for name in names}
        row["types"] = row["types"] or []
        row["example"] = f["example"] + offset
        rows.append(row)
    return rows


_POOL_STATE: dict[str, Any] = {}


def _pool_init(tokenizer: Any) -> None:
    _POOL_STATE["tokenizer"] = tokenizer


def _pool_featurize(args: tuple[Any, ...]) -> list[dict[str, Any]]:
    spec, records, offset, settings, train, names = args
    return _featurize_chunk(spec, records, offset, _POOL_STATE["tokenizer"], settings, train, names)


@dataclass
class FeatureStore:
    """Featurized examples on disk; ``get`` returns the features of given positions."""

    dataset: Any
    cached: bool = False

    def __len__(self) -> int:
        return len(self.dataset)

    def get(self, indices: Sequence[int]) -> list[Feature]:
        columns = self.dataset[list(indices)]
        return [_feature(dict(zip(columns, values))) for values in zip(*columns.values())]

    def all(self) -> list[Feature]:
        return [_feature(row) for row in self.dataset]

    def lengths(self) -> np.ndarray:
        """Each feature's longest row, in tokens, straight from the Arrow offsets."""
        return self.row_stats()[0]

    def row_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per feature: longest row, number of rows, real tokens (from the Arrow offsets)."""
        import pyarrow.compute as pc

        rows = self.dataset.with_format("arrow")[:].column("rows").combine_chunks()
        if len(rows) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        row_lengths = pc.list_value_length(rows.flatten()).to_numpy(zero_copy_only=False).astype(np.int64)
        offsets = rows.offsets.to_numpy() - rows.offsets[0].as_py()
        starts = offsets[:-1]
        return np.maximum.reduceat(row_lengths, starts), np.diff(offsets), np.add.reduceat(row_lengths, starts)



def _feature(row: dict[str, Any]) -> Feature:
    row["types"] = row["types"] or None
    return row


def build_features(
    store: RecordStore,
    indices: np.ndarray | None,
    tokenizer: Any,
    settings: FeatureSettings,
    train: bool,
    cache_dir: str | os.PathLike[str] | None = None,
    num_proc: int = 1,
    tokenizer_key: str | None = None,
) -> FeatureStore:
    """Features of ``store``'s records at ``indices`` (all when None), in that order.

    ``example`` in each feature is the position of its record in ``indices``.
    """
    spec = store.spec
    names = list(feature_schema(spec, train))
    key = None
    if store.key is not None:
        selection = None if indices is None else hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()
        key = digest({
            "v": DATA_VERSION, "records": store.key, "selection": selection, "train": train,
            "tokenizer": tokenizer_key or tokenizer_fingerprint(tokenizer), "settings": dataclasses.asdict(settings),
        })
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    tag = "train" if train else "eval"
    path = root / "features" / spec.name / f"{store.split}-{tag}-{key[:20] if key else 'nokey-' + uuid.uuid4().hex}.arrow"
    if key and path.is_file():
        return FeatureStore(_open_arrow(path), cached=True)
    source = store.dataset if indices is None else store.dataset.select(np.asarray(indices, dtype=np.int64))
    source = source.remove_columns([c for c in HIDDEN if c in source.column_names])

    def chunks() -> Iterator[tuple[list[Record], int]]:
        for start in range(0, len(source), WRITE_BATCH):
            columns = source[start : start + WRITE_BATCH]  # columnar: no per-row decoding
            yield [dict(zip(columns, values)) for values in zip(*columns.values())], start

    if num_proc > 1 and len(source) > WRITE_BATCH:
        import multiprocessing

        pool = ProcessPoolExecutor(num_proc, mp_context=multiprocessing.get_context("spawn"), initializer=_pool_init, initargs=(tokenizer,))
        with pool:
            jobs = ((spec, recs, offset, settings, train, names) for recs, offset in chunks())
            _write_arrow(path, feature_schema(spec, train), pool.map(_pool_featurize, jobs))
    else:
        batches = (_featurize_chunk(spec, recs, offset, tokenizer, settings, train, names) for recs, offset in chunks())
        _write_arrow(path, feature_schema(spec, train), batches)
    return FeatureStore(_open_arrow(path))
