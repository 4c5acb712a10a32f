"""Summarization catalogue: samsum, dialogsum, aeslc, xsum."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from muppet.errors import DataError
from muppet.tasks.formats import FORMATS
from muppet.tasks.formats.summarization import strip_share_widget
from muppet.tasks.loading import read_split
from muppet.tasks.spec import HubSource, get_task

SUM_TASKS = ("samsum", "dialogsum", "aeslc", "xsum")


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def jsonlines(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def read(tmp_path: Path, task: str, split: str) -> list[dict[str, Any]]:
    return read_split(get_task(task), split, tmp_path, source="local").records


def error(tmp_path: Path, task: str, split: str) -> str:
    with pytest.raises(DataError) as info:
        read_split(get_task(task), split, tmp_path, source="local")
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# samsum
# ---------------------------------------------------------------------------------------------

SHARED = "Ivo: lunch?\nPia: at noon"


def samsum(dialogue: str, summary: str) -> dict[str, str]:
    return {"instruction": "Please summarize the following dialogue.", "dialogue": dialogue, "summary": summary}


def test_samsum_pool_leaves_out_test_dialogues(tmp_path: Path) -> None:
    pool = [samsum("Ola: hi\nTom: hey", "They greet."), samsum(SHARED, "Lunch.")]
    write(tmp_path / "samsum" / "validation.json", pool)
    test = [samsum(SHARED, "Ivo and Pia meet at noon."), samsum("Ann: bye", "Ann leaves.")]
    write(tmp_path / "samsum" / "test.json", test)
    assert read(tmp_path, "samsum", "train") == [{"document": "Ola: hi\nTom: hey", "summary": "They greet."}]
    assert [r["summary"] for r in read(tmp_path, "samsum", "test")] == ["Ivo and Pia meet at noon.", "Ann leaves."]


def test_samsum_malformed_records(tmp_path: Path) -> None:
    rows = [samsum("A: x", "ok"), {"dialogue": "B: y"}, samsum("C: z", " "), "text"]
    write(tmp_path / "samsum" / "validation.json", rows)
    write(tmp_path / "samsum" / "test.json", [])
    message = error(tmp_path, "samsum", "train")
    assert "3 malformed record(s)" in message
    assert "validation.json record 2 (field 'summary'): needs 'dialogue' and 'summary' strings" in message
    assert "validation.json record 3 (field 'summary'): empty text" in message
    assert "validation.json record 4: expected a JSON object" in message


def test_samsum_needs_the_test_file_it_checks_against(tmp_path: Path) -> None:
    write(tmp_path / "samsum" / "validation.json", [samsum("A: x", "ok")])
    with pytest.raises(DataError, match="test.json it is checked against is missing"):
        read_split(get_task("samsum"), "train", tmp_path, source="local")


# ---------------------------------------------------------------------------------------------
# dialogsum
# ---------------------------------------------------------------------------------------------


def dialog(fname: str, **fields: str) -> dict[str, str]:
    return {"fname": fname, "dialogue": "#Person1#: Tea?\n#Person2#: Yes, please.", **fields}


def test_dialogsum_uses_summary_and_first_test_reference(tmp_path: Path) -> None:
    root = tmp_path / "dialogsum"
    write(root / "dialogsum.train.jsonl", jsonlines([dialog("train_0", summary="They have tea.", topic="tea")]))
    write(root / "dialogsum.dev.jsonl", jsonlines([dialog("dev_0", summary="Tea time.", topic="tea")]))
    test = dialog("test_0", summary1="#Person2# accepts tea.", summary2="Tea offered.", summary3="Tea.", topic1="tea")
    write(root / "dialogsum.test.jsonl", jsonlines([test]))
    assert read(tmp_path, "dialogsum", "train")[0] == {
        "document": "#Person1#: Tea?\n#Person2#: Yes, please.",
        "summary": "They have tea.",
    }
    assert read(tmp_path, "dialogsum", "dev")[0]["summary"] == "Tea time."
    assert read(tmp_path, "dialogsum", "test")[0]["summary"] == "#Person2# accepts tea."


def test_dialogsum_malformed_lines(tmp_path: Path) -> None:
    lines = (
        jsonlines([dialog("train_0", summary="ok")])
        + "{'fname': 'train_1'}\n"  # a Python dict literal, as in the old upstream zip
        + jsonlines([{"fname": "t", "summary": "s"}])
    )
    write(tmp_path / "dialogsum" / "dialogsum.train.jsonl", lines)
    message = error(tmp_path, "dialogsum", "train")
    assert "dialogsum.train.jsonl:2: invalid JSON" in message
    assert "dialogsum.train.jsonl:3 (field 'dialogue'): missing 'dialogue' string" in message


# ---------------------------------------------------------------------------------------------
# aeslc
# ---------------------------------------------------------------------------------------------


def email(name: str, body: str, subject: str, annotations: tuple[str, ...] = ()) -> dict[str, str]:
    text = f"{body}\n\n@subject\n{subject}"
    for i, ann in enumerate(annotations):
        text += f"\n\n@ann{i}\n{ann}"
    return {"file": name, "text": text}


def test_aeslc_body_is_the_document_and_subject_the_summary(tmp_path: Path) -> None:
    body = "Hi team,  the boat trip moves to Friday.\nBring a jacket.\nThanks,"
    write(tmp_path / "aeslc" / "train.jsonl", jsonlines([email("kim_inbox_1.subject", body, "Boat trip moved")]))
    dev = email("kim_inbox_2.subject", "Reminder @ noon: quiz.", "Quiz today", ("quiz", "quiz reminder", "noon quiz"))
    write(tmp_path / "aeslc" / "dev.jsonl", jsonlines([dev]))
    assert read(tmp_path, "aeslc", "train") == [{"document": body, "summary": "Boat trip moved"}]
    assert read(tmp_path, "aeslc", "dev") == [{"document": "Reminder @ noon: quiz.", "summary": "Quiz today"}]


def test_aeslc_malformed_lines(tmp_path: Path) -> None:
    rows = [
        email("a.subject", "Body.", "Fine"),
        {"file": "b.subject", "text": "Body without a subject section."},
        email("c.subject", "Body.", "two\nlines"),
        email("d.subject", "Body.", "   "),
    ]
    write(tmp_path / "aeslc" / "test.jsonl", jsonlines(rows))
    message = error(tmp_path, "aeslc", "test")
    assert "test.jsonl:2 (field 'text'): b.subject: no '@subject' section" in message
    assert "test.jsonl:3 (field 'summary'): c.subject: the subject spans several lines" in message
    assert "test.jsonl:4 (field 'summary'): empty text" in message


# ---------------------------------------------------------------------------------------------
# xsum
# ---------------------------------------------------------------------------------------------


def extract(bbc_id: str, intro: str, body: str, folder: str = "Leftover") -> dict[str, str]:
    text = (
        f"[XSUM]URL[XSUM]\nhttp://example.org/news/{bbc_id}\n\n[XSUM]INTRODUCTION[XSUM]\n{intro}\n\n"
        f"[XSUM]RESTBODY[XSUM]\n{body}\n"
    )
    return {"file": f"xsum-extracts-from-downloads_{folder}/{bbc_id}.data", "split": "test", "text": text}


SHARE = (
    "Share this with\nEmail\nFacebook\nMessenger\nTwitter\nCopy this link\n"
    "These are external links and will open in a new window\n"
)


def test_xsum_pool_merges_both_layouts_without_duplicates(tmp_path: Path) -> None:
    hf = [
        {"document": "A kite festival drew crowds.\nIt rained.", "summary": "Kites flew.", "id": "101"},
        {"document": "Otters returned to the river.", "summary": "Otters are back.", "id": "102"},
    ]
    extracts = [
        extract("102", "Otters are back.", SHARE + "Otters returned to the river."),
        extract("103", "A bakery won a prize.", "The bakery won.\n" + SHARE + "Judges liked the bread.", "Filtered"),
    ]
    write(tmp_path / "xsum" / "xsum-1000.jsonl", jsonlines(hf))
    write(tmp_path / "xsum" / "xsum-extracts-from-downloads.jsonl", jsonlines(extracts))
    records = read(tmp_path, "xsum", "train")
    assert records == [
        {"document": "A kite festival drew crowds.\nIt rained.", "summary": "Kites flew."},
        {"document": "Otters returned to the river.", "summary": "Otters are back."},
        {"document": "The bakery won.\nJudges liked the bread.", "summary": "A bakery won a prize."},
    ]


def test_strip_share_widget_keeps_unrelated_lines() -> None:
    quote = "Share this with friends, said the mayor.\nEnd."
    assert strip_share_widget(quote) == quote
    assert strip_share_widget("Share this with\nno end marker") == "Share this with\nno end marker"


def test_xsum_malformed_lines(tmp_path: Path) -> None:
    write(tmp_path / "xsum" / "xsum-1000.jsonl", jsonlines([{"document": "D", "summary": "S"}]) + "[1, 2]\n")
    bad_extract = {"file": "xsum-extracts-from-downloads_Leftover/104.data", "split": "test", "text": "no markers"}
    write(
        tmp_path / "xsum" / "xsum-extracts-from-downloads.jsonl",
        jsonlines([bad_extract, {"file": "notes.txt", "split": "test", "text": "x"}]),
    )
    message = error(tmp_path, "xsum", "train")
    assert "4 malformed record(s)" in message
    assert "xsum-1000.jsonl:1 (field 'summary'): needs 'document', 'summary' and 'id'" in message
    assert "xsum-1000.jsonl:2: expected a JSON object" in message
    assert "downloads.jsonl:1 (field 'text'): xsum-extracts-from-downloads_Leftover/104.data: not a" in message
    assert "xsum-extracts-from-downloads.jsonl:2 (field 'file'): file name 'notes.txt'" in message


# ---------------------------------------------------------------------------------------------
# Specs and the real data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUM_TASKS)
def test_specs_are_well_formed(name: str) -> None:
    spec = get_task(name)
    assert spec.name == name and spec.family == "summarization"
    assert spec.labels == () and spec.metric == "" and spec.options == {}
    assert spec.local is not None and "train" in spec.local.splits
    assert spec.local.format in FORMATS and spec.local.columns == {}
    assert spec.description
    assert isinstance(spec.hub, HubSource)
    assert set(spec.hub.columns) == {"document", "summary"}


EXPECTED = {
    "samsum": {"train": 814, "test": 819},  # 818 validation dialogues minus 4 also in test
    "dialogsum": {"train": 12460, "dev": 500, "test": 500},
    "aeslc": {"train": 14436, "dev": 1960, "test": 1906},
    "xsum": {"train": 1292},  # 1,000 + 321 extracts - 29 in both
}


@pytest.mark.parametrize("name", SUM_TASKS)
def test_real_data_loads_strictly(name: str, real_data_dir: Path) -> None:
    spec = get_task(name)
    assert spec.local_splits(real_data_dir) == list(spec.local.splits)
    for split, count in EXPECTED[name].items():
        records = read_split(spec, split, real_data_dir, source="local").records
        assert len(records) == count, split
        for r in records:
            assert r["document"].strip() and r["summary"].strip()
        if name == "aeslc":
            assert not any("@subject" in r["document"] or "\n" in r["summary"] for r in records)
        if name == "xsum":
            assert len({r["document"] for r in records}) == count
            assert not any("[XSUM]" in r["document"] or "Copy this link" in r["document"] for r in records)


def test_real_samsum_pool_shares_no_dialogue_with_test(real_data_dir: Path) -> None:
    spec = get_task("samsum")
    pool = {r["document"] for r in read_split(spec, "train", real_data_dir, source="local").records}
    test = {r["document"] for r in read_split(spec, "test", real_data_dir, source="local").records}
    assert not pool & test
