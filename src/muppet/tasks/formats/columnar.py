"""Columnar files: Parquet (read in batches, so a large file never sits in memory whole)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from muppet.errors import DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw


@FORMATS.add("parquet")
def read_parquet(path: Path, batch_size: int = 4096) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # ValueError too: a column name that is not UTF-8 fails to decode.
    unreadable = (OSError, ValueError, pa.ArrowException)
    try:
        parquet = pq.ParquetFile(str(path))
    except unreadable as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    number = 0
    batches = parquet.iter_batches(batch_size=batch_size)
    while True:
        try:
            batch = next(batches, None)  # a damaged page shows only when it is read
        except unreadable as exc:
            raise DataError(f"{path}: not a readable Parquet file after record {number} ({exc})") from None
        if batch is None:
            return
        for row in _rows(batch):
            number += 1
            yield Loc(str(path), record=number), row


def _rows(batch: Any) -> list[Raw | BadRecord]:
    try:
        return batch.to_pylist()
    except UnicodeDecodeError:  # Parquet does not check that text cells are UTF-8: find the bad ones
        pass
    rows: list[Raw | BadRecord] = []
    for i in range(batch.num_rows):
        row = batch.slice(i, 1)
        try:
            rows.append(row.to_pylist()[0])
        except UnicodeDecodeError:
            bad = next((name for name, col in zip(row.schema.names, row.columns) if not _decodes(col)), None)
            rows.append(BadRecord("contains bytes that are not UTF-8", bad))
    return rows


def _decodes(column: Any) -> bool:
    try:
        column.to_pylist()
    except UnicodeDecodeError:
        return False
    return True
