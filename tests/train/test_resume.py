"""Resume is exact or refused: config changes are checked key by key, incomplete checkpoints
are named and skipped, and the run says where it continued from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tiny
import torch
import yaml
from test_faults import cfg_dict

from muppet.cli import main
from muppet.config import PrefinetuneConfig
from muppet.config.base import RENAMED
from muppet.errors import ConfigError
from muppet.train.checkpoint import STATE_FILE, complete_checkpoints
from muppet.train.loop import prefinetune
from muppet.train.metrics_log import read_metrics

STEPS = 4


def run(tiny_root: Path, out: Path, **kw: object) -> dict:
    settings: dict = {"max_steps": STEPS, "save_every": 1, "keep_checkpoints": 3, **kw}
    return prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, **settings)))



@pytest.fixture(scope="module")
def runs(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An uninterrupted reference and a run stopped after update 3 (checkpoints 1, 2, 3)."""
    root = tmp_path_factory.mktemp("resume")
    run(tiny_root, root / "ref")
    run(tiny_root, root / "stopped", stop_after=3)
    return {"ref": root / "ref", "stopped": root / "stopped"}


def copy_of(runs: dict[str, Path], tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(runs["stopped"], out)
    return out


def assert_resumes_exactly(tiny_root: Path, runs: dict[str, Path], out: Path) -> None:
    run(tiny_root, out, resume=True)
    a, b = tiny.export_weights(runs["ref"] / "export"), tiny.export_weights(out / "export")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def cli(tiny_root: Path, out: Path, capsys: pytest.CaptureFixture[str], *overrides: str) -> tuple[int, str]:
    base = cfg_dict(tiny_root, out, max_steps=STEPS, save_every=1, keep_checkpoints=3, resume=True)
    given = dict(o.split("=", 1) for o in overrides)
    args = [f"{k}={json.dumps(v)}" for k, v in base.items() if k not in given]
    code = main(["prefinetune", *args, *overrides])
    return code, capsys.readouterr().err


def test_resume_refuses_every_change_that_breaks_exactness_naming_old_and_new(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(runs, tmp_path)
    code, err = cli(tiny_root, out, capsys, "lr=0.002", "batch_size=4")
    assert code == 2 and "Traceback" not in err
    assert "lr: 0.001 -> 0.002" in err and "batch_size: 6 -> 4" in err
    code, err = cli(tiny_root, out, capsys, "max_steps=2")
    assert code == 2 and "max_steps=2 is below the step of the checkpoint" in err and "step_00000003" in err
    code, err = cli(tiny_root, out, capsys, "tasks=[tiny_cls,tiny_reg]")
    assert code == 2 and "other tasks" in err and "removed: ['tiny_mc']" in err
    assert_resumes_exactly(tiny_root, runs, out)  # nothing was lost


def test_resume_allows_safe_changes_and_a_longer_run_and_records_them(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(runs, tmp_path)
    run(tiny_root, out, resume=True, max_steps=6, log_every=2, eval_every=2)
    err = capsys.readouterr().err
    assert "resuming from" in err and "step_00000003 (update 3 of 6)" in err and "max_steps 4 -> 6" in err
    rows = read_metrics(out / "metrics.jsonl")
    resumed = [r for r in rows if "resumed_from" in r]
    assert len(resumed) == 1 and resumed[0]["step"] == 3 and resumed[0]["changed"]["max_steps"] == [4, 6]
    assert resumed[0]["changed"]["log_every"] == [1, 2]
    assert json.loads((out / "results.json").read_text())["step"] == 6


@pytest.mark.parametrize("damage", ["truncate model.safetensors", "truncate optimizer.bin", "delete random_states_0.pkl",
                                    "corrupt trainer_state.json"])
def test_an_incomplete_checkpoint_is_named_and_the_previous_one_resumes_exactly(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    out = copy_of(runs, tmp_path)
    action, name = damage.split()
    target = complete_checkpoints(out)[-1] / name
    if action == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif action == "delete":
        target.unlink()
    else:
        target.write_text('{"step": 3, "sampl')
    assert_resumes_exactly(tiny_root, runs, out)
    err = capsys.readouterr().err
    assert "resuming from" in err and "step_00000002" in err and f"step_00000003: {name}" in err
    assert (out / "checkpoints" / "broken-step_00000003").is_dir()  # kept to inspect, never counted


def test_resume_without_a_usable_checkpoint_is_an_error(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(runs, tmp_path)
    for path in complete_checkpoints(out):
        (path / "model.safetensors").unlink()
    code, err = cli(tiny_root, out, capsys)
    assert code == 2 and "Traceback" not in err and "no usable checkpoint" in err and "model.safetensors is missing" in err
    with pytest.raises(ConfigError, match="contradict"):
        run(tiny_root, out, resume=True, overwrite=True)


def test_a_changed_weight_or_cap_of_a_task_entry_is_refused(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(runs, tmp_path)
    for entry in ("{name: tiny_mc, weight: 2}", "{name: tiny_mc, max_examples: 5}"):
        code, err = cli(tiny_root, out, capsys, f"tasks=[tiny_cls, tiny_reg, {entry}]")
        assert code == 2 and "Traceback" not in err
        assert "tasks: ['tiny_cls', 'tiny_reg', 'tiny_mc'] -> ['tiny_cls', 'tiny_reg', {'name': 'tiny_mc'" in err
    # the same tasks written as entries without options are the same config
    code, err = cli(tiny_root, out, capsys, "tasks=[tiny_cls, {name: tiny_reg}, {name: tiny_mc, weight: 1}]")
    assert code == 0, err


def _old_names(config: dict) -> dict:
    """A config as a run from before the renames saved it."""
    new_to_old = {new: old for old, new in RENAMED.items()}
    return {new_to_old.get(k, k): v for k, v in config.items()}


def test_a_run_saved_under_the_old_key_names_resumes_exactly_and_a_changed_value_is_still_refused(
    tiny_root: Path, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(runs, tmp_path)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert "max_eval_examples" in config and "max_train_examples" in config  # saved under the new names
    (out / "config.yaml").write_text(yaml.safe_dump(_old_names(config), sort_keys=False))
    for checkpoint in complete_checkpoints(out):
        state = json.loads((checkpoint / STATE_FILE).read_text())
        state["config"] = _old_names(state["config"])
        assert "eval_max_examples" in state["config"] and "max_examples_per_task" in state["config"]
        (checkpoint / STATE_FILE).write_text(json.dumps(state))
    code, err = cli(tiny_root, out, capsys, "max_eval_examples=3")  # the old name's value was 4
    assert code == 2 and "max_eval_examples: 4 -> 3" in err
    assert_resumes_exactly(tiny_root, runs, out)
    resumed = [r for r in read_metrics(out / "metrics.jsonl") if "resumed_from" in r]
    assert set(resumed[-1]["changed"]) == {"resume", "stop_after", "output_dir"}  # the old names are no change


@pytest.mark.parametrize("command", ["prefinetune", "finetune"])
def test_a_checkpoint_from_before_a_new_key_resumes_as_if_it_had_the_default(command: str) -> None:
    from muppet.config import FinetuneConfig
    from muppet.train.resume import check_resume, with_defaults

    cfg = PrefinetuneConfig() if command == "prefinetune" else FinetuneConfig(task="rte")
    new = cfg.to_dict()
    # keys this session added: a checkpoint written before them has none of them
    absent = [k for k in ("probe", "select_checkpoint", "monitor_gradients", "report_to", "cache_shared") if k in new]
    assert absent
    saved = {k: v for k, v in new.items() if k not in absent}
    with pytest.raises(ConfigError):  # without the defaults filled in, every new key looks changed
        check_resume(saved, new, 3, Path("step_3"), frozenset())
    assert check_resume(with_defaults(saved, cfg), new, 3, Path("step_3"), frozenset()) == {}
    # a value that differs from the default is still a change
    other = cfg.model_copy(update={"cache_shared": True}).to_dict()
    with pytest.raises(ConfigError, match="cache_shared"):
        check_resume(with_defaults(saved, cfg), other, 3, Path("step_3"), frozenset())
