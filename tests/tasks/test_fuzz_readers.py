"""Fuzzing every registered format reader: whatever the bytes, ``read_split`` returns records or
raises ``DataError``/``ConfigError`` with a printable message, never anything else, and quickly.

Each format is fuzzed through a task that uses it (``fixtures.py``; user-style specs for the
formats no catalogue task uses): random bytes in place of the file, byte-level mutations of a
valid fixture (flips, a truncation, deleted or duplicated lines, inserted text), and structural
mutations of its JSON records (a field deleted or replaced by any JSON value). Records that do
load must be clean: valid UTF-8 text all the way down, JSON-serialisable.

The examples are derandomized, so every run tries the same inputs; set ``MUPPET_FUZZ_SCALE=20``
to try twenty times as many fresh random ones.
"""

from __future__ import annotations

import bz2
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from fixtures import DELETE, USER_SPECS, Case, case_for, edited, encode, local_tasks, write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muppet.errors import ConfigError, DataError
from muppet.tasks.formats import FORMATS
from muppet.tasks.formats.base import has_bad_bytes
from muppet.tasks.loading import read_split

SCALE = int(os.environ.get("MUPPET_FUZZ_SCALE", "1"))
SECONDS_PER_READ = 5.0  # every fixture is a few hundred bytes; anything slow is a hang in waiting


def _targets() -> dict[str, Case]:
    """One case per registered format: the first task (or user-style spec) that uses it."""
    targets: dict[str, Case] = {}
    for spec in (*local_tasks(), *USER_SPECS):
        assert spec.local is not None
        targets.setdefault(spec.local.format, case_for(spec))
    return targets


TARGETS = _targets()
FORMAT_NAMES = sorted(TARGETS)
JSON_FORMATS = [name for name in FORMAT_NAMES if TARGETS[name].layout in ("jsonl", "document")]


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,  # timing is asserted per read instead, with room for a slow machine
        database=None,
        derandomize=SCALE == 1,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def check_read(case: Case, files: dict[str, bytes], mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_files(root / case.spec.directory, files)
        start = time.perf_counter()
        try:
            result = read_split(case.spec, "train", root, source="local", on_bad_record=mode)
        except (DataError, ConfigError) as exc:
            str(exc).encode("utf-8")  # printable anywhere, undecodable bytes included
        else:
            for problem in result.skipped:
                problem.encode("utf-8")
            for record in result.records:
                assert not has_bad_bytes(record), record
                json.dumps(record)
        assert time.perf_counter() - start < SECONDS_PER_READ


def test_every_registered_format_is_fuzzed() -> None:
    assert set(FORMAT_NAMES) == set(FORMATS.names())


# --------------------------------------------------------------------------- byte-level mutations


def _payload(case: Case, files: dict[str, bytes], name: str) -> bytes:
    """What a mutation works on: the text inside a bzip2 file, the raw bytes otherwise."""
    data = files[name]
    return bz2.decompress(data) if case.layout == "bz2" and name == case.target else data


def _store(case: Case, files: dict[str, bytes], name: str, data: bytes) -> None:
    files[name] = bz2.compress(data) if case.layout == "bz2" and name == case.target else data


def _mutate(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "lines", "insert"]))
    if kind == "flip" and data:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "lines":
        lines = data.split(b"\n")
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(lines) - 1))
            if draw(st.booleans()):
                lines.insert(i, lines[i])
            elif len(lines) > 1:
                del lines[i]
        return b"\n".join(lines)
    alphabet = st.characters(codec="utf-8") | st.sampled_from(list("\t\n\r\"',\\{}[]\x00\u2028\x85\ufeff"))
    text = encode(draw(st.text(alphabet, min_size=1, max_size=12)))
    at = draw(st.integers(0, len(data)))
    return data[:at] + text + data[at:]


@st.composite
def mutated_files(draw: st.DrawFn, case: Case) -> dict[str, bytes]:
    files = case.files()
    name = draw(st.sampled_from([case.target, *case.side]))
    _store(case, files, name, _mutate(draw, _payload(case, files, name)))
    return files


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@fuzz_settings(40)
@given(data=st.data())
def test_mutated_fixture(fmt: str, data: st.DataObject) -> None:
    case = TARGETS[fmt]
    check_read(case, data.draw(mutated_files(case)), data.draw(st.sampled_from(["error", "skip"])))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@fuzz_settings(15)
@given(content=st.binary(max_size=600), mode=st.sampled_from(["error", "skip"]))
def test_random_bytes(fmt: str, content: bytes, mode: str) -> None:
    case = TARGETS[fmt]
    files = case.files()
    files[case.target] = content
    check_read(case, files, mode)


# --------------------------------------------------------------------------- structural mutations

TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(["\udce9", "\u2028", "\t", "\n", '"']), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a record's nested dicts and lists."""
    keys = node.keys() if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else ()
    out = []
    for key in keys:
        out.append((*prefix, key))
        out.extend(_paths(node[key], (*prefix, key)))
    return out


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@fuzz_settings(40)
@given(data=st.data())
def test_mutated_records(fmt: str, data: st.DataObject) -> None:
    case = TARGETS[fmt]
    items = case.items()
    k = data.draw(st.integers(0, len(items) - 1))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(items[k])
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        items[k] = edited(items[k], [(path, data.draw(st.just(DELETE) | JSON_VALUES))])
    check_read(case, case.render(items), data.draw(st.sampled_from(["error", "skip"])))
