"""Bad input, tried systematically: every local task's reader against a corpus of malformed files.

For each task a valid tiny fixture in its source format (``fixtures.py``) is broken one way at a
time. A malformed record must give a ``DataError`` naming the file, the line or record and,
where the corruption is in a field, the field; with ``on_bad_record="skip"`` it is skipped and
counted while the good records still load. A file unreadable as a whole must give a
``DataError`` naming it, in both modes. Valid but unusual data (a 1 MB string, an unanswerable
question where the task allows them) must load. Nothing else may escape ``read_split``.

No local format is left out: every one has records whose fields can be broken.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures import ANY, BIG, USER_SPECS, Case, Edit, case_for, local_tasks, write_files

from muppet.errors import ConfigError, DataError
from muppet.tasks.formats import FORMATS
from muppet.tasks.loading import SplitRecords, read_split
from muppet.tasks.mixtures import expand

# Every local task of the catalogue, and user-defined tasks (generic readers, every family).
CASES: dict[str, Case] = {spec.name: case_for(spec) for spec in (*local_tasks(), *USER_SPECS)}
LINE_LAYOUTS = ("jsonl", "delimited", "text")  # an empty file is an empty split of records
WHOLE_LAYOUTS = ("document", "xml", "bz2", "parquet")  # a file parsed as a whole
EDIT_PARAMS = [pytest.param(task, name, id=f"{task}-{name}") for task, case in CASES.items() for name in case.edits]
TASK_PARAMS = sorted(CASES)


def load(case: Case, root: Path, mode: str = "error") -> SplitRecords:
    return read_split(case.spec, "train", root, source="local", on_bad_record=mode)


def build(case: Case, root: Path, edit: Edit | None = None) -> Path:
    folder = root / case.spec.directory
    write_files(folder, case.files(edit))
    return folder


def printable(message: str) -> str:
    message.encode("utf-8")  # a message with raw undecodable bytes could not be printed or logged
    return message


def strict_error(case: Case, root: Path) -> str:
    with pytest.raises(DataError) as info:
        load(case, root, "error")
    return printable(str(info.value))


def file_error(case: Case, root: Path, *fragments: str) -> None:
    """The file is unreadable as a whole: both modes raise, naming it."""
    for mode in ("error", "skip"):
        with pytest.raises(DataError) as info:
            load(case, root, mode)
        message = printable(str(info.value))
        for fragment in fragments:
            assert re.search(fragment, message), message


def is_subsequence(part: list[dict], whole: list[dict]) -> bool:
    rest = iter(whole)
    return all(any(item == candidate for candidate in rest) for item in part)


def test_every_local_task_and_format_has_a_case() -> None:
    assert len(CASES) == len(local_tasks()) + len(USER_SPECS) > 48
    assert {FORMATS[c.spec.local.format] for c in CASES.values()} == {FORMATS[name] for name in FORMATS.names()}
    for case in CASES.values():
        assert case.edits, case.task
        assert case.target in case.spec.local.splits["train"], case.task


@pytest.mark.parametrize("task", TASK_PARAMS)
def test_valid_fixture_loads(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    build(case, tmp_path)
    result = load(case, tmp_path)
    assert not result.skipped
    assert len(result.records) >= 3 * case.per_item


@pytest.mark.parametrize(("task", "name"), EDIT_PARAMS)
def test_record_corruption(tmp_path: Path, task: str, name: str) -> None:
    case, edit = CASES[task], CASES[task].edits[name]
    build(case, tmp_path / "valid")
    valid = load(case, tmp_path / "valid").records
    root = tmp_path / "bad"
    build(case, root, edit)
    where = case.where(edit, root)

    if edit.outcome == "file":
        file_error(case, root, re.escape(where))
        return
    if edit.outcome in ("ok", "filtered"):
        for mode in ("error", "skip"):
            result = load(case, root, mode)
            assert not result.skipped and len(result.records) == len(valid) - edit.lost
        if name == "big_string":
            assert any(len(str(value)) >= len(BIG) for r in result.records for value in r.values())
        return

    message = strict_error(case, root)
    named = r" \(field '[^']+'\)" if edit.field == ANY else re.escape(f" (field {edit.field!r})" if edit.field else "")
    assert re.search(re.escape(where) + named + ":", message), message
    assert f"{edit.skipped} malformed record(s)" in message, message

    skipped = load(case, root, "skip")
    assert len(skipped.skipped) == edit.skipped, skipped.skipped
    assert all(printable(s).startswith(where) for s in skipped.skipped), skipped.skipped
    assert len(skipped.records) == len(valid) - edit.lost
    assert is_subsequence(skipped.records, valid)


# --------------------------------------------------------------------------- whole files


@pytest.mark.parametrize("task", TASK_PARAMS)
def test_missing_file(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    (folder / case.target).unlink()
    file_error(case, tmp_path, re.escape(str(folder / case.target)), "not found")


@pytest.mark.parametrize("task", TASK_PARAMS)
def test_file_that_is_a_directory(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    (folder / case.target).unlink()
    (folder / case.target).mkdir()
    file_error(case, tmp_path, re.escape(str(folder / case.target)))


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].side])
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_side_file(tmp_path: Path, task: str, kind: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    side = folder / case.side[0]
    side.unlink()
    if kind == "directory":
        side.mkdir()
    file_error(case, tmp_path, re.escape(str(side)))


@pytest.mark.parametrize("task", TASK_PARAMS)
def test_empty_file(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    build(case, tmp_path / "valid")
    valid = load(case, tmp_path / "valid").records
    folder = build(case, tmp_path)
    if case.layout not in LINE_LAYOUTS:
        (folder / case.target).write_bytes(b"")
        file_error(case, tmp_path, re.escape(str(folder / case.target)))
        return
    for name in (case.target, *case.side):  # an aligned label file is emptied with its records
        (folder / name).write_bytes(b"")
    for mode in ("error", "skip"):
        result = load(case, tmp_path, mode)
        assert not result.skipped
        assert len(result.records) == len(valid) - 3 * case.per_item


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout in WHOLE_LAYOUTS])
def test_truncated_file(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    # Text documents name the line where parsing stopped; a cut binary stream has no lines.
    line = r":\d+" if case.layout in ("document", "xml") else ""
    file_error(case, tmp_path, re.escape(str(path)) + line)


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout in WHOLE_LAYOUTS])
def test_file_of_another_kind(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR not a text file \xff\xfe")
    file_error(case, tmp_path, re.escape(str(path)))


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout == "xml"])
def test_xml_with_bytes_that_are_not_utf8(tmp_path: Path, task: str) -> None:
    # XML declares its encoding; an undecodable byte stops the parser, so the file is unreadable.
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(path.read_bytes().replace(b"farmer 1", b"farm\xe9r 1"))
    file_error(case, tmp_path, re.escape(str(path)) + r":\d+")


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout == "xml"])
@pytest.mark.parametrize("encoding", ["no-such-codec", "rot13", "shift_jis", "idna", "utf-16"])
def test_xml_declaring_an_unusable_encoding(tmp_path: Path, task: str, encoding: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>\n'.encode() + path.read_bytes())
    file_error(case, tmp_path, re.escape(str(path)))


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout == "xml"])
def test_xml_entity_expansion_bomb(tmp_path: Path, task: str) -> None:
    # Nested entities that would expand to gigabytes: the parser refuses them, quickly.
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    entities = ['<!ENTITY e0 "haha">'] + [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)]
    bomb = f'<!DOCTYPE data [{"".join(entities)}]>\n<data><text id="n1"><text_body>&e9;</text_body></text></data>'
    path.write_text(bomb, encoding="utf-8")
    file_error(case, tmp_path, re.escape(str(path)) + r":\d+")


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout == "document"])
def test_deeply_nested_document(tmp_path: Path, task: str) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    file_error(case, tmp_path, re.escape(str(path)))


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout == "document"])
@pytest.mark.parametrize("content", [b'{"data": 5, "rows": 5}', b"null", b'"text"', b"42"])
def test_document_of_the_wrong_shape(tmp_path: Path, task: str, content: bytes) -> None:
    case = CASES[task]
    folder = build(case, tmp_path)
    path = folder / case.target
    path.write_bytes(content)
    file_error(case, tmp_path, re.escape(str(path)))


# --------------------------------------------------------------------------- whole splits and runs


@pytest.mark.parametrize("task", [t for t in TASK_PARAMS if CASES[t].layout in LINE_LAYOUTS])
def test_zero_examples(tmp_path: Path, task: str) -> None:
    """Every file of the split empty: no record, no error from the reader; the run refuses it."""
    case = CASES[task]
    folder = build(case, tmp_path)
    for path in folder.rglob("*"):
        if path.is_file():
            path.write_bytes(b"")
    result = load(case, tmp_path)
    assert result.records == [] and result.skipped == []


def test_a_run_with_zero_training_examples_is_refused(tmp_path: Path) -> None:
    from muppet.data.pipeline import plan_task

    case = CASES["rte"]
    folder = build(case, tmp_path)
    for path in folder.iterdir():
        path.write_bytes(b"")
    with pytest.raises(DataError, match=r"task 'rte': no training examples in .*rte"):
        plan_task(case.spec, "cls/rte", data_dir=str(tmp_path), source="local", cache_dir=str(tmp_path / "cache"))


def test_duplicate_task_in_a_mixture(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\['rte'\] listed more than once"):
        expand(["rte", "cola", "rte"], tmp_path)
    with pytest.raises(ConfigError, match="listed more than once"):
        expand(["local", "local"], tmp_path)
    # A task that is also a member of a listed mixture is taken once, not an error.
    build(CASES["rte"], tmp_path)
    specs, _ = expand(["rte", "local"], tmp_path)
    assert [s.name for s in specs] == ["rte"]


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("task", "options", "fragment"),
    [
        ("anli", {"delimiter": ";"}, "unexpected keyword argument 'delimiter'"),
        ("piqa", {}, "missing a required argument: 'labels'"),
        ("cola", {"header": False, "fieldnames": 5}, "'fieldnames' must be a list of column names"),
        ("anli", {"min_columns": "2"}, "'min_columns' must be a number"),
        ("mrpc", {"quoting": "double"}, "'quoting' must be 'none' or 'minimal'"),
        ("imdb", {"separator": ""}, "'separator' must be a text"),
        ("user_mc", {"key": ["rows"]}, "'key' must be a text"),
    ],
)
def test_bad_reader_options_are_config_errors(tmp_path: Path, task: str, options: dict, fragment: str) -> None:
    """A task file's misspelt or mistyped reader option: a ConfigError, not a crash in the reader."""
    case = CASES[task]
    spec = replace(case.spec, local=replace(case.spec.local, options=options))
    build(case, tmp_path)
    for mode in ("error", "skip"):
        with pytest.raises(ConfigError, match=re.escape(fragment)):
            read_split(spec, "train", tmp_path, source="local", on_bad_record=mode)


def test_one_based_option_labels_are_detected_across_the_split(tmp_path: Path) -> None:
    """1-based labels are valid indices except the last option's: the split, not a record, shows it."""
    import json

    from muppet.tasks.spec import LocalSource, TaskSpec

    spec = TaskSpec("one_based_mc", "multiple_choice", local=LocalSource(
        "jsonl", {"train": ("train.jsonl",)}, columns={"question": "q", "choices": ("a", "b", "c"), "label": "y"}))
    folder = tmp_path / "one_based_mc"
    folder.mkdir()
    rows = [{"q": f"question {i}", "a": "first", "b": "second", "c": "third", "y": 1 + i % 3} for i in range(9)]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for mode in ("error", "skip"):  # skipping the out-of-range third would train the rest shifted
        with pytest.raises(DataError, match="labels look 1-based: 3 record"):
            read_split(spec, "train", tmp_path, source="local", on_bad_record=mode)
    rows = [{**r, "y": r["y"] - 1} for r in rows]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [r["label"] for r in read_split(spec, "train", tmp_path, source="local").records] == [0, 1, 2] * 3
