"""Per-task exports: plain transformers loads them, and their logits are muppet's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.batching import collate
from muppet.errors import ConfigError, MuppetError
from muppet.families import FeatureSettings, get_family
from muppet.integrations.heads import export_task
from muppet.model import MultiTaskModel
from muppet.tasks.spec import get_task
from muppet.train.export import export_model

SETTINGS = FeatureSettings(max_length=48, doc_stride=16)
RECORDS = {
    "tiny_cls": [{"text_a": "the cat sat", "text_b": "yes the cat sat", "label": 0},
                 {"text_a": "a dog ran in the park", "text_b": None, "label": 1},
                 {"text_a": "the boy read a book", "text_b": "no the girl", "label": 1}],
    "tiny_reg": [{"text_a": "the cat sat", "text_b": "the cat ran", "label": 2.5},
                 {"text_a": "a big red car", "text_b": "a small blue car", "label": 4.0}],
    # the same number of options per example: a plain AutoModelForMultipleChoice batch is rectangular
    "tiny_mc": [{"context": "story : the one that was red", "question": "which was red ?",
                 "choices": ["the cat was red", "the dog was blue", "the car was blue"], "label": 0},
                {"context": "", "question": "what ran ?", "choices": ["a dog", "a house", "the sun"], "label": 0}],
    "tiny_qa": [{"id": "1", "context": "then she found the red car in the city . the sun was big .",
                 "question": "what did she find ?", "answers": {"text": ["the red car"], "start": [15]}}],
}


def _export(root: Path, config: object, tasks: list[str]) -> tuple[Path, MultiTaskModel]:
    tiny.register_tiny_tasks()
    torch.manual_seed(3)
    specs = [get_task(t) for t in tasks]
    model = MultiTaskModel(Backbone.from_config(config), specs).eval()
    return export_model(model, tiny.tokenizer(), specs, root / "export", base_model="tiny", step=0), model


@pytest.fixture(scope="module", params=["bert", "roberta"])
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, MultiTaskModel]:
    path, model = _export(tmp_path_factory.mktemp("heads"), tiny.CONFIGS[request.param](), list(RECORDS))
    return request.param, path, model


def _muppet(model: MultiTaskModel, task: str, encoder_decoder: bool = False) -> tuple[torch.Tensor, object, list]:
    """muppet's logits for the task's records, and the padded batch they came from."""
    spec = get_task(task)
    family = get_family(spec.family)
    # BART's own classifier needs the same number of EOS tokens in every row: pairs only
    records = [r for r in RECORDS[task] if r.get("text_b") or not encoder_decoder]
    feats = family.featurize(records, spec, tiny.tokenizer(), SETTINGS, False)
    batch = collate([(spec, model.head_keys[task], feats)], 0, encoder_decoder, model.backbone.decoder_start_token_id, 1)
    with torch.no_grad():
        logits = model(batch)[0]
    return logits, batch, feats


def _inputs(batch: object) -> dict[str, torch.Tensor]:
    return {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask, "token_type_ids": batch.token_type_ids}


def test_sequence_classification_loads_with_labels_and_gives_muppets_logits(exported, tmp_path):
    from transformers import AutoModelForSequenceClassification

    kind, path, model = exported
    out = export_task(path, "tiny_cls", tmp_path / "cls")
    hf = AutoModelForSequenceClassification.from_pretrained(out).eval()
    assert type(hf).__name__ == f"{'Bert' if kind == 'bert' else 'Roberta'}ForSequenceClassification"
    assert hf.config.id2label == {0: "entailment", 1: "not_entailment"}
    assert hf.config.label2id == {"entailment": 0, "not_entailment": 1}
    assert hf.config.problem_type == "single_label_classification"
    logits, batch, _ = _muppet(model, "tiny_cls")
    with torch.no_grad():
        got = hf(**_inputs(batch)).logits
    torch.testing.assert_close(got, logits, atol=1e-5, rtol=1e-5)


def test_regression_logit_is_muppets_prediction_in_the_tasks_units(exported, tmp_path):
    from transformers import AutoModelForSequenceClassification

    _, path, model = exported
    hf = AutoModelForSequenceClassification.from_pretrained(export_task(path, "tiny_reg", tmp_path / "reg")).eval()
    assert hf.config.problem_type == "regression" and hf.config.num_labels == 1
    logits, batch, feats = _muppet(model, "tiny_reg")
    spec = get_task("tiny_reg")
    predicted = torch.tensor(get_family(spec.family).predict(logits, feats, spec, SETTINGS))
    with torch.no_grad():
        got = hf(**_inputs(batch)).logits.squeeze(-1)
    torch.testing.assert_close(got, predicted, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, logits, atol=1e-3)  # the folded de-standardisation did something


def test_multiple_choice_head_scores_each_option_as_muppet_does(exported, tmp_path):
    from transformers import AutoModelForMultipleChoice

    _, path, model = exported
    hf = AutoModelForMultipleChoice.from_pretrained(export_task(path, "tiny_mc", tmp_path / "mc")).eval()
    logits, batch, _ = _muppet(model, "tiny_mc")
    n, k = logits.shape
    with torch.no_grad():
        got = hf(**{key: v.view(n, k, -1) for key, v in _inputs(batch).items()}).logits
    torch.testing.assert_close(got, logits, atol=1e-5, rtol=1e-5)


def test_span_head_gives_muppets_start_and_end_logits_on_every_candidate(exported, tmp_path):
    from transformers import AutoModelForQuestionAnswering

    _, path, model = exported
    hf = AutoModelForQuestionAnswering.from_pretrained(export_task(path, "tiny_qa", tmp_path / "qa")).eval()
    logits, batch, _ = _muppet(model, "tiny_qa")
    with torch.no_grad():
        output = hf(**_inputs(batch))
    got = torch.stack([output.start_logits, output.end_logits], -1)
    candidates = torch.isfinite(logits)
    assert candidates.sum() > 10
    torch.testing.assert_close(got[candidates], logits[candidates], atol=1e-5, rtol=1e-5)


def test_unknown_task_names_the_nearest(exported, tmp_path):
    _, path, _ = exported
    with pytest.raises(MuppetError, match="tiny_cls"):
        export_task(path, "tiny_clss", tmp_path / "x")


def test_encoder_decoder_classification_exports_but_summarization_and_a_missing_auto_class_are_errors(tmp_path):
    from transformers import AutoModelForSequenceClassification

    path, model = _export(tmp_path, tiny.bart_config(), ["tiny_sum", "tiny_mc", "tiny_cls"])
    hf = AutoModelForSequenceClassification.from_pretrained(export_task(path, "tiny_cls", tmp_path / "cls")).eval()
    logits, batch, _ = _muppet(model, "tiny_cls", encoder_decoder=True)
    with torch.no_grad():  # BART pools the decoder state at the last EOS, as muppet does
        got = hf(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    torch.testing.assert_close(got, logits, atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match="no AutoModelFor"):
        export_task(path, "tiny_sum", tmp_path / "sum")
    with pytest.raises(ConfigError, match="has no AutoModelForMultipleChoice"):
        export_task(path, "tiny_mc", tmp_path / "mc")
    assert not (tmp_path / "sum").exists() and not (tmp_path / "mc").exists()


def test_an_architecture_whose_head_differs_is_refused(tmp_path):
    from transformers import ElectraConfig

    # ELECTRA's classification head is dense -> GELU -> linear: the layout fits, the function does not.
    config = ElectraConfig(vocab_size=len(tiny.vocab()), embedding_size=16, hidden_size=32, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=48, max_position_embeddings=128)
    path, _ = _export(tmp_path, config, ["tiny_cls"])
    with pytest.raises(ConfigError, match="computes its head differently"):
        export_task(path, "tiny_cls", tmp_path / "cls")
    assert not (tmp_path / "cls").exists()


def test_cli_export_writes_the_folder_and_reports_bad_input_in_one_line(exported, tmp_path, capsys):
    from muppet.cli import main

    _, path, _ = exported
    assert main(["export", str(path), str(tmp_path / "mc"), "--task", "tiny_mc"]) == 0
    assert (tmp_path / "mc" / "config.json").is_file() and (tmp_path / "mc" / "model.safetensors").is_file()
    assert main(["export", str(path), str(tmp_path / "mc"), "--task", "tiny_mc"]) == 2  # not overwritten
    assert "already exists" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "mc"), str(tmp_path / "y"), "--task", "tiny_mc"]) == 2
    assert "not a muppet export" in capsys.readouterr().err
