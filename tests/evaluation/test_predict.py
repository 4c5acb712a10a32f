"""muppet.load / muppet predict / muppet evaluate on tiny exports, every family.

The oracle: the metric recomputed from what predict returns for a task's dev records equals
what evaluate reports for that split, through the API and through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tiny
import torch

import muppet
from muppet.cli import main
from muppet.evaluation import metrics as M

# The export's training config: evaluate and load take these settings from it.
SAVED = {"max_length": 48, "doc_stride": 16, "max_target_length": 12, "max_new_tokens": 6, "heldout_fraction": 0.3}


def _reg_rows(n: int, seed: int) -> list[dict[str, Any]]:
    words = ["cat", "dog", "boy", "girl", "car", "tree", "sun"]
    return [{"a": f"the {words[(i + seed) % 7]} sat {i}", "b": f"the {words[i % 7]} ran", "score": (i * 7 % 11) / 2.2}
            for i in range(n)]


def _dev_qa() -> list[dict[str, Any]]:
    rows = tiny.qa_rows(12)[6:]  # the texts repeat every 12: none is a training text
    for r in rows:  # the files' answer format: offsets under answer_start
        r["answers"] = {"text": r["answers"]["text"], "answer_start": r["answers"]["answer_start"]}
    return rows


DATA = {  # task -> (family, declaration keywords, train rows, dev rows)
    "t_cls": ("classification", {"labels": ("entailment", "not_entailment"),
                                 "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}},
              tiny.cls_rows(16), tiny.cls_rows(14, seed=1)),
    "t_reg": ("regression", {"label_range": (0.0, 5.0), "columns": {"text_a": "a", "text_b": "b", "label": "score"}},
              _reg_rows(16, 0), _reg_rows(12, 3)),
    "t_mc": ("multiple_choice", {}, tiny.mc_rows(12), tiny.mc_rows(24)[12:]),
    "t_qa": ("extractive_qa", {}, tiny.qa_rows(6), _dev_qa()),
    # no dev split: scored on the held-out slice of train (heldout_fraction of the run, not the default)
    "t_held": ("classification", {"labels": ("entailment", "not_entailment"),
                                  "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}},
               tiny.cls_rows(40, seed=2), None),
    "t_sum": ("summarization", {}, tiny.sum_rows(6), [
        {"document": f"the {w} ate food . then it saw a big tree .", "summary": f"the {w} ate"}
        for w in ("cat", "dog", "man", "girl", "boy")]),
}
ENCODER = ["t_cls", "t_reg", "t_mc", "t_qa"]  # with dev splits


def _task_file(root: Path, name: str) -> str:
    import yaml

    family, kw = DATA[name][0], dict(DATA[name][1])
    splits = {"train": "train.jsonl", **({"dev": "dev.jsonl"} if DATA[name][3] else {})}
    local = {"format": "jsonl", "directory": str(root / "data" / name), "splits": splits, "columns": kw.pop("columns", {})}
    declared = {"name": name, "family": family, "local": local, **{k: list(v) for k, v in kw.items()}}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(declared))
    return str(path)


def _export(root: Path, model: Path, names: list[str], steps: int, lr: float) -> Path:
    """A short pre-finetuning run on the tasks: heads that tell inputs apart, and a real export."""
    summary = muppet.prefinetune(model=str(model), tasks=[_task_file(root, n) for n in names], max_steps=steps,
                                 batch_size=8, lr=lr, output_dir=str(root / f"run-{model.name}"), progress=False,
                                 seed=3, **SAVED)
    return Path(summary["export"])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, tiny_root: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("predict")
    for name, (_, _, train, dev) in DATA.items():
        tiny.write_jsonl(root / "data" / name / "train.jsonl", train)
        if dev:
            tiny.write_jsonl(root / "data" / name / "dev.jsonl", dev)
    return {"root": root, "data": root / "data", "bert": _export(root, tiny_root / "tiny-bert", [*ENCODER, "t_held"], 40, 3e-3),
            "bart": _export(root, tiny_root / "tiny-bart", ["t_sum"], 15, 1e-2)}


def _export_for(setup: dict[str, Any], task: str) -> Path:
    return setup["bart" if task == "t_sum" else "bert"]


def _dev(setup: dict[str, Any], task: str) -> list[dict[str, Any]]:
    lines = (setup["data"] / task / "dev.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def recomputed(task: str, records: list[dict[str, Any]], predictions: list[dict[str, Any]]) -> float:
    """The task's headline metric from predict's outputs, computed here."""
    if task == "t_cls":
        return float(np.mean([p["label"] == r["label"] for p, r in zip(predictions, records)]))
    if task == "t_reg":
        return float(np.corrcoef([p["value"] for p in predictions], [r["score"] for r in records])[0, 1])
    if task == "t_mc":
        return float(np.mean([p["choice"] == r["label"] for p, r in zip(predictions, records)]))
    if task == "t_qa":
        return M.squad_scores([p["answer"] for p in predictions], [r["answers"]["text"] for r in records])["f1"]
    return M.rouge([p["summary"] for p in predictions], [r["summary"] for r in records])["rougeL"]


HEADLINE = {"t_cls": "accuracy", "t_reg": "pearson", "t_mc": "accuracy", "t_qa": "f1", "t_sum": "rougeL"}
DECISION = {"t_cls": "label", "t_reg": "value", "t_mc": "choice", "t_qa": "answer", "t_sum": "summary"}
# Other batch sizes pad rows differently, which moves float outputs in the 6th digit: only the
# regression metric is continuous in them; the others read discrete decisions.
TOLERANCE = {"t_reg": 1e-5}


@pytest.mark.parametrize("task", [*ENCODER, "t_sum"])
def test_predictions_score_what_evaluate_reports(setup: dict[str, Any], task: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    export, records = _export_for(setup, task), _dev(setup, task)
    model = muppet.load(export, device="cpu")
    assert task in model.tasks
    predictions = model.predict(records, task=task, batch_size=5)
    assert len(predictions) == len(records)
    # not one answer for every input (an oracle that a constant would pass is none)
    assert len({str(p[DECISION[task]]) for p in predictions}) > 1 or (task == "t_sum" and predictions[0]["summary"])
    scored = muppet.evaluate(export, tasks=[task], data_dir=str(setup["data"]), progress=False)
    reported = scored["results"][task][HEADLINE[task]]
    assert recomputed(task, records, predictions) == pytest.approx(reported, abs=TOLERANCE.get(task, 1e-9))
    row = scored["table"][0]
    assert row["n"] == len(records) and row["eval_split"] == "dev" and np.isfinite(row["random"])

    # the CLI: each output line is its input plus the prediction, and scores the same
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(export), "--task", task, "--input", str(setup["data"] / task / "dev.jsonl"),
                 "--output", str(out), "--batch-size", "3", "--no-progress"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [{k: v for k, v in line.items() if k != "prediction"} for line in lines] == records
    assert recomputed(task, records, [line["prediction"] for line in lines]) == pytest.approx(
        reported, abs=TOLERANCE.get(task, 1e-9))
    assert main(["evaluate", str(export), f"data_dir={setup['data']}", "progress=false", "--tasks", task,
                 "--output-dir", str(tmp_path / "ev")]) == 0
    saved = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert saved["results"][task][HEADLINE[task]] == pytest.approx(reported, abs=1e-12)
    assert f"| {task} |" in capsys.readouterr().out
    assert f"| {task} |" in (tmp_path / "ev" / "results.md").read_text()


def test_each_family_answers_in_its_own_terms(setup: dict[str, Any]) -> None:
    bert = muppet.load(setup["bert"], device="cpu")
    cls = bert.predict(_dev(setup, "t_cls")[:4], task="t_cls")
    for p in cls:
        assert set(p["scores"]) == {"entailment", "not_entailment"}
        assert sum(p["scores"].values()) == pytest.approx(1.0)
        assert p["label"] == max(p["scores"], key=p["scores"].get) and p["score"] == p["scores"][p["label"]]
    # single-text classification also takes plain strings, the same as a record with text_a only
    assert bert.predict(["the cat sat in the park"], task="t_cls") == bert.predict([{"text_a": "the cat sat in the park"}],
                                                                                  task="t_cls")
    mc_records = _dev(setup, "t_mc")
    for p, r in zip(bert.predict(mc_records, task="t_mc"), mc_records):
        assert len(p["scores"]) == len(r["choices"]) and sum(p["scores"]) == pytest.approx(1.0)
        assert p["text"] == r["choices"][p["choice"]]
    qa_records = _dev(setup, "t_qa")
    for p, r in zip(bert.predict(qa_records, task="t_qa"), qa_records):
        assert p["answer"] and r["context"][p["start"]:p["end"]] == p["answer"] and np.isfinite(p["score"])
    # records without targets are inputs too (targets are never read)
    unlabelled = [{k: v for k, v in r.items() if k != "answers"} for r in qa_records]
    assert bert.predict(unlabelled, task="t_qa") == bert.predict(qa_records, task="t_qa")
    bart = muppet.load(setup["bart"], device="cpu")
    summaries = bart.predict(["the cat ate food . then it saw a big tree ."], task="t_sum")
    assert isinstance(summaries[0]["summary"], str)


def test_regression_values_are_in_the_tasks_units(setup: dict[str, Any], tmp_path: Path) -> None:
    """The value is what the plain transformers model of the task gives (its logit is the score)."""
    from transformers import AutoModelForSequenceClassification

    from muppet.integrations.heads import export_task

    records = _dev(setup, "t_reg")
    values = [p["value"] for p in muppet.load(setup["bert"], device="cpu").predict(records, task="t_reg")]
    hf = AutoModelForSequenceClassification.from_pretrained(export_task(setup["bert"], "t_reg", tmp_path / "reg")).eval()
    enc = tiny.tokenizer()([r["a"] for r in records], [r["b"] for r in records], padding=True, return_tensors="pt")
    with torch.no_grad():
        plain = hf(**enc).logits.squeeze(-1).tolist()
    assert values == pytest.approx(plain, abs=1e-5)
    assert max(values) - min(values) > 1e-4  # not one constant for every input


def test_bad_inputs_are_named_by_line_and_field_and_nothing_is_written(setup: dict[str, Any], tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "in.jsonl"
    bad.write_text("\n".join([
        json.dumps({"premise": "the cat sat", "hypothesis": "yes the cat sat"}),
        json.dumps({"premis": "the dog ran", "hypothesis": "no"}),
        "{not json",
        json.dumps({"text_a": "   "}),
        json.dumps({"text_a": "fine", "prediction": 1}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    code = main(["predict", str(setup["bert"]), "--task", "t_cls", "--input", str(bad), "--output", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "4 malformed input(s)" in err
    assert f"{bad}:2 (field 'premise'): missing (nearest in the record: 'premis')" in err
    assert f"{bad}:3: invalid JSON" in err
    assert f"{bad}:4 (field 'text_a'): empty text" in err
    assert f"{bad}:5 (field 'prediction')" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]

    model = muppet.load(setup["bert"], device="cpu")
    with pytest.raises(muppet.DataError, match=r"input record 2 \(field 'choices'\): expected a list of options"):
        model.predict([tiny.mc_rows(1)[0], {"context": "x", "choice": ["a", "b"]}], task="t_mc")
    with pytest.raises(muppet.DataError, match=r"input record 1: expected a record \(a mapping of fields\), got str"):
        model.predict(["a plain text is no multiple-choice input"], task="t_mc")
    with pytest.raises(muppet.ConfigError, match="a list of inputs"):
        model.predict("the cat sat", task="t_cls")


def test_a_task_the_export_lacks_is_named_with_the_nearest(setup: dict[str, Any], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tiny.write_jsonl(tmp_path / "in.jsonl", [{"text_a": "x"}])
    assert main(["predict", str(setup["bert"]), "--task", "t_clss", "--input", str(inputs),
                 "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "did you mean 't_cls'" in capsys.readouterr().err
    assert main(["evaluate", str(setup["bert"]), f"data_dir={setup['data']}", "--tasks", "t_mcq"]) == 2
    assert "did you mean 't_mc'" in capsys.readouterr().err
    with pytest.raises(muppet.MuppetError, match="t_sum"):  # the BERT export has no summarization head
        muppet.load(setup["bert"], device="cpu").predict(["x"], task="t_sum")
    assert main(["evaluate", str(setup["bert"]), f"data_dir={setup['data']}", "--split", "test"]) == 2
    assert "no 'test' split" in capsys.readouterr().err
    assert main(["evaluate", str(setup["bert"]), "split=dev", "--split", "dev"]) == 2
    assert "given twice" in capsys.readouterr().err
    with pytest.raises(muppet.ConfigError, match="unknown config key 'splt'; did you mean 'split'"):
        muppet.evaluate(setup["bert"], splt="dev")
    with pytest.raises(muppet.ConfigError, match="unknown setting 'max_lenght'; did you mean 'max_length'"):
        muppet.load(setup["bert"], max_lenght=32)


def test_interrupted_prediction_leaves_the_old_output(setup: dict[str, Any], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from muppet.evaluation import evaluate, predict

    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    calls = []
    real = evaluate.raw_predictions

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # after the first chunk was written
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(predict, "CHUNK", 5)
    monkeypatch.setattr(evaluate, "raw_predictions", interrupted)
    assert main(["predict", str(setup["bert"]), "--task", "t_cls", "--input", str(setup["data"] / "t_cls" / "dev.jsonl"),
                 "--output", str(out), "--no-progress"]) == 130
    assert len(calls) == 2 and out.read_text() == "old\n" and sorted(tmp_path.iterdir()) == [out]


def test_evaluate_reproduces_the_runs_own_table_on_held_out_slices_too(setup: dict[str, Any]) -> None:
    """A task without a dev split is scored on the slice its run held out (the run's heldout_fraction,
    not the default): evaluate's results equal the run's own results.json, task by task."""
    run = json.loads((setup["bert"].parent / "results.json").read_text())
    scored = muppet.evaluate(setup["bert"], data_dir=str(setup["data"]), progress=False)
    assert scored["results"] == run["dev"]
    assert scored["table"] == run["table"]
    held = next(r for r in scored["table"] if r["task"] == "t_held")
    assert held["eval_split"] == "held-out 12 of train"  # 0.3 of its 40, not the default 0.1
