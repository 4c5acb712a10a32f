"""Work claims: several processes, on one machine or on machines sharing the folder, run the
same sweep or study and split its cells and runs between them (``muppet sweep`` / ``muppet
study`` started once per device).

A claim is a small file beside the work's folder, created atomically (``O_CREAT | O_EXCL``,
which also holds on NFS v3+), naming the host, process id and that process's start time.
The holder deletes it when the work ends, stops on a signal, or fails. A claim whose process
is gone (same host; the start time guards against a reused pid) is stale and is taken over, so
a SIGKILLed worker's cell is resumed by the next process that reaches it. A claim from another
host cannot be checked from here: it holds until that host's process releases it (delete the
file by hand if that machine died).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SUFFIX = ".claim"
POLL_S = 5.0  # between two looks at work another process holds: short against a cell's minutes


def claim_path(folder: Path) -> Path:
    # Beside the folder, not in it: a run or cell folder holding only a claim would look like an
    # interrupted run to the code that resumes runs.
    return folder.with_name(folder.name + SUFFIX)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_time(os.getpid()),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S")}


def holder(folder: Path) -> dict[str, Any] | None:
    """Who holds the claim on ``folder`` (None: nobody, or a stale claim)."""
    path = claim_path(folder)
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"host": "?", "pid": -1}  # being written this instant: treat as held
    return owner if _alive(owner) else None


def _alive(owner: dict[str, Any]) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # not checkable from here
    pid = int(owner.get("pid", -1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    recorded, now = owner.get("start"), _start_time(pid)
    return recorded is None or now is None or recorded == now


def _take(folder: Path) -> bool:
    path = claim_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(_me(), f)
    return True


def _clear_stale(folder: Path) -> None:
    """Remove a stale claim so that one process (not two) can take the work over."""
    path = claim_path(folder)
    try:
        seen = path.read_text(encoding="utf-8")
    except OSError:
        return
    if holder(folder) is not None:
        return
    aside = path.with_name(f"{path.name}.stale.{os.getpid()}")
    try:
        os.rename(path, aside)  # atomic: of two processes clearing it, one wins
    except FileNotFoundError:
        return
    if aside.read_text(encoding="utf-8") != seen:  # a fresh claim was renamed: give it back
        os.rename(aside, path)
        return
    aside.unlink()


@contextmanager
def claimed(folder: Path) -> Iterator[bool]:
    """``True`` while this process holds the claim on ``folder``'s work (released on exit,
    whatever the exit); ``False`` when another live process holds it."""
    if not _take(folder):
        _clear_stale(folder)
        if not _take(folder):
            yield False
            return
    try:
        yield True
    finally:
        claim_path(folder).unlink(missing_ok=True)
