"""Tasks from Python data: DataFrames and Datasets go through the same record checks, caches
and leakage rules as files, train and evaluate, and key their caches alike in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import datasets
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tiny

import muppet
from muppet.data.pipeline import check_leakage, plan_tasks
from muppet.data.store import build_records
from muppet.errors import ConfigError, DataError
from muppet.tasks import hub as hub_module
from muppet.tasks import memory
from muppet.tasks.loading import open_split, read_split
from muppet.tasks.spec import TASKS, all_tasks, get_task

LABELS = ["entailment", "not_entailment"]
CLS = dict(family="classification", labels=LABELS, columns={"text_a": "p", "text_b": "h", "label": "y"})


def frame(n: int, seed: int, index_from: int = 0) -> pd.DataFrame:
    rows = [{"p": r["premise"], "h": r["hypothesis"], "y": r["label"]} for r in tiny.cls_rows(n, seed)]
    return pd.DataFrame(rows, index=range(index_from, index_from + n))


def mc_dataset() -> datasets.DatasetDict:
    rows = tiny.mc_rows(30)
    return datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[8:]),
                                 "validation": datasets.Dataset.from_list(rows[:8])})


@pytest.fixture(autouse=True)
def _forget_registrations() -> Iterator[None]:
    all_tasks()
    before = set(TASKS.names())
    yield
    for name in set(TASKS.names()) - before:
        TASKS.unregister(name)
        memory._TABLES.pop(name, None)


def test_dataframe_and_dataset_tasks_train_evaluate_and_finetune(tiny_root: Path, tmp_path: Path) -> None:
    muppet.register_task("mem_cls", {"train": frame(40, seed=5), "dev": frame(12, seed=6)}, **CLS)
    muppet.register_task("mem_mc", mc_dataset(), family="multiple_choice")
    common = dict(max_length=48, batch_size=4, lr=1e-3, progress=False, cache_dir=str(tmp_path / "cache"))
    summary = muppet.prefinetune(model=str(tiny_root / "tiny-bert"), tasks=["mem_cls", "mem_mc", "tiny_cls"],
                                 data_dir=str(tiny_root / "data"), output_dir=str(tmp_path / "pre"), max_steps=3,
                                 **common)
    results = json.loads((tmp_path / "pre" / "results.json").read_text())
    table = {row["task"]: row for row in results["table"]}
    assert table["mem_cls"]["eval_split"] == "dev" and table["mem_cls"]["n"] == 12
    assert table["mem_mc"]["eval_split"] == "dev" and table["mem_mc"]["n"] == 8  # a DatasetDict's validation
    assert set(results["dev"]["mem_mc"]) >= {"accuracy"}
    manifest = json.loads((Path(summary["export"]) / "muppet.json").read_text())
    mem = next(t for t in manifest["tasks"] if t["name"] == "mem_cls")
    assert mem["spec"]["memory"]["splits"] == ["train", "dev"] and mem["train_examples"] == 40
    assert "memory" not in next(t for t in manifest["tasks"] if t["name"] == "tiny_cls")["spec"]
    result = muppet.finetune(model=summary["export"], task="mem_cls", output_dir=str(tmp_path / "ft"), max_steps=2,
                             **common)
    assert result["task"] == "mem_cls" and "accuracy" in result["dev"]


def test_a_bad_row_is_named_by_its_index_and_field(tmp_path: Path) -> None:
    bad = frame(20, seed=5, index_from=100)
    bad.loc[113, "y"] = "maybe"
    bad.loc[117, "p"] = None
    muppet.register_task("mem_bad", bad, **CLS)
    with pytest.raises(DataError) as info:
        read_split(get_task("mem_bad"), "train", None)
    message = str(info.value)
    assert "2 malformed record(s) in DataFrame of task 'mem_bad' [train]" in message
    assert "row 113 (field 'label')" in message and "'maybe'" in message
    assert "row 117 (field 'text_a')" in message
    rows = tiny.mc_rows(6)
    rows[4]["label"] = 9
    muppet.register_task("mem_bad_mc", datasets.Dataset.from_list(rows), family="multiple_choice")
    with pytest.raises(DataError, match=r"Dataset of task 'mem_bad_mc' \[train\] row 4 \(field 'label'\): index 9"):
        read_split(get_task("mem_bad_mc"), "train", None)
    skipped = read_split(get_task("mem_bad"), "train", None, on_bad_record="skip")
    assert len(skipped.records) == 18 and len(skipped.skipped) == 2


def records(name: str, cache: Path) -> tuple[str, bool]:
    store = build_records(open_split(get_task(name), "train", None), cache_dir=cache)
    assert store.key is not None
    return store.key, store.cached


def test_the_record_cache_hits_on_equal_data_and_misses_when_one_value_changes(tmp_path: Path) -> None:
    df = frame(30, seed=5)
    muppet.register_task("mem_df", df.copy(), **CLS)
    key, cached = records("mem_df", tmp_path)
    assert not cached
    muppet.register_task("mem_df", df.copy(), **CLS)  # another object, the same content
    assert records("mem_df", tmp_path) == (key, True)
    changed = df.copy()
    changed.loc[7, "h"] = changed.loc[7, "h"] + " too"
    muppet.register_task("mem_df", changed, **CLS)
    other, cached = records("mem_df", tmp_path)
    assert other != key and not cached
    # a value changed in place after registration is read as it is when the run reads it
    changed.loc[8, "p"] = "edited"
    third, cached = records("mem_df", tmp_path)
    assert third not in (key, other) and not cached

    ds = datasets.Dataset.from_list(tiny.mc_rows(12))
    muppet.register_task("mem_ds", ds, family="multiple_choice")
    key, cached = records("mem_ds", tmp_path)
    assert not cached and records("mem_ds", tmp_path) == (key, True)
    edited = ds.map(lambda row, i: {"question": row["question"] + ("?" if i == 3 else "")}, with_indices=True)
    muppet.register_task("mem_ds", edited, family="multiple_choice")
    assert records("mem_ds", tmp_path)[0] != key
    muppet.register_task("mem_ds", ds.select(range(6)), family="multiple_choice")  # a view of the same table
    assert records("mem_ds", tmp_path)[0] != key


KEY_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import datasets, pandas as pd, tiny, muppet
from muppet.data.store import build_records
from muppet.tasks.loading import open_split
frame = pd.DataFrame(tiny.cls_rows(20, 5)).rename(columns={{"premise": "p", "hypothesis": "h", "label": "y"}})
frame["tags"] = [[i, "t"] for i in range(20)]  # cells pandas cannot hash: the JSON fallback
muppet.register_task("k_df", frame, family="classification", labels={labels!r},
                     columns={{"text_a": "p", "text_b": "h", "label": "y"}})
muppet.register_task("k_ds", datasets.Dataset.from_list(tiny.mc_rows(9)), family="multiple_choice")
for name in ("k_df", "k_ds"):
    print(build_records(open_split(muppet.tasks.spec.get_task(name), "train", None), cache_dir=sys.argv[1]).key)
"""


def test_the_cache_key_is_the_same_in_every_process(tmp_path: Path) -> None:
    script = tmp_path / "keys.py"
    script.write_text(KEY_SCRIPT.format(tests=str(Path(__file__).resolve().parents[1]), labels=LABELS))
    keys = []
    for seed in ("1", "2"):  # Python's str hashes differ between these processes
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, str(script), str(tmp_path / f"cache{seed}")], capture_output=True,
                              text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        keys.append(done.stdout.split())
    assert len(keys[0]) == 2 and keys[0] == keys[1]


TRAIN_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import pandas as pd, tiny, muppet
frame = pd.DataFrame(tiny.cls_rows(24, 5)).rename(columns={{"premise": "p", "hypothesis": "h", "label": "y"}})
muppet.register_task("two_df", frame, family="classification", labels={labels!r},
                     columns={{"text_a": "p", "text_b": "h", "label": "y"}})
muppet.prefinetune(model={model!r}, tasks=["two_df"], max_steps=2, batch_size=4, max_length=48, progress=False,
                   output_dir={out!r}, cache_dir={cache!r})
"""


def test_two_processes_share_one_record_cache(tiny_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT.format(tests=str(Path(__file__).resolve().parents[1]), labels=LABELS,
                                          model=str(tiny_root / "tiny-bert"), out=str(tmp_path / "out"),
                                          cache=str(tmp_path / "cache")))
    accelerate = Path(sys.executable).parent / "accelerate"
    done = subprocess.run([str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no", str(script)],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    final = sorted((tmp_path / "out" / "checkpoints").glob("step_*"))[-1]
    assert (final / "random_states_1.pkl").is_file()  # two processes really ran
    assert (tmp_path / "out" / "export" / "muppet.json").is_file()
    # the second process read what the first built: a key that differed would have built a second file
    assert len(list((tmp_path / "cache" / "records" / "two_df").glob("train-*.arrow"))) == 1


def test_leakage_rules_apply_to_python_data(tiny_root: Path, tmp_path: Path) -> None:
    dev = [json.loads(line) for line in (tiny_root / "data" / "tiny_cls" / "dev.jsonl").read_text().splitlines()]
    leaky = pd.concat([frame(20, seed=5), pd.DataFrame([{"p": r["premise"], "h": r["hypothesis"], "y": r["label"]}
                                                         for r in dev[:3]], index=[900, 901, 902])])
    muppet.register_task("mem_leak", leaky, **CLS)
    plans = plan_tasks([get_task("tiny_cls"), get_task("mem_leak")], {"tiny_cls": "a", "mem_leak": "b"}, progress=False,
                       data_dir=str(tiny_root / "data"), cache_dir=str(tmp_path))
    with pytest.raises(DataError, match=r"3 training example\(s\) of 'mem_leak' are evaluation examples of 'tiny_cls' "
                                        r"\(e\.g\. DataFrame of task 'mem_leak' \[train\] row 900"):
        check_leakage(plans, "error")


def test_registration_errors_are_config_errors_naming_the_problem() -> None:
    df = frame(4, seed=5)
    cases = [
        (lambda: muppet.register_task("rte", df, **CLS), "task name 'rte' is already taken"),
        (lambda: muppet.register_task("m", {"train": df, "valid": df}, **CLS), "split 'valid': splits are train, dev"),
        (lambda: muppet.register_task("m", {"dev": df}, **CLS), "no train split"),
        (lambda: muppet.register_task("m", {"train": df, "dev": df, "validation": df}, **CLS), "given twice"),
        (lambda: muppet.register_task("m", df.to_dict("records"), **CLS), "expected a pandas DataFrame or a datasets"),
        (lambda: muppet.register_task("m", datasets.Dataset.from_pandas(df).to_iterable_dataset(), **CLS),
         "a streamed dataset has no content to hash"),
        (lambda: muppet.register_task("m", df, family="clasification", labels=LABELS), "did you mean 'classification'"),
        (lambda: muppet.register_task("m", df, family="classification"), "labels"),
        (lambda: muppet.register_task("m", family="classification", labels=LABELS), "give the task's data"),
        (lambda: muppet.register_task("m", family="classification", labels=LABELS, hub={"path": "o/d", "splts": {}}),
         "hub: unknown key 'splts'; did you mean 'splits'"),
    ]
    for call, message in cases:
        with pytest.raises(ConfigError) as info:
            call()
        assert message in str(info.value), str(info.value)
        assert "register_task" in str(info.value)


def test_a_task_whose_data_this_process_lacks_says_so(tiny_root: Path) -> None:
    spec = muppet.register_task("mem_gone", frame(8, seed=5), **CLS)
    memory._TABLES.pop("mem_gone")  # as in a process that did not register it (e.g. from an export's muppet.json)
    with pytest.raises(DataError, match="in-memory data that this process does not hold; call muppet.register_task"):
        read_split(spec, "train", None)


def test_a_hub_source_from_python_takes_revision_and_data_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "hub"
    monkeypatch.setattr(hub_module, "repo_location", lambda path, revision: str(root / f"{path}@{revision or 'main'}"))
    rows = [{"premise": f"p {i}", "hypothesis": f"h {i}", "label": i % 2} for i in range(9)]
    (root / "org/pairs@v2" / "odd").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows[:7]), root / "org/pairs@v2" / "odd" / "tr.parquet")
    pq.write_table(pa.Table.from_pylist(rows[7:]), root / "org/pairs@v2" / "odd" / "dv.parquet")
    spec = muppet.register_task("hub_py", family="classification", labels=LABELS, hub={
        "path": "org/pairs", "revision": "v2", "data_files": {"train": "odd/tr.parquet", "validation": "odd/dv.parquet"},
        "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}})
    assert spec.hub is not None and spec.hub.revision == "v2"
    assert len(read_split(spec, "train", None, source="hub").records) == 7
    assert [r["label"] for r in read_split(spec, "dev", None, source="hub").records] == [1, 0]
