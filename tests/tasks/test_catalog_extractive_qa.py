"""Extractive QA catalogue: SQuAD-layout JSON (squad_v1/v2, newsqa, duorc, policyqa) and QED."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from muppet.errors import DataError
from muppet.tasks.formats import FORMATS
from muppet.tasks.loading import carve_heldout, read_split
from muppet.tasks.spec import HubSource, get_task

QA_TASKS = ("squad_v1", "squad_v2", "newsqa", "duorc", "natural_questions_qed", "policyqa")

# ---------------------------------------------------------------------------------------------
# Fixture builders (invented text)
# ---------------------------------------------------------------------------------------------

CTX_A = "The lighthouse keeper painted the tower blue in 1902. Visitors came by ferry."
CTX_B = "Marbles are sorted by colour: red ones go left, green ones go right."


def answer(context: str, text: str) -> dict[str, Any]:
    return {"text": text, "answer_start": context.index(text)}


def squad_doc(paragraphs: list[dict[str, Any]], version: str = "1.1") -> dict[str, Any]:
    return {"version": version, "data": [{"title": "Invented", "paragraphs": paragraphs}]}


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def v1_paragraphs() -> list[dict[str, Any]]:
    return [
        {
            "context": CTX_A,
            "qas": [
                {"id": "q1", "question": "What colour was the tower?", "answers": [answer(CTX_A, "blue")]},
                {"id": "q2", "question": "When?", "answers": [answer(CTX_A, "1902"), answer(CTX_A, "in 1902")]},
            ],
        },
        {
            "context": CTX_B,
            "qas": [{"id": "q3", "question": "Where do red ones go?", "answers": [answer(CTX_B, "left")]}],
        },
    ]


# ---------------------------------------------------------------------------------------------
# SQuAD-layout tasks
# ---------------------------------------------------------------------------------------------


def test_squad_v1_reads_one_record_per_question_grouped_by_paragraph(tmp_path: Path) -> None:
    write(tmp_path / "squad_v1" / "xquad.en.json", squad_doc(v1_paragraphs()))
    records = read_split(get_task("squad_v1"), "train", tmp_path, source="local").records
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    assert records[0]["question"] == "What colour was the tower?"
    assert records[0]["context"] == CTX_A
    assert records[0]["answers"] == {"text": ["blue"], "start": [CTX_A.index("blue")]}
    assert records[1]["answers"]["text"] == ["1902", "in 1902"]
    assert records[0]["group"] == records[1]["group"] != records[2]["group"]


def test_carving_keeps_a_paragraph_on_one_side(tmp_path: Path) -> None:
    paragraphs = [
        {
            "context": f"Paragraph {i} says the answer is {i}.",
            "qas": [
                {"id": f"p{i}q{j}", "question": f"Question {j}?", "answers": [{"text": str(i), "answer_start": 10}]}
                for j in range(3)
            ],
        }
        for i in range(1, 10)
    ]
    write(tmp_path / "squad_v1" / "xquad.en.json", squad_doc(paragraphs))
    records = read_split(get_task("squad_v1"), "train", tmp_path, source="local").records
    train, held = carve_heldout(get_task("squad_v1"), records, 0.3, 100)
    assert train and held
    assert not {r["group"] for r in train} & {r["group"] for r in held}


def test_squad_reader_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "squad_v1" / "xquad.en.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(squad_doc(v1_paragraphs())).encode())
    assert len(read_split(get_task("squad_v1"), "train", tmp_path, source="local").records) == 3


def test_squad_v2_unanswerable_questions_get_empty_answers(tmp_path: Path) -> None:
    paragraphs = [
        {
            "context": CTX_A,
            "qas": [
                {"id": "a", "question": "Colour?", "answers": [answer(CTX_A, "blue")] * 2, "is_impossible": False},
                {
                    "id": "b",
                    "question": "Who built the ferry?",
                    "answers": [],
                    "plausible_answers": [answer(CTX_A, "Visitors")],
                    "is_impossible": True,
                },
            ],
        }
    ]
    write(tmp_path / "squad_v2" / "dev-v2.0.json", squad_doc(paragraphs, "v2.0"))
    spec = get_task("squad_v2")
    assert spec.options == {"unanswerable": True}
    records = read_split(spec, "train", tmp_path, source="local").records
    assert records[0]["answers"] == {"text": ["blue"], "start": [CTX_A.index("blue")]}  # repeats merged
    assert records[1]["answers"] == {"text": [], "start": []}


def test_newsqa_file_without_extension(tmp_path: Path) -> None:
    write(tmp_path / "newsqa" / "newsqa", squad_doc(v1_paragraphs()))
    assert len(read_split(get_task("newsqa"), "train", tmp_path, source="local").records) == 3


def test_duorc_train_and_dev_in_subfolders(tmp_path: Path) -> None:
    write(tmp_path / "duorc" / "oodomain_train" / "duorc", squad_doc(v1_paragraphs()))
    write(tmp_path / "duorc" / "oodomain_val" / "duorc", squad_doc(v1_paragraphs()[1:]))
    spec = get_task("duorc")
    assert len(read_split(spec, "train", tmp_path, source="local").records) == 3
    assert [r["id"] for r in read_split(spec, "dev", tmp_path, source="local").records] == ["q3"]


def test_policyqa_dev_is_the_pool_and_test_is_labelled(tmp_path: Path) -> None:
    paragraphs = v1_paragraphs()
    for para in paragraphs:
        for qa in para["qas"]:
            qa["type"] = "Practice|||Attribute|||Value"
    write(tmp_path / "policyqa" / "dev.json", squad_doc(paragraphs))
    write(tmp_path / "policyqa" / "test.json", squad_doc(paragraphs[:1]))
    spec = get_task("policyqa")
    assert len(read_split(spec, "train", tmp_path, source="local").records) == 3
    assert len(read_split(spec, "test", tmp_path, source="local").records) == 2


def _error(tmp_path: Path, task: str, file: str, content: Any, split: str = "train") -> str:
    write(tmp_path / task / file, content)
    with pytest.raises(DataError) as info:
        read_split(get_task(task), split, tmp_path, source="local")
    return str(info.value)


def test_squad_answer_not_in_context_names_record_and_question(tmp_path: Path) -> None:
    paragraphs = v1_paragraphs()
    paragraphs[1]["qas"][0]["answers"] = [{"text": "left", "answer_start": 3}]
    message = _error(tmp_path, "squad_v1", "xquad.en.json", squad_doc(paragraphs))
    assert "xquad.en.json record 3" in message
    assert "'q3'" in message and "does not match the context" in message


def test_squad_v1_rejects_unanswerable_questions(tmp_path: Path) -> None:
    paragraphs = v1_paragraphs()
    paragraphs[0]["qas"][1].update(answers=[], is_impossible=True)
    message = _error(tmp_path, "squad_v1", "xquad.en.json", squad_doc(paragraphs))
    assert "record 2" in message and "no answer" in message


def test_squad_v2_rejects_inconsistent_is_impossible(tmp_path: Path) -> None:
    paragraphs = v1_paragraphs()
    paragraphs[0]["qas"][0]["is_impossible"] = True
    paragraphs[1]["qas"][0].update(answers=[], is_impossible=False)
    message = _error(tmp_path, "squad_v2", "dev-v2.0.json", squad_doc(paragraphs))
    assert "2 malformed record(s)" in message
    assert "record 1" in message and "'q1': is_impossible but has answers" in message
    assert "record 3" in message and "'q3': no answers but is_impossible is false" in message


def test_squad_missing_question_and_bad_offset_type(tmp_path: Path) -> None:
    paragraphs = v1_paragraphs()
    del paragraphs[0]["qas"][0]["question"]
    paragraphs[0]["qas"][1]["answers"] = [{"text": "1902", "answer_start": "x"}]
    message = _error(tmp_path, "duorc", "oodomain_train/duorc", squad_doc(paragraphs))
    assert "record 1 (field 'question')" in message
    assert "record 2 (field 'answers')" in message and "is not an integer" in message


def test_squad_invalid_json_names_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "newsqa", "newsqa", '{"data": [\n  {"title": "x",,}\n]}')
    assert "newsqa:2: invalid JSON" in message


def test_squad_without_data_list_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, "policyqa", "dev.json", {"version": "1.1", "articles": []})
    assert "dev.json" in message and "'data' list" in message


# ---------------------------------------------------------------------------------------------
# natural_questions_qed
# ---------------------------------------------------------------------------------------------

NQ_TRAIN_FILES = [f"nq-train-0{i}-qed.jsonlines" for i in range(6)]
PARA = "The Silver Otters are a rowing club . Its founders were Ada Moss and Ben Hale , in 1931 ."


def nq_train(example_id: int, question: str, spans: list[list[int]], texts: list[str]) -> dict[str, Any]:
    return {
        "example_id": example_id,
        "paragraph_text": PARA,
        "question_text": question,
        "title_text": "Silver Otters",
        "answer_spans": spans,
        "answer_text": texts,
        "annotation": [],
        "sentence_starts": [0, 38],
        "answer_type": "single_sentence",
    }


def span(text: str) -> list[int]:
    start = PARA.index(text)
    return [start, start + len(text)]


def nq_dev(example_id: int, annotators: list[list[str]]) -> dict[str, Any]:
    answers = [[{"start": span(t)[0], "end": span(t)[1], "string": t} for t in spans] for spans in annotators]
    return {
        "example_id": example_id,
        "title_text": "Silver Otters",
        "url": "https://example.org/otters",
        "question_text": "who founded the silver otters",
        "paragraph_text": PARA,
        "sentence_starts": [0, 38],
        "original_nq_answers": answers,
        "annotation": {"explanation_type": "single_sentence"},
    }


def jsonlines(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def write_nq(tmp_path: Path, shard0: str, dev: str = "") -> None:
    write(tmp_path / "natural_questions_qed" / NQ_TRAIN_FILES[0], shard0)
    for name in NQ_TRAIN_FILES[1:]:
        write(tmp_path / "natural_questions_qed" / name, "")
    write(tmp_path / "natural_questions_qed" / "qed-dev.jsonlines", dev)


def test_qed_train_uses_spans_skips_no_span_marker_and_splits_multi_span(tmp_path: Path) -> None:
    rows = [
        nq_train(11, "when was the club founded", [span("1931")], ["1931"]),
        nq_train(12, "what is the silver otters", [[-1, -1]], [""]),  # QED's "no span" marker
        nq_train(13, "what kind of club", [span("rowing club")], ["rowing clu"]),  # truncated text
        nq_train(-14, "who founded it", [span("Ada Moss"), span("Ben Hale")], ["Ada Moss", "Ben Hale"]),
    ]
    write_nq(tmp_path, jsonlines(rows))
    records = read_split(get_task("natural_questions_qed"), "train", tmp_path, source="local").records
    assert [r["id"] for r in records] == ["11", "13", "-14"]
    assert records[1]["answers"] == {"text": ["rowing club"], "start": [PARA.index("rowing club")]}
    assert records[2]["answers"]["text"] == ["Ada Moss", "Ben Hale"]
    assert records[0]["question"] == "when was the club founded" and records[0]["context"] == PARA
    assert len({r["group"] for r in records}) == 1


def test_qed_dev_takes_every_annotator(tmp_path: Path) -> None:
    dev = jsonlines([nq_dev(21, [["Ada Moss and Ben Hale"], ["Ada Moss", "Ben Hale"], ["Ada Moss"]])])
    write_nq(tmp_path, "", dev)
    (record,) = read_split(get_task("natural_questions_qed"), "dev", tmp_path, source="local").records
    assert record["answers"]["text"] == ["Ada Moss and Ben Hale", "Ada Moss", "Ben Hale"]
    assert record["answers"]["start"] == [PARA.index("Ada"), PARA.index("Ada"), PARA.index("Ben")]


def test_qed_malformed_lines_are_reported(tmp_path: Path) -> None:
    bad_dev = nq_dev(31, [["Ada Moss"]])
    bad_dev["original_nq_answers"][0][0]["start"] += 1
    rows = [
        jsonlines([nq_train(41, "when", [span("1931")], ["1931"])]),
        "{not json\n",
        jsonlines([nq_train(42, "when", [[80, 500]], ["1931"])]),
        jsonlines([nq_train(43, "when", [span("1931")], ["1066"])]),
    ]
    write_nq(tmp_path, "".join(rows), jsonlines([bad_dev]))
    spec = get_task("natural_questions_qed")
    with pytest.raises(DataError) as info:
        read_split(spec, "train", tmp_path, source="local")
    message = str(info.value)
    assert "3 malformed record(s)" in message
    assert "nq-train-00-qed.jsonlines:2: invalid JSON" in message
    assert "nq-train-00-qed.jsonlines:3 (field 'answers'): example 42: span [80, 500] is outside" in message
    assert "nq-train-00-qed.jsonlines:4 (field 'answers'): example 43: answer_text '1066' disagrees" in message
    with pytest.raises(DataError, match=r"qed-dev.jsonlines:1 \(field 'answers'\): example 31: span string"):
        read_split(spec, "dev", tmp_path, source="local")


def test_qed_format_is_registered() -> None:
    assert "qed_jsonl" in FORMATS and "squad_json" in FORMATS


# ---------------------------------------------------------------------------------------------
# Specs and the real data
# ---------------------------------------------------------------------------------------------

HUB_NONE = {"policyqa"}
# Hub rows turned into canonical records by a row adapter (tests/tasks/test_catalog_hub.py).
HUB_ADAPTED = {"newsqa": "mrqa", "duorc": "mrqa", "natural_questions_qed": "qed"}


@pytest.mark.parametrize("name", QA_TASKS)
def test_specs_are_well_formed(name: str) -> None:
    spec = get_task(name)
    assert spec.name == name and spec.family == "extractive_qa"
    assert spec.labels == () and spec.metric == ""
    assert spec.local is not None and "train" in spec.local.splits
    assert spec.local.format in FORMATS and spec.local.columns == {}
    assert spec.description
    assert spec.options == ({"unanswerable": True} if name == "squad_v2" else {})
    if name in HUB_NONE:
        assert spec.hub is None
    elif name in HUB_ADAPTED:
        assert isinstance(spec.hub, HubSource) and spec.hub.format == HUB_ADAPTED[name]
    else:
        assert isinstance(spec.hub, HubSource)
        assert spec.hub.columns["answers"] == "answers"


EXPECTED = {
    "squad_v1": {"train": 1190},
    "squad_v2": {"train": 6078},
    "newsqa": {"train": 4212},
    "duorc": {"train": 127, "dev": 126},
    "natural_questions_qed": {"train": 7147, "dev": 1355},  # 7,167 minus 20 [-1, -1] markers
    "policyqa": {"train": 3809, "test": 4152},
}
EXPECTED_GROUPS = {"squad_v1": 240, "squad_v2": 646, "newsqa": 638, "policyqa": 574}


@pytest.mark.parametrize("name", QA_TASKS)
def test_real_data_loads_strictly(name: str, real_data_dir: Path) -> None:
    spec = get_task(name)
    assert spec.local_splits(real_data_dir) == list(spec.local.splits)
    for split, count in EXPECTED[name].items():
        records = read_split(spec, split, real_data_dir, source="local").records
        assert len(records) == count, split
        assert len({r["id"] for r in records}) == count
        for r in records:
            assert r["question"].strip() and r["context"].strip() and r["group"]
            for text, start in zip(r["answers"]["text"], r["answers"]["start"]):
                assert r["context"][start : start + len(text)] == text
        unanswerable = sum(not r["answers"]["text"] for r in records)
        assert unanswerable == (3168 if name == "squad_v2" else 0)
        if split == "train" and name in EXPECTED_GROUPS:
            assert len({r["group"] for r in records}) == EXPECTED_GROUPS[name]
