"""Columnar files: Parquet (read in batches, so a large file never sits in memory whole)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from muppet.errors import DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw


@FORMATS.add("parquet")
def read_parquet(path: Path, batch_size: int = 4096) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(str(path))
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            number += 1
            yield Loc(str(path), record=number), row
