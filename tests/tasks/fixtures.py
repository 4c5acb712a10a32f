"""Valid tiny fixtures in every local task's source format (invented text), and the record-level
corruptions that apply to each, shared by the bad-input corpus and the reader fuzzer.

A :class:`Case` describes one task: the items of its *target* file (the file the corpus
corrupts; one item = one canonical record unless said otherwise), how the items and the
task's other files are rendered to bytes, where the reader reports item ``k``, and the edits
(:class:`Edit`) that break one item. Text is rendered as UTF-8 with lone surrogates written
back as the raw bytes they stand for, so ``"caf\\udce9"`` puts the Latin-1 byte 0xE9 in a file.
"""

from __future__ import annotations

import bz2
import copy
import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from muppet.tasks.spec import LocalSource, TaskSpec, all_tasks

N_ITEMS = 3  # items in a target file
BAD = 1  # the item an edit breaks (the first one stays good)
BAD_BYTE = "\udce9"  # a lone surrogate: rendered as the raw, non-UTF-8 byte 0xE9
BIG = "many invented words " * 55_000  # a 1.1 MB string: valid data, not an error by itself

ANY = "*"  # an edit's field when any field may be named
DELETE = object()  # an edit value: remove the key (or list index)
APPEND = object()  # an edit key: append the value to the list

Files = dict[str, bytes]  # path under the task folder -> content
KeyPath = tuple[Any, ...]


# --------------------------------------------------------------------------- rendering


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def jsonl(items: Sequence[Any]) -> bytes:
    return encode("".join(dumps(item) + "\n" for item in items))


def delimited(rows: Sequence[Sequence[Any]], delimiter: str) -> bytes:
    if delimiter == "\t":  # GLUE-style: unquoted
        return encode("".join("\t".join(map(str, row)) + "\n" for row in rows))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return encode(out.getvalue())


def write_files(root: Path, files: Files) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def edited(item: Any, changes: Sequence[tuple[KeyPath, Any]]) -> Any:
    """A deep copy of ``item`` with each (key path, value) applied."""
    item = copy.deepcopy(item)
    for path, value in changes:
        *parents, last = path
        node = item
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        elif last is APPEND:
            node.append(value)
        else:
            node[last] = value(node[last]) if callable(value) else value
    return item


def bad_bytes(text: Any) -> str:
    return f"{text}{BAD_BYTE} end"


def separators(text: Any) -> str:
    # Characters str.splitlines() takes for line ends; inside a record they are text.
    return f"{text} \u2028 next \x85 line \x1e end"


def big(text: Any) -> str:
    return f"{text} {BIG}"


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Edit:
    """One corruption of item ``BAD`` and what loading must make of it.

    outcome: ``bad`` (a malformed record: strict mode raises, skip mode skips it), ``ok``
    (valid data that must load), ``filtered`` (dropped by the reader on purpose) or ``file``
    (a file unreadable as a whole: both modes raise).
    """

    changes: tuple[tuple[KeyPath, Any], ...] = ()
    field: str | None = None  # the field the error must name (None: the record as a whole; ANY: some field)
    outcome: str = "bad"
    lost: int = 1  # records that skip mode loads fewer than the valid fixture
    skipped: int = 1
    post: Callable[[Files, Case], None] | None = None  # a change to the rendered files instead
    where: Callable[[Case], str] | None = None  # the reported location when not item BAD's


@dataclass
class Case:
    task: str
    spec: TaskSpec
    target: str  # the file edits corrupt, under the task folder
    layout: str  # jsonl | delimited | text | document | xml | bz2 | parquet
    item: Callable[[int], Any]  # valid item k of the target file
    render: Callable[[list[Any]], Files]  # every file of the train split (and side files)
    loc: Callable[[int], str]  # where item k is reported, after the path
    edits: dict[str, Edit] = field(default_factory=dict)
    per_item: int = 1  # canonical records per item
    side: tuple[str, ...] = ()  # files the reader opens beside the target (aligned labels, ...)

    def items(self) -> list[Any]:
        return [self.item(k) for k in range(N_ITEMS)]

    def files(self, edit: Edit | None = None) -> Files:
        items = self.items()
        if edit is not None and edit.changes:
            items[BAD] = edited(items[BAD], edit.changes)
        files = self.render(items)
        if edit is not None and edit.post is not None:
            edit.post(files, self)
        return files

    def where(self, edit: Edit, root: Path) -> str:
        path = root / self.spec.directory
        return f"{path}/{edit.where(self)}" if edit.where else f"{path / self.target}{self.loc(BAD)}"


def line_loc(header: int = 0) -> Callable[[int], str]:
    return lambda k: f":{k + 1 + header}"


def record_loc(k: int) -> str:
    return f" record {k + 1}"


def replace_line(number: int, make: Callable[[bytes], bytes]) -> Callable[[Files, Case], None]:
    """A post-edit replacing the target's line ``number`` (1-based)."""

    def post(files: Files, case: Case) -> None:
        lines = files[case.target].split(b"\n")
        lines[number - 1] = make(lines[number - 1])
        files[case.target] = b"\n".join(lines)

    return post


def jsonl_line_edits(line: int, text_key: str | None = None) -> dict[str, Edit]:
    """Edits that break a JSON line as a whole (no field to name), and one text in it."""
    edits = {
        "truncated_json": Edit(post=replace_line(line, lambda b: b[: len(b) // 2])),
        "not_an_object": Edit(post=replace_line(line, lambda b: b"[1, 2]")),
        "python_literal": Edit(post=replace_line(line, lambda b: b"{'text': 'single quotes'}")),
        "deeply_nested": Edit(post=replace_line(line, lambda b: b"[" * 100_000 + b"]" * 100_000)),
        "nul_bytes": Edit(post=replace_line(line, lambda b: b"\x00" * 8)),
    }
    if text_key is not None:
        # A JSON escape of half a surrogate pair: valid JSON, but not text.
        key = f'"{text_key}": "'.encode()
        post = replace_line(line, lambda b: b.replace(key, key + b"\\ud83d", 1))
        edits["escaped_lone_surrogate"] = Edit(post=post, field=ANY)
    return edits


def text_edits(path: KeyPath, field: str, *, empty: bool = True) -> dict[str, Edit]:
    """Empty text, bytes that are not UTF-8 and a 1 MB string in one text field."""
    edits = {
        "non_utf8": Edit(((path, bad_bytes),), field),
        "big_string": Edit(((path, big),), outcome="ok", lost=0, skipped=0),
        "unicode_line_separators": Edit(((path, separators),), outcome="ok", lost=0, skipped=0),
    }
    if empty:
        edits["empty_string"] = Edit(((path, ""),), field)
    return edits


# --------------------------------------------------------------------------- generic readers

TEXT = {
    "text_a": "The invented sentence number {k} is about a red kite.",
    "text_b": "A second invented text, number {k}.",
    "context": "A short invented story {k}: the dog found a ball in the garden.",
    "question": "What did the dog find in story {k}?",
    "group": "group {k}",
}


def _good_label(spec: TaskSpec, k: int) -> str:
    if spec.local and spec.local.label_map:
        keys = list(spec.local.label_map)
        return keys[k % len(keys)]
    if spec.family == "multiple_choice":
        return str(k % 2)
    if spec.family == "regression":
        return "2.5"
    return spec.labels[k % len(spec.labels)]


def _generic_raw(spec: TaskSpec, k: int) -> dict[str, str]:
    assert spec.local is not None
    raw: dict[str, str] = {}
    for canonical, source in spec.local.columns.items():
        if isinstance(source, tuple):
            for i, name in enumerate(source):
                raw[name] = f"invented option {i} of item {k}"
        elif canonical == "label":
            raw[source] = _good_label(spec, k)
        else:
            raw.setdefault(source, TEXT[canonical].format(k=k))
    return raw


def _generic_edits(spec: TaskSpec, key: Callable[[str], KeyPath]) -> dict[str, Edit]:
    """Field edits for a column-mapped source; ``key(source field)`` addresses it in an item."""
    assert spec.local is not None
    cols = spec.local.columns
    label = key(cols["label"])
    if spec.family in ("classification", "regression"):
        text_field, empty_field = "text_a", "text_a"
        empty_path = key(cols["text_a"])
        bad_label = "9.5" if (spec.family == "regression") else "bogus-label"
    else:  # multiple choice: the question may be empty, an option may not
        text_field, empty_field = "question", "choices"
        empty_path = key(cols["choices"][1])
        bad_label = "7"
    text = key(cols[text_field])
    edits = {
        "label_outside_space": Edit(((label, bad_label),), "label"),
        "non_utf8": Edit(((text, bad_bytes),), text_field),
        "big_string": Edit(((text, big),), outcome="ok", lost=0, skipped=0),
        "unicode_line_separators": Edit(((text, separators),), outcome="ok", lost=0, skipped=0),
        "empty_string": Edit(((empty_path, ""),), empty_field),
    }
    if spec.family == "multiple_choice":
        edits["non_utf8_option"] = Edit(((key(cols["choices"][0]), bad_bytes),), "choices")
    if spec.family == "regression":
        edits["label_not_a_number"] = Edit(((label, "x"),), "label")
        edits["label_nan"] = Edit(((label, "nan"),), "label")
    if spec.local.options.get("skip_empty"):  # SentEval CR: empty reviews are an upstream loss
        edits["empty_string"] = replace(edits["empty_string"], field=None, outcome="filtered", skipped=0)
    return edits


def generic_jsonl_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    files = spec.local.splits["train"]
    edits = _generic_edits(spec, lambda name: (name,))
    pair = spec.family in ("classification", "regression")
    text_src = spec.local.columns["text_a" if pair else "question"]
    edits["missing_field"] = Edit((((text_src,), DELETE),), text_src)
    edits["wrong_type"] = Edit((((text_src,), 17),), "text_a" if pair else "question")
    edits["label_wrong_type"] = Edit((((spec.local.columns["label"],), [1]),), "label")
    edits.update(jsonl_line_edits(BAD + 1, text_src))

    def render(items: list[Any]) -> Files:
        out = {files[0]: jsonl(items)}
        for i, name in enumerate(files[1:], start=1):
            out[name] = jsonl([_generic_raw(spec, 10 * i + k) for k in range(2)])
        return out

    return Case(spec.name, spec, files[0], "jsonl", lambda k: _generic_raw(spec, k), render, line_loc(), edits)


def generic_delimited_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    local = spec.local
    delimiter = "," if local.format == "csv" else "\t"
    header = bool(local.options.get("header", True))
    names = list(local.options.get("fieldnames") or _generic_raw(spec, 0))
    files = local.splits["train"]

    def row(k: int) -> list[str]:
        raw = _generic_raw(spec, k)
        return [raw.get(name, "x") for name in names]

    def render(items: list[Any]) -> Files:
        out = {files[0]: delimited(([names] if header else []) + items, delimiter)}
        for i, name in enumerate(files[1:], start=1):
            out[name] = delimited(([names] if header else []) + [row(10 * i + k) for k in range(2)], delimiter)
        return out

    edits = _generic_edits(spec, lambda name: (names.index(name),))
    edits["too_few_columns"] = Edit((((len(names) - 1,), DELETE),))
    edits["too_many_columns"] = Edit((((APPEND,), "an extra cell"),))
    return Case(spec.name, spec, files[0], "delimited", row, render, line_loc(int(header)), edits)


def label_text_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    name = spec.local.splits["train"][0]

    def item(k: int) -> list[str]:
        return [_good_label(spec, k), TEXT["text_a"].format(k=k)]

    def render(items: list[Any]) -> Files:
        return {name: encode("".join(" ".join(it) + "\n" for it in items))}

    edits = {
        "label_outside_space": Edit((((0,), "7"),), "label"),
        "no_separator": Edit((((1,), DELETE),)),
        "empty_string": Edit((((1,), ""),)),  # "1 " has no text after the label
        **text_edits((1,), "text_a", empty=False),
    }
    return Case(spec.name, spec, name, "text", item, render, line_loc(), edits)


# --------------------------------------------------------------------------- classification readers


def fewglue(spec: TaskSpec, item: Callable[[int], Any], edits: dict[str, Edit], text_key: str) -> Case:
    """SuperGLUE tasks: val.jsonl (the target) + the two FewGLUE files."""

    def render(items: list[Any]) -> Files:
        return {
            "val.jsonl": jsonl(items),
            "fewglue/train.jsonl": jsonl([item(10), item(11)]),
            "fewglue/dev32.jsonl": jsonl([item(20)]),
        }

    edits = {**edits, **jsonl_line_edits(BAD + 1, text_key)}
    return Case(spec.name, spec, "val.jsonl", "jsonl", item, render, line_loc(), edits)


def wic_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {
            "word": "bank",
            "sentence1": f"She sat on the bank of river {k}.",
            "sentence2": f"The bank {k} was closed.",
            "idx": k,
            "label": k % 2 == 0,
        }

    edits = {
        "label_outside_space": Edit(((("label",), "maybe"),), "label"),
        "missing_field": Edit(((("sentence2",), DELETE),), "sentence2"),
        "missing_label": Edit(((("label",), DELETE),), "label"),
        "wrong_type": Edit(((("word",), 3),), "word"),
        "empty_word": Edit(((("word",), " "),), "word"),
        **text_edits(("sentence2",), "text_b"),
    }
    return fewglue(spec, item, edits, "sentence2")


WSC_TEXT = "The owl watched the mouse {k} , because it was hungry."


def wsc_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        target = {"span1_index": 0, "span1_text": "The owl", "span2_index": 8, "span2_text": "it"}
        return {"text": WSC_TEXT.format(k=k), "target": target, "idx": k, "label": True}

    edits = {
        "label_outside_space": Edit(((("label",), "maybe"),), "label"),
        "missing_field": Edit(((("target",), DELETE),), "target"),
        "wrong_type": Edit(((("target", "span1_index"), "zero"),), "target"),
        "span_absent": Edit(((("target", "span1_text"), "The zebra"),), "target"),
        "target_not_object": Edit(((("target",), "owl"),), "target"),
        "empty_string": Edit(((("text",), ""),), "target"),
        "non_utf8": Edit(((("text",), bad_bytes),), "text_a"),
        "big_string": Edit(((("text",), big),), outcome="ok", lost=0, skipped=0),
    }
    return fewglue(spec, item, edits, "text")


def multirc_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        answer = {"text": f"Ann {k}", "idx": 0, "label": k % 2}
        question = {"question": f"Who sang song {k}?", "idx": 0, "answers": [answer]}
        return {"idx": k, "version": 1.1, "passage": {"text": f"Ann {k} sang at home.", "questions": [question]}}

    answer: KeyPath = ("passage", "questions", 0, "answers", 0)
    edits = {
        "label_outside_space": Edit((((*answer, "label"), 7),), "label"),
        "missing_label": Edit((((*answer, "label"), DELETE),), "label"),
        "missing_field": Edit(((("passage", "questions"), DELETE),), "questions"),
        "wrong_type": Edit(((("passage", "questions", 0, "answers"), "Ann"),), "answers"),
        "answer_not_object": Edit(((answer, "Ann"),), "answers"),
        "no_answers": Edit(((("passage", "questions"), []),), "passage"),
        "passage_not_object": Edit(((("passage",), "text"),), "passage"),
        **text_edits(("passage", "text"), "text_a"),
    }
    return fewglue(spec, item, edits, "text")


def mc_taco_case(spec: TaskSpec) -> Case:
    def item(k: int) -> list[str]:
        return [f"Sam baked bread {k}.", "How long did it take?", f"{k + 2} hours", "yes", "Event Duration"]

    def render(items: list[Any]) -> Files:
        return {"dev_3783.tsv": delimited(items, "\t")}

    edits = {
        "label_outside_space": Edit((((3,), "maybe"),), "label"),
        "too_few_columns": Edit((((4,), DELETE),)),
        "too_many_columns": Edit((((APPEND,), "extra"),)),
        **text_edits((0,), "text_a"),
    }
    return Case(spec.name, spec, "dev_3783.tsv", "delimited", item, render, line_loc(), edits)


def ag_news_case(spec: TaskSpec) -> Case:
    def item(k: int) -> list[str]:
        return [str(k % 4 + 1), f"Shares rise {k}", f"Markets, banks gain {k}"]

    def render(items: list[Any]) -> Files:
        return {"test.csv": delimited([["Class Index", "Title", "Description"], *items], ",")}

    edits = {
        "label_outside_space": Edit((((0,), "5"),), "label"),
        "too_few_columns": Edit((((2,), DELETE),)),
        "too_many_columns": Edit((((APPEND,), "extra"),)),
        "empty_string": Edit((((1,), ""), ((2,), " ")), "text_a"),
        "non_utf8": Edit((((2,), bad_bytes),), "text_a"),
        "big_string": Edit((((2,), big),), outcome="ok", lost=0, skipped=0),
    }
    return Case(spec.name, spec, "test.csv", "delimited", item, render, line_loc(1), edits)


# --------------------------------------------------------------------------- multiple choice readers


def copa_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {
            "premise": f"The lawn {k} was wet.",
            "choice1": "It rained.",
            "choice2": "It was sunny.",
            "question": "cause" if k % 2 else "effect",
            "label": k % 2,
            "idx": k,
        }

    def render(items: list[Any]) -> Files:
        return {
            "fewglue/train.jsonl": jsonl(items),
            "fewglue/dev32.jsonl": jsonl([item(10)]),
            "val.jsonl": jsonl([item(20), item(21)]),
        }

    edits = {
        "label_outside_space": Edit(((("label",), 5),), "label"),
        "missing_field": Edit(((("choice1",), DELETE),), "choice1"),
        "bad_question": Edit(((("question",), "because"),), "question"),
        "question_wrong_type": Edit(((("question",), ["cause"]),), "question"),
        "label_unicode_digit": Edit(((("label",), "\u00b2"),), "label"),
        "wrong_type": Edit(((("premise",), 3),), "context"),
        "empty_string": Edit(((("choice2",), ""),), "choices"),
        "non_utf8_option": Edit(((("choice1",), bad_bytes),), "choices"),
        **text_edits(("premise",), "context", empty=False),
        **jsonl_line_edits(BAD + 1, "premise"),
    }
    return Case(spec.name, spec, "fewglue/train.jsonl", "jsonl", item, render, line_loc(), edits)


def piqa_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"goal": f"Eat soup {k}.", "sol1": "Use a spoon.", "sol2": "Use a fork.", "label": str(k % 2)}

    def render(items: list[Any]) -> Files:
        labels = "".join(f"{it['label']}\n" for it in items if "label" in it)
        return {
            "valid.jsonl": jsonl([{k: v for k, v in it.items() if k != "label"} for it in items]),
            "valid-labels.lst": encode(labels),
        }

    def extra_label(files: Files, case: Case) -> None:
        files["valid-labels.lst"] += b"1\n"

    def drop_last_label(files: Files, case: Case) -> None:
        files["valid-labels.lst"] = b"".join(files["valid-labels.lst"].splitlines(keepends=True)[:-1])

    edits = {
        "label_outside_space": Edit(((("label",), "2"),), "label"),
        "label_non_utf8": Edit(((("label",), bad_bytes),), "label"),
        "missing_field": Edit(((("sol1",), DELETE),), "sol1"),
        "wrong_type": Edit(((("goal",), ["Eat"]),), "question"),
        "empty_string": Edit(((("sol2",), ""),), "choices"),
        "non_utf8_option": Edit(((("sol1",), bad_bytes),), "choices"),
        **text_edits(("goal",), "question", empty=False),
        **jsonl_line_edits(BAD + 1, "goal"),
        "labels_too_few": Edit(post=drop_last_label, field="label", where=lambda c: f"valid.jsonl:{N_ITEMS}"),
        "labels_too_many": Edit(
            post=extra_label, field="label", lost=0, where=lambda c: f"valid-labels.lst:{N_ITEMS + 1}"
        ),
    }
    return Case(spec.name, spec, "valid.jsonl", "jsonl", item, render, line_loc(), edits, side=("valid-labels.lst",))


def gkp_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    name = spec.local.splits["train"][0]
    width = 8 if spec.name == "qasc" else 5

    def item(k: int) -> dict[str, Any]:
        cands = [f"thing {i}" for i in range(width)]
        return {"query": f"Where does invented thing {k} live?", "cands": cands, "answer": cands[k % width]}

    def render(items: list[Any]) -> Files:
        return {name: encode(json.dumps(items, ensure_ascii=False, indent=2))}

    edits = {
        "answer_absent": Edit(((("answer",), "no such thing"),), "answer"),
        "missing_field": Edit(((("cands",), DELETE),), "cands"),
        "wrong_type": Edit(((("cands",), "thing 0"),), "cands"),
        "option_wrong_type": Edit(((("cands", 2), 5),), "cands"),
        "empty_string": Edit(((("cands", 2), ""),), "choices"),
        "non_utf8_option": Edit(((("cands", 2), bad_bytes),), "choices"),
        "not_an_object": Edit(post=_list_entry_not_object),
        **text_edits(("query",), "question", empty=False),
    }
    return Case(spec.name, spec, name, "document", item, render, record_loc, edits)


def _list_entry_not_object(files: Files, case: Case) -> None:
    doc = json.loads(files[case.target])
    doc[BAD] = "not an object"
    files[case.target] = encode(dumps(doc))


ARC_OPTIONS = ["ice", "water", "steam", "salt"]


def arc_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    name = spec.local.splits["train"][0]

    def item(k: int) -> list[str]:
        return [f"Which invented thing {k} is a liquid, usually?", *ARC_OPTIONS, "ABCD"[k % 4]]

    def render(items: list[Any]) -> Files:
        return {name: delimited(items, ",")}

    edits = {
        "label_outside_space": Edit((((5,), "F"),), "answer"),
        "label_is_dropped_option": Edit((((4,), ""), ((5,), "D")), "label"),
        "too_few_columns": Edit((((5,), DELETE),)),
        "too_many_columns": Edit((((APPEND,), "extra"),)),
        "empty_string": Edit((((2,), ""),), "choices"),
        "non_utf8_option": Edit((((2,), bad_bytes),), "choices"),
        **text_edits((0,), "question", empty=False),
    }
    return Case(spec.name, spec, name, "delimited", item, render, line_loc(), edits)


def icl_mc_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"query": f"Plants {k} need", "choices": ["light", "noise", "plastic", "glass"], "gold": k % 4}

    def render(items: list[Any]) -> Files:
        return {"openbook_qa.jsonl": jsonl(items)}

    edits = {
        "label_outside_space": Edit(((("gold",), 9),), "label"),
        "label_wrong_type": Edit(((("gold",), "x"),), "label"),
        "label_infinite": Edit(((("gold",), float("inf")),), "label"),
        "label_non_ascii_letter": Edit(((("gold",), "\u00df"),), "label"),
        "missing_field": Edit(((("choices",), DELETE),), "choices"),
        "wrong_type": Edit(((("choices",), "light"),), "choices"),
        "empty_string": Edit(((("choices", 1), ""),), "choices"),
        "non_utf8_option": Edit(((("choices", 1), bad_bytes),), "choices"),
        **text_edits(("query",), "question", empty=False),
        **jsonl_line_edits(BAD + 1, "query"),
    }
    return Case(spec.name, spec, "openbook_qa.jsonl", "jsonl", item, render, line_loc(), edits)


def icl_partial_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    name = spec.local.splits["train"][0]

    def item(k: int) -> dict[str, Any]:
        options = [
            f"The cup {k} fell off the shelf because the cup",
            f"The cup {k} fell off the shelf because the shelf",
        ]
        return {"context_options": options, "continuation": "was tilted.", "gold": k % 2}

    def render(items: list[Any]) -> Files:
        return {name: jsonl(items)}

    edits = {
        "label_outside_space": Edit(((("gold",), 2),), "label"),
        "missing_field": Edit(((("continuation",), DELETE),), "continuation"),
        "wrong_type": Edit(((("context_options",), "cup"),), "context_options"),
        "empty_string": Edit(((("continuation",), ""),), "continuation"),
        "empty_option": Edit(((("context_options", 1), ""),), "context_options"),
        "non_utf8": Edit(((("continuation",), bad_bytes),), "choices"),
        "big_string": Edit(((("continuation",), big),), outcome="ok", lost=0, skipped=0),
        **jsonl_line_edits(BAD + 1, "continuation"),
    }
    return Case(spec.name, spec, name, "jsonl", item, render, line_loc(), edits)


def race_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        doc = {
            "answers": ["ABCD"[k % 4]],
            "options": [["red", "blue", "green", "black"]],
            "questions": [f"What colour is kite {k}?"],
            "article": f"Tom {k} has a red kite.",
            "id": f"{k}.txt",
        }
        return {"file": f"train/high/{k}.txt", "text": doc}

    def line(it: dict[str, Any]) -> dict[str, Any]:
        if isinstance(it.get("text"), dict):
            return {**it, "text": dumps(it["text"])}
        return it

    def render(items: list[Any]) -> Files:
        return {"train_high.jsonl": jsonl([line(it) for it in items]), "train_middle.jsonl": jsonl([line(item(10))])}

    edits = {
        "label_outside_space": Edit(((("text", "answers", 0), "E"),), "label"),
        "missing_field": Edit(((("file",), DELETE),), "file"),
        "truncated_inner_json": Edit(((("text",), lambda doc: dumps(doc)[:40]),), "text"),
        "inner_not_object": Edit(((("text",), "[1, 2]"),), "text"),
        "wrong_type": Edit(((("text", "questions"), "What?"),), "questions"),
        "length_mismatch": Edit(((("text", "answers", APPEND), "B"),), "answers"),
        "empty_string": Edit(((("text", "options", 0, 1), ""),), "choices"),
        "non_utf8_option": Edit(((("text", "options", 0, 1), bad_bytes),), "choices"),
        **text_edits(("text", "article"), "context", empty=False),
        **jsonl_line_edits(BAD + 1),
    }
    return Case(spec.name, spec, "train_high.jsonl", "jsonl", item, render, line_loc(), edits)


def mctest_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        questions = [
            {"q": f"one: Question {q} on story {k}?", "options": ["cat", "dog", "bird", "fish"], "answer": "ABCD"[q]}
            for q in range(4)
        ]
        return {"id": f"mc160.train.{k}", "story": f"Sam had a cat {k}.\\newlineThe cat slept.", "questions": questions}

    def story(it: dict[str, Any]) -> str:
        cells = [it["id"], "Author: 1;Work Time(s): 10", it["story"]]
        for q in it["questions"]:
            cells += [q["q"], *q["options"]]
        return "\t".join(cells) + "\r\n"

    def answers(it: dict[str, Any]) -> str:
        return "\t".join(q["answer"] for q in it["questions"] if "answer" in q) + "\r\n"

    def render(items: list[Any]) -> Files:
        other = [item(10)]
        return {
            "mc160.train.tsv": encode("".join(map(story, items))),
            "mc160.train.ans": encode("".join(map(answers, items))),
            "mc500.train.tsv": encode("".join(map(story, other))),
            "mc500.train.ans": encode("".join(map(answers, other))),
        }

    def drop_last_answers(files: Files, case: Case) -> None:
        files["mc160.train.ans"] = b"".join(files["mc160.train.ans"].splitlines(keepends=True)[:-1])

    def extra_answers(files: Files, case: Case) -> None:
        files["mc160.train.ans"] += b"A\tB\tC\tD\r\n"

    first: KeyPath = ("questions", 0)
    edits = {
        "label_outside_space": Edit((((*first, "answer"), "X"),), "label"),
        "answers_too_few": Edit((((*first, "answer"), DELETE),), "label", lost=4),
        "too_few_columns": Edit((((*first, "options"), ["cat", "dog", "bird"]),), lost=4),
        "empty_string": Edit((((*first, "options", 2), ""),), "choices"),
        "non_utf8_option": Edit((((*first, "options", 2), bad_bytes),), "choices"),
        "non_utf8": Edit((((*first, "q"), bad_bytes),), "question"),
        "big_string": Edit(((("story",), big),), outcome="ok", lost=0, skipped=0),
        "unicode_line_separators": Edit(((("story",), separators),), outcome="ok", lost=0, skipped=0),
        "answer_lines_too_few": Edit(
            post=drop_last_answers, field="label", lost=4, where=lambda c: f"mc160.train.tsv:{N_ITEMS}"
        ),
        "answer_lines_too_many": Edit(
            post=extra_answers, field="label", lost=0, where=lambda c: f"mc160.train.ans:{N_ITEMS + 1}"
        ),
    }
    return Case(
        spec.name, spec, "mc160.train.tsv", "text", item, render, line_loc(), edits, 4, side=("mc160.train.ans",)
    )


def _quail_a(i: int, option: str, correct: Any) -> str:
    mark = "" if correct is None else f' correct="{correct}"'
    return f'    <a id="{i}"{mark}>{option}</a>\n'


def quail_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        q = {"id": "0", "text": "What did the farmer plant?", "options": [f"option {i}" for i in range(4)]}
        q["correct"] = ["True" if i == k % 4 else "False" for i in range(4)]
        return {"id": f"n{k}", "body": f"A farmer {k} planted corn.\nIt rained for a week.", "questions": [q]}

    def text(it: dict[str, Any]) -> str:
        qs = ""
        for q in it["questions"] or []:
            answers = "".join(_quail_a(i, o, c) for i, (o, c) in enumerate(zip(q["options"], q["correct"])))
            qs += f'   <q id="{q["id"]}">\n    {q["text"]}\n{answers}   </q>\n'
        questions = f"  <questions>\n{qs}  </questions>\n" if it["questions"] is not None else ""
        return f' <text id="{it["id"]}">\n  <text_body>\n{it["body"]}\n  </text_body>\n{questions} </text>\n'

    def render(items: list[Any]) -> Files:
        return {
            "quail_1.3_dev_randomized.xml": encode("<data>\n" + "".join(map(text, items)) + "</data>\n"),
            "quail_1.3_challenge_randomized.xml": encode("<data>\n" + text(item(10)) + "</data>\n"),
        }

    first: KeyPath = ("questions", 0)
    edits = {
        "no_correct_option": Edit((((*first, "correct"), ["False", None, "False", "False"]),), "label"),
        "two_correct_options": Edit((((*first, "correct"), ["True", "True", "False", "False"]),), "label"),
        "no_questions": Edit(((("questions",), None),)),
        "empty_string": Edit((((*first, "options", 1), ""),), "choices"),
        "big_string": Edit(((("body",), big),), outcome="ok", lost=0, skipped=0),
    }
    return Case(spec.name, spec, "quail_1.3_dev_randomized.xml", "xml", item, render, record_loc, edits)


def hellaswag_case(spec: TaskSpec) -> Case:
    def item(k: int) -> list[str]:
        return [f"Baking cookies: A man {k} takes a bowl. he", str(k % 4), "mixes.", "eats.", "flies.", "paints."]

    def render(items: list[Any]) -> Files:
        lines = [line for it in items for line in it]
        return {"hellaswag_val_full.txt.bz2": bz2.compress(encode("\n".join(lines) + "\n"))}

    edits = {
        "label_outside_space": Edit((((1,), "7"),), "label"),
        "label_wrong_type": Edit((((1,), "seven"),), "label"),
        "label_unicode_digit": Edit((((1,), "\u00b2"),), "label"),
        "empty_string": Edit((((3,), ""),), "choices"),
        "non_utf8_option": Edit((((3,), bad_bytes),), "choices"),
        **text_edits((0,), "context", empty=False),
    }
    return Case(spec.name, spec, "hellaswag_val_full.txt.bz2", "bz2", item, render, lambda k: f":{6 * k + 1}", edits)


# --------------------------------------------------------------------------- extractive QA readers

QA_CONTEXT = "The lighthouse keeper {k} painted the tower blue in 1902. Visitors came by ferry."


def squad_case(spec: TaskSpec) -> Case:
    assert spec.local is not None
    name = spec.local.splits["train"][0]

    def item(k: int) -> dict[str, Any]:
        context = QA_CONTEXT.format(k=k)
        answer = {"text": "blue", "answer_start": context.index("blue")}
        return {"context": context, "qas": [{"id": f"q{k}", "question": "What colour?", "answers": [answer]}]}

    def render(items: list[Any]) -> Files:
        doc = {"version": "1.1", "data": [{"title": "Invented", "paragraphs": items}]}
        return {name: encode(json.dumps(doc, ensure_ascii=False))}

    qa: KeyPath = ("qas", 0)
    answer: KeyPath = (*qa, "answers", 0)
    unanswerable = bool(spec.options.get("unanswerable"))
    edits = {
        "answer_offset_wrong": Edit((((*answer, "answer_start"), lambda s: s + 3),), "answers"),
        "answer_offset_missing": Edit((((*answer, "answer_start"), DELETE),), "answers"),
        "answer_offset_not_int": Edit((((*answer, "answer_start"), "12"),), "answers"),
        "answer_offset_negative": Edit(
            (((*answer, "answer_start"), lambda s: s - len(QA_CONTEXT.format(k=BAD))),), "answers"
        ),
        "answer_offset_past_end": Edit((((*answer, "answer_start"), 10_000),), "answers"),
        "answer_absent": Edit((((*answer, "text"), "green"),), "answers"),
        "answer_empty": Edit((((*answer, "text"), ""),), "answers"),
        "answers_wrong_type": Edit((((*qa, "answers"), "blue"),), "answers"),
        "answer_not_object": Edit(((answer, "blue"),), "answers"),
        "impossible_with_answers": Edit((((*qa, "is_impossible"), True),), "answers"),
        "unanswerable": (
            Edit((((*qa, "answers"), []),), outcome="ok", lost=0, skipped=0)
            if unanswerable
            else Edit((((*qa, "answers"), []),), "answers")
        ),
        "missing_field": Edit((((*qa, "question"), DELETE),), "question"),
        "missing_id": Edit((((*qa, "id"), DELETE),), "id"),
        "empty_string": Edit((((*qa, "question"), " "),), "question"),
        "question_not_object": Edit(((qa, "What colour?"),)),
        "paragraph_without_qas": Edit(((("qas",), DELETE),)),
        "context_wrong_type": Edit(((("context",), ["The lighthouse"]),)),
        "non_utf8": Edit((((*qa, "question"), bad_bytes),), "question"),
        "non_utf8_context": Edit(((("context",), bad_bytes),), "context"),
        "big_string": Edit(((("context",), big),), outcome="ok", lost=0, skipped=0),
    }
    return Case(spec.name, spec, name, "document", item, render, record_loc, edits)


NQ_PARA = "The Silver Otters {k} are a rowing club . Its founders were Ada Moss and Ben Hale , in 1931 ."
NQ_SHARDS = [f"nq-train-0{i}-qed.jsonlines" for i in range(6)]


def qed_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        para = NQ_PARA.format(k=k)
        start = para.index("1931")
        return {
            "example_id": 100 + k,
            "paragraph_text": para,
            "question_text": "when was the club founded",
            "answer_spans": [[start, start + 4]],
            "answer_text": ["1931"],
        }

    def render(items: list[Any]) -> Files:
        files = {NQ_SHARDS[0]: jsonl(items)}
        files.update({name: jsonl([item(10 + i)]) for i, name in enumerate(NQ_SHARDS[1:])})
        return files

    span: KeyPath = ("answer_spans", 0)
    edits = {
        "answer_offset_wrong": Edit((((*span, 0), lambda s: s + 2),), "answers"),
        "answer_offset_past_end": Edit(((span, [80, 500]),), "answers"),
        "answer_offset_negative": Edit(((span, [-5, -1]),), "answers"),
        "answer_offset_not_int": Edit(((span, ["80", "84"]),), "answers"),
        "answer_offset_missing": Edit(((("answer_spans",), DELETE),), "answers"),
        "answer_absent": Edit(((("answer_text", 0), "1066"),), "answers"),
        "span_count_mismatch": Edit(((("answer_text", APPEND), "Ada"),), "answers"),
        "span_wrong_type": Edit(((span, 80),), "answers"),
        "no_span_marker": Edit(((span, [-1, -1]), (("answer_text", 0), "")), outcome="filtered", skipped=0),
        "missing_field": Edit(((("paragraph_text",), DELETE),), "context"),
        "missing_id": Edit(((("example_id",), DELETE),), "example_id"),
        "empty_string": Edit(((("question_text",), ""),), "question"),
        "non_utf8": Edit(((("question_text",), bad_bytes),), "question"),
        "non_utf8_context": Edit(((("paragraph_text",), bad_bytes),), "context"),
        "big_string": Edit(((("paragraph_text",), big),), outcome="ok", lost=0, skipped=0),
        **jsonl_line_edits(BAD + 1, "question_text"),
    }
    return Case(spec.name, spec, NQ_SHARDS[0], "jsonl", item, render, line_loc(), edits)


# --------------------------------------------------------------------------- summarization readers


def samsum_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"id": f"s{k}", "dialogue": f"Ivo: lunch at {k}?\r\nPia: sure", "summary": f"Ivo and Pia meet at {k}."}

    def render(items: list[Any]) -> Files:
        return {"validation.json": encode(dumps(items)), "test.json": encode(dumps([item(10), item(11)]))}

    def test_truncated(files: Files, case: Case) -> None:
        files["test.json"] = files["test.json"][:30]

    edits = {
        "missing_field": Edit(((("summary",), DELETE),), "summary"),
        "wrong_type": Edit(((("dialogue",), 5),), "dialogue"),
        "empty_string": Edit(((("summary",), " "),), "summary"),
        "not_an_object": Edit(post=_list_entry_not_object),
        "in_test_file": Edit(((("dialogue",), item(10)["dialogue"]),), outcome="filtered", skipped=0),
        **text_edits(("dialogue",), "document", empty=False),
        "sibling_truncated": Edit(post=test_truncated, outcome="file", where=lambda c: "test.json:1"),
    }
    return Case(spec.name, spec, "validation.json", "document", item, render, record_loc, edits, side=("test.json",))


def dialogsum_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {
            "fname": f"train_{k}",
            "dialogue": f"#Person1#: Tea {k}?\n#Person2#: Yes.",
            "summary": "Tea.",
            "topic": "t",
        }

    def render(items: list[Any]) -> Files:
        return {"dialogsum.train.jsonl": jsonl(items)}

    edits = {
        "missing_field": Edit(((("dialogue",), DELETE),), "dialogue"),
        "missing_summary": Edit(((("summary",), DELETE),), "summary1"),
        "wrong_type": Edit(((("summary",), 5),), "summary"),
        "empty_string": Edit(((("summary",), ""),), "summary"),
        **text_edits(("dialogue",), "document", empty=False),
        **jsonl_line_edits(BAD + 1, "dialogue"),
    }
    return Case(spec.name, spec, "dialogsum.train.jsonl", "jsonl", item, render, line_loc(), edits)


def aeslc_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"file": f"kim_{k}.subject", "body": f"Hi team, the trip {k} moves.\nThanks,", "subject": f"Trip {k}"}

    def line(it: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in it.items() if k not in ("body", "subject")}
        if "body" in it and "subject" in it:
            out["text"] = f"{it['body']}\n\n@subject\n{it['subject']}"
        return out

    def render(items: list[Any]) -> Files:
        return {"train.jsonl": jsonl([line(it) for it in items])}

    edits = {
        "no_subject": Edit(((("body",), DELETE), (("subject",), DELETE), (("text",), "No subject.")), "text"),
        "missing_field": Edit(((("body",), DELETE), (("subject",), DELETE)), "text"),
        "wrong_type": Edit(((("body",), DELETE), (("subject",), DELETE), (("text",), 5)), "text"),
        "multi_line_subject": Edit(((("subject",), "two\nlines"),), "summary"),
        "empty_string": Edit(((("subject",), " "),), "summary"),
        "non_utf8_file_name": Edit(((("body",), DELETE), (("subject",), DELETE), (("file",), bad_bytes)), "text"),
        **text_edits(("body",), "document", empty=False),
        **jsonl_line_edits(BAD + 1, "text"),
    }
    return Case(spec.name, spec, "train.jsonl", "jsonl", item, render, line_loc(), edits)


def xsum_extract(k: int) -> dict[str, str]:
    text = (
        f"[XSUM]URL[XSUM]\nhttp://example.org/news/{500 + k}\n\n[XSUM]INTRODUCTION[XSUM]\nA bakery {k} won.\n\n"
        "[XSUM]RESTBODY[XSUM]\nThe bakery won.\n"
    )
    return {"file": f"xsum-extracts-from-downloads_Leftover/{500 + k}.data", "split": "test", "text": text}


def xsum_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"document": f"A kite festival {k} drew crowds.", "summary": "Kites flew.", "id": str(100 + k)}

    def render(items: list[Any]) -> Files:
        return {
            "xsum-1000.jsonl": jsonl(items),
            "xsum-extracts-from-downloads.jsonl": jsonl([xsum_extract(0), xsum_extract(1)]),
        }

    edits = {
        "missing_field": Edit(((("summary",), DELETE),), "summary"),
        # The reader names 'summary' for a missing id (test_catalog_summarization pins that message).
        "missing_id": Edit(((("id",), DELETE),), ANY),
        "wrong_type": Edit(((("document",), 5),), "document"),
        "empty_string": Edit(((("summary",), ""),), "summary"),
        "bad_extract": Edit(((("text",), "no markers"), (("file",), "x/104.data")), "text"),
        "bad_extract_name": Edit(((("text",), "no markers"), (("file",), "notes.txt")), "file"),
        **text_edits(("document",), "document", empty=False),
        **jsonl_line_edits(BAD + 1, "document"),
    }
    return Case(spec.name, spec, "xsum-1000.jsonl", "jsonl", item, render, line_loc(), edits)


# --------------------------------------------------------------------------- user-defined tasks

# Generic readers with a column mapping, as a YAML task file declares them: every family, and
# the formats no catalogue task uses (json, parquet).
USER_SPECS = (
    TaskSpec(
        "user_qa",
        "extractive_qa",
        local=LocalSource(
            "jsonl", {"train": ("train.jsonl",)}, columns={"context": "c", "question": "q", "answers": "a"}
        ),
    ),
    TaskSpec(
        "user_mc",
        "multiple_choice",
        local=LocalSource(
            "json",
            {"train": ("train.json",)},
            columns={"question": "q", "choices": "o", "label": "y"},
            options={"key": "rows"},
        ),
    ),
    TaskSpec("user_mmlu", "multiple_choice", local=LocalSource("mmlu_csv", {"train": ("train.csv",)})),
    TaskSpec(
        "user_summaries",
        "summarization",
        local=LocalSource("parquet", {"train": ("train.parquet",)}, columns={"document": "doc", "summary": "sum"}),
    ),
)


def user_qa_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        context = QA_CONTEXT.format(k=k)
        return {"c": context, "q": "What colour?", "a": {"text": ["blue"], "answer_start": [context.index("blue")]}}

    edits = {
        "answer_offset_wrong": Edit(((("a", "answer_start", 0), lambda s: s + 3),), "answers"),
        "answer_offset_negative": Edit(
            ((("a", "answer_start", 0), lambda s: s - len(QA_CONTEXT.format(k=BAD))),), "answers"
        ),
        "answer_offset_infinite": Edit(((("a", "answer_start", 0), float("inf")),), "answers"),
        "answer_offset_not_int": Edit(((("a", "answer_start", 0), "twelve"),), "answers"),
        "answer_offset_missing": Edit(((("a", "answer_start"), DELETE),), "answers"),
        "answer_absent": Edit(((("a", "text", 0), "green"),), "answers"),
        "answer_texts_not_a_list": Edit(((("a", "text"), 5),), "answers"),
        "answers_wrong_type": Edit(((("a",), "blue"),), "answers"),
        "no_answer": Edit(((("a",), {"text": [], "answer_start": []}),), "answers"),
        "missing_field": Edit(((("q",), DELETE),), "q"),
        "non_utf8_answer": Edit(((("a", "text", 0), bad_bytes),), "answers"),
        **text_edits(("q",), "question"),
        **jsonl_line_edits(BAD + 1, "q"),
    }
    return Case(
        spec.name, spec, "train.jsonl", "jsonl", item, lambda items: {"train.jsonl": jsonl(items)}, line_loc(), edits
    )


def user_mc_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"q": f"Plants {k} need", "o": ["light", "noise", "glass"], "y": k % 3}

    def render(items: list[Any]) -> Files:
        return {"train.json": encode(dumps({"rows": items}))}

    edits = {
        "label_outside_space": Edit(((("y",), 3),), "label"),
        "label_unicode_digit": Edit(((("y",), "\u00b2"),), "label"),
        "label_non_ascii_letter": Edit(((("y",), "\u00df"),), "label"),
        "label_nan": Edit(((("y",), float("nan")),), "label"),
        "options_wrong_type": Edit(((("o",), "light"),), "choices"),
        "one_option": Edit(((("o",), ["light"]),), "choices"),
        "empty_string": Edit(((("o", 1), ""),), "choices"),
        "non_utf8_option": Edit(((("o", 1), bad_bytes),), "choices"),
        "missing_field": Edit(((("o",), DELETE),), "o"),
        **text_edits(("q",), "question", empty=False),
    }
    return Case(spec.name, spec, "train.json", "document", item, render, record_loc, edits)


def parquet(rows: Sequence[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(list(rows)), out, compression="none")  # texts stay findable
    return out.getvalue()


def _patch(name: str, old: bytes, new: bytes) -> Callable[[Files, Case], None]:
    def post(files: Files, case: Case) -> None:
        assert old in files[name]
        files[name] = files[name].replace(old, new)

    return post


def user_summaries_case(spec: TaskSpec) -> Case:
    def item(k: int) -> dict[str, Any]:
        return {"doc": f"A kite festival {k} drew crowds.", "sum": "Kites flew."}

    edits = {
        "missing_value": Edit(((("sum",), None),), "summary"),
        "empty_string": Edit(((("sum",), " "),), "summary"),
        "big_string": Edit(((("doc",), big),), outcome="ok", lost=0, skipped=0),
        "unicode_line_separators": Edit(((("doc",), separators),), outcome="ok", lost=0, skipped=0),
        # Parquet does not check that a text cell is UTF-8; the bytes are patched in place.
        "non_utf8": Edit(post=_patch("train.parquet", b"A kite festival 1", b"\xe9 kite festival 1"), field="doc"),
    }
    render = lambda items: {"train.parquet": parquet(items)}  # noqa: E731
    return Case(spec.name, spec, "train.parquet", "parquet", item, render, record_loc, edits)


# --------------------------------------------------------------------------- the registry

SPECIAL: dict[str, Callable[[TaskSpec], Case]] = {
    "superglue_wic": wic_case,
    "superglue_wsc": wsc_case,
    "superglue_multirc": multirc_case,
    "mc_taco_tsv": mc_taco_case,
    "ag_news_csv": ag_news_case,
    "copa": copa_case,
    "jsonl_label_file": piqa_case,
    "gkp_json": gkp_case,
    "arc": arc_case,
    "icl_mc": icl_mc_case,
    "icl_partial": icl_partial_case,
    "race_packed": race_case,
    "mctest_tsv": mctest_case,
    "quail_xml": quail_case,
    "hellaswag_txt": hellaswag_case,
    "squad_json": squad_case,
    "qed_jsonl": qed_case,
    "samsum_json": samsum_case,
    "dialogsum_jsonl": dialogsum_case,
    "aeslc_jsonl": aeslc_case,
    "xsum_jsonl": xsum_case,
}
GENERIC: dict[str, Callable[[TaskSpec], Case]] = {
    "jsonl": generic_jsonl_case,
    "lmbff_jsonl": generic_jsonl_case,
    "tsv": generic_delimited_case,
    "csv": generic_delimited_case,
    "label_text": label_text_case,
}


USER: dict[str, Callable[[TaskSpec], Case]] = {
    "user_mmlu": arc_case,
    "user_qa": user_qa_case,
    "user_mc": user_mc_case,
    "user_summaries": user_summaries_case,
}


def case_for(spec: TaskSpec) -> Case:
    assert spec.local is not None
    builder = USER.get(spec.name) or SPECIAL.get(spec.local.format) or GENERIC[spec.local.format]
    return builder(spec)


# The built-in catalogue, as imported at collection time: tests register tiny and file tasks
# later, which are not part of the corpus.
BUILTIN = frozenset(spec.name for spec in all_tasks())


def local_tasks() -> list[TaskSpec]:
    return [spec for spec in all_tasks() if spec.local is not None and spec.name in BUILTIN]
