"""Generic formats shared by many tasks: JSON lines, JSON lists, TSV/CSV, 'label text' lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from muppet.errors import ConfigError, DataError
from muppet.tasks.formats.base import FORMATS, BadRecord, Loc, Raw, read_text, text_lines

# A long text (a whole article in one cell) is data, not an error: lift the csv module's 128 KiB
# field limit. The limit is process-wide; 2**31 - 1 fits a C long on every platform.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:200]


def check_option(ok: bool, name: str, value: Any, expected: str) -> None:
    """A reader option of the wrong kind (a task file's typo) is a configuration error."""
    if not ok:
        raise ConfigError(f"format option {name!r} must be {expected}, got {value!r}")


def shown(value: Any) -> str:
    """``str(value)`` fit for a message: undecodable bytes (lone surrogates) become escapes."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


@FORMATS.add("jsonl")
def read_jsonl(path: Path) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """One JSON object per line; blank lines are ignored."""
    for number, line in text_lines(path):
        if not line.strip():
            continue
        loc = Loc(str(path), line=number)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield loc, BadRecord(f"invalid JSON: {_short(exc)}")
            continue
        except RecursionError:
            yield loc, BadRecord("invalid JSON: nested too deeply")
            continue
        if not isinstance(obj, dict):
            yield loc, BadRecord(f"expected a JSON object, got {type(obj).__name__}")
            continue
        yield loc, obj


def load_json(path: Path) -> Any:
    """A whole JSON document; a syntax error is fatal for the file and names its line."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"{path}: invalid JSON (nested too deeply)") from None


@FORMATS.add("json")
def read_json_list(path: Path, key: str | None = None) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """A JSON list of objects, at the top level or under ``key``."""
    check_option(key is None or isinstance(key, str), "key", key, "a text")
    doc = load_json(path)
    if key is not None:
        if not isinstance(doc, dict) or key not in doc:
            raise DataError(f"{path}: expected a JSON object with key {key!r}")
        doc = doc[key]
    if not isinstance(doc, list):
        raise DataError(f"{path}: expected a JSON list of records, got {type(doc).__name__}")
    for number, obj in enumerate(doc, start=1):
        loc = Loc(str(path), record=number)
        if not isinstance(obj, dict):
            yield loc, BadRecord(f"expected a JSON object, got {type(obj).__name__}")
        else:
            yield loc, obj


def _delimited(
    path: Path,
    delimiter: str,
    header: bool,
    fieldnames: Sequence[str] | None,
    quoting: str,
    min_columns: int | None,
) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    check_option(quoting in ("none", "minimal"), "quoting", quoting, "'none' or 'minimal'")
    names_ok = fieldnames is None or (isinstance(fieldnames, (list, tuple)) and all(isinstance(n, str) for n in fieldnames))
    check_option(names_ok, "fieldnames", fieldnames, "a list of column names")
    columns_ok = min_columns is None or (isinstance(min_columns, int) and not isinstance(min_columns, bool))
    check_option(columns_ok, "min_columns", min_columns, "a number")
    quote = csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL
    stream = io.StringIO(read_text(path), newline="")
    reader = csv.reader(stream, delimiter=delimiter, quoting=quote, strict=False)
    names: list[str] | None = list(fieldnames) if fieldnames else None
    start = 1
    if header:
        try:
            first = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{path}:1: unreadable header ({exc})") from None
        names = names or [name.strip() for name in first]
        start = reader.line_num + 1
    if names is None:
        raise DataError(f"{path}: a headerless file needs `fieldnames` in its source options")
    need = min_columns if min_columns is not None else len(names)
    line = start
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Loc(str(path), line=line), BadRecord(f"malformed row: {exc}")
            line = reader.line_num + 1
            continue
        loc = Loc(str(path), line=line)
        line = reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < need or len(row) > len(names):
            yield loc, BadRecord(f"expected {len(names)} columns, found {len(row)}")
            continue
        yield loc, dict(zip(names, row))


@FORMATS.add("tsv")
def read_tsv(
    path: Path,
    header: bool = True,
    fieldnames: Sequence[str] | None = None,
    quoting: str = "none",
    min_columns: int | None = None,
) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """Tab-separated values; GLUE files are unquoted, so quotes are text by default."""
    return _delimited(path, "\t", header, fieldnames, quoting, min_columns)


@FORMATS.add("csv")
def read_csv(
    path: Path,
    header: bool = True,
    fieldnames: Sequence[str] | None = None,
    quoting: str = "minimal",
    min_columns: int | None = None,
) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """Comma-separated values with standard quoting (fields may span lines)."""
    return _delimited(path, ",", header, fieldnames, quoting, min_columns)


@FORMATS.add("label_text")
def read_label_text(path: Path, separator: str | None = None) -> Iterator[tuple[Loc, Raw | BadRecord]]:
    """Lines of ``label<separator>text`` (``separator`` None means the first run of whitespace)."""
    check_option(separator is None or (isinstance(separator, str) and separator != ""), "separator", separator, "a text")
    for number, line in text_lines(path):
        if not line.strip():
            continue
        parts = line.split(separator, 1)
        loc = Loc(str(path), line=number)
        if len(parts) != 2:
            yield loc, BadRecord("expected a label, a separator and a text")
        else:
            yield loc, {"label": parts[0].strip(), "text": parts[1]}
