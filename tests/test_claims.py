"""Work claims: processes running the same sweep split its cells, each cell runs once, and a
killed holder's claim is free again."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tiny
import yaml

from muppet.claims import claimed


def test_a_claim_is_exclusive_and_released_on_any_exit(tmp_path: Path) -> None:
    work = tmp_path / "cells" / "a"
    with claimed(work) as mine:
        assert mine
        with claimed(work) as again:
            assert not again  # held, by this very process: nobody runs the work twice
    with claimed(work) as mine:
        assert mine  # released
    with pytest.raises(RuntimeError), claimed(work):
        raise RuntimeError("the cell failed")
    with claimed(work) as mine:
        assert mine


def test_a_killed_holder_frees_its_claim(tmp_path: Path) -> None:
    work = tmp_path / "w"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from muppet.claims import claimed\n"
        f"with claimed(Path({str(work)!r})) as mine:\n"
        "    print(mine, flush=True); time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "True"
    with claimed(work) as mine:
        assert not mine
    holder.kill()  # SIGKILL: no cleanup ran
    holder.wait(timeout=60)
    with claimed(work) as mine:
        assert mine


def test_take_turns_passes_over_held_work_when_told_not_to_wait(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from muppet import claims

    def no_sleep(seconds: float) -> None:
        raise AssertionError("waited for held work")

    monkeypatch.setattr(claims.time, "sleep", no_sleep)
    done = {"c"}
    with claimed(tmp_path / "b"):  # another holder of b
        turns = list(claims.take_turns("abcd", lambda item: tmp_path / item, done.__contains__, wait=False))
    assert turns == [("a", True), ("c", False), ("d", True)]  # b: neither done nor taken, and no wait


def test_a_folder_a_run_holds_is_not_claimable(tmp_path: Path) -> None:
    """A run started outside the sweep or study (its own lock on the folder) is not run twice."""
    from muppet.train.runfolder import FolderLock

    work = tmp_path / "runs" / "all"
    work.mkdir(parents=True)
    run = FolderLock(work)
    assert run.acquire() is None
    with claimed(work) as mine:
        assert not mine
    run.release()
    with claimed(work) as mine:
        assert mine


def _sweep_file(folder: Path, files: list[str], model: str) -> Path:
    path = folder / "sweep.yaml"
    folder.mkdir(parents=True)
    path.write_text(yaml.safe_dump({
        "models": [{"name": "tiny", "model": model}], "tasks": files[:2], "fractions": [0.5, 1.0], "seeds": [1, 2],
        "finetune": {"epochs": 1, "batch_size": 4, "lr": 1e-3, "max_length": 40, "max_train_examples": 16,
                     "evaluate_test": False},
        "output_dir": str(folder / "out"), "progress": False}))
    return path


def _values(folder: Path) -> list[tuple[str, ...]]:
    rows = csv.DictReader((folder / "out" / "results.csv").open())
    return sorted((r["task"], r["fraction"], r["seed"], r["metric"], r["value"]) for r in rows)


def test_two_processes_share_a_sweep_and_equal_one(tiny_root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    files = tiny.write_task_files(tmp_path / "tasks", tiny_root / "data")
    model = str(tiny_root / "tiny-bert")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "muppet", "sweep"]
    shared = _sweep_file(tmp_path / "shared", files, model)
    workers = [subprocess.Popen([*command, str(shared)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[1][-2000:] for o in outputs]
    ran = [int(re.search(r"8 cells: (\d+) run now", out).group(1)) for out, _ in outputs]
    assert sum(ran) == 8  # every cell exactly once between the two
    reference = _sweep_file(tmp_path / "alone", files, model)
    alone = subprocess.run([*command, str(reference)], env=env, capture_output=True, text=True, timeout=600)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert _values(tmp_path / "shared") == _values(tmp_path / "alone")
    for claim in (tmp_path / "shared").rglob("*.claim"):  # every claim released
        with claimed(claim.with_name(claim.name.removesuffix(".claim"))) as mine:
            assert mine
