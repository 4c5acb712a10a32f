"""Loading: held-out carving, source selection (local vs hub), column mapping, bad bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from muppet.errors import DataError
from muppet.tasks.hub import HubRequest
from muppet.tasks.loading import available_splits, carve_heldout, read_split
from muppet.tasks.spec import HubSource, LocalSource, TaskSpec

SPEC = TaskSpec(
    "load_test", "classification", labels=("neg", "pos"),
    local=LocalSource("jsonl", {"train": ("train.jsonl",)}, columns={"text_a": "s", "label": "y"}, label_map={"0": "neg", "1": "pos"}),
    hub=HubSource("org/data", None, {"train": "train", "dev": "validation"}, columns={"text_a": "sentence", "label": "label"}),
)


T = TaskSpec("t", "classification", labels=("neg", "pos"), local=SPEC.local)
U = TaskSpec("u", "classification", labels=("neg", "pos"), local=SPEC.local)


def recs(n: int, groups: int | None = None) -> list[dict]:
    return [{"text_a": f"text {i}", "text_b": None, "label": i % 2, **({"group": str(i % groups)} if groups else {})} for i in range(n)]


def test_carving_is_deterministic_sized_and_disjoint() -> None:
    records = recs(200)
    train, held = carve_heldout(T, records, 0.1, 1000)
    assert len(held) == 20 and len(train) == 180
    assert carve_heldout(T, records, 0.1, 1000) == (train, held)
    assert {r["text_a"] for r in train}.isdisjoint(r["text_a"] for r in held)
    assert len(carve_heldout(T, records, 0.5, 30)[1]) == 30
    # another task name draws another slice
    assert carve_heldout(U, records, 0.1, 1000)[1] != held


def test_carving_keeps_groups_and_duplicates_together() -> None:
    records = recs(100, groups=10)
    train, held = carve_heldout(T, records, 0.1, 1000)
    assert {r["group"] for r in train}.isdisjoint(r["group"] for r in held)
    dup = recs(50) + [dict(r) for r in recs(50)]
    train, held = carve_heldout(T, dup, 0.2, 1000)
    assert {r["text_a"] for r in train}.isdisjoint(r["text_a"] for r in held)
    with pytest.raises(DataError, match="one group"):
        carve_heldout(T, recs(5, groups=1), 0.2, 10)


def test_local_files_map_columns_and_labels(tmp_path: Path) -> None:
    (tmp_path / "load_test").mkdir()
    (tmp_path / "load_test" / "train.jsonl").write_text('{"s": "good", "y": 1}\n{"s": "bad", "y": "0"}\n')
    out = read_split(SPEC, "train", tmp_path)
    assert [(r["text_a"], r["label"]) for r in out.records] == [("good", 1), ("bad", 0)]
    assert available_splits(SPEC, tmp_path) == ["train"]  # local data wins; no hub dev mixed in


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "load_test").mkdir()
    (tmp_path / "load_test" / "train.jsonl").write_bytes(b'{"s": "ok", "y": 1}\n{"s": "caf\xe9", "y": 1}\n')
    with pytest.raises(DataError, match=r"train.jsonl:2 \(field 'text_a'\): contains bytes that are not UTF-8"):
        read_split(SPEC, "train", tmp_path)
    skipped = read_split(SPEC, "train", tmp_path, on_bad_record="skip")
    assert len(skipped.records) == 1 and len(skipped.skipped) == 1


def test_hub_source_through_datasets(tmp_path: Path) -> None:
    import datasets

    def loader(request: HubRequest, split: str, streaming: bool) -> datasets.Dataset:
        assert (request.path, request.name) == ("org/data", None)
        rows = {"train": [{"sentence": "fine", "label": 1}, {"sentence": "awful", "label": 0}],
                "validation": [{"sentence": "meh", "label": 5}]}[split]
        return datasets.Dataset.from_list(rows)

    assert available_splits(SPEC, tmp_path / "empty") == ["train", "dev"]
    train = read_split(SPEC, "train", tmp_path / "empty", hub_loader=loader)
    assert [(r["text_a"], r["label"]) for r in train.records] == [("fine", 1), ("awful", 0)]
    with pytest.raises(DataError, match=r"hub:org/data\[validation\] record 1 \(field 'label'\): label 5 is outside"):
        read_split(SPEC, "dev", tmp_path / "empty", hub_loader=loader)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no local 'train' split"):
        read_split(TaskSpec("nohub", "classification", labels=("a", "b"), local=SPEC.local), "train", tmp_path)


def test_hub_rows_can_be_filtered_and_left_out_by_the_adapter(tmp_path: Path) -> None:
    import datasets

    from muppet.tasks.formats.base import ROW_FORMATS

    ROW_FORMATS.register("test_keep_even", lambda row: None if row["n"] % 2 else {"text_a": row["t"], "label": "pos"})
    try:
        spec = TaskSpec("filtered", "classification", labels=("neg", "pos"),
                        hub=HubSource("org/multi", None, {"train": "train"}, format="test_keep_even", filter={"subset": "A"}))
        rows = [{"subset": s, "n": n, "t": f"text {s}{n}"} for s in "AB" for n in range(4)]
        out = read_split(spec, "train", None, hub_loader=lambda *a, **k: datasets.Dataset.from_list(rows))
        assert [r["text_a"] for r in out.records] == ["text A0", "text A2"]
        assert out.filtered == 4  # the B rows, filtered in Arrow; A1 and A3 are the adapter's, not counted
    finally:
        ROW_FORMATS.unregister("test_keep_even")


def test_an_edit_that_keeps_size_and_timestamps_is_not_served_from_the_cache(tmp_path: Path) -> None:
    import os

    from muppet.data.store import build_records
    from muppet.tasks.loading import open_split

    path = tmp_path / "load_test" / "train.jsonl"
    path.parent.mkdir()
    path.write_text('{"s": "a fine day", "y": "1"}\n{"s": "a dull day", "y": "0"}\n')
    first = build_records(open_split(SPEC, "train", tmp_path, "local"), cache_dir=tmp_path / "cache")
    stat = path.stat()
    path.write_text(path.read_text().replace("fine", "FINE"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or `rsync -t` leave it
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    again = build_records(open_split(SPEC, "train", tmp_path, "local"), cache_dir=tmp_path / "cache")
    assert first.records()[0]["text_a"] == "a fine day"
    assert not again.cached and again.records()[0]["text_a"] == "a FINE day"
