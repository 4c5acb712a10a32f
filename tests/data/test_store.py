"""Arrow records and features: cached by content, memory-mapped, rebuilt when inputs change."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tiny

from muppet.data import store as store_mod
from muppet.data.pipeline import check_leakage, plan_task, prepare_tasks
from muppet.data.store import build_features, build_records
from muppet.errors import ConfigError, DataError, UnknownNameError
from muppet.families import FeatureSettings, get_family
from muppet.tasks.loading import open_split, read_split
from muppet.tasks.spec import LocalSource, TaskSpec, get_task

SETTINGS = FeatureSettings(max_length=48, doc_stride=16)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return tiny.write_tiny_data(tmp_path / "data")


def count_calls(monkeypatch: pytest.MonkeyPatch, obj: object, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(obj, name)

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, spy)
    return calls


def test_records_round_trip_and_cache(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = get_task("tiny_qa")
    cache = tmp_path / "cache"
    first = build_records(open_split(spec, "train", data), cache_dir=cache)
    assert not first.cached and len(first) == 40
    assert first.records() == read_split(spec, "train", data).records[:0] + [
        {**r, "group": r.get("group")} for r in read_split(spec, "train", data).records
    ]
    assert first.dataset["_loc"][0].endswith("train.jsonl:1")
    made = count_calls(monkeypatch, get_family("extractive_qa"), "make_record")
    again = build_records(open_split(spec, "train", data), cache_dir=cache)
    assert again.cached and not made and again.records() == first.records()
    # new content: the cache is not reused
    path = data / "tiny_qa" / "train.jsonl"
    path.write_text(path.read_text().replace("the red car", "the blue car"))
    os.utime(path, ns=(1, 1))
    changed = build_records(open_split(spec, "train", data), cache_dir=cache)
    assert not changed.cached and "the blue car" in changed.records()[0]["context"]


def test_identical_texts_share_a_hash_and_groups_stay_whole(data: Path, tmp_path: Path) -> None:
    spec = get_task("tiny_sum")
    records = build_records(open_split(spec, "train", data), cache_dir=tmp_path)
    texts = records.hashes("_text")
    docs = [r["document"] for r in records.records()]
    for i in range(len(docs)):
        for j in range(len(docs)):
            assert (texts[i] == texts[j]) == (docs[i] == docs[j])
    # grouped records (questions on one passage): one group hash per group, whatever the text
    folder = tmp_path / "grouped"
    tiny.write_jsonl(folder / "train.jsonl", [{"t": f"question {i}", "l": "a", "g": f"passage {i % 3}"} for i in range(9)])
    grouped = TaskSpec("t_grouped", "classification", labels=("a", "b"), local=LocalSource(
        "jsonl", {"train": ("train.jsonl",)}, columns={"text_a": "t", "label": "l", "group": "g"}, directory=str(folder)))
    stored = build_records(open_split(grouped, "train", None), cache_dir=tmp_path)
    groups, by_text = stored.hashes("_group"), stored.hashes("_text")
    for i in range(9):
        for j in range(9):
            assert (groups[i] == groups[j]) == (i % 3 == j % 3)
    assert len(set(by_text.tolist())) == 9 and len(set(groups.tolist())) == 3


def test_a_cache_hit_does_no_tokenization(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, tok = get_task("tiny_mc"), tiny.tokenizer()
    recs = build_records(open_split(spec, "train", data), cache_dir=tmp_path)
    idx = np.arange(0, 40, 2)
    first = build_features(recs, idx, tok, SETTINGS, True, tmp_path)
    assert not first.cached and len(first) == 20
    calls = count_calls(monkeypatch, type(tok), "__call__")
    featurize = count_calls(monkeypatch, get_family("multiple_choice"), "featurize")
    second = build_features(recs, idx, tok, SETTINGS, True, tmp_path)
    assert second.cached and not calls and not featurize
    assert second.get([3, 0, 3]) == [first.get([3])[0], first.get([0])[0], first.get([3])[0]]
    # another selection, max_length or tokenizer is another cache entry
    assert not build_features(recs, idx[:5], tok, SETTINGS, True, tmp_path).cached
    assert not build_features(recs, idx, tok, FeatureSettings(max_length=32), True, tmp_path).cached
    other = tiny.tokenizer()
    other.add_tokens(["zebra"])
    assert not build_features(recs, idx, other, SETTINGS, True, tmp_path).cached


def test_features_match_in_memory_featurization(data: Path, tmp_path: Path) -> None:
    for name in ("tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"):
        spec, tok = get_task(name), tiny.tokenizer()
        fam = get_family(spec.family)
        recs = build_records(open_split(spec, "train", data), cache_dir=tmp_path)
        for train in (True, False):
            stored = build_features(recs, None, tok, SETTINGS, train, tmp_path).all()
            direct = fam.featurize(recs.records(), spec, tok, SETTINGS, train)
            assert len(stored) == len(direct)
            for a, b in zip(stored, direct):
                assert [list(r) for r in a["rows"]] == [list(r) for r in b["rows"]]
                assert a["example"] == b["example"]
                for key in set(b) - {"rows", "types", "example"}:
                    assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), (name, key)


def test_several_processes_give_the_same_features(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "WRITE_BATCH", 7)
    spec, tok = get_task("tiny_qa"), tiny.tokenizer()
    recs = build_records(open_split(spec, "train", data), cache_dir=tmp_path / "a")
    one = build_features(recs, None, tok, SETTINGS, False, tmp_path / "a", num_proc=1).all()
    two = build_features(recs, None, tok, SETTINGS, False, tmp_path / "b", num_proc=2).all()
    assert one == two and len({f["example"] for f in one}) == 40


def test_leakage_is_refused_dropped_or_allowed(data: Path, tmp_path: Path) -> None:
    # tiny_cls's dev examples also appear in another task's training data
    dev = (data / "tiny_cls" / "dev.jsonl").read_text().splitlines()
    train = (data / "tiny_cls" / "train.jsonl").read_text().splitlines()
    (data / "tiny_cls" / "train.jsonl").write_text("\n".join(train + dev[:3]) + "\n")
    spec = get_task("tiny_cls")

    def plans() -> list:
        return [plan_task(spec, "cls/tiny_cls", data_dir=str(data), cache_dir=str(tmp_path))]

    with pytest.raises(DataError, match=r"3 training example\(s\) of 'tiny_cls' are evaluation examples of 'tiny_cls'"):
        check_leakage(plans(), "error")
    dropped = plans()
    assert check_leakage(dropped, "drop") == {("tiny_cls", "tiny_cls"): 3}
    assert dropped[0].dropped_leaks == 3 and len(dropped[0].train_idx) == 40
    kept = plans()
    check_leakage(kept, "allow")
    assert len(kept[0].train_idx) == 43


def _task(folder: Path, name: str, family: str, rows: dict[str, list[dict]]) -> TaskSpec:
    for split, records in rows.items():
        tiny.write_jsonl(folder / name / f"{split}.jsonl", records)
    files = {split: (f"{split}.jsonl",) for split in rows}
    return TaskSpec(name, family, local=LocalSource("jsonl", files, directory=str(folder / name)))


def _qa(context: str, question: str) -> dict:
    return {"context": context, "question": question, "answers": {"text": [context.split()[0]], "answer_start": [0]}}


def test_passage_leakage_finds_other_questions_on_an_evaluated_paragraph(tmp_path: Path) -> None:
    from muppet.data.pipeline import downstream_texts

    p = [f"Paris{i} is a city with {i} bridges and many old streets." for i in range(6)]
    # the target evaluates questions on paragraphs 0 and 1; the other task trains on three other
    # questions on paragraph 0 (in other case and spacing), one verbatim target question, and
    # paragraphs 2-5, of which 5 is read by its own dev question
    target = _task(tmp_path, "t_target", "extractive_qa", {
        "train": [_qa(p[4], "How many bridges?")], "dev": [_qa(p[0], "What is it?"), _qa(p[1], "What is it?")]})
    other = _task(tmp_path, "t_other", "extractive_qa", {
        "train": [_qa(p[0].upper().replace(" ", "  "), f"Question {i}?") for i in range(3)]
        + [_qa(p[1], "What is it?")] + [_qa(c, "Where?") for c in p[2:]],
        "dev": [_qa(p[5], "Who?")]})
    kw = dict(data_dir=None, cache_dir=str(tmp_path / "cache"))
    protected = downstream_texts([target], **kw)

    def plans() -> list:
        return [plan_task(other, "span", **kw)]

    assert check_leakage(plans(), "allow", protected) == {("t_other", "t_target"): 1}  # the verbatim question only
    with pytest.raises(DataError) as refused:
        check_leakage(plans(), "error", protected, unit="passage")
    message = str(refused.value)
    assert "1 training example(s) of 't_other' are evaluation examples of 't_target'" in message
    assert ("3 training example(s) of 't_other' read a passage that evaluation examples of 't_target' read "
            "(e.g. ") in message and "train.jsonl:1" in message
    assert "1 training example(s) of 't_other' read a passage that evaluation examples of 't_other' read" in message
    kept = plans()
    assert check_leakage(kept, "drop", protected, unit="passage") == {("t_other", "t_other"): 1,
                                                                       ("t_other", "t_target"): 4}
    left = [(r["context"], r["question"]) for r in kept[0].train_store.records(kept[0].train_idx)]
    assert left == [(c, "Where?") for c in p[2:5]] and kept[0].dropped_leaks == 5
    with pytest.raises(ConfigError, match="leakage_unit must be one of"):
        check_leakage(plans(), "error", unit="paragraph")


def test_examples_without_a_passage_never_share_one(data: Path, tmp_path: Path) -> None:
    # ARC-like multiple choice (no context) and classification read no passage: the passage
    # unit must not make every such example a leak of every other
    mc = _task(tmp_path, "t_mc", "multiple_choice", {
        "train": [{"question": f"Which one {i}?", "choices": ["a", "b"], "label": i % 2} for i in range(30)]})
    for spec in (mc, get_task("tiny_cls")):
        plan = plan_task(spec, "h", data_dir=str(data), cache_dir=str(tmp_path))
        assert not plan.train_store.hashes("_passage").any()
        assert check_leakage([plan], "error", unit="passage") == {}
    qa = plan_task(get_task("tiny_qa"), "span", data_dir=str(data), cache_dir=str(tmp_path))
    assert qa.train_store.hashes("_passage").all()  # while every QA example reads one


def test_carved_slices_never_leak_within_a_task(data: Path, tmp_path: Path) -> None:
    tasks = prepare_tasks([get_task("tiny_sum"), get_task("tiny_qa"), get_task("tiny_reg")],
                          {"tiny_sum": "lm", "tiny_qa": "span", "tiny_reg": "cls/tiny_reg"}, tiny.tokenizer(), SETTINGS,
                          progress=False, data_dir=str(data), cache_dir=str(tmp_path))
    assert [t.eval_split.startswith("held-out") for t in tasks] == [True, True, True]


def test_downstream_evaluation_texts_are_kept_out_of_training(data: Path, tmp_path: Path) -> None:
    from muppet.data.pipeline import downstream_texts
    from muppet.tasks.mixtures import select

    # tiny_reg's training data repeats eight of tiny_cls's dev pairs (as regression examples)
    dev = [json.loads(line) for line in (data / "tiny_cls" / "dev.jsonl").read_text().splitlines()]
    extra = [{"a": r["premise"], "b": r["hypothesis"], "score": 1.0} for r in dev[:8]]
    path = data / "tiny_reg" / "train.jsonl"
    path.write_text(path.read_text() + "".join(json.dumps(r) + "\n" for r in extra))
    specs, _, _, held = select(["tiny_reg", "tiny_cls", "tiny_mc"], ["tiny_mc"], ["tiny_cls"], str(data))
    assert [s.name for s in specs] == ["tiny_reg"] and [s.name for s in held] == ["tiny_cls"]
    kw = dict(data_dir=str(data), cache_dir=str(tmp_path))
    protected = downstream_texts(held, **kw)
    assert len(protected["tiny_cls"].texts) == 12  # the whole dev split, not a subsample

    def plans() -> list:
        return [plan_task(specs[0], "cls/tiny_reg", **kw)]

    first = plans()[0]
    # tiny_reg has no dev split: some copies are carved into its own held-out slice, the rest train
    in_train = int(np.isin(first.train_store.hashes("_text")[first.train_idx], protected["tiny_cls"].texts).sum())
    assert 0 < in_train <= 8
    with pytest.raises(DataError, match=rf"{in_train} training example\(s\) of 'tiny_reg' are evaluation examples of 'tiny_cls'"):
        check_leakage(plans(), "error", protected)
    kept = plans()
    before = len(kept[0].train_idx)
    assert check_leakage(kept, "drop", protected) == {("tiny_reg", "tiny_cls"): in_train}
    assert len(kept[0].train_idx) == before - in_train
    assert check_leakage(plans(), "error") == {}  # without the downstream task nothing is flagged
    with pytest.raises(ConfigError, match="nothing is left"):
        select(["tiny_cls"], [], ["tiny_cls"], str(data))
    with pytest.raises(UnknownNameError, match="unknown task or mixture .tiny_clz."):
        select(["tiny_cls"], ["tiny_clz"], [], str(data))


def test_a_full_cache_disk_is_one_message_and_leaves_the_cache_usable(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import pyarrow as pa

    spec = get_task("tiny_cls")
    cache = tmp_path / "cache"
    good = build_records(open_split(spec, "train", data), cache_dir=cache)  # one complete cache file

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pa.ipc, "new_stream", full)
    with pytest.raises(DataError, match=r"cannot write the cache file .* \(No space left on device\): free space"):
        build_records(open_split(spec, "dev", data), cache_dir=cache)
    assert not [p for p in cache.rglob("*.tmp")]  # nothing half-written left behind
    monkeypatch.undo()
    again = build_records(open_split(spec, "train", data), cache_dir=cache)
    assert again.cached and again.records() == good.records()
