"""Readers for classification sources whose records need more than a column mapping.

Each reader yields canonical classification fields (``text_a``, ``text_b``, ``label``,
optional ``group``), so the tasks that use them declare no ``columns``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw
from muppet.tasks.formats.common import read_csv, read_jsonl, read_tsv

Item = tuple[Loc, "Raw | BadRecord"]


class _Missing(Exception):
    """A required field is absent or has the wrong type (turned into a BadRecord)."""

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def _str(raw: Mapping[str, Any], name: str) -> str:
    if name not in raw:
        raise _Missing(f"missing field {name!r}", name)
    value = raw[name]
    if not isinstance(value, str):
        raise _Missing(f"expected text, got {type(value).__name__}", name)
    return value


def _obj(raw: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in raw:
        raise _Missing(f"missing field {name!r}", name)
    value = raw[name]
    if not isinstance(value, kind):
        raise _Missing(f"expected {kind.__name__}, got {type(value).__name__}", name)
    return value


def _label(raw: Mapping[str, Any]) -> Any:
    # The family validates the value against the label space; here only presence matters.
    if raw.get("label") is None:
        raise _Missing("missing field 'label'", "label")
    return raw["label"]


# --------------------------------------------------------------------------- LM-BFF jsonl


def unquote_csv_field(value: str) -> str:
    """Undo CSV quoting left in a text: ``"a ""b"" c"`` -> ``a "b" c``.

    Only a value wrapped in quotes whose inner quotes all come doubled is treated as a
    quoted field, so a genuine quotation inside a sentence is kept as it is.
    """
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return value


@FORMATS.add("lmbff_jsonl")
def read_lmbff_jsonl(path: Path, text_field: str = "sentence", skip_empty: bool = False) -> Iterator[Item]:
    """LM-BFF-style jsonl ``{sentence, label}`` whose sentences keep stray CSV quoting.

    The re-packing wrote about half of the sentences still CSV-quoted (outer quotes,
    doubled inner quotes); the reader restores the original text. ``skip_empty`` drops
    records whose text is blank: SentEval CR has a few empty review lines (quoted as
    ``" "``), an upstream loss rather than a malformed record.
    """
    for loc, raw in read_jsonl(path):
        if isinstance(raw, dict) and isinstance(raw.get(text_field), str):
            text = unquote_csv_field(raw[text_field])
            if skip_empty and not text.strip():
                continue
            raw = {**raw, text_field: text}
        yield loc, raw


# --------------------------------------------------------------------------- AG News


@FORMATS.add("ag_news_csv")
def read_ag_news_csv(path: Path) -> Iterator[Item]:
    """Official AG News csv (Class Index, Title, Description) -> title + " " + description.

    Joining the two fields matches the ``text`` column of the hub version.
    """
    for loc, raw in read_csv(path, header=True):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        try:
            text = f"{_str(raw, 'Title').strip()} {_str(raw, 'Description').strip()}".strip()
            yield loc, {"text_a": text, "label": _str(raw, "Class Index").strip()}
        except _Missing as exc:
            yield loc, BadRecord(exc.reason, exc.field)


# --------------------------------------------------------------------------- SuperGLUE


@FORMATS.add("superglue_wic")
def read_wic(path: Path) -> Iterator[Item]:
    """SuperGLUE WiC jsonl -> (word + ": " + sentence1, sentence2); the word says which sense is asked."""
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        try:
            word = _str(raw, "word").strip()
            if not word:
                raise _Missing("empty text", "word")
            yield loc, {
                "text_a": f"{word}: {_str(raw, 'sentence1')}",
                "text_b": _str(raw, "sentence2"),
                "label": _label(raw),
            }
        except _Missing as exc:
            yield loc, BadRecord(exc.reason, exc.field)


_WORD = re.compile(r"\S+")
_PUNCT = ".,;:!?'\"()"


def _norm(words: Sequence[str]) -> str:
    return " ".join(words).lower().strip(_PUNCT)


def _span_words(words: Sequence[str], index: int, span: str) -> int:
    """The word index where ``span`` starts: ``index`` itself, else the nearest match.

    One record of the official WSC validation set has its pronoun index off by one word,
    so an index that does not hold its span text is moved to the closest one that does.
    """
    n = len(span.split())
    target = _norm(span.split())
    matches = [i for i in range(len(words) - n + 1) if _norm(words[i : i + n]) == target]
    if not matches:
        raise _Missing(f"span {span!r} does not occur in the text", "target")
    return min(matches, key=lambda i: (abs(i - index), i))


def mark_wsc(text: str, target: Mapping[str, Any]) -> str:
    """The text with the candidate (span1) and the pronoun (span2) wrapped in ``*...*``.

    A pronoun inside its candidate (one official record asks whether "their" refers to
    "their mothers") gets nested marks, ``**their* mothers*``.
    """
    tokens = list(_WORD.finditer(text))
    words = [m.group() for m in tokens]
    spans = []
    for key in ("span1", "span2"):
        span = _str(target, f"{key}_text").strip()
        index = target.get(f"{key}_index")
        if not span or not isinstance(index, int) or isinstance(index, bool):
            raise _Missing(f"{key} needs a text and an integer word index", "target")
        first = _span_words(words, index, span)
        last = first + len(span.split()) - 1
        start, end = tokens[first].start(), tokens[last].end()
        # Mark the span text itself, not trailing punctuation glued to its last word.
        region = text[start:end]
        if region.lower().startswith(span.lower()):
            end = start + len(span)
        spans.append((start, end))
    (s1, e1), (s2, e2) = sorted(spans, key=lambda span: (span[0], -span[1]))
    if s2 < e1 < e2:
        raise _Missing("the candidate and the pronoun spans overlap", "target")
    marks = sorted([s1, e1, s2, e2], reverse=True)  # insert from the right so offsets stay valid
    for position in marks:
        text = f"{text[:position]}*{text[position:]}"
    return text


@FORMATS.add("superglue_wsc")
def read_wsc(path: Path) -> Iterator[Item]:
    """SuperGLUE WSC jsonl: one binary example per (text, candidate, pronoun) record.

    The group is the text, so the records that ask about different candidates in the
    same sentence stay on one side of a held-out split.
    """
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        try:
            text = _str(raw, "text")
            target = _obj(raw, "target", dict)
            yield loc, {"text_a": mark_wsc(text, target), "label": _label(raw), "group": text}
        except _Missing as exc:
            yield loc, BadRecord(exc.reason, exc.field)


def _multirc_answers(passage: Mapping[str, Any]) -> Iterator[Raw]:
    text = _str(passage, "text")
    for q_number, question in enumerate(_obj(passage, "questions", list), start=1):
        try:
            if not isinstance(question, dict):
                raise _Missing("expected an object", "questions")
            q_text = _str(question, "question")
            for a_number, answer in enumerate(_obj(question, "answers", list), start=1):
                if not isinstance(answer, dict):
                    raise _Missing(f"answer {a_number}: expected an object", "answers")
                try:
                    a_text, label = _str(answer, "text"), _label(answer)
                except _Missing as exc:
                    raise _Missing(f"answer {a_number}: {exc.reason}", exc.field) from None
                yield {"text_a": text, "text_b": f"{q_text} {a_text}", "label": label, "group": text}
        except _Missing as exc:
            raise _Missing(f"question {q_number}: {exc.reason}", exc.field) from None


@FORMATS.add("superglue_multirc")
def read_multirc(path: Path) -> Iterator[Item]:
    """SuperGLUE MultiRC jsonl (one passage per line, nested questions and answer options).

    Every (question, answer option) pair is one binary example: text_a = passage,
    text_b = question + " " + answer. The group is the passage text, which is unique per
    passage across the FewGLUE and validation files (their ``idx`` numberings overlap).
    """
    for loc, raw in read_jsonl(path):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        try:
            # Parse the whole passage first: a malformed answer rejects the line as one record.
            items = list(_multirc_answers(_obj(raw, "passage", dict)))
        except _Missing as exc:
            yield loc, BadRecord(exc.reason, exc.field)
            continue
        if not items:
            yield loc, BadRecord("passage has no answer options", "passage")
        for item in items:
            yield loc, item


# --------------------------------------------------------------------------- MC-TACO

MC_TACO_FIELDS = ("sentence", "question", "answer", "label", "category")


@FORMATS.add("mc_taco_tsv")
def read_mc_taco(path: Path) -> Iterator[Item]:
    """MC-TACO headerless tsv: one binary example per (sentence, question, candidate) row.

    text_a = sentence, text_b = question + " " + candidate; the group is the
    (sentence, question) pair, whose candidates must stay together.
    """
    for loc, raw in read_tsv(path, header=False, fieldnames=MC_TACO_FIELDS):
        if isinstance(raw, BadRecord):
            yield loc, raw
            continue
        try:
            sentence, question = _str(raw, "sentence"), _str(raw, "question")
            yield loc, {
                "text_a": sentence,
                "text_b": f"{question} {_str(raw, 'answer')}",
                "label": _str(raw, "label").strip(),
                "group": f"{sentence}\n{question}",
            }
        except _Missing as exc:
            yield loc, BadRecord(exc.reason, exc.field)
