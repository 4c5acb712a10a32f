"""Readers for extractive QA sources: SQuAD-layout JSON and Google QED jsonlines.

Both yield canonical records (``id``, ``context``, ``question``, ``answers`` as
{"text": [...], "start": [...]}, ``group``), so their tasks declare no column mapping.
The family re-checks every answer against the context; the readers check first so that
an error names the question id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from muppet.errors import DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw, RecordError
from muppet.tasks.formats.common import load_json, read_jsonl


def passage_group(context: str) -> str:
    """A short stable id for a passage: questions on one passage share it (identical passages too)."""
    return hashlib.sha1(context.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _span(context: str, text: Any, start: Any, who: str) -> tuple[str, int]:
    """One (text, start) answer, checked against the context."""
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"{who}: empty answer text", "answers")
    if isinstance(start, bool) or not isinstance(start, int):
        raise RecordError(f"{who}: answer_start {start!r} is not an integer", "answers")
    # A negative offset would slice from the end of the context and could still match.
    if start < 0 or context[start : start + len(text)] != text:
        raise RecordError(f"{who}: answer {text[:60]!r} does not match the context at offset {start}", "answers")
    return text, start


def _answers(spans: Sequence[tuple[str, int]]) -> dict[str, list[Any]]:
    """Canonical answers in source order, without repeated (text, start) pairs."""
    unique = list(dict.fromkeys(spans))
    return {"text": [t for t, _ in unique], "start": [s for _, s in unique]}


# ---------------------------------------------------------------------------------------------
# SQuAD v1.1 / v2.0 JSON
# ---------------------------------------------------------------------------------------------


def _squad_question(qa: Any, context: str, group: str) -> Raw:
    if not isinstance(qa, Mapping):
        raise RecordError(f"expected a question object, got {type(qa).__name__}")
    qid = qa.get("id")
    who = f"question {qid!r}"
    if not isinstance(qid, str) or not qid:
        raise RecordError("question without an id", "id")
    question = qa.get("question")
    if not isinstance(question, str):
        raise RecordError(f"{who}: missing question text", "question")
    answers = qa.get("answers")
    if not isinstance(answers, list):
        raise RecordError(f"{who}: 'answers' must be a list", "answers")
    impossible = qa.get("is_impossible", False)
    if impossible and answers:
        raise RecordError(f"{who}: is_impossible but has answers", "answers")
    if "is_impossible" in qa and not impossible and not answers:
        raise RecordError(f"{who}: no answers but is_impossible is false", "answers")
    spans = []
    for a in answers:
        if not isinstance(a, Mapping):
            raise RecordError(f"{who}: each answer must be an object with text and answer_start", "answers")
        spans.append(_span(context, a.get("text"), a.get("answer_start"), who))
    # An unanswerable question (SQuAD 2.0) gets no answers; plausible_answers are distractors,
    # not references. Tasks that do not declare unanswerable questions reject it in the family.
    return {"id": qid, "context": context, "question": question, "answers": _answers(spans), "group": group}


def _squad_paragraphs(doc: Any, path: Path) -> Iterator[Any]:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data"), list):
        raise DataError(f"{path}: expected a SQuAD JSON object with a 'data' list of articles")
    for article in doc["data"]:
        paragraphs = article.get("paragraphs") if isinstance(article, Mapping) else None
        if not isinstance(paragraphs, list):
            raise DataError(f"{path}: article {str(article)[:60]!r} has no 'paragraphs' list")
        yield from paragraphs


@FORMATS.add("squad_json")
def read_squad_json(path: Path) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """SQuAD v1.1/v2.0 JSON: one record per question, ``record`` = the question's running number.

    Questions on one paragraph share a ``group`` (a digest of the paragraph text), so carving
    a held-out slice keeps a paragraph and all its questions on one side.
    """
    number = 0
    for paragraph in _squad_paragraphs(load_json(path), path):
        context = paragraph.get("context") if isinstance(paragraph, Mapping) else None
        qas = paragraph.get("qas") if isinstance(paragraph, Mapping) else None
        if not isinstance(context, str) or not isinstance(qas, list):
            number += 1
            yield Loc(str(path), record=number), BadRecord("paragraph without a 'context' string and 'qas' list")
            continue
        group = passage_group(context)
        for qa in qas:
            number += 1
            loc = Loc(str(path), record=number)
            try:
                yield loc, _squad_question(qa, context, group)
            except RecordError as exc:
                yield loc, BadRecord(exc.reason, exc.field)


# ---------------------------------------------------------------------------------------------
# Google QED (Natural Questions short answers with their Wikipedia paragraph)
# ---------------------------------------------------------------------------------------------

# The early-release train shards mark "no short answer inside this paragraph" with the span
# [-1, -1] and an empty answer_text (20 of the 7,167 train examples); such an example has
# nothing to extract, so the reader leaves it out on purpose.
NO_SPAN = [-1, -1]


def _offsets(start: Any, end: Any, context: str, who: str) -> tuple[int, int]:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
        raise RecordError(f"{who}: span offsets {start!r}, {end!r} are not integers", "answers")
    if not 0 <= start < end <= len(context):
        raise RecordError(f"{who}: span [{start}, {end}] is outside the paragraph ({len(context)} chars)", "answers")
    return start, end


def _qed_train_answers(obj: Mapping[str, Any], context: str, who: str) -> list[tuple[str, int]] | None:
    """Train layout: answer_spans [[start, end], ...] (None for the no-span marker)."""
    spans, texts = obj.get("answer_spans"), obj.get("answer_text")
    if not isinstance(spans, list) or not isinstance(texts, list) or len(spans) != len(texts) or not spans:
        raise RecordError(f"{who}: answer_spans and answer_text must be lists of one length", "answers")
    if spans == [NO_SPAN]:
        return None
    out = []
    for span, shown in zip(spans, texts):
        if not isinstance(span, list) or len(span) != 2:
            raise RecordError(f"{who}: each answer span must be [start, end]", "answers")
        start, end = _offsets(span[0], span[1], context, who)
        text = context[start:end]
        # The spans are the truth: a few answer_text strings of this release lost their last
        # character, but none may disagree with the span otherwise.
        if not isinstance(shown, str) or not text.startswith(shown):
            raise RecordError(f"{who}: answer_text {str(shown)[:60]!r} disagrees with span [{start}, {end}]", "answers")
        out.append(_span(context, text, start, who))
    return out


def _qed_dev_answers(obj: Mapping[str, Any], context: str, who: str) -> list[tuple[str, int]]:
    """Dev layout: original_nq_answers [[{start, end, string}, ...] per annotator]."""
    annotators = obj.get("original_nq_answers")
    if not isinstance(annotators, list) or not annotators:
        raise RecordError(f"{who}: original_nq_answers must be a non-empty list", "answers")
    out = []
    for spans in annotators:
        if not isinstance(spans, list) or not spans:
            raise RecordError(f"{who}: each annotator's answer must be a non-empty list of spans", "answers")
        for span in spans:
            if not isinstance(span, Mapping):
                raise RecordError(f"{who}: each span must be an object with start, end and string", "answers")
            start, end = _offsets(span.get("start"), span.get("end"), context, who)
            if span.get("string") != context[start:end]:
                shown = str(span.get("string"))[:60]
                raise RecordError(f"{who}: span string {shown!r} does not match [{start}, {end}]", "answers")
            out.append(_span(context, context[start:end], start, who))
    return out


def _qed_record(obj: Mapping[str, Any]) -> Raw | None:
    who = f"example {obj.get('example_id')!r}"
    if obj.get("example_id") is None:
        raise RecordError("missing example_id", "example_id")
    context, question = obj.get("paragraph_text"), obj.get("question_text")
    if not isinstance(context, str):
        raise RecordError(f"{who}: missing paragraph_text", "context")
    if not isinstance(question, str):
        raise RecordError(f"{who}: missing question_text", "question")
    if "original_nq_answers" in obj:
        spans = _qed_dev_answers(obj, context, who)
    elif "answer_spans" in obj:
        found = _qed_train_answers(obj, context, who)
        if found is None:
            return None
        spans = found
    else:
        raise RecordError(f"{who}: neither answer_spans nor original_nq_answers", "answers")
    # A short answer may consist of several spans (e.g. the items of a list); each span is a
    # verbatim answer on its own, so each becomes a reference (the first one is trained on).
    return {
        "id": str(obj["example_id"]),
        "context": context,
        "question": question,
        "answers": _answers(spans),
        "group": passage_group(context),
    }


@FORMATS.add("qed_jsonl")
def read_qed_jsonl(path: Path) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """Google QED jsonlines, either the early train layout or the final dev layout (per line)."""
    for loc, obj in read_jsonl(path):
        if isinstance(obj, BadRecord):
            yield loc, obj
            continue
        try:
            record = _qed_record(obj)
        except RecordError as exc:
            yield loc, BadRecord(exc.reason, exc.field)
            continue
        if record is not None:
            yield loc, record
