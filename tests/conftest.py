"""Shared fixtures: the real data directory (when present) and tiny tokenizers/models."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Feature caches of the test session go to a fresh folder, never to the user's cache.
os.environ["MUPPET_CACHE_DIR"] = tempfile.mkdtemp(prefix="muppet-test-cache-")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _real_data_dir() -> Path | None:
    for candidate in (os.environ.get("MUPPET_DATA_DIR"), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if candidate and (Path(candidate) / "MANIFEST.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """``../shared/data`` (or $MUPPET_DATA_DIR); tests that need it are skipped without it."""
    path = _real_data_dir()
    if path is None:
        pytest.skip("real datasets not available (set MUPPET_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session folder holding tiny models (tiny-bert, tiny-bart, tiny-t5) and tiny task data."""
    import tiny

    root = tmp_path_factory.mktemp("tiny")
    tiny.write_tiny_data(root / "data")
    for kind in ("bert", "bart", "t5"):
        tiny.model_dir(root, kind)
    return root


@pytest.fixture
def transfer_stage1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand-ins for the mixture files stage 1 of `make transfer` writes (configs/transfer.yaml
    names them relative to the working folder), in a fresh working folder: 10 local tasks."""
    import yaml

    monkeypatch.chdir(tmp_path)
    chosen = ["ag_news", "anli", "boolq", "cb", "cola", "copa", "hellaswag", "mnli", "newsqa", "piqa"]
    out = tmp_path / "runs" / "transfer-affinity"
    out.mkdir(parents=True)
    for suffix in ["", "-rte", "-stsb", "-arc_challenge", "-squad_v1"]:
        (out / f"mixture{suffix}.yaml").write_text(yaml.safe_dump({"mixture": f"affinity{suffix}", "tasks": chosen}))
    return chosen
