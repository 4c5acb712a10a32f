"""Files that other processes read while one writes them (a sweep's results.csv, a study's
summary and timings, saved configs, reports): written aside under the writing process's own
name, then renamed, so a reader sees the old file or the new one, never half of one, and two
processes writing the same file never rename each other's half-written copy."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
