"""Readers for summarization sources; each yields canonical ``document`` / ``summary`` fields.

Two readers drop records on purpose because another file of the task holds the same input:
``samsum_json`` (a dialogue of the train pool that is also a test dialogue) and ``xsum_jsonl``
(an article that both XSum sample files contain).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from muppet.errors import DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw
from muppet.tasks.formats.common import load_json, read_jsonl, shown


def _text(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return value if isinstance(value, str) else None


def _sibling(path: Path, name: str) -> Path:
    other = path.parent / name
    if not other.is_file():
        raise DataError(f"{path}: the file {other} it is checked against is missing")
    return other


# ---------------------------------------------------------------------------------------------
# SAMSum: a JSON list of {dialogue, summary}
# ---------------------------------------------------------------------------------------------


def _samsum_rows(path: Path) -> list[Any]:
    doc = load_json(path)
    if not isinstance(doc, list):
        raise DataError(f"{path}: expected a JSON list of {{dialogue, summary}} objects")
    return doc


@FORMATS.add("samsum_json")
def read_samsum_json(path: Path, exclude_dialogues_in: str | None = None) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """SAMSum JSON list; ``exclude_dialogues_in`` names a sibling file (the test split).

    SAMSum's validation and test sets share 4 dialogues (annotated with different summaries);
    with validation used for training, those would leak test inputs, so they are left out of
    every file other than the named one.
    """
    excluded: set[str] = set()
    if exclude_dialogues_in and path.name != exclude_dialogues_in:
        rows = _samsum_rows(_sibling(path, exclude_dialogues_in))
        excluded = {r["dialogue"] for r in rows if isinstance(r, Mapping) and isinstance(r.get("dialogue"), str)}
    for number, obj in enumerate(_samsum_rows(path), start=1):
        loc = Loc(str(path), record=number)
        if not isinstance(obj, Mapping):
            yield loc, BadRecord(f"expected a JSON object, got {type(obj).__name__}")
            continue
        dialogue, summary = _text(obj, "dialogue"), _text(obj, "summary")
        if dialogue is None or summary is None:
            missing = "dialogue" if dialogue is None else "summary"
            yield loc, BadRecord("needs 'dialogue' and 'summary' strings", missing)
        elif dialogue not in excluded:
            yield loc, {"document": dialogue, "summary": summary}


# ---------------------------------------------------------------------------------------------
# DialogSum: jsonl {fname, dialogue, summary, topic}; test has summary1..3 / topic1..3
# ---------------------------------------------------------------------------------------------


@FORMATS.add("dialogsum_jsonl")
def read_dialogsum_jsonl(path: Path) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """DialogSum lines; a test line's three references are summary1..3 and summary1 is used.

    The family holds one reference per example; summary1 is the first annotator's, as in the
    common single-reference evaluation of DialogSum.
    """
    for loc, obj in read_jsonl(path):
        if isinstance(obj, BadRecord):
            yield loc, obj
            continue
        dialogue = _text(obj, "dialogue")
        field = "summary" if "summary" in obj else "summary1"
        summary = _text(obj, field)
        if dialogue is None:
            yield loc, BadRecord("missing 'dialogue' string", "dialogue")
        elif summary is None:
            yield loc, BadRecord("missing 'summary' (or test 'summary1') string", field)
        else:
            yield loc, {"document": dialogue, "summary": summary}


# ---------------------------------------------------------------------------------------------
# AESLC: packed jsonl {file, text}; text = email body, "@subject" + subject line [, "@ann0".."@ann2"]
# ---------------------------------------------------------------------------------------------

SUBJECT = "\n\n@subject\n"
FIRST_ANNOTATION = "\n\n@ann0\n"


def _aeslc_record(obj: Mapping[str, Any]) -> Raw | BadRecord:
    name, packed = shown(obj.get("file")), _text(obj, "text")
    if packed is None:
        return BadRecord(f"{name}: missing 'text' string", "text")
    body, marker, rest = packed.rpartition(SUBJECT)
    if not marker:
        return BadRecord(f"{name}: no '@subject' section", "text")
    # dev/test add three human subject lines (@ann0..@ann2); the original subject is the reference.
    subject = rest.split(FIRST_ANNOTATION, 1)[0].strip()
    if "\n" in subject:
        return BadRecord(f"{name}: the subject spans several lines", "summary")
    return {"document": body, "summary": subject}


@FORMATS.add("aeslc_jsonl")
def read_aeslc_jsonl(path: Path) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """One packed AESLC .subject file per line: the body is the document, the subject the summary."""
    for loc, obj in read_jsonl(path):
        yield loc, obj if isinstance(obj, BadRecord) else _aeslc_record(obj)


# ---------------------------------------------------------------------------------------------
# XSum: {document, summary, id} lines (Hugging Face layout) or packed raw extraction files
# ---------------------------------------------------------------------------------------------

_EXTRACT = re.compile(
    r"\[XSUM\]URL\[XSUM\]\n(?P<url>.*?)\n\n\[XSUM\]INTRODUCTION\[XSUM\]\n(?P<intro>.*?)\n\n"
    r"\[XSUM\]RESTBODY\[XSUM\]\n(?P<body>.*)\Z",
    re.S,
)
_BBC_ID = re.compile(r"(?:^|/)(\d+)\.data$")
# BBC pages embed a social "share" widget that XSum's own preprocessing removes (the Hugging
# Face copies of the same articles lack it): from "Share this with" to "Copy this link", plus an
# optional note on external links.
_SHARE_FIRST, _SHARE_LAST = "Share this with", "Copy this link"
_SHARE_NOTE = "These are external links and will open in a new window"
_SHARE_MAX_LINES = 16


def strip_share_widget(body: str) -> str:
    lines = body.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == _SHARE_FIRST:
            window = [line.strip() for line in lines[i : i + _SHARE_MAX_LINES]]
            if _SHARE_LAST in window:
                i += window.index(_SHARE_LAST) + 1
                if i < len(lines) and lines[i].strip() == _SHARE_NOTE:
                    i += 1
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _xsum_extract(obj: Mapping[str, Any]) -> Raw | BadRecord:
    name, packed = obj.get("file"), _text(obj, "text")
    match = _BBC_ID.search(name) if isinstance(name, str) else None
    if match is None:
        return BadRecord(f"file name {name!r} is not <bbcid>.data", "file")
    name = shown(name)
    if packed is None:
        return BadRecord(f"{name}: missing 'text' string", "text")
    parts = _EXTRACT.match(packed)
    if parts is None:
        return BadRecord(f"{name}: not a [XSUM]URL / INTRODUCTION / RESTBODY extraction", "text")
    document = strip_share_widget(parts["body"]).strip()
    return {"id": match.group(1), "document": document, "summary": parts["intro"].strip()}


def _xsum_line(obj: Mapping[str, Any]) -> Raw | BadRecord:
    if "text" in obj:
        return _xsum_extract(obj)
    document, summary = _text(obj, "document"), _text(obj, "summary")
    if document is None or summary is None or obj.get("id") is None:
        return BadRecord("needs 'document', 'summary' and 'id'", "document" if document is None else "summary")
    return {"id": str(obj["id"]), "document": document, "summary": summary}


def _xsum_ids(path: Path) -> set[str]:
    ids = set()
    for _, obj in read_jsonl(path):
        if not isinstance(obj, BadRecord) and obj.get("id") is not None:
            ids.add(str(obj["id"]))
    return ids


@FORMATS.add("xsum_jsonl")
def read_xsum_jsonl(path: Path, prefer: str | None = None) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """XSum lines in either layout; an article whose id the sibling file ``prefer`` holds is skipped.

    The two XSum sample files share 29 articles; the preferred (Hugging Face) copy is kept so
    that no article appears twice in the pool.
    """
    taken = _xsum_ids(_sibling(path, prefer)) if prefer and path.name != prefer else set()
    for loc, obj in read_jsonl(path):
        record = obj if isinstance(obj, BadRecord) else _xsum_line(obj)
        if isinstance(record, BadRecord) or record["id"] not in taken:
            yield loc, record

