"""One process owns a run folder: a lock held for the whole run, and the rule that a finished
result is only replaced when asked (``overwrite=true``), from an emptied folder.

The lock is ``flock`` on ``<folder>/.muppet.lock``: the kernel drops it when its process
ends, however it ends, so a killed run never leaves a folder stuck. Under several processes
only the main process locks (one job is one owner) and every process learns the outcome, so
all of them stop together. ``flock`` belongs to an open file, so a second run inside the
same Python process is refused as well.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from muppet.errors import ConfigError

LOCK_FILE = ".muppet.lock"


def any_process(flag: bool, accelerator: Any) -> bool:
    """Whether ``flag`` holds on any process (every process gets the same answer)."""
    if accelerator.num_processes == 1:
        return flag
    value = torch.tensor([float(flag)], device=accelerator.device)
    return bool(accelerator.reduce(value, reduction="sum").item())


class FolderLock:
    """An exclusive, non-blocking lock on a folder, naming its holder (pid and host)."""

    def __init__(self, folder: Path, name: str = LOCK_FILE) -> None:
        self.path = folder / name
        self.fd: int | None = None

    def acquire(self) -> str | None:
        """None when the lock is now ours, else who holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = Path(self.path).read_text(encoding="utf-8", errors="replace").strip() or "another process"
            os.close(fd)
            return holder
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self.fd = fd
        return None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


@contextlib.contextmanager
def own_folder(folder: Path, accelerator: Any) -> Iterator[None]:
    """Hold ``folder`` for the run; refuse (on every process) when another run holds it."""
    lock = None
    holder = None
    if accelerator.is_main_process:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FolderLock(folder)
        holder = lock.acquire()
    if any_process(holder is not None, accelerator):
        raise ConfigError(
            f"output_dir {folder} is in use by another run ({holder or 'see its main process'}); "
            "wait for it to end or choose another output_dir"
        )
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def present(folder: Path, names: Sequence[str]) -> list[str]:
    """Which of a run's files and folders ``names`` exist in ``folder``."""
    return [n for n in names if (folder / n).exists()]


def clear(folder: Path, names: Sequence[str]) -> None:
    """Remove a run's files and folders (only those: the folder may hold other things)."""
    for name in names:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def check_free_space(folder: Path, model: torch.nn.Module, checkpoints: int, exports: int, accelerator: Any,
                     per_checkpoint: int = 3) -> None:
    """Refuse to start when ``folder``'s disk cannot hold what the run will write: ``checkpoints``
    of ``per_checkpoint`` copies of the weights (the weights and AdamW's two moments, plus
    fine-tuning's best weights), and ``exports`` copies of the weights."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    need = weights * (per_checkpoint * checkpoints + exports)
    free = shutil.disk_usage(folder).free if accelerator.is_main_process else need
    if any_process(free < need, accelerator):
        gib = 2**30
        raise ConfigError(
            f"output_dir {folder}: {free / gib:.2f} GiB free, the run needs about {need / gib:.2f} GiB "
            f"({checkpoints} checkpoint(s) of weights and optimizer state, {exports} export(s)); free space, "
            "lower keep_checkpoints or choose another output_dir"
        )
