"""One process owns a run folder; a killed owner never leaves it stuck; a finished result is
replaced only with overwrite=true, and then from an emptied folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults import cfg_dict

from muppet.cli import main
from muppet.config import PrefinetuneConfig
from muppet.errors import ConfigError
from muppet.evaluation.finetune import FinetuneConfig, finetune
from muppet.train.checkpoint import complete_checkpoints
from muppet.train.loop import prefinetune
from muppet.train.metrics_log import read_metrics
from muppet.train.runfolder import FolderLock

HOLD = "import sys, time; from pathlib import Path; from muppet.train.runfolder import FolderLock; " \
       "assert FolderLock(Path(sys.argv[1])).acquire() is None; print('held', flush=True); time.sleep(600)"


def test_a_folder_held_by_a_live_run_is_refused_and_a_killed_one_is_released(tiny_root: Path, tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        args = [f"{k}={json.dumps(v)}" for k, v in cfg_dict(tiny_root, out, max_steps=1).items()]
        assert main(["prefinetune", *args]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and f"output_dir {out} is in use by another run (pid {holder.pid} on" in err
        assert not (out / "metrics.jsonl").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    lock = FolderLock(out)
    assert lock.acquire() is None  # the kernel dropped the dead run's lock
    with pytest.raises(ConfigError, match="in use by another run"):  # also within one process
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=1)))
    lock.release()
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=1, export=False)))
    assert complete_checkpoints(out)


def test_overwrite_starts_from_an_empty_run_folder(tiny_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=4, save_every=1, keep_checkpoints=4)))
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already holds a run .*results.json.*overwrite=true"):
        prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=2)))
    prefinetune(PrefinetuneConfig.from_dict(cfg_dict(tiny_root, out, max_steps=2, overwrite=True, export=False,
                                                     keep_checkpoints=1)))
    assert [p.name for p in complete_checkpoints(out)] == ["step_00000002"]  # none of the old run's
    assert not (out / "export").exists() and (out / "notes.txt").read_text() == "mine"
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r] == [1, 2]
    assert json.loads((out / "results.json").read_text())["step"] == 2


def test_finetune_refuses_to_replace_a_finished_result(tiny_root: Path, tmp_path: Path) -> None:
    base = dict(model=str(tiny_root / "tiny-bert"), task="tiny_cls", data_dir=str(tiny_root / "data"),
                output_dir=str(tmp_path / "ft"), max_steps=2, batch_size=4, lr=1e-3, max_length=48, progress=False)
    finetune(FinetuneConfig.from_dict(base))
    before = (tmp_path / "ft" / "results.json").read_text()
    with pytest.raises(ConfigError, match="results.json holds a finished fine-tuning result: pass overwrite=true"):
        finetune(FinetuneConfig.from_dict({**base, "seed": 7}))
    assert (tmp_path / "ft" / "results.json").read_text() == before
    finetune(FinetuneConfig.from_dict({**base, "seed": 7, "overwrite": True}))
    assert json.loads((tmp_path / "ft" / "results.json").read_text())["seed"] == 7
