"""The transfer card from a manifest: metadata the Hub parses, honest outcomes for each case."""

from __future__ import annotations

from huggingface_hub import ModelCard

from muppet.integrations.card import transfer_card


def _manifest(**config: object) -> dict:
    task = {"name": "rte", "family": "classification", "head": "cls/rte", "metric": "accuracy",
            "eval_split": "dev", "eval_examples": 277, "train_examples": 2490, "sampling_rate": 1.0,
            "dev": {"accuracy": 0.61}, "chance": {"random": 0.5, "trivial": 0.527}, "dropped_leaks": 0,
            "spec": {"name": "rte", "hub": {"path": "nyu-mll/glue", "name": "rte"}}}
    return {"base_model": "sentence-transformers/all-MiniLM-L6-v2", "steps": 100, "muppet_version": "0.1.0",
            "tasks": [task], "config": config}


def test_hub_base_model_datasets_and_a_passed_leakage_check(tmp_path):
    text = transfer_card(_manifest(leakage="error", downstream=["stsb"]), tmp_path)
    card = ModelCard(text)
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.datasets == ["nyu-mll/glue"]
    (result,) = card.data.eval_results
    assert (result.dataset_type, result.dataset_config, result.dataset_split) == ("nyu-mll/glue", "rte", "validation")
    assert result.metric_value == 0.61
    assert "| rte | dev | 277 | accuracy | 0.61 | 0.5 | 0.527 | yes |" in text
    assert "`leakage: error`, passed" in text and "downstream tasks stsb" in text


def test_sentence_transformers_export_and_a_score_below_chance(tmp_path):
    (tmp_path / "modules.json").write_text("[]")
    manifest = _manifest(leakage="allow")
    manifest["tasks"][0]["dev"] = {"accuracy": 0.5}
    text = transfer_card(manifest, tmp_path, name="me/model")
    card = ModelCard(text)
    assert card.data.library_name == "sentence-transformers" and "sentence-transformers" in card.data.tags
    assert card.data.model_name == "me/model" and "SentenceTransformer(" in text
    assert "| 0.5 | 0.5 | 0.527 | no |" in text and "not enforced" in text


def test_export_without_run_information_still_renders(tmp_path):
    manifest = _manifest()
    manifest["tasks"][0] = {k: manifest["tasks"][0][k] for k in ("name", "family", "head", "spec")}
    card = ModelCard(transfer_card(manifest, tmp_path))
    assert card.data.eval_results is None
    assert "| rte | - | - | - | - | - | - | - |" in card.content and "Leakage" not in card.content


def test_an_older_exports_settings_show_under_the_new_key_names(tmp_path):
    text = transfer_card(_manifest(max_examples_per_task=2000, lr=1e-5), tmp_path)
    assert "| max_train_examples | 2000 |" in text and "max_examples_per_task" not in text


def test_a_passage_level_check_says_what_it_dropped(tmp_path):
    manifest = _manifest(leakage="drop", leakage_unit="passage")
    manifest["tasks"][0]["dropped_leaks"] = 1234
    text = transfer_card(manifest, tmp_path)
    assert ("`leakage: drop`, `leakage_unit: passage`, training copies of evaluation texts and training examples "
            "reading their passages were dropped: rte 1,234.") in text
    assert "`leakage: drop`, training copies of evaluation texts were dropped: none were found." in transfer_card(
        _manifest(leakage="drop"), tmp_path)
