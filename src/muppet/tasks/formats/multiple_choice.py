"""Readers for multiple-choice sources whose files need more than a column mapping.

Each reader yields records that already carry the canonical multiple-choice fields
(``context``, ``question``, ``choices``, ``label`` and, where records share a passage,
``group``), so the task declares no ``columns``. Options and labels are left to the family's
``make_record`` to validate (empty option, label out of range), so that every problem is
reported with its file and line.
"""

from __future__ import annotations

import bz2
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from muppet.errors import DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw, read_text, split_lines, text_lines
from muppet.tasks.formats.common import read_csv, read_json_list, read_jsonl, shown

Item = tuple[Loc, "Raw | BadRecord"]

# COPA asks for the cause or the effect of the premise; the word alone reads poorly as a stem.
COPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}


def _missing(raw: Raw, names: Sequence[str]) -> str | None:
    return next((name for name in names if name not in raw), None)


@FORMATS.add("copa")
def read_copa(path: Path) -> Iterator[Item]:
    """SuperGLUE COPA jsonl {premise, choice1, choice2, question: cause|effect, label}."""
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        missing = _missing(raw, ("premise", "choice1", "choice2", "question", "label"))
        if missing:
            yield loc, BadRecord("missing field", missing)
        elif not isinstance(raw["question"], str) or raw["question"] not in COPA_QUESTIONS:
            yield loc, BadRecord(f"question must be 'cause' or 'effect', got {raw['question']!r}", "question")
        else:
            yield loc, {
                "context": raw["premise"],
                "question": COPA_QUESTIONS[raw["question"]],
                "choices": [raw["choice1"], raw["choice2"]],
                "label": raw["label"],
            }


@FORMATS.add("jsonl_label_file")
def read_jsonl_label_file(path: Path, labels: str) -> Iterator[Item]:
    """JSON lines plus an aligned file (``labels``, same folder) with one label per line (PIQA)."""
    label_path = path.parent / labels
    if not label_path.is_file():
        raise DataError(f"{path}: its label file {label_path} is missing")
    label_lines = [line.strip() for _, line in text_lines(label_path)]
    # Trailing blank lines in the label file are not labels.
    while label_lines and not label_lines[-1]:
        label_lines.pop()
    count = 0
    for loc, obj in read_jsonl(path):
        count += 1  # the label file is aligned with the records, malformed ones included
        if isinstance(obj, BadRecord):
            yield loc, obj
        elif count > len(label_lines):
            yield loc, BadRecord(f"no label: {label_path.name} has only {len(label_lines)} line(s)", "label")
        else:
            yield loc, {**obj, "label": label_lines[count - 1]}
    if len(label_lines) > count:
        yield Loc(str(label_path), line=count + 1), BadRecord(
            f"{len(label_lines) - count} label(s) more than the {count} record(s) of {path.name}", "label"
        )


def _answer_index(candidates: list[str], answer: Any) -> int | None:
    return candidates.index(answer) if answer in candidates else None


@FORMATS.add("gkp_json")
def read_gkp_json(path: Path) -> Iterator[Item]:
    """Generated-Knowledge-Prompting JSON list {query, cands, answer (text of the gold option)}.

    A few CommonsenseQA items repeat a candidate verbatim (sometimes the answer itself). Two
    identical options can never be told apart and would train one row up and its twin down,
    so repeats are dropped (first occurrence kept) and the label is the answer's index among
    the remaining options, i.e. the first matching candidate.
    """
    for loc, obj in read_json_list(path):
        if isinstance(obj, BadRecord):
            yield loc, obj
            continue
        missing = _missing(obj, ("query", "cands", "answer"))
        if missing:
            yield loc, BadRecord("missing field", missing)
            continue
        if not isinstance(obj["cands"], list) or not all(isinstance(c, str) for c in obj["cands"]):
            yield loc, BadRecord("expected a list of candidate texts", "cands")
            continue
        choices = list(dict.fromkeys(obj["cands"]))
        index = _answer_index(choices, obj["answer"])
        if index is None:
            yield loc, BadRecord(f"answer {obj['answer']!r} is not one of the candidates", "answer")
            continue
        # Some questions recur with other candidates; the group keeps them on one side of a split.
        yield loc, {"question": obj["query"], "choices": choices, "label": index, "group": obj["query"]}


MMLU_FIELDS = ("question", "A", "B", "C", "D", "answer")
# Answer keys as written in the MMLU-style ARC files: letters, or digits for items that
# were numbered 1-4 in the original ARC release.
MMLU_KEYS = {"A": 0, "B": 1, "C": 2, "D": 3, "1": 0, "2": 1, "3": 2, "4": 3}


@FORMATS.add("mmlu_csv")
def read_mmlu_csv(path: Path) -> Iterator[Item]:
    """Headerless ``question,A,B,C,D,answer`` CSV (the ARC copies of an MMLU-style harness).

    Upstream losses filtered on purpose (counted in the task descriptions):
    * every option is empty: the converter lost the options of the items whose answer key
      is a digit (1-4), so nothing is left to choose from;
    * answer ``E``: the converter kept only four options, so the gold fifth option is gone.
    A 3-option item has an empty D, which is dropped; any other empty option is an error.
    """
    for loc, raw in read_csv(path, header=False, fieldnames=MMLU_FIELDS):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        options = [raw[key] for key in "ABCD"]
        key = raw["answer"].strip()
        if not any(option.strip() for option in options) or key == "E":
            continue
        if not options[3].strip():
            options = options[:3]
        if key not in MMLU_KEYS:
            yield loc, BadRecord(f"answer key {key!r} is not one of A-D or 1-4", "answer")
            continue
        yield loc, {"question": raw["question"], "choices": options, "label": MMLU_KEYS[key]}


@FORMATS.add("icl_mc")
def read_icl_mc(path: Path, query_prefix: str = "") -> Iterator[Item]:
    """llm-foundry in-context-learning jsonl {query, choices, gold}.

    ``query_prefix`` (e.g. ``"Question: "``) is the harness's prompt scaffolding, removed
    where present so the question reads as in the original dataset.
    """
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        missing = _missing(raw, ("query", "choices", "gold"))
        if missing:
            yield loc, BadRecord("missing field", missing)
            continue
        query = raw["query"]
        if query_prefix and isinstance(query, str) and query.startswith(query_prefix):
            query = query[len(query_prefix) :]
        yield loc, {"question": query, "choices": raw["choices"], "label": raw["gold"], "group": query}


@FORMATS.add("arc")
def read_arc(path: Path) -> Iterator[Item]:
    """ARC as stored here: MMLU-style CSVs for train/dev, llm-foundry jsonl for test."""
    if path.suffix == ".jsonl":
        return read_icl_mc(path, query_prefix="Question: ")
    return read_mmlu_csv(path)


def _join_sentence(left: str, right: str) -> str:
    """``left + " " + right``, without a space before closing punctuation."""
    left, right = left.rstrip(), right.lstrip()
    if right[:1] in tuple(".,;:!?'\")"):
        return left + right
    return f"{left} {right}"


@FORMATS.add("icl_partial")
def read_icl_partial(path: Path) -> Iterator[Item]:
    """llm-foundry partial-scoring jsonl {context_options, continuation, gold} (WinoGrande, WSC273).

    Each option is the whole sentence (context option + shared continuation), encoded alone:
    the model compares complete readings, as in the original schema task. The two twin
    sentences of a schema share their context options, which become the group.
    """
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        missing = _missing(raw, ("context_options", "continuation", "gold"))
        if missing:
            yield loc, BadRecord("missing field", missing)
            continue
        options, continuation = raw["context_options"], raw["continuation"]
        if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
            yield loc, BadRecord("expected a list of non-empty texts", "context_options")
            continue
        if not isinstance(continuation, str) or not continuation.strip():
            yield loc, BadRecord("empty or not text", "continuation")
            continue
        yield loc, {
            "context": "",
            "question": "",
            "choices": [_join_sentence(o, continuation) for o in options],
            "label": raw["gold"],
            "group": " | ".join(options),
        }


def _race_questions(loc: Loc, doc: Any, name: str) -> Iterator[Item]:
    if not isinstance(doc, dict):
        yield loc, BadRecord(f"{name}: expected a JSON object, got {type(doc).__name__}", "text")
        return
    missing = _missing(doc, ("article", "questions", "options", "answers"))
    if missing:
        yield loc, BadRecord(f"{name}: missing field", missing)
        return
    questions, options, answers = doc["questions"], doc["options"], doc["answers"]
    if not all(isinstance(v, list) for v in (questions, options, answers)):
        yield loc, BadRecord(f"{name}: questions, options and answers must be lists", "questions")
        return
    if not len(questions) == len(options) == len(answers):
        reason = f"{name}: {len(questions)} questions, {len(options)} option lists, {len(answers)} answers"
        yield loc, BadRecord(reason, "answers")
        return
    for question, choices, answer in zip(questions, options, answers):
        yield loc, {"context": doc["article"], "question": question, "choices": choices, "label": answer, "group": name}


@FORMATS.add("race_packed")
def read_race_packed(path: Path) -> Iterator[Item]:
    """RACE packed as jsonl {file, text}: ``text`` is one original passage file (JSON with
    article, questions, options, answers); one record per question, grouped by passage file."""
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        missing = _missing(raw, ("file", "text"))
        if missing:
            yield loc, BadRecord("missing field", missing)
            continue
        name = shown(raw["file"])
        try:
            doc = json.loads(raw["text"])
        except (json.JSONDecodeError, TypeError, RecursionError) as exc:
            yield loc, BadRecord(f"{name}: invalid JSON in text ({str(exc)[:120]})", "text")
            continue
        yield from _race_questions(loc, doc, name)


MCTEST_QUESTIONS = 4
MCTEST_COLUMNS = 3 + MCTEST_QUESTIONS * 5
MCTEST_PREFIXES = ("one:", "multiple:")
MCTEST_LETTERS = ("A", "B", "C", "D")


def _mctest_text(value: str) -> str:
    return value.replace("\\newline", "\n")


def _mctest_question(value: str) -> str:
    # "one:"/"multiple:" say how many story sentences the question needs; not question text.
    for prefix in MCTEST_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :].strip()
    return value.strip()


def _mctest_answers(path: Path, answers_suffix: str) -> list[list[str]]:
    ans_path = path.with_suffix(answers_suffix)
    if not ans_path.is_file():
        raise DataError(f"{path}: its answer file {ans_path} is missing")
    return [line.strip().split("\t") for _, line in text_lines(ans_path) if line.strip()]


@FORMATS.add("mctest_tsv")
def read_mctest_tsv(path: Path, answers_suffix: str = ".ans") -> Iterator[Item]:
    """MCTest ``X.tsv`` (one story per line: id, properties, story, 4 x [question, 4 options])
    with its aligned ``X.ans`` (4 tab-separated answer letters per line, CRLF); one record per
    question, grouped by story id. ``\\newline`` escapes become line breaks."""
    answers = _mctest_answers(path, answers_suffix)
    stories = [(n, line) for n, line in text_lines(path) if line.strip()]
    for index, (number, line) in enumerate(stories):
        loc = Loc(str(path), line=number)
        cells = line.split("\t")
        if len(cells) != MCTEST_COLUMNS:
            yield loc, BadRecord(f"expected {MCTEST_COLUMNS} tab-separated columns, found {len(cells)}")
            continue
        if index >= len(answers) or len(answers[index]) != MCTEST_QUESTIONS:
            ans_name = path.with_suffix(answers_suffix).name
            yield loc, BadRecord(f"no line of {MCTEST_QUESTIONS} answers in {ans_name}", "label")
            continue
        story = _mctest_text(cells[2])
        for q in range(MCTEST_QUESTIONS):
            block = cells[3 + 5 * q : 8 + 5 * q]
            answer = answers[index][q].strip()
            if answer not in MCTEST_LETTERS:
                yield loc, BadRecord(f"question {q + 1}: answer {answer!r} is not one of A-D", "label")
                continue
            yield loc, {
                "context": story,
                "question": _mctest_question(_mctest_text(block[0])),
                "choices": [_mctest_text(c) for c in block[1:]],
                "label": answer,
                "group": cells[0],
            }
    if len(answers) > len(stories):
        yield Loc(str(path.with_suffix(answers_suffix)), line=len(stories) + 1), BadRecord(
            f"{len(answers) - len(stories)} answer line(s) more than the {len(stories)} stories", "label"
        )


def _xml_text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _quail_question(text_id: str, body: str, q: ET.Element) -> Raw | BadRecord:
    where = f"text {text_id} question {q.get('id')}"
    options = q.findall("a")
    # Wrong options sometimes carry no ``correct`` attribute at all; only "True" marks the gold.
    gold = [i for i, a in enumerate(options) if a.get("correct") == "True"]
    if len(gold) != 1:
        return BadRecord(f"{where}: expected exactly one correct option, found {len(gold)}", "label")
    return {
        "context": body,
        "question": _xml_text(q),
        "choices": [_xml_text(a) for a in options],
        "label": gold[0],
        "group": text_id,
    }


@FORMATS.add("quail_xml")
def read_quail_xml(path: Path) -> Iterator[Item]:
    """QuAIL xml: <text id><text_body/><questions><q id>question<a correct=..>..</a>...</q>.

    One record per question (numbered in file order), grouped by text id.
    """
    try:
        # defusedxml: a downloaded file must not expand entities (billion laughs) or fetch DTDs.
        root = SafeET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DataError(f"{path}:{exc.position[0]}: invalid XML ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except DefusedXmlException as exc:
        head = path.read_bytes()
        at = min((i for i in (head.find(b"<!ENTITY"), head.find(b"<!DOCTYPE")) if i >= 0), default=0)
        line = head[:at].count(b"\n") + 1
        raise DataError(f"{path}:{line}: refused XML with entity or DTD declarations "
                        f"({type(exc).__name__})") from None
    except (LookupError, ValueError) as exc:  # the XML declaration names an encoding expat cannot use
        raise DataError(f"{path}: invalid XML ({exc})") from None
    number = 0
    for text in root.iter("text"):
        text_id = text.get("id") or ""
        body = _xml_text(text.find("text_body"))
        questions = text.find("questions")
        if questions is None or not text_id:
            number += 1
            yield Loc(str(path), record=number), BadRecord(f"text {text_id!r}: no id or no <questions>")
            continue
        for q in questions.findall("q"):
            number += 1
            yield Loc(str(path), record=number), _quail_question(text_id, body, q)


HELLASWAG_LINES = 6


def _hellaswag_lines(path: Path) -> list[str]:
    if path.suffix != ".bz2":
        return split_lines(read_text(path))
    try:
        with bz2.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    return split_lines(data.decode("utf-8-sig", errors="surrogateescape"))


@FORMATS.add("hellaswag_txt")
def read_hellaswag_txt(path: Path) -> Iterator[Item]:
    """llama.cpp HellaSwag layout (bzip2 when the name ends in .bz2): 6 lines per item:
    ``activity_label: ctx``, gold label 0-3, then the 4 endings. The context is the group:
    a few items continue the same context with other endings."""
    lines = _hellaswag_lines(path)
    for start in range(0, len(lines), HELLASWAG_LINES):
        block = lines[start : start + HELLASWAG_LINES]
        loc = Loc(str(path), line=start + 1)
        if len(block) < HELLASWAG_LINES:
            yield loc, BadRecord(f"incomplete item: {len(block)} of {HELLASWAG_LINES} lines")
            continue
        yield loc, {"context": block[0], "question": "", "choices": block[2:], "label": block[1], "group": block[0]}
