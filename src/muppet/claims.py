"""Work claims: several processes, on one machine or on machines sharing the folder, run the
same sweep or study and split its cells and runs between them (``muppet sweep`` / ``muppet
study`` started once per device).

A claim is the run folder's own kind of lock (:class:`~muppet.train.runfolder.FolderLock`,
``flock``), on a ``<name>.claim`` file beside the work's folder: the kernel drops it when its
process ends, however it ends, so a killed worker's cell is free for the next process, which
resumes it from its checkpoint. Beside the folder, not in it, because the fine-tuning run
inside takes the folder's own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from muppet.train.runfolder import LOCK_FILE, FolderLock

SUFFIX = ".claim"
POLL_S = 5.0  # between two looks at work another process holds: short against a cell's minutes
T = TypeVar("T")


@contextmanager
def claimed(folder: Path) -> Iterator[bool]:
    """``True`` while this process holds the claim on ``folder``'s work (released on exit,
    whatever the exit); ``False`` when another process holds it, or when a run started
    outside the sweep or study (``muppet prefinetune`` with the run's config) holds the
    folder itself."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(folder.parent, folder.name + SUFFIX)
    if lock.acquire() is not None:
        yield False
        return
    try:
        yield not _running(folder)
    finally:
        lock.release()


def _running(folder: Path) -> bool:
    if not (folder / LOCK_FILE).is_file():
        return False
    own = FolderLock(folder)
    if own.acquire() is not None:
        return True
    own.release()
    return False


def take_turns(items: Iterable[T], folder: Callable[[T], Path], finished: Callable[[T], bool],
               wait: bool = True) -> Iterator[tuple[T, bool]]:
    """Each item once, under its claim: ``(item, True)`` when it is unfinished and now this
    process's to do, ``(item, False)`` when it is finished. Items another process holds are
    looked at again every ``POLL_S`` until they are finished or free; with ``wait=False`` they
    are passed over instead (the caller has other work, and comes back). Close the iterator
    when leaving early (``contextlib.closing``): that releases the claim in hand."""
    pending = list(items)
    while pending:
        elsewhere = []
        for item in pending:
            with claimed(folder(item)) as mine:
                if finished(item):
                    yield item, False
                elif mine:
                    yield item, True
                else:
                    elsewhere.append(item)
        pending = elsewhere if wait else []
        if pending:
            time.sleep(POLL_S)
