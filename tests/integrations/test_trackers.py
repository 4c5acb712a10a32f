"""Experiment trackers (report_to) through accelerate: TensorBoard for real, read back from its
event files; the others at their seam (not installed: a clear error before anything loads)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from muppet.cli import main
from muppet.config import FinetuneConfig, PrefinetuneConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import finetune
from muppet.integrations.trackers import flatten, hyperparameters
from muppet.train.loop import prefinetune
from muppet.train.metrics_log import read_metrics


def cfg_dict(tiny_root: Path, out: Path, **kw: object) -> dict:
    base = dict(model=str(tiny_root / "tiny-bert"), tasks=["tiny_cls", "tiny_reg", "tiny_mc"],
                data_dir=str(tiny_root / "data"), output_dir=str(out), max_steps=8, batch_size=6, lr=1e-3,
                max_length=48, log_every=1, progress=False, seed=5, max_eval_examples=4)
    return {**base, **kw}


def ft(tiny_root: Path, out: Path, **kw: object) -> FinetuneConfig:
    base = dict(model=str(tiny_root / "tiny-bert"), task="tiny_cls", data_dir=str(tiny_root / "data"), output_dir=str(out),
                batch_size=4, lr=1e-3, max_length=48, progress=False, seed=1)
    return FinetuneConfig.from_dict({**base, **kw})


def scalars(out: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard holds for the run: tag -> [(step, value)], purged steps dropped."""
    events = EventAccumulator(str(out / "trackers" / "muppet"), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def expected(out: Path) -> dict[str, list[tuple[int, float]]]:
    """metrics.jsonl's numbers, flattened as the trackers get them."""
    by_tag: dict[str, list[tuple[int, float]]] = {}
    for row in read_metrics(out / "metrics.jsonl"):
        for tag, value in flatten(row).items():
            by_tag.setdefault(tag, []).append((row["step"], value))
    return by_tag


def assert_same(got: dict[str, list[tuple[int, float]]], want: dict[str, list[tuple[int, float]]]) -> None:
    assert got.keys() == want.keys()
    for tag in want:  # TensorBoard stores float32
        assert [s for s, _ in got[tag]] == [s for s, _ in want[tag]], tag
        assert [v for _, v in got[tag]] == pytest.approx([v for _, v in want[tag]], rel=1e-6), tag


def test_flatten_keeps_finite_numbers_under_slash_keys() -> None:
    row = {"step": 4, "loss": 0.5, "dev": {"rte": {"accuracy": 0.75, "f1": float("nan")}}, "resumed_from": "step_3",
           "skipped_update": True, "nonfinite": ["rte"], "tasks": {"rte": {"n": 6}}}
    assert flatten(row) == {"loss": 0.5, "dev/rte/accuracy": 0.75, "tasks/rte/n": 6}
    assert hyperparameters({"tasks": ["a", "b"], "r3f": None, "lr": 1e-3, "extra": {}, "s": {"eps": 1.0}}) == {
        "tasks": '["a", "b"]', "r3f": "null", "lr": 1e-3, "extra": "{}", "s/eps": 1.0}


def test_tensorboard_gets_every_metrics_row_at_the_same_steps_and_a_resume_continues_them(
    tiny_root: Path, tmp_path: Path
) -> None:
    settings = dict(max_steps=6, eval_every=2, report_to=["tensorboard"], export=False)
    out = tmp_path / "run"
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, **settings)))
    got, want = scalars(out), expected(out)
    assert {"loss", "lr", "examples_per_s", "tasks/tiny_cls/loss", "tasks/tiny_cls/scaled_loss",
            "dev/tiny_cls/accuracy", "dev/tiny_reg/pearson"} <= set(want)
    assert [s for s, _ in got["loss"]] == [1, 2, 3, 4, 5, 6] and [s for s, _ in got["dev/tiny_cls/accuracy"]] == [2, 4, 6]
    assert_same(got, want)
    # the resolved config is stored as hyperparameters (the hparams plugin's event file)
    assert list((out / "trackers" / "muppet").glob("*/hparams.yml"))

    stopped = tmp_path / "stopped"
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, stopped, **settings, stop_after=3)))
    assert [s for s, _ in scalars(stopped)["loss"]] == [1, 2, 3]
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, stopped, **settings, resume=True)))
    resumed = scalars(stopped)
    assert [s for s, _ in resumed["loss"]] == [1, 2, 3, 4, 5, 6]
    assert_same(resumed, expected(stopped))
    # bit-exact resume: the same dev scores as the uninterrupted run, at the same steps
    assert resumed["dev/tiny_cls/accuracy"] == got["dev/tiny_cls/accuracy"]

    # a crash after update 6 with only checkpoint 2 left: the rows logged after it are logged
    # again, and TensorBoard (purge_step) keeps the new ones only, as metrics.jsonl does
    crashed = tmp_path / "crashed"
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, crashed, **settings, save_every=2, keep_checkpoints=3)))
    for late in ("step_00000004", "step_00000006"):
        shutil.rmtree(crashed / "checkpoints" / late)
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, crashed, **settings, save_every=2, resume=True)))
    again = scalars(crashed)
    assert [s for s, _ in again["loss"]] == [1, 2, 3, 4, 5, 6]
    assert_same(again, expected(crashed))


def test_finetune_reports_its_loss_and_dev_rows(tiny_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    finetune(ft(tiny_root, out, max_steps=4, eval_every=2, log_every=1, report_to=["tensorboard"]))
    got = scalars(out)
    assert [s for s, _ in got["dev/accuracy"]] == [2, 4] and [s for s, _ in got["loss"]] == [1, 2, 3, 4]
    assert_same(got, expected(out))


@pytest.mark.parametrize("tracker, package", [("wandb", "wandb"), ("mlflow", "mlflow"), ("comet_ml", "comet-ml")])
def test_a_tracker_that_is_not_installed_is_one_message_before_anything_loads(
    tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tracker: str, package: str,
) -> None:
    import accelerate.tracking

    monkeypatch.setattr(accelerate.tracking, "get_available_trackers", lambda: [])  # whatever this machine has
    # a model and data that do not exist: the tracker is checked first
    bad = dict(model=str(tmp_path / "no-model"), data_dir=str(tmp_path / "no-data"), report_to=[tracker])
    with pytest.raises(ConfigError, match=rf"report_to: {tracker} is not installed; pip install {package}"):
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, tmp_path / "p", **bad)))
    with pytest.raises(ConfigError, match=rf"pip install {package}"):
        finetune(ft(tiny_root, tmp_path / "f", **bad))
    assert not (tmp_path / "p").exists() and not (tmp_path / "f").exists()
    assert main(["prefinetune", f"output_dir={tmp_path / 'c'}", f"report_to=[{tracker}]"]) == 2
    err = capsys.readouterr().err
    assert f"pip install {package}" in err and "Traceback" not in err


def test_an_unknown_tracker_name_is_a_config_error_with_the_nearest_name() -> None:
    with pytest.raises(ConfigError, match="did you mean 'tensorboard'"):
        PrefinetuneConfig.from_dict({"report_to": ["tensorbord"]})
