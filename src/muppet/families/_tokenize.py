"""Batched tokenization helpers shared by the families (fast tokenizers, no padding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def encode(
    tokenizer: Any, first: Sequence[str], second: Sequence[str | None] | None, max_length: int, truncation: str = "longest_first"
) -> tuple[list[list[int]], list[list[int]] | None]:
    """Token ids (and token type ids, where the tokenizer has them) of each text or text pair.

    Items whose second text is empty are encoded alone; the rest as pairs. Returns rows in
    input order.
    """
    n = len(first)
    ids: list[list[int] | None] = [None] * n
    types: list[list[int] | None] = [None] * n
    has_types = False
    pairs = [i for i in range(n) if second is not None and second[i]]
    singles = [i for i in range(n) if not (second is not None and second[i])]
    for index, pair in ((pairs, True), (singles, False)):
        if not index:
            continue
        a = [first[i] for i in index]
        if pair:
            assert second is not None
            b = [second[i] for i in index]
            enc = tokenizer(a, b, truncation=truncation, max_length=max_length)
        else:
            enc = tokenizer(a, truncation=True, max_length=max_length)
        tt = enc.get("token_type_ids")
        has_types = has_types or tt is not None
        # Plain lists: they go to Arrow (features) or torch (batches) without conversions.
        for j, i in enumerate(index):
            ids[i] = enc["input_ids"][j]
            if tt is not None:
                types[i] = tt[j]
    if not has_types:
        return ids, None  # type: ignore[return-value]
    return ids, types  # type: ignore[return-value]
