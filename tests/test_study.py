"""Studies: runs and sweeps validated up front, run in order, resumed, summarised; the shipped
reproduction configs against the code and the local catalogue."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from muppet.cli import main
from muppet.errors import ConfigError
from muppet.study import StudyConfig, own_task_table, run_study, sweep_table
from muppet.tasks.mixtures import select
from muppet.tasks.spec import TASKS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "configs" / "reproduce.yaml", ROOT / "configs" / "reproduce-quick.yaml"]


def tiny_study(tiny_root: Path, out: Path, **kw: object) -> dict:
    data = str(tiny_root / "data")
    study = {
        "output_dir": str(out),
        "prefinetune": dict(model=str(tiny_root / "tiny-bert"), tasks=["tiny_cls", "tiny_mc", "tiny_qa"],
                            downstream=["tiny_cls"], data_dir=data, max_steps=2, batch_size=4, max_length=48,
                            doc_stride=16, max_eval_examples=4),
        "runs": {"all": {}, "mc-only": {"tasks": ["tiny_mc"]}},
        "finetune": dict(data_dir=data, epochs=1, batch_size=4, lr=1e-3, max_length=48, doc_stride=16,
                         max_train_examples=20),
        "sweeps": {
            "transfer": {"models": [{"name": "vanilla", "model": str(tiny_root / "tiny-bert")}, "all"],
                         "fractions": [0.5, 1.0], "seeds": [1]},
            "scaling": {"models": [{"name": "vanilla", "model": str(tiny_root / "tiny-bert")}, "mc-only", "all",
                                   {"name": "all+heads", "model": "all", "finetune": {"reuse_head": True}}],
                        "tasks": ["tiny_cls", "tiny_mc"], "fractions": [0.5], "seeds": [1], "baseline": "vanilla"},
        },
        "progress": False,
    }
    study.update(kw)
    return study


def test_a_study_runs_shares_cells_resumes_and_summarises(tiny_root: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "study"
    cfg = StudyConfig.from_dict(tiny_study(tiny_root, out))
    assert cfg.sweep_config("transfer").tasks == ["tiny_cls"]  # the runs' downstream tasks by default
    result = run_study(cfg)
    assert set(result["reports"]) == {"transfer", "scaling"}
    for name in ("all", "mc-only"):
        saved = yaml.safe_load((out / "runs" / name / "config.yaml").read_text())
        assert saved["downstream"] == ["tiny_cls"] and (out / "runs" / name / "export" / "muppet.json").is_file()
    assert yaml.safe_load((out / "runs" / "mc-only" / "config.yaml").read_text())["tasks"] == ["tiny_mc"]
    # the downstream task is not trained on
    assert "cls/tiny_cls" not in json.loads((out / "runs" / "all" / "export" / "muppet.json").read_text())["heads"]
    # vanilla and all at 50% on tiny_cls are in both sweeps: fine-tuned once
    cells = {p.parent for p in (out / "cells").rglob("results.json")}
    assert len(cells) == 2 * 2 + (4 * 2 - 2)
    rows = list(csv.DictReader((out / "sweeps" / "scaling" / "results.csv").open()))
    assert {r["model"] for r in rows} == {"vanilla", "mc-only", "all", "all+heads"}
    heads = [json.loads(p.read_text()) for p in (out / "cells").rglob("results.json")
             if p.parts[-5].startswith("all_heads")]
    assert {r["task"]: r["reused_head"] for r in heads} == {"tiny_cls": None, "tiny_mc": "mc"}
    report = json.loads((out / "sweeps" / "scaling" / "report.json").read_text())
    counts = {m["label"]: len(m["tasks"]) for m in report["models"]}
    assert counts == {"vanilla": 0, "mc-only": 1, "all": 2, "all+heads": 2}  # names map to the exports
    summary = (out / "summary.md").read_text()
    assert "| `all` | 2 | 2 |" in summary and "| `mc-only` | 1 | 2 |" in summary and "[report](sweeps/scaling/report.md)" in summary
    assert "## Sweep `scaling`" in summary and "| tiny_mc (accuracy) | all+heads | 50% | 10 |" in summary
    transfer_rows = [line for line in summary.splitlines() if line.startswith("| tiny_cls (accuracy) |")]
    assert len(transfer_rows) == 2 * 2 + 4  # transfer: 2 models x 2 fractions; scaling: 4 models
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == {"runs/all", "runs/mc-only", "sweeps/transfer", "sweeps/scaling"}

    # a rerun trains and fine-tunes nothing
    import muppet.evaluation.sweep as sweep_mod
    import muppet.train.loop as loop_mod

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished stage ran again")

    monkeypatch.setattr(loop_mod, "prefinetune", forbidden)
    monkeypatch.setattr(sweep_mod, "finetune", forbidden)
    assert run_study(StudyConfig.from_dict(tiny_study(tiny_root, out)))["reports"] == result["reports"]
    # a changed run in the same folder is refused, not mixed with the old checkpoint
    changed = tiny_study(tiny_root, out)
    changed["runs"]["all"] = {"lr": 1.0e-3}
    with pytest.raises(ConfigError, match=r"runs \['all'\] had other settings"):
        run_study(StudyConfig.from_dict(changed))


def test_the_cli_runs_a_study_from_yaml(tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tiny_study(tiny_root, tmp_path / "s")
    study["runs"] = {"all": {}}
    study["sweeps"] = {"transfer": {"models": ["all"], "fractions": [1.0], "seeds": [1]}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    assert main(["study", str(path), "finetune.epochs=1"]) == 0
    assert "transfer:" in capsys.readouterr().out and (tmp_path / "s" / "sweeps" / "transfer" / "report.md").is_file()


def test_a_study_of_runs_alone_trains_them(tiny_root: Path, tmp_path: Path) -> None:
    study = tiny_study(tiny_root, tmp_path / "s")
    study["sweeps"] = {}
    result = run_study(StudyConfig.from_dict(study))
    assert result["reports"] == {} and not result["stopped"]
    for name in ("all", "mc-only"):
        assert (tmp_path / "s" / "runs" / name / "export" / "muppet.json").is_file()
    summary = (tmp_path / "s" / "summary.md").read_text()
    assert "| `mc-only` | 1 | 2 |" in summary
    assert "## What each run learned of its own tasks" in summary and "| `all` | " in summary  # from results.json


def test_the_own_task_table_counts_tasks_above_their_trivial_baseline(tiny_root: Path, tmp_path: Path) -> None:
    cfg = StudyConfig.from_dict(tiny_study(tiny_root, tmp_path / "s"))
    assert own_task_table(cfg) == []  # no run has finished
    rows = [  # accuracy as a fraction, SQuAD F1 in percent: both become points
        {"task": "a", "family": "classification", "metric": "accuracy", "score": 0.80, "random": 0.5, "trivial": 0.6},
        {"task": "b", "family": "classification", "metric": "accuracy", "score": 0.60, "random": 0.5, "trivial": 0.7},
        {"task": "c", "family": "classification", "metric": "accuracy", "score": 0.60, "random": 0.5, "trivial": 0.6},
        {"task": "d", "family": "extractive_qa", "metric": "f1", "score": 12.5, "random": 0.0, "trivial": 0.0},
        {"task": "e", "family": "summarization", "metric": "rouge2", "score": 3.0, "random": None, "trivial": None},
    ]
    run_dir = cfg.run_dir("mc-only")
    run_dir.mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps({"step": 2, "dev": {}, "table": rows}))
    lines = own_task_table(cfg)
    assert "| run | tasks above their trivial baseline | margin, classification | margin, extractive_qa |" in lines
    # margins +20, -10, 0 -> mean +3.3; only the strictly better ones count (a tie is the majority class)
    assert lines[-1] == "| `mc-only` | 2 of 4 | +3.3 | +12.5 |"
    assert not any(line.startswith("| `all`") for line in lines)  # unfinished runs are left out
    (cfg.run_dir("all") / "results.json").parent.mkdir(parents=True)
    (cfg.run_dir("all") / "results.json").write_text('{"step": 2, "dev"')  # cut short: skipped, not a crash
    assert own_task_table(cfg)[-1] == "| `mc-only` | 2 of 4 | +3.3 | +12.5 |"


def test_a_sweep_table_names_the_cells_that_ran_to_their_budget(tmp_path: Path) -> None:
    from muppet.report import write_report

    (tmp_path / "results.csv").write_text(
        "model,task,fraction,n_train,seed,split,metric,value,seconds,stopped_early\n"
        "a,rte,0.1,10,1,dev,accuracy,0.6,1,true\nb,rte,0.1,10,1,dev,accuracy,0.7,1,false\n", encoding="utf-8")
    write_report(tmp_path)
    assert "**1 cell(s) ran to their epoch budget**" in "\n".join(sweep_table("transfer", tmp_path))


def test_a_sweep_table_from_an_unreadable_report_says_so(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text('{"tasks": [', encoding="utf-8")  # an older, non-atomic write cut short
    lines = sweep_table("transfer", tmp_path)
    assert lines[1] == "## Sweep `transfer`" and "report.json cannot be read" in lines[-1]


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["runs"].update(extra={"max_stepz": 3}), r"runs\.extra: unknown config key 'max_stepz'; did you mean 'max_steps'"),
    (lambda s: s["runs"].update(extra={"lr": 1e-3}), r"runs \['extra'\] are not used by any sweep"),
    (lambda s: s["runs"]["all"].update(output_dir="x"), r"runs\.all: \['output_dir'\] are set by the study"),
    (lambda s: s["sweeps"]["transfer"].update(output_dir="x"), r"sweeps\.transfer: \['output_dir'\] are set by the study"),
    (lambda s: s["sweeps"]["transfer"]["models"].append("nope"), None),  # a hub id: allowed, vanilla
    (lambda s: s["sweeps"]["transfer"].update(baseline="missing"), r"sweeps\.transfer: baseline 'missing'"),
    (lambda s: s["sweeps"]["transfer"]["models"].append({"name": "x", "model": "all", "finetune": {"seed": 2}}),
     r"set per cell by the sweep"),
    (lambda s: s["sweeps"]["transfer"]["models"].append({"name": "all", "model": "all"}), r"models: .* has repeats"),
    (lambda s: s["finetune"].update(epochz=1), r"unknown config key 'finetune\.epochz'; did you mean 'finetune\.epochs'"),
    (lambda s: s.update(runs={}, sweeps={}), r"needs runs or sweeps"),
    (lambda s: s["runs"]["mc-only"].update(downstream=[]), r"sweeps\.transfer: give its tasks"),
])
def test_study_config_errors_are_raised_before_anything_runs(tiny_root: Path, tmp_path: Path, change, message) -> None:
    study = tiny_study(tiny_root, tmp_path / "s")
    change(study)
    if message is None:
        StudyConfig.from_dict(study)
    else:
        with pytest.raises(ConfigError, match=message):
            StudyConfig.from_dict(study)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_reproduction_configs_are_valid(path: Path, real_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUPPET_DATA_DIR", str(real_data_dir))
    cfg = StudyConfig.load(path)
    members: dict[str, list[str]] = {}
    for name in cfg.runs:
        run = cfg.run_config(name)
        specs, _, _, held = select(run.tasks, run.exclude, run.downstream, run.data_dir)
        members[name] = [s.name for s in specs]
        for sweep in cfg._sweeps.values():  # fine-tuning only on tasks the runs kept out
            assert set(sweep.tasks) <= {s.name for s in held}
        assert not {s.name for s in held} & set(members[name])
        assert all(s.family != "summarization" for s in specs)
    downstream = [TASKS[t] for t in cfg.run_config("all").downstream]
    assert len(downstream) >= 4 and len({s.family for s in downstream}) >= 2  # the minimum
    # the task-count sweep's runs are nested subsets of the full mixture, and each keeps all three families
    scaling = set(cfg.runs_of(cfg.sweep_config("scaling")))
    counted = sorted((len(v), k) for k, v in members.items() if k in scaling)
    assert counted[-1][1] == "all" and len(counted) >= 2
    for (_, small), (_, big) in zip(counted, counted[1:]):
        assert set(members[small]) < set(members[big])
    # a second draw of a task count keeps the first draw's family counts, from the same 40 tasks
    for name in (n for n in members if n.startswith("tasks-") and n not in scaling):
        first = next(k for n_tasks, k in counted if n_tasks == len(members[name]))
        assert set(members[name]) < set(members["all"]) and set(members[name]) != set(members[first])
        assert sorted(TASKS[t].family for t in members[name]) == sorted(TASKS[t].family for t in members[first])
    for _, name in counted:
        families = [TASKS[t].family for t in members[name]]
        full = [TASKS[t].family for t in members["all"]]
        for family in set(full):
            share, full_share = families.count(family) / len(families), full.count(family) / len(full)
            assert families.count(family) >= 1 and abs(share - full_share) < 0.25, (name, family)
    # ablation runs differ from `all` in exactly what they ablate
    base = cfg.run_config("all").to_dict()
    for name in cfg.runs:
        if name == "all" or name.startswith("tasks-"):
            continue
        diff = {k for k, v in cfg.run_config(name).to_dict().items() if base[k] != v} - {"output_dir"}
        assert len(diff) == 1, (name, diff)
    for sweep in cfg._sweeps.values():
        assert np.all(np.diff(sweep.fractions) > 0) and len(sweep.seeds) >= 1


def test_shipped_transfer_study_compares_like_with_like(real_data_dir: Path, transfer_stage1: list[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """configs/transfer-affinity.yaml and configs/transfer.yaml (`make transfer`): the candidates
    are the 40 tasks the runs train on, every run has the same budget, each per-target mixture is
    fine-tuned on its own target only, every run probes the four targets, and the probe-selected
    run differs from its twin only in the checkpoint it exports."""
    from muppet.config.transfer import AffinityConfig

    monkeypatch.setenv("MUPPET_DATA_DIR", str(real_data_dir))
    stage1 = AffinityConfig.load(ROOT / "configs" / "transfer-affinity.yaml")
    candidates, _, caps, targets = select(stage1.tasks, stage1.exclude, stage1.targets, stage1.data_dir)
    assert len(candidates) == 40 and set(caps.values()) == {2000}
    assert set(transfer_stage1) < {s.name for s in candidates}  # the stand-in selection is a real one
    cfg = StudyConfig.load(ROOT / "configs" / "transfer.yaml")
    all_cfg = cfg.run_config("all")
    assert all_cfg.downstream == [t.name for t in targets] == all_cfg.probe.tasks
    assert all_cfg.max_train_examples == 2000 and all_cfg.max_length == stage1.max_length
    members = {}
    for name in cfg.runs:
        run = cfg.run_config(name)
        specs, _, _, held = select(run.tasks, run.exclude, run.downstream, run.data_dir)
        members[name] = {s.name for s in specs}
        assert run.max_steps == all_cfg.max_steps and run.batch_size == all_cfg.batch_size  # one budget
        assert not members[name] & {s.name for s in held}
    assert members["all"] == {s.name for s in candidates} and members["affinity-10"] == set(transfer_stage1)
    assert len(members["random-10"]) == 10 and members["random-10"] < members["all"]
    assert all(cfg.run_config(name).probe == all_cfg.probe for name in cfg.runs)  # every run has its curve
    probed = cfg.run_config("random-10-probe").to_dict()
    assert {k for k, v in cfg.run_config("random-10").to_dict().items() if probed[k] != v} == {
        "output_dir", "select_checkpoint"}  # the same weights; only the exported update differs
    for t in targets:
        sweep = cfg.sweep_config(f"target-{t.name}")
        assert sweep.tasks == [t.name] and cfg.runs_of(sweep) == [f"affinity-10-{t.name}"]
    for sweep in cfg.sweep_configs.values():
        assert len(sweep.seeds) >= 3 and sweep.finetune["early_stopping_patience"] >= 1
        # STS-B repeats dev pairs in its training data: its cells drop them; the others check
        assert sweep.finetune.get("leakage", "error") == ("drop" if sweep.tasks == ["stsb"] else "error")
    for family in ("selection", "probe", "target"):
        covered = [t for name, sweep in cfg.sweep_configs.items() if name.startswith(family) for t in sweep.tasks]
        assert sorted(covered) == sorted(t.name for t in targets)
    # each target at two fractions in the mixture comparison, the others at its scarcer one
    fractions = {t: sweep.fractions for name, sweep in cfg.sweep_configs.items() if name.startswith("selection")
                 for t in sweep.tasks}
    assert all(len(f) == 2 and f[0] < f[1] for f in fractions.values())
    for name, sweep in cfg.sweep_configs.items():
        assert name.startswith("selection") or all(sweep.fractions == [fractions[t][0]] for t in sweep.tasks)


def test_affinity_mixtures_feed_a_study_with_probe_selection(tiny_root: Path, tmp_path: Path) -> None:
    """The `make transfer` chain on tiny data: `muppet affinity` writes per-target mixture files,
    a study pre-finetunes on one of them with probes on and exports the best-probed checkpoint,
    and a sweep fine-tunes it on its own target only."""
    from muppet.config.transfer import AffinityConfig
    from muppet.study import run_finished
    from muppet.transfer.affinity import affinity

    data, model = str(tiny_root / "data"), str(tiny_root / "tiny-bert")
    stage1 = tmp_path / "affinity"
    affinity(AffinityConfig.from_dict(dict(
        model=model, tasks=["tiny_mc", "tiny_qa", "tiny_reg"], targets=["tiny_cls"], data_dir=data,
        output_dir=str(stage1), steps=2, every=1, examples=4, max_length=40, doc_stride=16, select="top_k", top_k=2,
        progress=False)))
    chosen = yaml.safe_load((stage1 / "mixture-tiny_cls.yaml").read_text())["tasks"]
    assert len(chosen) == 2 and set(chosen) <= {"tiny_mc", "tiny_qa", "tiny_reg"}
    study = tiny_study(tiny_root, tmp_path / "study")
    study["prefinetune"].update(max_steps=4, save_every=2, probe={"tasks": ["tiny_cls"], "every": 2, "examples": 8,
                                                                  "steps": 3})
    study["runs"] = {"selected": {"tasks": [str(stage1 / "mixture-tiny_cls.yaml")], "select_checkpoint": "probe"}}
    study["sweeps"] = {"target": {"models": [{"name": "vanilla", "model": model}, "selected"], "tasks": ["tiny_cls"],
                                  "fractions": [0.5], "seeds": [1]}}
    cfg = StudyConfig.from_dict(study)
    result = run_study(cfg)
    assert not result["stopped"]
    run = cfg.run_config("selected")
    manifest = json.loads((Path(run.output_dir) / "export" / "muppet.json").read_text())
    assert {t["name"] for t in manifest["tasks"]} == set(chosen)
    probe = manifest["probe"]
    assert manifest["steps"] == probe["selected_step"] == probe["best_step"]  # the best-probed update, exported
    assert run_finished(run)  # even when the best-probed update is an earlier one than the last
    rows = list(csv.DictReader((Path(cfg.sweep_config("target").output_dir) / "results.csv").open()))
    assert {r["model"] for r in rows} == {"selected", "vanilla"} and {r["task"] for r in rows} == {"tiny_cls"}


def test_a_run_exporting_an_earlier_update_counts_as_finished(tmp_path: Path) -> None:
    """select_checkpoint: probe may export update 200 of a 500-update run; the study must not
    train it again (nor count a run stopped at 200 with max_steps 500 as finished)."""
    from muppet.config import PrefinetuneConfig
    from muppet.study import run_finished

    cfg = PrefinetuneConfig.from_dict({"tasks": ["rte"], "max_steps": 500, "output_dir": str(tmp_path)})
    (tmp_path / "export").mkdir()
    manifest = tmp_path / "export" / "muppet.json"
    manifest.write_text(json.dumps({"steps": 200, "config": {"max_steps": 500}}))
    assert run_finished(cfg)
    manifest.write_text(json.dumps({"steps": 200, "config": {"max_steps": 200}}))
    assert not run_finished(cfg)


def test_a_run_another_process_holds_is_waited_for_then_taken_over(tiny_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes of one study: a run the other one is training is not trained twice; when
    that process lets go without finishing it (stopped, killed), this one trains it."""
    import subprocess
    import sys
    import time

    from muppet import claims, study

    monkeypatch.setattr(claims, "POLL_S", 0.2)
    study_dict = tiny_study(tiny_root, tmp_path / "study")
    study_dict["sweeps"] = {"transfer": {**study_dict["sweeps"]["transfer"], "fractions": [1.0]}}
    study_dict["runs"] = {"all": {}}
    cfg = StudyConfig.from_dict(study_dict)
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from muppet.claims import claimed\n"
        f"with claimed(Path({str(cfg.run_dir('all'))!r})) as mine:\n"
        "    print(mine, flush=True); time.sleep(3)\n")], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "True"
    started = time.monotonic()
    result = run_study(cfg)
    assert not result["stopped"] and other.wait(timeout=60) == 0
    assert time.monotonic() - started >= 2.0  # it waited for the other process's claim ...
    assert "runs/all" in json.loads((tmp_path / "study" / "timings.json").read_text())  # ... then trained the run
    assert study.run_finished(cfg.run_config("all"))
    with claims.claimed(cfg.run_dir("all")) as mine:
        assert mine  # released


def test_work_another_process_holds_is_passed_over_for_the_next_sweeps(tiny_root: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes of one study: while the other one trains the first sweep's run, this one
    trains the second sweep's run and fine-tunes its cells instead of idling, then does the
    first sweep once the run is let go. The other process lets go only when the second sweep's
    report exists, so a study that waited in order would never get there."""
    import subprocess
    import sys

    from muppet import claims

    monkeypatch.setattr(claims, "POLL_S", 0.2)
    study_dict = tiny_study(tiny_root, tmp_path / "study")
    study_dict["sweeps"] = {"first": {"models": ["all"], "fractions": [1.0], "seeds": [1]},
                            "second": {"models": ["mc-only"], "fractions": [1.0], "seeds": [1]}}
    cfg = StudyConfig.from_dict(study_dict)
    second_report = tmp_path / "study" / "sweeps" / "second" / "report.md"
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from muppet.claims import claimed\n"
        f"with claimed(Path({str(cfg.run_dir('all'))!r})) as mine:\n"
        "    print(mine, flush=True)\n"
        "    deadline = time.monotonic() + 120\n"
        f"    while not Path({str(second_report)!r}).is_file():\n"
        "        if time.monotonic() > deadline: sys.exit(3)\n"
        "        time.sleep(0.1)\n")], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "True"
    result = run_study(cfg)
    assert other.wait(timeout=60) == 0  # the second sweep was done while the first one's run was held
    assert not result["stopped"] and set(result["reports"]) == {"first", "second"}
    assert {"runs/all", "runs/mc-only"} <= set(json.loads((tmp_path / "study" / "timings.json").read_text()))
    rows = list(csv.DictReader((tmp_path / "study" / "sweeps" / "first" / "results.csv").open()))
    assert {r["model"] for r in rows} == {"all"}  # and the first sweep after it was let go


def test_the_summary_shows_a_sweep_s_results_while_its_cells_run(tiny_root: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """After each cell, the sweep's report and the study's summary show the cells finished so
    far, marked partial: the other process holds a cell until the summary says so."""
    import subprocess
    import sys

    from muppet import claims

    monkeypatch.setattr(claims, "POLL_S", 0.2)
    study_dict = tiny_study(tiny_root, tmp_path / "study")
    study_dict["runs"] = {"all": {}}
    study_dict["sweeps"] = {"transfer": study_dict["sweeps"]["transfer"]}  # 2 models x 2 fractions
    cfg = StudyConfig.from_dict(study_dict)
    sweep_cfg = cfg.sweep_config("transfer")
    held = sweep_cfg.cell_dir(*next(iter(sweep_cfg.cells())))
    summary = tmp_path / "study" / "summary.md"
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from muppet.claims import claimed\n"
        f"with claimed(Path({str(held)!r})) as mine:\n"
        "    print(mine, flush=True)\n"
        "    deadline = time.monotonic() + 120\n"
        f"    path = Path({str(summary)!r})\n"
        "    while not (path.is_file() and '**Partial:** 1 cells' in path.read_text()):\n"
        "        if time.monotonic() > deadline: sys.exit(3)\n"
        "        time.sleep(0.1)\n")], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "True"
    result = run_study(cfg)
    assert other.wait(timeout=60) == 0  # the summary showed the 3 other cells while one was held
    text = summary.read_text()
    assert not result["stopped"] and "**Partial:**" not in text  # all 4 done: the final summary is whole
    assert text.count("| tiny_cls (accuracy) |") == 4


def test_a_finished_run_whose_mixture_file_changed_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    """A run names a mixture file by path; when the file later selects other tasks, the study
    must not pass the old export off as the new mixture's."""
    mixture = tmp_path / "mixture.yaml"
    mixture.write_text(yaml.safe_dump({"mixture": "picked", "tasks": ["tiny_mc"]}))
    study = tiny_study(tiny_root, tmp_path / "study")
    study["runs"] = {"picked": {"tasks": [str(mixture)]}}
    study["sweeps"] = {"transfer": {**study["sweeps"]["transfer"], "models": ["picked"], "fractions": [1.0]}}
    assert not run_study(StudyConfig.from_dict(study))["stopped"]
    assert not run_study(StudyConfig.from_dict(study))["stopped"]  # unchanged: finished, reused
    mixture.write_text(yaml.safe_dump({"mixture": "picked", "tasks": ["tiny_qa"]}))
    with pytest.raises(ConfigError, match=r"runs\.picked: .*\['tiny_mc'\].*mixture file"):
        run_study(StudyConfig.from_dict(study))
