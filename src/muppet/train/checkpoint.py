"""Atomic checkpoints: written to a temporary folder, completed by a marker, then renamed.

A folder named ``step_<N>`` with ``trainer_state.json`` inside is complete; anything else
(a crash mid-write leaves ``.tmp-step_<N>``) is ignored and cleaned up. ``trainer_state.json``
is written last and lists every other file of the checkpoint with its size, so a file lost
or cut short afterwards (a full disk, a partial copy) makes the checkpoint unusable instead
of silently inexact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from muppet.errors import TrainingError
from muppet.files import write_text_atomic

if TYPE_CHECKING:
    from accelerate import Accelerator

STATE_FILE = "trainer_state.json"
# What accelerate's save_state writes for one process; checked in checkpoints without a file list.
LEGACY_FILES = ("model.safetensors", "optimizer.bin", "random_states_0.pkl")
_STEP = re.compile(r"^step_(\d+)$")


def checkpoint_dir(output_dir: str | os.PathLike[str]) -> Path:
    return Path(output_dir) / "checkpoints"


def complete_checkpoints(output_dir: str | os.PathLike[str]) -> list[Path]:
    """Checkpoints whose writing finished (renamed, marker present), oldest first."""
    root = checkpoint_dir(output_dir)
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = _STEP.match(path.name)
        if match and (path / STATE_FILE).is_file():
            found.append((int(match.group(1)), path))
    return [p for _, p in sorted(found)]


def checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be resumed exactly, or None when it can."""
    try:
        state = read_state(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"{STATE_FILE} is unreadable ({type(exc).__name__}: {str(exc)[:120]})"
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        return f"{STATE_FILE} has no step"
    files = state.get("files")
    expected = files if isinstance(files, dict) else {name: None for name in LEGACY_FILES}
    for name, size in expected.items():
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        if size is not None and file.stat().st_size != size:
            return f"{name} is truncated or changed ({file.stat().st_size:,} bytes, written as {size:,})"
    return None


def usable_checkpoints(output_dir: str | os.PathLike[str]) -> tuple[Path | None, list[str]]:
    """The newest checkpoint that resumes exactly, and one note per newer one that does not."""
    notes = []
    for path in reversed(complete_checkpoints(output_dir)):
        problem = checkpoint_problem(path)
        if problem is None:
            return path, notes
        notes.append(f"{path.name}: {problem}")
    return None, notes


def latest_checkpoint(output_dir: str | os.PathLike[str]) -> Path | None:
    return usable_checkpoints(output_dir)[0]


def set_aside(output_dir: str | os.PathLike[str], newer_than: int) -> list[Path]:
    """Rename the checkpoints after step ``newer_than`` to ``broken-step_N`` (kept to inspect),
    so that pruning and later resumes never count them."""
    moved = []
    for path in complete_checkpoints(output_dir):
        if checkpoint_step(path) > newer_than:
            target = path.with_name("broken-" + path.name)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(path, target)
            moved.append(target)
    return moved


def _file_sizes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def checkpoint_step(path: Path) -> int:
    return int(_STEP.match(path.name).group(1))  # type: ignore[union-attr]


def save_checkpoint(
    accelerator: Accelerator, output_dir: str | os.PathLike[str], step: int, state: dict[str, Any], keep: int,
    *, extra: Callable[[Path], None] | None = None, keep_steps: Collection[int] = (),
) -> Path:
    """Write checkpoint ``step``; a failed write (e.g. a full disk) leaves the previous ones intact.
    ``extra`` writes further files into the folder (main process), listed and checked like the rest.
    Pruning keeps the newest ``keep`` and those of ``keep_steps`` (e.g. the best-probed one)."""
    root = checkpoint_dir(output_dir)
    final = root / f"step_{step:08d}"
    tmp = root / f".tmp-step_{step:08d}"
    try:
        if accelerator.is_main_process:
            root.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
        accelerator.wait_for_everyone()
        accelerator.save_state(str(tmp), safe_serialization=True)
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            if extra is not None:
                extra(tmp)
            write_json_atomic(tmp / STATE_FILE, {"step": step, **state, "files": _file_sizes(tmp)})
            if final.exists():  # the same step saved twice (e.g. an end-of-run save after a resume)
                shutil.rmtree(final)
            os.replace(tmp, final)
    except OSError as exc:
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        last = latest_checkpoint(output_dir)
        raise TrainingError(
            f"writing checkpoint {final} failed ({exc.strerror or exc}); the run stopped. "
            f"The last complete checkpoint is {last or 'none'}: free space in {root} and resume with resume=true."
        ) from None
    if accelerator.is_main_process:
        for old in complete_checkpoints(output_dir)[:-keep]:
            if checkpoint_step(old) not in keep_steps:
                shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-step_*"):
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def write_json_atomic(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, complete or not at all (:func:`muppet.files.write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=float))


def read_state(path: Path) -> dict[str, Any]:
    return json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
