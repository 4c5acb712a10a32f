"""Pushing an export to the Hub: the exact files and card at the upload seam, no network."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, ModelCard, constants

from muppet.cli import main
from muppet.config import PrefinetuneConfig
from muppet.errors import ConfigError
from muppet.integrations.hub_push import HubError, push
from muppet.train.loop import prefinetune

TASKS = ["tiny_cls", "tiny_reg", "tiny_mc", "tiny_qa"]
COMMIT = "https://huggingface.co/org/tiny-muppet/commit/0123abc"


class FakeHub:
    """HfApi's methods that a push calls, recording their arguments and what was uploaded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.uploaded: dict[str, bytes] = {}
        self.fail = fail
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
        for name in ("create_repo", "create_branch", "upload_folder"):
            monkeypatch.setattr(HfApi, name, self._method(name))

    def _method(self, name: str) -> Any:
        def method(api: HfApi, repo_id: str, **kwargs: Any) -> Any:
            self.calls.append((name, {"repo_id": repo_id, **kwargs}))
            if self.fail is not None:
                raise self.fail
            if name == "upload_folder":
                root = Path(kwargs["folder_path"])
                self.uploaded = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
                return types.SimpleNamespace(commit_url=COMMIT)
            return None

        return method


def _config(tiny_root: Path, out: Path, **kw: Any) -> PrefinetuneConfig:
    return PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=TASKS, data_dir=str(tiny_root / "data"), output_dir=str(out),
        max_steps=2, batch_size=8, max_length=48, doc_stride=16, eval_batch_size=16, progress=False, leakage="drop",
        **kw,
    ))


@pytest.fixture(scope="module")
def run(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], FakeHub]:
    """A tiny run that pushes its export at the end (push_to_hub), against the fake hub."""
    with pytest.MonkeyPatch.context() as mp:
        hub = FakeHub(mp)
        out = tmp_path_factory.mktemp("hub") / "run"
        summary = prefinetune(_config(tiny_root, out, push_to_hub="org/tiny-muppet"))
    return out, summary, hub


def test_push_to_hub_at_the_end_of_a_run_uploads_exactly_the_export(run):
    out, summary, hub = run
    assert summary["pushed"] == COMMIT
    assert [name for name, _ in hub.calls] == ["create_repo", "upload_folder"]
    assert hub.calls[0][1] == {"repo_id": "org/tiny-muppet", "private": None, "exist_ok": True, "repo_type": "model"}
    assert hub.calls[1][1]["folder_path"] == str(out / "export") and hub.calls[1][1]["revision"] is None
    export = out / "export"
    assert set(hub.uploaded) == {str(p.relative_to(export)) for p in export.rglob("*") if p.is_file()}
    assert {"config.json", "model.safetensors", "heads.safetensors", "muppet.json", "README.md"} <= set(hub.uploaded)
    assert hub.uploaded["model.safetensors"] == (export / "model.safetensors").read_bytes()


def test_card_metadata_is_a_model_index_the_hub_parser_reads(run):
    out, _, hub = run
    card = ModelCard(hub.uploaded["README.md"].decode())  # huggingface_hub's own parser and validation
    manifest = json.loads((out / "export" / "muppet.json").read_text())
    assert card.data.model_name == "org/tiny-muppet"
    assert card.data.library_name == "transformers" and "muppet" in card.data.tags
    assert card.data.base_model is None  # a local folder is not a Hub id
    results = {r.dataset_name: r for r in card.data.eval_results}
    assert set(results) == set(TASKS)
    for task in manifest["tasks"]:
        result = results[task["name"]]
        assert result.metric_type == task["metric"]
        assert result.metric_value == pytest.approx(task["dev"][task["metric"]])
    assert {results[t].task_type for t in TASKS} == {"text-classification", "multiple-choice", "question-answering"}
    assert results["tiny_cls"].dataset_split == "validation"  # tiny_cls has a dev file
    assert results["tiny_mc"].dataset_split.startswith("held-out")


def test_card_body_has_the_mixture_settings_chance_levels_and_leakage_outcome(run, tiny_root):
    out, _, hub = run
    text = hub.uploaded["README.md"].decode()
    assert str(tiny_root) not in text and "`tiny-bert` pre-finetuned" in text  # no local paths on a public card
    table = {r["task"]: r for r in json.loads((out / "results.json").read_text())["table"]}
    manifest = {t["name"]: t for t in json.loads((out / "export" / "muppet.json").read_text())["tasks"]}
    lines = text.splitlines()
    for name, row in table.items():
        mixture = next(line for line in lines if line.startswith(f"| {name} | ") and manifest[name]["head"] in line)
        assert f"| {manifest[name]['train_examples']} | {manifest[name]['sampling_rate']:.4g} |" in mixture
        assert f"`{manifest[name]['data'][:16]}`" in mixture
        result = next(line for line in lines if line.startswith(f"| {name} | {row['eval_split']} | {row['n']} |"))
        assert f"| {row['random']:.4g} | {row['trivial']:.4g} |" in result
    assert "| max_steps | 2 |" in text and "| sampling | proportional |" in text
    assert "`leakage: drop`, training copies of evaluation texts were dropped" in text


def test_cli_push_with_private_and_revision(run, tmp_path, monkeypatch, capsys):
    out, _, _ = run
    hub = FakeHub(monkeypatch)
    assert main(["push", str(out / "export"), "org/other", "--private", "--revision", "v1"]) == 0
    assert COMMIT in capsys.readouterr().out
    assert [name for name, _ in hub.calls] == ["create_repo", "create_branch", "upload_folder"]
    assert hub.calls[0][1]["private"] is True
    assert hub.calls[1][1] == {"repo_id": "org/other", "branch": "v1", "exist_ok": True}
    assert hub.calls[2][1]["revision"] == "v1"
    assert ModelCard(hub.uploaded["README.md"].decode()).data.model_name == "org/other"


def test_offline_push_is_one_clear_message(run, capsys):
    out, _, _ = run
    assert constants.HF_HUB_OFFLINE  # the test session is offline
    assert main(["push", str(out / "export"), "org/tiny-muppet"]) == 2
    err = capsys.readouterr().err
    assert "offline" in err and "Traceback" not in err


def test_offline_run_with_push_to_hub_stops_before_training(tiny_root, tmp_path):
    with pytest.raises(HubError, match="offline"):
        prefinetune(_config(tiny_root, tmp_path / "run", push_to_hub="org/x"))
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
    with pytest.raises(ConfigError, match="export=true"):
        _config(tiny_root, tmp_path / "run", push_to_hub="org/x", export=False)


def test_a_failed_upload_says_the_export_is_intact(run, monkeypatch):
    import httpx2

    out, _, _ = run
    FakeHub(monkeypatch, fail=httpx2.ConnectError("Name or service not known"))
    with pytest.raises(HubError, match="Name or service not known.*muppet push"):
        push(out / "export", "org/tiny-muppet")
    with pytest.raises(HubError, match="not a Hub repo id"):
        push(out / "export", "not/a/repo/id")
