"""User-defined tasks in YAML: one per family, end to end, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny
import yaml

from muppet.config import PrefinetuneConfig
from muppet.errors import ConfigError
from muppet.tasks.loading import read_split
from muppet.tasks.mixtures import expand
from muppet.tasks.user import load_task_file
from muppet.train.loop import prefinetune


def write_user_tasks(root: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    # classification from CSV with coded labels
    rows = ["review,stars"] + [f"{'good' if i % 2 else 'bad'} food {i},{5 if i % 2 else 1}" for i in range(30)]
    (root / "reviews.csv").write_text("\n".join(rows) + "\n")
    (root / "u_reviews.yaml").write_text(yaml.safe_dump({
        "name": "u_reviews", "family": "classification", "labels": ["negative", "positive"],
        "local": {"format": "csv", "splits": {"train": "reviews.csv"}, "columns": {"text_a": "review", "label": "stars"},
                  "label_map": {"1": "negative", "5": "positive"}},
    }))
    # multiple choice from JSON lines with options in separate fields
    mc = [{"q": f"which was red {i} ?", "a": "the cat was red", "b": "the dog was blue", "c": "the car was blue", "ans": "A"} for i in range(30)]
    tiny.write_jsonl(root / "mc" / "data.jsonl", mc)
    (root / "u_mc.yaml").write_text(yaml.safe_dump({
        "name": "u_mc", "family": "multiple_choice",
        "local": {"format": "jsonl", "splits": {"train": "mc/data.jsonl"},
                  "columns": {"question": "q", "choices": ["a", "b", "c"], "label": "ans"}},
    }))
    # extractive QA from a JSON list
    qa = [{"ctx": r["context"], "q": r["question"], "answers": r["answers"]} for r in tiny.qa_rows(30)]
    (root / "qa.json").write_text(json.dumps(qa))
    (root / "u_qa.yaml").write_text(yaml.safe_dump({
        "name": "u_qa", "family": "extractive_qa",
        "local": {"format": "json", "splits": {"train": "qa.json"}, "columns": {"context": "ctx", "question": "q", "answers": "answers"}},
    }))
    # summarization from Parquet
    table = pa.Table.from_pylist([{"body": r["document"], "title": r["summary"]} for r in tiny.sum_rows(30)])
    pq.write_table(table, root / "sum.parquet")
    (root / "u_sum.yaml").write_text(yaml.safe_dump({
        "name": "u_sum", "family": "summarization", "metric": "rouge1",
        "local": {"format": "parquet", "splits": {"train": "sum.parquet"}, "columns": {"document": "body", "summary": "title"}},
    }))
    return [str(root / f"u_{n}.yaml") for n in ("reviews", "mc", "qa", "sum")]


def test_each_family_reads_from_its_file(tmp_path: Path) -> None:
    files = write_user_tasks(tmp_path / "user")
    specs, _ = expand(files, None)
    assert [s.name for s in specs] == ["u_reviews", "u_mc", "u_qa", "u_sum"]
    cls = read_split(specs[0], "train", None).records
    assert cls[0] == {"text_a": "bad food 0", "text_b": None, "label": 0} and cls[1]["label"] == 1
    assert read_split(specs[1], "train", None).records[0]["choices"][0] == "the cat was red"
    assert read_split(specs[2], "train", None).records[0]["answers"]["text"] == ["the red car"]
    assert read_split(specs[3], "train", None).records[0]["summary"] == "the cat sat"
    # loading the same file twice is fine
    expand(files[:1], None)


def test_user_tasks_train_end_to_end(tiny_root: Path, tmp_path: Path) -> None:
    files = write_user_tasks(tmp_path / "user")
    cfg = PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bart"), tasks=files, output_dir=str(tmp_path / "run"), max_steps=2, batch_size=8,
        max_length=48, doc_stride=16, max_new_tokens=4, progress=False, max_eval_examples=6,
    ))
    summary = prefinetune(cfg)
    assert {r["task"] for r in summary["results"]} == {"u_reviews", "u_mc", "u_qa", "u_sum"}
    manifest = json.loads((tmp_path / "run" / "export" / "muppet.json").read_text())
    assert [t["name"] for t in manifest["tasks"]] == ["u_reviews", "u_mc", "u_qa", "u_sum"]


@pytest.mark.parametrize(
    "content,message",
    [
        ({"name": "x", "family": "classification", "labels": ["a", "b"], "locall": {}}, "unknown key 'locall'; did you mean 'local'"),
        ({"name": "x", "labels": ["a", "b"]}, "missing 'family'"),
        ({"name": "x", "family": "ranking", "hub": {"path": "a/b"}}, "family 'ranking'"),
        ({"name": "x", "family": "classification", "hub": {"path": "a/b"}}, "needs either labels or label_range"),
        ({"name": "x", "family": "classification", "labels": ["a", "b"], "local": {"format": "jsonl"}}, "local: missing 'splits'"),
        ({"name": "x", "family": "classification", "labels": ["a", "b"], "hub": {"path": "a/b", "split": {}}},
         "hub: unknown key 'split'; did you mean 'splits'"),
        ({"name": "x", "family": "classification", "labels": ["a", ["b"]], "hub": {"path": "a/b"}}, r"labels\.1: input should be a valid string"),
        ({"name": "x", "family": "regression", "label_range": ["low", 5], "hub": {"path": "a/b"}}, r"label_range\.0: input should be a valid number"),
        ({"name": "x", "family": "classification", "labels": ["a", "b"], "hub": "a/b"}, "hub: input should be a dictionary"),
        ({"name": "x", "family": "classification", "labels": "yn", "hub": {"path": "a/b"}}, "labels"),
        ({"name": "x", "family": "regression", "label_range": [5], "hub": {"path": "a/b"}}, "missing 'label_range.1'"),
    ],
)
def test_task_file_errors(tmp_path: Path, content: dict, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(ConfigError, match=message):
        load_task_file(path)


def test_a_task_file_cannot_take_a_catalogue_name(tmp_path: Path) -> None:
    path = tmp_path / "rte.yaml"
    path.write_text(yaml.safe_dump({"name": "rte", "family": "classification", "labels": ["a", "b"], "hub": {"path": "x/y"}}))
    with pytest.raises(ConfigError, match="already taken"):
        expand([str(path)], None)


def test_two_task_files_declaring_one_name_are_an_error(tmp_path: Path) -> None:
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "t.yaml"
        path.write_text(yaml.safe_dump({"name": "u_twin", "family": "classification", "labels": ["x", folder],
                                        "hub": {"path": f"org/{folder}"}}))
        paths.append(str(path))
    with pytest.raises(ConfigError, match=r"a/t.yaml and .*b/t.yaml both declare a task named 'u_twin'"):
        expand(paths, None)
